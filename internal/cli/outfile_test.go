//go:build unix

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/lambdawarden/lambdawarden/internal/history/pgtest"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary as the lambdawarden command (with
// real file descriptors: /dev/stdout, /dev/fd/N), as main does.
func TestMain(m *testing.M) {
	if os.Getenv("LAMBDAWARDEN_TEST_AS_CLI") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// pgtest.Run stops the PostgreSQL cluster the history tests share.
	os.Exit(pgtest.Run(m))
}

// asCLI is the command that runs this test binary as lambdawarden.
func asCLI(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LAMBDAWARDEN_TEST_AS_CLI=1")
	return cmd
}

func isReport(t *testing.T, what string, data []byte) {
	t.Helper()
	var v struct {
		SchemaVersion string `json:"schema_version"`
		ARN           string `json:"arn"`
	}
	if err := json.Unmarshal(data, &v); err != nil || v.SchemaVersion != "1" || v.ARN == "" {
		t.Fatalf("%s is not the json report (%v): %.200q", what, err, data)
	}
}

func statOf(t *testing.T, path string) (os.FileInfo, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi, fi.Sys().(*syscall.Stat_t)
}

// TestOutputPathKinds: every kind of path -o can name is written the way
// it must be: regular files atomically with their mode and owner kept,
// symlinks followed, everything else written in place, never replaced.
func TestOutputPathKinds(t *testing.T) {
	policy := p("public-get-policy.json")
	analyze := func(t *testing.T, spec string) (int, string, string) {
		t.Helper()
		return runCLI(t, "", "analyze", policy, "-o", spec)
	}

	t.Run("new file is created 0600", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.json")
		if code, _, errOut := analyze(t, "json="+path); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		fi, _ := statOf(t, path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600 (reports hold whole policies)", fi.Mode().Perm())
		}
		isReport(t, path, []byte(mustRead(t, path)))
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) > 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	})

	t.Run("existing file keeps its mode, read-only included", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o444} {
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(path, []byte("old"), mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, mode) // past the umask
			if code, _, errOut := analyze(t, "json="+path); code != 1 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			fi, _ := statOf(t, path)
			if fi.Mode().Perm() != mode {
				t.Errorf("mode %v after the write, want %v", fi.Mode().Perm(), mode)
			}
			isReport(t, path, []byte(mustRead(t, path)))
		}
	})

	t.Run("existing file keeps its owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("giving a file to another user needs root; the rename path is covered by the mode test")
		}
		path := filepath.Join(t.TempDir(), "r.json")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, 1234, 5678); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := analyze(t, "json="+path); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		_, st := statOf(t, path)
		if st.Uid != 1234 || st.Gid != 5678 {
			t.Errorf("owner %d:%d after the write, want 1234:5678", st.Uid, st.Gid)
		}
		isReport(t, path, []byte(mustRead(t, path)))
	})

	t.Run("hard-linked file is rewritten in place", func(t *testing.T) {
		dir := t.TempDir()
		path, other := filepath.Join(dir, "r.json"), filepath.Join(dir, "other-name.json")
		writeFile(t, dir, "r.json", "old")
		if err := os.Link(path, other); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := analyze(t, "json="+path); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		isReport(t, other, []byte(mustRead(t, other)))
	})

	t.Run("symlink is followed, not replaced", func(t *testing.T) {
		dir := t.TempDir()
		target := writeFile(t, dir, "target.json", "old")
		os.Chmod(target, 0o640)
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink("target.json", link); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := analyze(t, "json="+link); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if fi, _ := statOf(t, link); fi.Mode()&os.ModeSymlink == 0 {
			t.Fatal("the symlink was replaced by a file")
		}
		fi, _ := statOf(t, target)
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("target mode %v, want 0640", fi.Mode().Perm())
		}
		isReport(t, target, []byte(mustRead(t, target)))
	})

	t.Run("dangling symlink creates its target", func(t *testing.T) {
		dir := t.TempDir()
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink("made.json", link); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := analyze(t, "json="+link); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if fi, _ := statOf(t, link); fi.Mode()&os.ModeSymlink == 0 {
			t.Fatal("the symlink was replaced by a file")
		}
		isReport(t, "made.json", []byte(mustRead(t, filepath.Join(dir, "made.json"))))
	})

	t.Run("FIFO is written in place", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the writer opens
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		if code, _, errOut := analyze(t, "json="+fifo); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		isReport(t, "what the FIFO's reader got", <-got)
		if fi, _ := statOf(t, fifo); fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v", fi.Mode())
		}
	})

	t.Run("FIFO nobody reads is waited for a bounded time", func(t *testing.T) {
		old := fifoWait
		fifoWait = 100 * time.Millisecond
		defer func() { fifoWait = old }()
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := analyze(t, "json="+fifo)
		if code != 2 || !strings.Contains(errOut, "nothing read the FIFO") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("device is written in place", func(t *testing.T) {
		if code, _, errOut := analyze(t, "json=/dev/null"); code != 1 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if fi, _ := statOf(t, "/dev/null"); fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a device: %v", fi.Mode())
		}
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full on this system")
		}
		code, out, errOut := analyze(t, "json=/dev/full")
		if code != 2 || !strings.Contains(errOut, "-o json=/dev/full: cannot write /dev/full: no space left on device") || out != "" {
			t.Errorf("/dev/full: exit %d, stderr %q", code, errOut)
		}
		if fi, _ := statOf(t, "/dev/full"); fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/full was replaced: %v", fi.Mode())
		}
	})

	t.Run("- and /dev/stdout are standard output", func(t *testing.T) {
		for _, spec := range []string{"json=-", "json=/dev/stdout", "json=/dev/fd/1"} {
			code, out, errOut := analyze(t, spec)
			if code != 1 {
				t.Fatalf("%s: exit %d: %s", spec, code, errOut)
			}
			isReport(t, spec, []byte(out))
		}
		code, out, errOut := analyze(t, "json=/dev/stderr")
		if code != 1 || out != "" {
			t.Fatalf("/dev/stderr: exit %d, stdout %q", code, out)
		}
		isReport(t, "/dev/stderr", []byte(errOut))
		code, _, errOut = runCLI(t, "", "analyze", policy, "-o", "json=-", "-o", "text=/dev/stdout")
		if code != 2 || !strings.Contains(errOut, "only one -o format can go to standard output") {
			t.Errorf("two reports on stdout: exit %d, %s", code, errOut)
		}
	})

	t.Run("folder and unwritable folder are refused before work", func(t *testing.T) {
		dir := t.TempDir()
		code, _, errOut := analyze(t, "json="+dir)
		if code != 2 || !strings.Contains(errOut, "is a folder; give a file name in it") {
			t.Errorf("folder: exit %d, %s", code, errOut)
		}
		if runtime.GOOS != "linux" {
			return
		}
		code, _, errOut = analyze(t, "json=/proc/lambdawarden-report.json")
		if code != 2 || !strings.Contains(errOut, "cannot create files in /proc") {
			t.Errorf("unwritable folder: exit %d, %s", code, errOut)
		}
	})
}

