package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/bench"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// TestMain lets a test run this binary's main in a child process, so a
// real signal reaches a real process.
func TestMain(m *testing.M) {
	if os.Getenv("LAMBDAWARDEN_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSIGTERMWritesThePartialReportLikeSIGINT: a CI runner's timeout
// sends SIGTERM; the scan must stop and write the same partial,
// complete=false report that Ctrl-C (SIGINT) gives, with the same exit
// code.
func TestSIGTERMWritesThePartialReportLikeSIGINT(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	shape := bench.Shape{Accounts: 1, Regions: 1, Functions: 300}
	type outcome struct {
		code     int
		complete bool
		cut      bool
	}
	run := func(sig syscall.Signal) outcome {
		srv, err := emulator.New(shape.Seed(), emulator.Options{Latency: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		url, err := srv.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		dir := t.TempDir()
		reportPath := filepath.Join(dir, "report.json")
		cmd := exec.Command(os.Args[0], "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--no-roles", "--quiet",
			"--fail-on", "none", "-o", "json="+reportPath)
		none := filepath.Join(dir, "none")
		cmd.Env = append(os.Environ(), "LAMBDAWARDEN_TEST_MAIN=1", "AWS_ACCESS_KEY_ID=AKIA100000000000", "AWS_SECRET_ACCESS_KEY=x",
			"AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once the scan is well under way.
		deadline := time.Now().Add(20 * time.Second)
		for srv.Counts()["GetPolicy"]+srv.Counts()["GetResourcePolicy"] < 8 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the scan never started reading policies")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var werr error
		select {
		case werr = <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: the scan did not stop within 20 s", sig)
		}
		var o outcome
		var exit *exec.ExitError
		if errors.As(werr, &exit) {
			o.code = exit.ExitCode()
		}
		data, err := os.ReadFile(reportPath)
		if err != nil {
			t.Fatalf("%s: no report was written: %v", sig, err)
		}
		var doc struct {
			Scan struct {
				Complete bool     `json:"complete"`
				Errors   []string `json:"errors"`
			} `json:"scan"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: the report is not valid JSON: %v", sig, err)
		}
		o.complete = doc.Scan.Complete
		o.cut = len(doc.Scan.Errors) > 0
		return o
	}
	term, intr := run(syscall.SIGTERM), run(syscall.SIGINT)
	if term.complete || !term.cut {
		t.Errorf("SIGTERM: complete=%v, errors present=%v; want a partial report saying so", term.complete, term.cut)
	}
	if term != intr {
		t.Errorf("SIGTERM gave %+v, SIGINT %+v: they must end alike", term, intr)
	}
	if term.code == 0 {
		t.Errorf("an interrupted scan must not exit 0")
	}
}
