package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

// demoSuppressed scans the demo with a suppressions file and returns the
// suppressed findings as "rule on ARN" and the report's count.
func demoSuppressed(t *testing.T, file string) ([]string, int, string) {
	t.Helper()
	code, out, errOut := runCLI(t, "", "scan", "--demo", "--pace", "none", "--suppressions", file, "-o", "json")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if f.Suppressed {
				got = append(got, f.RuleID+" on "+r.ARN)
			}
		}
	}
	return got, d.Summary.Suppressed, errOut
}

// TestREADMESuppressionExample: the README's suppressions file does on
// the demo exactly what the README says it does.
func TestREADMESuppressionExample(t *testing.T) {
	readme := mustRead(t, filepath.Join("..", "..", "README.md"))
	m := regexp.MustCompile("(?s)```yaml\n(suppressions:\n.*?)```").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no suppressions example")
	}
	file := writeFile(t, t.TempDir(), "suppressions.yaml", m[1])
	got, count, errOut := demoSuppressed(t, file)
	const portal = "arn:aws:lambda:us-east-1:111122223333:function:patient-portal"
	want := []string{"lambda-public-access on " + portal, "lambda-public-access on " + portal, "lambda-public-function-url on " + portal}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || count != 3 {
		t.Errorf("suppressed %d:\n%s\nwant the README's three:\n%s", count, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if errOut != "" {
		t.Errorf("the README's example warns: %s", errOut)
	}
	if !strings.Contains(readme, "marks the portal's\nthree findings") {
		t.Error("the README's claim changed; update this test with it")
	}
}

// TestSuppressionsThroughTheCLI: several rules, "*", an empty file, a
// YAML mistake on the right line.
func TestSuppressionsThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	const entry = "    reason: r\n    expires: 2099-01-01\n    approved_by: a\n"
	several := writeFile(t, dir, "several.yaml", "suppressions:\n  - rule: [lambda-layer-public, lambda-service-unscoped]\n"+entry)
	got, _, _ := demoSuppressed(t, several)
	if strings.Join(got, ",") != "lambda-service-unscoped on arn:aws:lambda:us-east-1:111122223333:function:scan-ingest,lambda-layer-public on arn:aws:lambda:us-east-1:111122223333:layer:phi-common:3" {
		t.Errorf("a list of rules suppressed %v", got)
	}
	star := writeFile(t, dir, "star.yaml", "suppressions:\n  - rule: \"*\"\n    sid: vendor-test\n"+entry)
	got, _, _ = demoSuppressed(t, star)
	if strings.Join(got, ",") != "lambda-public-access on arn:aws:lambda:us-east-1:111122223333:function:appointment-scheduler:prod" {
		t.Errorf(`rule "*" with a sid suppressed %v`, got)
	}

	empty := writeFile(t, dir, "empty.yaml", "# nothing accepted yet\n")
	_, _, errOut := demoSuppressed(t, empty)
	if errOut != "lambdawarden: warning: "+empty+" holds no suppressions; it suppresses nothing\n" {
		t.Errorf("empty file: stderr %q", errOut)
	}

	badIndent := writeFile(t, dir, "indent.yaml", "suppressions:\n  - rule: lambda-public-access\n    reason: r\n   expires: 2099-01-01\n    approved_by: a\n")
	code, _, errOut := runCLI(t, "", "scan", "--demo", "--pace", "none", "--suppressions", badIndent)
	if code != exitUsage || !strings.HasPrefix(errOut, "lambdawarden: "+badIndent+":4: YAML syntax:") {
		t.Errorf("mis-indented line 4: exit %d, %q", code, errOut)
	}
	starAlone := writeFile(t, dir, "star-alone.yaml", "suppressions:\n  - rule: \"*\"\n"+entry)
	code, _, errOut = runCLI(t, "", "scan", "--demo", "--pace", "none", "--suppressions", starAlone)
	if code != exitUsage || !strings.Contains(errOut, `star-alone.yaml:2: suppression 1: rule "*" matches every rule, so name the statement too`) {
		t.Errorf(`rule "*" alone: exit %d, %q`, code, errOut)
	}
}

