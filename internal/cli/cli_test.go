package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCLI runs the command line in-process, as a user would, with stdout
// not a terminal and an empty environment.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runWith(t, runOpts{}, stdin, args...)
}

// runOpts is how a test sets the scene around one run.
type runOpts struct {
	ctx context.Context
	// env is what getenv sees; nil is an empty environment. osEnv uses
	// the process environment instead (which the AWS SDK reads too).
	env   map[string]string
	osEnv bool
	// Which streams are terminals.
	stdoutTerminal, stderrTerminal bool
}

func runWith(t *testing.T, o runOpts, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	getenv := func(k string) string { return o.env[k] }
	if o.osEnv {
		getenv = os.Getenv
	}
	e := &env{ctx: ctx, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: getenv,
		isTerminal: o.stdoutTerminal, stderrTerminal: o.stderrTerminal}
	code := e.run(args)
	return code, out.String(), errb.String()
}

var (
	volatile = regexp.MustCompile(`"(started_at|finished_at|version)": "[^"]*"`)
	// Which policy reads go through GetResourcePolicy, and so how many
	// of its "no policy" answers GetPolicy confirms, depends on timing.
	volatileCount = regexp.MustCompile(`"(api_calls)": [0-9]+`)
)

// redact removes what changes from run to run.
func redact(s string) string {
	s = volatileCount.ReplaceAllString(s, `"$1": 0`)
	return volatile.ReplaceAllString(s, `"$1": "REDACTED"`)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	got = redact(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file %s (run go test ./internal/cli -update): %v", path, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func p(name string) string { return filepath.Join("testdata", "policies", name) }

func TestCLI(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		golden string // compare stdout with this golden file
		stderr string // stderr must contain this
	}{
		{name: "public policy from get-policy, text", args: []string{"analyze", p("public-get-policy.json"), "-o", "text"}, code: 1, golden: "analyze-public.txt"},
		{name: "public policy from get-policy, json", args: []string{"analyze", p("public-get-policy.json"), "-o", "json"}, code: 1, golden: "analyze-public.json"},
		{name: "default output off a terminal is json", args: []string{"analyze", p("public-get-policy.json")}, code: 1, golden: "analyze-public.json"},
		{name: "policy on stdin", args: []string{"analyze", "-", "-o", "json"}, stdin: mustRead(t, p("public-get-policy.json")), code: 1, golden: "analyze-public.json"},
		{name: "seed deny-outside-org pattern is org", args: []string{"analyze", p("deny-outside-org.json"), "--org-id", "o-abc123def4", "-o", "text"}, code: 0, golden: "analyze-deny-outside-org.txt"},
		{name: "cross-account alias policy", args: []string{"analyze", p("cross-account.json"), "-o", "json"}, code: 1, golden: "analyze-cross-account.json"},
		{name: "cross-account below --fail-on critical", args: []string{"analyze", p("cross-account.json"), "--fail-on", "critical", "-o", "text"}, code: 0},
		{name: "trusted partner is private", args: []string{"analyze", p("cross-account.json"), "--trusted-account", "444455556666", "-o", "text"}, code: 0},
		{name: "public layer", args: []string{"analyze", p("layer-public.json"), "-o", "text"}, code: 1, golden: "analyze-layer.txt"},
		{name: "URL with auth NONE", args: []string{"analyze", p("url-none.json"), "--url-auth-type", "NONE", "-o", "text"}, code: 1, golden: "analyze-url-none.txt"},
		{name: "explicit resource ARN", args: []string{"analyze", p("url-none.json"), "--resource-arn", "arn:aws:lambda:us-east-1:111122223333:function:portal", "-o", "text"}, code: 1},
		{name: "rules as json", args: []string{"rules", "-o", "json"}, code: 0, golden: "rules.json"},
		{name: "rules as text", args: []string{"rules", "-o", "text"}, code: 0, golden: "rules.txt"},

		{name: "demo scan, json", args: []string{"scan", "--demo", "-o", "json"}, code: 1, golden: "scan-demo.json"},
		{name: "demo scan, text", args: []string{"scan", "--demo", "-o", "text"}, code: 1, golden: "scan-demo.txt"},
		{name: "demo scan below --fail-on none", args: []string{"scan", "--demo", "--fail-on", "none", "-o", "text"}, code: 3},
		{name: "bad region", args: []string{"scan", "--regions", "moon"}, code: 2, stderr: `--regions: "moon" is not a Region name`},
		{name: "regions and all-regions", args: []string{"scan", "--regions", "us-east-1", "--all-regions"}, code: 2, stderr: "exclusive"},
		{name: "demo with a profile", args: []string{"scan", "--demo", "--profile", "prod"}, code: 2, stderr: "cannot be combined"},
		{name: "bad account list", args: []string{"scan", "--accounts", "12345"}, code: 2, stderr: "12-digit"},
		{name: "emulator seed missing", args: []string{"emulator", "--seed", "nope.json"}, code: 2, stderr: "--seed"},
		{name: "emulator bad quota", args: []string{"emulator", "--quota", "GetPolicy=fast"}, code: 2, stderr: "--quota"},
		{name: "not JSON", args: []string{"analyze", p("not-json.json")}, code: 2, stderr: "not valid JSON: it ends early, at line 1 (a bracket or quote is not closed)"},
		{name: "empty Statement", args: []string{"analyze", p("empty-statement.json")}, code: 2, stderr: "Statement is empty"},
		{name: "wrong type names the statement", args: []string{"analyze", p("wrong-type.json")}, code: 2, stderr: `statement 1 (Sid "b")`},
		{name: "missing file", args: []string{"analyze", p("nope.json")}, code: 2, stderr: "no such file"},
		{name: "no argument", args: []string{"analyze"}, code: 2, stderr: "needs a policy file"},
		{name: "unknown flag", args: []string{"analyze", p("url-none.json"), "--frobnicate"}, code: 2, stderr: "unknown flag: --frobnicate"},
		{name: "wrong url auth type", args: []string{"analyze", p("url-none.json"), "--url-auth-type", "OPEN"}, code: 2, stderr: `--url-auth-type "OPEN": want NONE or AWS_IAM`},
		{name: "wrong fail-on", args: []string{"analyze", p("url-none.json"), "--fail-on", "severe"}, code: 2, stderr: `unknown severity "severe"`},
		{name: "unknown output format", args: []string{"analyze", p("url-none.json"), "-o", "yaml"}, code: 2, stderr: `unknown output format "yaml"`},
		{name: "bad trusted account", args: []string{"analyze", p("url-none.json"), "--trusted-account", "12"}, code: 2, stderr: "12 digits"},
		{name: "bad resource ARN", args: []string{"analyze", p("url-none.json"), "--resource-arn", "intake"}, code: 2, stderr: "is not an ARN"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: "unknown command"},
		{name: "empty stdin", args: []string{"analyze", "-"}, code: 2, stderr: "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.stdin, c.args...)
			if code != c.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			if c.golden != "" {
				golden(t, c.golden, out)
			}
			if c.stderr != "" {
				if !strings.Contains(errOut, c.stderr) {
					t.Errorf("stderr %q does not contain %q", errOut, c.stderr)
				}
				if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
					t.Errorf("bad input must give one line on stderr, got %d:\n%s", n+1, errOut)
				}
				if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
					t.Errorf("stack trace on stderr: %s", errOut)
				}
			}
			if c.code == 2 && out != "" {
				t.Errorf("usage errors must not print a report, got %q", out)
			}
		})
	}
}

func TestOutputToFiles(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "r.json")
	code, out, errOut := runCLI(t, "", "analyze", p("public-get-policy.json"), "-o", "json="+jsonFile, "-o", "text")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "lambda-public-access") {
		t.Errorf("text on stdout lacks the finding: %s", out)
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"rule_id": "lambda-public-access"`) {
		t.Errorf("json file lacks the finding: %s", data)
	}
	code, _, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "-o", "json", "-o", "text")
	if code != 2 || !strings.Contains(errOut, "only one -o format can go to standard output") {
		t.Errorf("two formats on stdout: exit %d, %s", code, errOut)
	}
	code, out, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "-o", "json="+filepath.Join(dir, "missing", "r.json"))
	if code != 2 || !strings.Contains(errOut, "cannot write") || !strings.Contains(errOut, "does not exist; create it (mkdir -p") || out != "" {
		t.Errorf("unwritable output: exit %d, %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
