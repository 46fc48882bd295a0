package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// syncBuffer is a request log several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// awsScene serves the demo estate and points the SDK at it through the
// process environment, with shared config files holding one profile,
// "audit". It returns the endpoint and the emulator's request log, so a
// test can prove that nothing was called.
func awsScene(t *testing.T, opts emulator.Options) (string, *syncBuffer) {
	t.Helper()
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	opts.RequestLog = log
	srv, err := emulator.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config", "[profile audit]\nregion = us-east-1\n")
	creds := writeFile(t, dir, "credentials", "[audit]\naws_access_key_id = AKIA111122223333\naws_secret_access_key = x\n")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIA111122223333", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "", "AWS_REGION": "",
		"AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": creds,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_LAMBDA": "", "NO_COLOR": "", "TERM": "",
	} {
		t.Setenv(k, v)
	}
	return url, log
}

// TestUsageErrorsBeforeTheFirstCall: every bad path, profile, endpoint,
// Region, spool folder or file is exit 2 with one line naming the flag
// and the fix, before the emulator has seen a single request.
func TestUsageErrorsBeforeTheFirstCall(t *testing.T) {
	url, log := awsScene(t, emulator.Options{})
	dir := t.TempDir()
	cfgMissingSupp := writeFile(t, dir, "lw-supp.yaml", "suppressions: gone.yaml\n")
	cfgBadOutput := writeFile(t, dir, "lw-out.yaml", "outputs: [json=nowhere/r.json]\n")
	onlyDemo := func(extra ...string) []string { return append([]string{"scan", "--demo"}, extra...) }
	live := func(extra ...string) []string {
		return append([]string{"scan", "--endpoint-url", url, "--region", "us-east-1"}, extra...)
	}
	cases := []struct {
		name   string
		args   []string
		env    map[string]string // set in the process environment
		stderr string
	}{
		{"output folder missing", live("-o", "json="+filepath.Join(dir, "nope", "r.json")), nil, "-o json=" + filepath.Join(dir, "nope", "r.json") + ": cannot write " + filepath.Join(dir, "nope", "r.json") + ": the folder " + filepath.Join(dir, "nope") + " does not exist; create it (mkdir -p"},
		{"output is a folder", live("-o", "sarif="+dir), nil, "is a folder; give a file name in it"},
		{"two outputs, one file", live("-o", "json="+filepath.Join(dir, "r"), "-o", "csv="+filepath.Join(dir, "r")), nil, "write the same file"},
		{"missing profile", live("--profile", "nope"), nil, "--profile nope: no such profile in"},
		{"missing AWS_PROFILE", live(), map[string]string{"AWS_PROFILE": "nope"}, "AWS_PROFILE=nope: no such profile in"},
		{"endpoint is not a URL", []string{"scan", "--endpoint-url", "127.0.0.1:4566"}, nil, `--endpoint-url "127.0.0.1:4566": want an http(s) URL`},
		{"endpoint refuses", []string{"scan", "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1"}, nil, "--endpoint-url http://127.0.0.1:1: nothing answers there"},
		{"spool folder missing", live(), map[string]string{"TMPDIR": filepath.Join(dir, "no-tmp")}, "TMPDIR=" + filepath.Join(dir, "no-tmp") + ": the folder for the scan's spool file does not exist"},
		{"suppressions missing", live("--suppressions", "gone.yaml"), nil, "--suppressions gone.yaml: no such file"},
		{"config missing", live("--config", "gone.yaml"), nil, "--config gone.yaml: no such file"},
		{"config's suppressions missing", live("--config", cfgMissingSupp), nil, "suppressions: in " + cfgMissingSupp + " " + filepath.Join(dir, "gone.yaml") + ": no such file"},
		{"config's output folder missing", live("--config", cfgBadOutput), nil, "json=" + filepath.Join(dir, "nowhere", "r.json") + " (outputs: in " + cfgBadOutput + "): cannot write"},
		{"AWS_REGION not a Region", []string{"scan", "--endpoint-url", url}, map[string]string{"AWS_REGION": "moon"}, "AWS_REGION=moon is not a Region name"},
		{"--region not a Region", live("--region", "moon"), nil, `--region: "moon" is not a Region name`},
		{"--region with --regions", live("--regions", "eu-west-1"), nil, "--region and --regions are exclusive"},
		{"--region with --all-regions", live("--all-regions"), nil, "--region and --all-regions are exclusive"},
		{"demo with --region", onlyDemo("--region", "us-east-1"), nil, "it cannot be combined with --region"},
		{"demo with --regions", onlyDemo("--regions", "us-east-1"), nil, "it cannot be combined with --regions"},
		{"demo with --all-regions", onlyDemo("--all-regions"), nil, "it cannot be combined with --all-regions"},
		{"demo with --profile", onlyDemo("--profile", "audit"), nil, "it cannot be combined with --profile"},
		{"fix: missing profile", []string{"fix", "--endpoint-url", url, "--profile", "nope"}, nil, "--profile nope: no such profile"},
		{"fix: demo with --region", []string{"fix", "--demo", "--region", "us-east-1"}, nil, "it cannot be combined with --region"},
		{"fix: -o to a file", []string{"fix", "--demo", "-o", "json=plan.json"}, nil, "fix writes to standard output; redirect it instead (> plan.json)"},
		{"restore: endpoint", []string{"restore", dir, "--endpoint-url", "ftp://x"}, nil, "want an http(s) URL"},
		{"restore: missing profile", []string{"restore", dir, "--profile", "nope"}, nil, "--profile nope: no such profile"},
		{"restore: --region and --regions", []string{"restore", dir, "--region", "us-east-1", "--regions", "eu-west-1"}, nil, "--region and --regions are exclusive"},
		{"bench: --region not a Region", []string{"bench", "--region", "moon"}, nil, `--regions: "moon" is neither a count nor a Region name`},
		{"bench: --region and --regions", []string{"bench", "--region", "us-east-1", "--regions", "2"}, nil, "--region and --regions are exclusive"},
		{"typo in a flag", []string{"scan", "--regoin", "us-east-1"}, nil, "unknown flag: --regoin; did you mean --region?"},
		{"swapped letters", []string{"analyze", "-", "--ouptut", "json"}, nil, "did you mean --output?"},
		{"prefix of a flag", []string{"scan", "--all"}, nil, "unknown flag: --all; did you mean --all-regions?"},
		{"typo in fix", []string{"fix", "--demo", "--aply"}, nil, "did you mean --apply?"},
		{"nothing near", []string{"scan", "--frobnicate"}, nil, "unknown flag: --frobnicate (see 'lambdawarden scan --help')"},
		{"typo in a command", []string{"sacn", "--demo"}, nil, `unknown command "sacn" for "lambdawarden"; did you mean scan`},
		{"rules -o", []string{"rules", "-o", "yaml"}, nil, `rules -o "yaml": want text or json`},
		{"guardrails -o", []string{"guardrails", "-o", "xml"}, nil, `guardrails -o "xml": want text or json`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			before := log.String()
			code, out, errOut := runWith(t, runOpts{osEnv: true}, "", c.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2\nstderr: %s", code, errOut)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q\nlacks %q", errOut, c.stderr)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
				t.Errorf("want one line on stderr, got %d", n+1)
			}
			if out != "" {
				t.Errorf("a usage error printed a report: %.200q", out)
			}
			if log.String() != before {
				t.Errorf("the emulator was called before the usage error:\n%s", strings.TrimPrefix(log.String(), before))
			}
		})
	}
}