// TestConfigOutputs: the config file's outputs apply to scan only, and
// resolve against the config file's folder.
func TestConfigOutputs(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "lambdawarden.yaml", "outputs: [json=reports/r.json, csv=reports/r.csv]\n")
	if err := os.Mkdir(filepath.Join(dir, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "scan", "--demo", "--pace", "none", "--config", cfg)
	if code != exitFindings || out != "" {
		t.Fatalf("exit %d, stdout %.200q, stderr %s", code, out, errOut)
	}
	for _, f := range []string{"r.json", "r.csv"} {
		fi, err := os.Stat(filepath.Join(dir, "reports", f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s next to the config file: %v %v", f, fi, err)
		}
	}
	// -o on the command line replaces them.
	code, out, _ = runCLI(t, "", "scan", "--demo", "--pace", "none", "--config", cfg, "-o", "text")
	if code != exitFindings || !strings.Contains(out, "Result: FAIL") {
		t.Errorf("-o must override the config's outputs: exit %d", code)
	}
	// analyze ignores them: its report goes to stdout.
	os.RemoveAll(filepath.Join(dir, "reports"))
	code, out, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "--config", cfg)
	if code != exitFindings || !strings.Contains(out, `"schema_version": "1"`) {
		t.Errorf("analyze with the config: exit %d, stdout %.200q, stderr %s", code, out, errOut)
	}
}

// TestSmallOnes: the emulator's warnings, rules and guardrails -o, and
// restore on a folder of other JSON.
func TestSmallOnes(t *testing.T) {
	emulatorRun := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		defer cancel()
		code, _, errOut := runWith(t, runOpts{ctx: ctx}, "", append([]string{"emulator"}, args...)...)
		return code, errOut
	}
	t.Run("emulator --listen beyond loopback warns", func(t *testing.T) {
		code, errOut := emulatorRun(t, "--listen", "0.0.0.0:0")
		if code != exitOK || !strings.Contains(errOut, "warning: --listen 0.0.0.0:0 is not a loopback address (0.0.0.0): anyone who can reach it can call its write APIs") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		code, errOut = emulatorRun(t, "--listen", "127.0.0.1:0")
		if code != exitOK || strings.Contains(errOut, "warning") {
			t.Errorf("loopback: exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("emulator seed that serves nothing warns", func(t *testing.T) {
		dir := t.TempDir()
		empty := writeFile(t, dir, "empty.json", "{}")
		code, errOut := emulatorRun(t, "--listen", "127.0.0.1:0", "--seed", empty)
		if code != exitOK || !strings.Contains(errOut, "warning: --seed "+empty+" defines no accounts: the emulator serves nothing") {
			t.Errorf("{}: exit %d, stderr %q", code, errOut)
		}
		bare := writeFile(t, dir, "bare.json", `{"accounts": [{"id": "111122223333"}]}`)
		_, errOut = emulatorRun(t, "--listen", "127.0.0.1:0", "--seed", bare)
		if !strings.Contains(errOut, "defines no function or layer in any Region") {
			t.Errorf("no functions: stderr %q", errOut)
		}
		code, _, errOut = runCLI(t, "", "emulator", "--seed", filepath.Join(dir, "gone.json"))
		if code != exitUsage || !strings.Contains(errOut, "--seed "+filepath.Join(dir, "gone.json")+": no such file") {
			t.Errorf("missing seed: exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("rules and guardrails -o like the others", func(t *testing.T) {
		for _, cmd := range []string{"rules", "guardrails"} {
			_, out, _ := runCLI(t, "", cmd)
			if !json.Valid([]byte(out)) {
				t.Errorf("%s off a terminal: want json, got %.100q", cmd, out)
			}
			_, out, _ = runWith(t, runOpts{stdoutTerminal: true}, "", cmd)
			if json.Valid([]byte(out)) || out == "" {
				t.Errorf("%s on a terminal: want text, got %.100q", cmd, out)
			}
			path := filepath.Join(t.TempDir(), cmd+".json")
			code, out, errOut := runCLI(t, "", cmd, "-o", "json="+path)
			if code != exitOK || out != "" || !json.Valid([]byte(mustRead(t, path))) {
				t.Errorf("%s -o json=FILE: exit %d, stdout %.100q, stderr %s", cmd, code, out, errOut)
			}
		}
	})
	t.Run("restore names the files that are not backups", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "b")
		runFixJSON(t, exitIncomplete, "--demo", "--apply", "--yes", "--backup-dir", dir)
		writeFile(t, dir, "report.json", `{"schema_version": "1"}`)
		writeFile(t, dir, "notes.json", `[]`)
		code, out, errOut := runCLI(t, "", "restore", dir)
		if code != exitUsage || out != "" || !strings.Contains(errOut, dir+": 2 file(s) there are not lambdawarden backups: notes.json, report.json; move them out, or restore backup files one by one") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		os.Remove(filepath.Join(dir, "report.json"))
		os.Remove(filepath.Join(dir, "notes.json"))
		code, _, errOut = runCLI(t, "", "restore", dir, "--region", "ap-south-1")
		if code != exitUsage || !strings.Contains(errOut, "no backup is for ap-south-1 (they are for") {
			t.Errorf("--region with no backups there: exit %d, stderr %q", code, errOut)
		}
	})
}
