package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/bench"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// serveSeed serves a seed on an in-process emulator and points the SDK's
// default credential chain at account (AKIA + account).
func serveSeed(t *testing.T, seed *emulator.Seed, opts emulator.Options, account string) string {
	_, url := serveSeedServer(t, seed, opts, account)
	return url
}

// serveSeedServer is serveSeed for tests that also read the emulator
// (its request log, its policies).
func serveSeedServer(t *testing.T, seed *emulator.Seed, opts emulator.Options, account string) (*emulator.Server, string) {
	t.Helper()
	return emulatortest.Serve(t, seed, opts, account)
}

// TestScanTimeoutWritesAPartialReport: --timeout ends a slow scan; the
// report is written, complete=false, unread resources are unknown with
// the limit as their reason, and the exit code is 3.
func TestScanTimeoutWritesAPartialReport(t *testing.T) {
	shape := bench.Shape{Accounts: 1, Regions: 1, Functions: 500, Aliases: 0, Versions: 0}
	url := serveSeed(t, shape.Seed(), emulator.Options{Latency: 100 * time.Millisecond}, "100000000000")
	start := time.Now()
	code, out, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--no-roles",
		"--timeout", "2s", "--fail-on", "none", "-o", "json")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a 2 s --timeout took %s", took)
	}
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	if !strings.Contains(errOut, "--timeout 2s was reached") {
		t.Errorf("stderr should say the limit was reached: %q", errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("the partial report must be valid JSON: %v", err)
	}
	if d.Scan == nil || d.Scan.Complete {
		t.Fatalf("complete must be false: %+v", d.Scan)
	}
	timedOut := 0
	for _, r := range d.Resources {
		if r.Status == "unknown" && strings.Contains(r.UnknownReason, "--timeout 2s was reached") {
			timedOut++
		}
	}
	if timedOut == 0 && len(d.Summary.NotListed) == 0 {
		t.Errorf("nothing says what the limit cut: %d resources, not listed %+v", len(d.Resources), d.Summary.NotListed)
	}
}

// TestScanNotListedIsCountedEverywhere: a Region that is not enabled
// lists nothing; the JSON summary, the text and SARIF all say so, and the
// result line agrees with the summary.
func TestScanNotListedIsCountedEverywhere(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	mgmt := seed.Accounts[0].ID
	seed.Accounts[0].DisabledRegions = []string{"ap-east-1"}
	url := serveSeed(t, seed, emulator.Options{}, mgmt)
	dir := t.TempDir()
	jsonPath, sarifPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.sarif")
	code, text, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1,ap-east-1", "--pace", "none", "--no-roles",
		"--fail-on", "none", "-o", "text", "-o", "json="+jsonPath, "-o", "sarif="+sarifPath)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(mustRead(t, jsonPath)), &d); err != nil {
		t.Fatal(err)
	}
	var what []string
	for _, nl := range d.Summary.NotListed {
		if nl.Account == mgmt && nl.Region == "ap-east-1" {
			what = append(what, nl.What)
		}
	}
	if strings.Join(what, ",") != "functions,layers" {
		t.Errorf("summary.not_listed: %+v", d.Summary.NotListed)
	}
	for _, want := range []string{"== NOT LISTED", "functions in " + mgmt + " ap-east-1", "2 listing(s) did not finish", "Result: INCOMPLETE", "listing incomplete in 1 account/Region pair(s)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	var sarif struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, sarifPath)), &sarif); err != nil {
		t.Fatal(err)
	}
	if sarif.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Error("SARIF executionSuccessful must be false when listings did not finish")
	}
}

// TestScanResultLineAgreesWithSummary: unreadable execution roles make
// the scan incomplete; the summary counts them, and the result line says
// the same, never "0 unknown" beside INCOMPLETE with nothing to show.
func TestScanResultLineAgreesWithSummary(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	mgmt := seed.Accounts[0].ID
	// Execution roles come from the account's GetAccountAuthorizationDetails
	// read; only when that is refused too does GetRole's matter.
	faults, _ := emulator.ParseFaults("iam:GetRole:denied=1,iam:GetAccountAuthorizationDetails:denied=1")
	url := serveSeed(t, seed, emulator.Options{Faults: faults}, mgmt)
	code, text, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--fail-on", "none", "-o", "text")
	if code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"== PARTLY CHECKED", "not run execution-role rules", "not run access paths through roles", "partly checked", "Result: INCOMPLETE (1 resource(s) unknown, "} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestScanFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"scan", "--policy-api", "resource"}, `--policy-api "resource": want balanced or getpolicy`},
		{[]string{"scan", "--timeout", "-5s"}, "--timeout -5s: want a positive duration"},
		{[]string{"scan", "--timeout", "soon"}, "invalid argument"},
		{[]string{"fix", "--policy-api", "x"}, `--policy-api "x"`},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.stderr) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 and %q", c.args, code, errOut, out, c.stderr)
		}
	}
}