// TestRegionsLikeTheAWSCLI: --region, AWS_REGION, AWS_DEFAULT_REGION and
// the profile's Region each pick what is scanned; --output is -o.
func TestRegionsLikeTheAWSCLI(t *testing.T) {
	url, _ := awsScene(t, emulator.Options{})
	regionsOf := func(t *testing.T, args ...string) []string {
		t.Helper()
		code, out, errOut := runWith(t, runOpts{osEnv: true}, "", append([]string{"scan", "--endpoint-url", url, "--output", "json", "--fail-on", "none", "--no-roles"}, args...)...)
		if code != exitOK && code != exitIncomplete {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var d report.Document
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return d.Scan.Regions
	}
	check := func(t *testing.T, got []string, want string) {
		t.Helper()
		if strings.Join(got, ",") != want {
			t.Errorf("scanned %v, want %s", got, want)
		}
	}
	t.Run("--region", func(t *testing.T) { check(t, regionsOf(t, "--region", "eu-west-1"), "eu-west-1") })
	t.Run("--regions", func(t *testing.T) { check(t, regionsOf(t, "--regions", "us-east-1,eu-west-1"), "us-east-1,eu-west-1") })
	t.Run("AWS_REGION", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-1")
		check(t, regionsOf(t), "eu-west-1")
	})
	t.Run("AWS_DEFAULT_REGION", func(t *testing.T) {
		t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
		check(t, regionsOf(t), "eu-west-1")
	})
	t.Run("the profile's Region", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		check(t, regionsOf(t, "--profile", "audit"), "us-east-1")
	})
	t.Run("--region beats AWS_REGION", func(t *testing.T) {
		t.Setenv("AWS_REGION", "us-east-1")
		check(t, regionsOf(t, "--region", "eu-west-1"), "eu-west-1")
	})
}

// TestSeveralOutputsSayWhichWereNotWritten: when one report cannot be
// written the others still are, and the run names the missing one.
func TestSeveralOutputsSayWhichWereNotWritten(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full (a device every write to fails) to fail after the checks")
	}
	path := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := runCLI(t, "", "scan", "--demo", "--pace", "none", "-o", "json="+path, "-o", "csv=/dev/full", "-o", "text")
	if code != exitUsage {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"lambdawarden: not written: -o csv=/dev/full: cannot write /dev/full: no space left on device\n",
		"lambdawarden: 1 of 3 reports were not written (-o csv=/dev/full); the others were\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	var d report.Document
	if err := json.Unmarshal([]byte(mustRead(t, path)), &d); err != nil || len(d.Resources) == 0 {
		t.Errorf("the json report was not written whole: %v", err)
	}
	if !strings.Contains(out, "Result: FAIL") {
		t.Errorf("the text report was not written: %.300q", out)
	}
}
