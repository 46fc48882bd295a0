package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStdinTerminalCheck: issue 10 item 9. /dev/null is a character
// device, but no person answers on it.
func TestStdinTerminalCheck(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file := filepath.Join(t.TempDir(), "answers")
	if err := os.WriteFile(file, []byte("yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	regular, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	for name, f := range map[string]*os.File{"/dev/null": devnull, "a pipe": r, "a regular file": regular} {
		if stdinIsTerminal(f) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
	if stdinIsTerminal(strings.NewReader("yes\n")) {
		t.Error("a reader that is not a file is taken for a terminal")
	}
	// A pseudo-terminal is one (the master side answers the terminal
	// ioctl too), so the check is not simply always false.
	if ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		defer ptmx.Close()
		if !stdinIsTerminal(ptmx) {
			t.Error("a pseudo-terminal is not taken for a terminal")
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("no /dev/ptmx to prove the check says yes to a terminal: %v", err)
	} else {
		t.Logf("no /dev/ptmx (%v): the positive case is not checked here", err)
	}
}

// TestFixApplyWithoutTerminalNeedsYes: fix --apply with stdin from
// /dev/null (cron) or a pipe, and no --yes, is a usage error before any
// work.
func TestFixApplyWithoutTerminalNeedsYes(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.WriteString("yes\n"); w.Close() }()
	for name, in := range map[string]*os.File{"/dev/null": devnull, "a pipe": r} {
		var out, errb bytes.Buffer
		e := &env{ctx: context.Background(), stdin: in, stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := e.run([]string{"fix", "--demo", "--apply", "-o", "json"})
		if code != exitUsage || !strings.Contains(errb.String(), "pass --yes") || out.Len() != 0 {
			t.Errorf("stdin %s: exit %d, stderr %q, stdout %q; want 2 and \"pass --yes\"", name, code, errb.String(), out.String())
		}
	}
}

// TestFixFromWhatIsNotAReport: fix --from names what the document is
// when it is not a scan report.
func TestFixFromWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	code, analyzed, errOut := runCLI(t, "", "analyze", "-o", "json", "--fail-on", "none", p("public-get-policy.json"))
	if code != exitOK {
		t.Fatalf("analyze: exit %d %s", code, errOut)
	}
	for _, c := range []struct {
		name, content, want string
	}{
		{"analyze output", analyzed, "analyze -o json"},
		{"a policy", `{"Version":"2012-10-17","Statement":[]}`, "a policy document"},
		{"a fix backup", `{"format":"lambdawarden-backup","version":2}`, "lambdawarden restore"},
		{"a fix plan", `{"schema_version":"1","mode":"dry-run","actions":[]}`, "a fix plan"},
		{"a SARIF log", `{"version":"2.1.0","runs":[]}`, "SARIF"},
		{"an array", `[{"SchemaVersion":"2018-10-08"}]`, "JSON array"},
		{"something else", `{"hello":"world"}`, "keys hello"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, "", "fix", "--from", path)
		if code != exitUsage || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "not a scan report") || out != "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming %q", c.name, code, errOut, c.want)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%s: want one line on stderr, got %q", c.name, errOut)
		}
	}
}

// TestFixDemoApplyOffersNoRestore: the demo estate is gone when the
// command ends; a restore hint would act on real AWS.
func TestFixDemoApplyOffersNoRestore(t *testing.T) {
	code, out, errOut := runCLI(t, "", "fix", "--demo", "--apply", "--yes", "-o", "text", "--backup-dir", filepath.Join(t.TempDir(), "b"))
	if code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "lambdawarden restore") {
		t.Errorf("the demo run offers a restore that would act on real AWS:\n%s", out)
	}
	if !strings.Contains(out, "nothing to restore") || !strings.Contains(out, "applied") {
		t.Errorf("the demo run must say why there is no restore:\n%s", out)
	}
}