// TestOutputRealDescriptors runs the command as its own process, so
// /dev/stdout and /dev/fd/N are real descriptors: process substitution
// (>(cmd), here a pipe passed as descriptor 3) and a shell's redirection
// of stdout to a file, which must not be replaced.
func TestOutputRealDescriptors(t *testing.T) {
	policy, _ := filepath.Abs(p("public-get-policy.json"))

	paths := []string{"/dev/fd/3"}
	if runtime.GOOS == "linux" {
		paths = append(paths, "/proc/self/fd/3")
	}
	for _, path := range paths {
		t.Run("process substitution "+path, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := asCLI("analyze", policy, "-o", "json="+path, "-o", "text")
			cmd.ExtraFiles = []*os.File{w}
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			got := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(r); got <- b }()
			err = cmd.Run()
			w.Close()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d (%v)", code, err)
			}
			isReport(t, "the pipe's contents", <-got)
			if !strings.Contains(stdout.String(), "lambda-public-access") {
				t.Errorf("the text report did not reach stdout: %q", stdout.String())
			}
		})
	}

	t.Run("/dev/stdout redirected to a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.json")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		_, before := statOf(t, path)
		cmd := asCLI("analyze", policy, "-o", "json=/dev/stdout")
		cmd.Stdout = f
		cmd.Run()
		f.Close()
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			t.Fatalf("exit %d", code)
		}
		_, after := statOf(t, path)
		if before.Ino != after.Ino {
			t.Error("the file the shell redirected stdout to was replaced")
		}
		isReport(t, path, []byte(mustRead(t, path)))
	})
}
