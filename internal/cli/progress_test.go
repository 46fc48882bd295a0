package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// TestProgress: a line per account × Region on a terminal, a short line
// now and then off it, nothing with --quiet, no colour with TERM=dumb.
func TestProgress(t *testing.T) {
	url, _ := awsScene(t, emulator.Options{Latency: 20 * time.Millisecond})
	old := progressEvery
	progressEvery = 50 * time.Millisecond
	defer func() { progressEvery = old }()
	scan := []string{"scan", "--endpoint-url", url, "--org", "--regions", "us-east-1,eu-west-1", "--pace", "none", "--no-roles", "-o", "text", "--fail-on", "none"}

	t.Run("off a terminal", func(t *testing.T) {
		_, _, errOut := runWith(t, runOpts{osEnv: true}, "", scan...)
		if !regexp.MustCompile(`(?m)^lambdawarden: scanning: \d+ resources read(, \d+ of \d+ account×Region done)? \(\d+s\)$`).MatchString(errOut) {
			t.Errorf("no progress line in the log:\n%s", errOut)
		}
		if strings.ContainsAny(errOut, "\r\x1b") {
			t.Errorf("terminal control codes in a log: %q", errOut)
		}
	})

	t.Run("on a terminal", func(t *testing.T) {
		_, _, errOut := runWith(t, runOpts{osEnv: true, stderrTerminal: true}, "", scan...)
		lines := regexp.MustCompile(`lambdawarden: (\d{12}) ([a-z0-9-]+): \d+ resources read \((\d+) of (\d+) account×Region done\)\n`).FindAllStringSubmatch(errOut, -1)
		if len(lines) == 0 {
			t.Fatalf("no per-lane lines:\n%q", errOut)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if seen[l[1]+" "+l[2]] {
				t.Errorf("%s %s named twice", l[1], l[2])
			}
			seen[l[1]+" "+l[2]] = true
		}
		if total := lines[0][4]; len(lines) != atoi(total) || len(seen) < 4 {
			t.Errorf("%d lane lines, %d lanes announced:\n%s", len(lines), atoi(total), errOut)
		}
	})

	t.Run("--quiet", func(t *testing.T) {
		_, _, errOut := runWith(t, runOpts{osEnv: true, stderrTerminal: true}, "", append(scan, "--quiet")...)
		if errOut != "" {
			t.Errorf("--quiet printed %q", errOut)
		}
	})

	t.Run("TERM=dumb", func(t *testing.T) {
		t.Setenv("TERM", "dumb")
		_, out, errOut := runWith(t, runOpts{osEnv: true, stdoutTerminal: true, stderrTerminal: true}, "", scan...)
		if strings.Contains(out, "\x1b") || strings.ContainsAny(errOut, "\x1b\r") {
			t.Errorf("colour or redraw on a dumb terminal:\nstdout %.300q\nstderr %.300q", out, errOut)
		}
		t.Setenv("TERM", "xterm-256color")
		_, out, _ = runWith(t, runOpts{osEnv: true, stdoutTerminal: true}, "", scan...)
		if !strings.Contains(out, "\x1b[") {
			t.Error("a capable terminal gets colour (so the check above means something)")
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestInterrupt: Ctrl-C during a scan is exit 130, a line that says
// INTERRUPTED and no SDK wording; a report that is written is marked
// interrupted and incomplete, never presented as complete.
func TestInterrupt(t *testing.T) {
	url, _ := awsScene(t, emulator.Options{Latency: 100 * time.Millisecond})
	for _, after := range []time.Duration{50 * time.Millisecond, 700 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(after, cancel)
		path := filepath.Join(t.TempDir(), "r.json")
		code, out, errOut := runWith(t, runOpts{ctx: ctx, osEnv: true}, "", "scan", "--endpoint-url", url, "--org", "--regions", "us-east-1,eu-west-1", "-o", "json="+path, "-o", "text")
		cancel()
		if code != exitInterrupted || !strings.Contains(errOut, "lambdawarden: INTERRUPTED: ") {
			t.Errorf("after %v: exit %d, stderr %q", after, code, errOut)
		}
		for _, bad := range []string{"context canceled", "operation error", "deadline"} {
			if strings.Contains(errOut, bad) {
				t.Errorf("after %v: stderr has %q: %s", after, bad, errOut)
			}
		}
		if out != "" && !strings.Contains(out, "Result: INTERRUPTED") {
			t.Errorf("after %v: the text report does not say INTERRUPTED: %.300q", after, out)
		}
		if data, err := os.ReadFile(path); err == nil {
			var d struct {
				Scan struct{ Complete, Interrupted bool } `json:"scan"`
			}
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatalf("after %v: %v", after, err)
			}
			if d.Scan.Complete || !d.Scan.Interrupted {
				t.Errorf("after %v: the report says complete=%v interrupted=%v", after, d.Scan.Complete, d.Scan.Interrupted)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	code, _, errOut := runWith(t, runOpts{ctx: ctx, osEnv: true}, "", "fix", "--endpoint-url", url, "--org", "--regions", "us-east-1,eu-west-1", "-o", "json")
	cancel()
	if code != exitInterrupted || !strings.Contains(errOut, "INTERRUPTED") || strings.Contains(errOut, "context canceled") {
		t.Errorf("fix: exit %d, stderr %q", code, errOut)
	}
}

// TestCtrlCInAProcess sends a real SIGINT to the command running as its
// own process.
func TestCtrlCInAProcess(t *testing.T) {
	url, requests := awsScene(t, emulator.Options{Latency: 100 * time.Millisecond})
	cmd := asCLI("scan", "--endpoint-url", url, "--org", "--regions", "us-east-1,eu-west-1", "-o", "json")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal once the scan is calling AWS: its handler is installed by
	// then, however slowly a loaded machine started the process.
	for deadline := time.Now().Add(60 * time.Second); requests.String() == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the scan never called the emulator")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), "INTERRUPTED") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if stdout.Len() > 0 {
		var d struct {
			Scan struct{ Complete, Interrupted bool } `json:"scan"`
		}
		if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil || d.Scan.Complete || !d.Scan.Interrupted {
			t.Errorf("the report printed is not marked partial (%v): %.200q", err, stdout.String())
		}
	}
}
