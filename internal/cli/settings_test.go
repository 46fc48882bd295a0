package cli

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSuppressionLifecycleThroughTheCLI: a suppressed finding stays in the
// report, marked, and no longer fails the run; an expired one counts again
// and says so; a malformed file is a usage error naming the line.
func TestSuppressionLifecycleThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	active := writeFile(t, dir, "active.yaml", `suppressions:
  - rule: lambda-public-access
    resource: "arn:aws:lambda:us-east-1:111122223333:function:intake"
    sid: oops
    reason: "Public intake form, approved for the patient portal"
    expires: 2099-01-31
    approved_by: "security@example.org"
`)
	code, out, errOut := runCLI(t, "", "analyze", p("public-get-policy.json"), "--suppressions", active, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d with the only finding suppressed: %s", code, errOut)
	}
	var res struct {
		Findings []struct {
			RuleID       string `json:"rule_id"`
			Suppressed   bool   `json:"suppressed"`
			SuppressedBy string `json:"suppressed_by"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || !res.Findings[0].Suppressed || !strings.Contains(res.Findings[0].SuppressedBy, "security@example.org") {
		t.Fatalf("the suppressed finding must stay in the report, marked: %+v", res.Findings)
	}

	expired := writeFile(t, dir, "expired.yaml", strings.Replace(mustRead(t, active), "2099-01-31", "2020-01-31", 1))
	code, out, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "--suppressions", expired, "-o", "text")
	if code != 1 || !strings.Contains(errOut, "expired") || !strings.Contains(out, "expired on 2020-01-31") {
		t.Fatalf("expired suppression: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	unused := writeFile(t, dir, "unused.yaml", strings.Replace(mustRead(t, active), "sid: oops", "sid: other", 1))
	code, _, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "--suppressions", unused, "-o", "text")
	if code != 1 || !strings.Contains(errOut, "matched no finding") {
		t.Fatalf("non-matching suppression: exit %d, stderr %s", code, errOut)
	}

	bad := writeFile(t, dir, "bad.yaml", "suppressions:\n  - rule: lambda-public-access\n    reason: x\n    expires: tomorrow\n    approved_by: me\n")
	code, _, errOut = runCLI(t, "", "analyze", p("public-get-policy.json"), "--suppressions", bad)
	if code != 2 || !strings.Contains(errOut, "bad.yaml:4") || !strings.Contains(errOut, "expires") {
		t.Fatalf("malformed suppressions: exit %d, stderr %s", code, errOut)
	}
}

func TestConfigFileAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "lambdawarden.yaml", "trusted_accounts: [\"444455556666\"]\nfail_on: critical\n")
	code, _, errOut := runCLI(t, "", "analyze", p("cross-account.json"), "--config", cfg, "-o", "text")
	if code != 0 {
		t.Fatalf("the config's trusted account should make the partner private: exit %d %s", code, errOut)
	}
	// A flag overrides the file.
	code, _, _ = runCLI(t, "", "analyze", p("cross-account.json"), "--config", cfg, "--fail-on", "high", "--trusted-account", "999988887777", "-o", "text")
	if code != 1 {
		t.Fatalf("flags must override the config file: exit %d", code)
	}
	broken := writeFile(t, dir, "broken.yaml", "trusted_accounts: [\"12\"]\n")
	code, _, errOut = runCLI(t, "", "analyze", p("cross-account.json"), "--config", broken)
	if code != 2 || !strings.Contains(errOut, "broken.yaml:1") {
		t.Fatalf("malformed config: exit %d, stderr %s", code, errOut)
	}
}

// TestDemoWritesEveryFormat is the "done when": one demo scan
// writes all six reports, each readable by its kind of parser.
func TestDemoWritesEveryFormat(t *testing.T) {
	dir := t.TempDir()
	f := func(n string) string { return filepath.Join(dir, n) }
	code, _, errOut := runCLI(t, "", "scan", "--demo", "-o", "html="+f("report.html"), "-o", "sarif="+f("r.sarif"), "-o", "asff="+f("r.asff.json"),
		"-o", "ocsf="+f("r.ocsf.json"), "-o", "csv="+f("r.csv"), "-o", "junit="+f("r.xml"), "-o", "json="+f("r.json"), "--ocsf-compliance")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The demo's asff findings span several accounts and Regions: one
	// file per account, Region and batch of 100 (BatchImportFindings).
	parts, _ := filepath.Glob(f("r.asff.*.*.*.json"))
	if len(parts) < 2 {
		t.Errorf("asff parts: %v", parts)
	}
	for _, n := range append([]string{f("r.sarif"), f("r.ocsf.json"), f("r.json")}, parts...) {
		var v any
		if err := json.Unmarshal([]byte(mustRead(t, n)), &v); err != nil {
			t.Errorf("%s is not JSON: %v", n, err)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(mustRead(t, f("r.csv")))).ReadAll()
	if err != nil || len(rows) < 10 {
		t.Errorf("csv: %d rows, %v", len(rows), err)
	}
	var suites struct {
		XMLName xml.Name `xml:"testsuites"`
	}
	if err := xml.Unmarshal([]byte(mustRead(t, f("r.xml"))), &suites); err != nil {
		t.Errorf("junit: %v", err)
	}
	html := mustRead(t, f("report.html"))
	for _, want := range []string{"patient-portal", "aws lambda remove-permission", "164.312(a)(1)", "FunctionURLAllowPublicAccess"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestScanSuppressionsAreSpooled: a scan applies suppressions to each
// resource before it is spooled, so the report, its summary and the exit
// code all see them, and the warnings still come.
func TestScanSuppressionsAreSpooled(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "s.yaml", `suppressions:
  - rule: lambda-public-access
    reason: "accepted for the demo"
    expires: 2099-01-31
    approved_by: "security@example.org"
  - rule: lambda-layer-public
    resource: "arn:aws:lambda:*:999999999999:layer:*"
    reason: "matches nothing"
    expires: 2099-01-31
    approved_by: "security@example.org"
`)
	code, out, errOut := runCLI(t, "", "scan", "--demo", "--suppressions", file, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Resources []struct {
			Findings []struct {
				RuleID     string `json:"rule_id"`
				Suppressed bool   `json:"suppressed"`
			} `json:"findings"`
		} `json:"resources"`
		Summary struct {
			Suppressed int `json:"suppressed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if (f.RuleID == "lambda-public-access") != f.Suppressed {
				t.Errorf("%s: suppressed=%v", f.RuleID, f.Suppressed)
			}
			if f.Suppressed {
				suppressed++
			}
		}
	}
	if suppressed == 0 || d.Summary.Suppressed != suppressed {
		t.Errorf("%d findings suppressed, summary says %d", suppressed, d.Summary.Suppressed)
	}
	if !strings.Contains(errOut, "s.yaml:6 matched no finding") || strings.Count(errOut, "matched no finding") != 1 {
		t.Errorf("want one warning, for the entry at line 6 that matched nothing; stderr: %s", errOut)
	}
}
