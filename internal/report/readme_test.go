package report_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTool finds an outside program: a test without it skips, except
// under CI=true, where .ci/run must have installed it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run must provide it", name)
		}
		t.Skipf("%s is not installed; skipping (CI installs it)", name)
	}
	return path
}

// startMoto runs moto_server (an independent AWS emulator with a Security
// Hub) on a free port until the test ends.
func startMoto(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "moto_server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-H", host, "-p", port)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr
		}
	}
	t.Fatalf("moto_server did not start: %s", logs.String())
	return ""
}

// readmeBlock returns the README's shell block that contains marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], marker) {
			return m[1]
		}
	}
	t.Fatalf("the README has no sh block with %q", marker)
	return ""
}

// The README's Security Hub import loop works as written on what
// scan --demo -o asff=r.asff.json writes: the real aws CLI sends every
// file to moto's Security Hub, each in its own Region, and every finding
// is accepted.
func TestREADMESecurityHubImportLoop(t *testing.T) {
	// Mostly waiting on moto and the aws CLI: let other tests run.
	t.Parallel()
	aws := needTool(t, "aws")
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "scan", "--demo", "-o", "asff="+filepath.Join(dir, "r.asff.json"))
	if code != 1 {
		t.Fatalf("scan --demo: exit %d: %s", code, errOut)
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "r.asff.*.*.*.json"))
	if len(parts) < 2 || !strings.Contains(errOut, "asff: ") {
		t.Fatalf("the demo (several accounts and Regions) should give several files, got %v; stderr: %s", parts, errOut)
	}
	want := map[string]int{} // findings per Region
	total := 0
	for _, p := range parts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var list []struct{ Region string }
		if err := json.Unmarshal(data, &list); err != nil || len(list) == 0 || len(list) > 100 {
			t.Fatalf("%s: %d findings, %v", p, len(list), err)
		}
		for _, f := range list {
			want[f.Region]++
		}
		total += len(list)
	}

	loop := readmeBlock(t, "batch-import-findings --region")
	moto := startMoto(t)
	none := filepath.Join(t.TempDir(), "none")
	// The machine's own AWS settings stay out: only moto is reachable.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ENDPOINT_URL="+moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_PAGER=",
		"PATH="+filepath.Dir(aws)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", loop)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README loop failed: %v\n%s", err, out)
	}
	// Each call prints its response; every one must have failed nothing.
	dec := json.NewDecoder(bytes.NewReader(out))
	calls, accepted := 0, 0
	for dec.More() {
		var resp struct{ FailedCount, SuccessCount int }
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("cannot read the aws CLI's output: %v\n%s", err, out)
		}
		calls++
		accepted += resp.SuccessCount
		if resp.FailedCount != 0 {
			t.Errorf("a call rejected %d findings:\n%s", resp.FailedCount, out)
		}
	}
	if calls != len(parts) || accepted != total {
		t.Errorf("%d calls accepted %d findings, want %d calls and %d findings", calls, accepted, len(parts), total)
	}
	// And each Region's Security Hub holds that Region's findings.
	for region, n := range want {
		q := exec.Command(aws, "securityhub", "get-findings", "--region", region, "--query", "length(Findings)", "--output", "text")
		q.Env = env
		got, err := q.CombinedOutput()
		if err != nil {
			t.Fatalf("get-findings in %s: %v\n%s", region, err, got)
		}
		// The CLI pages through the findings: one count per page.
		held := 0
		for _, f := range strings.Fields(string(got)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("get-findings in %s: %q", region, got)
			}
			held += c
		}
		if held != n {
			t.Errorf("Security Hub in %s holds %d findings, want %d", region, held, n)
		}
	}
}
