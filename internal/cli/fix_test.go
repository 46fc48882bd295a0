package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/remediate/fixdoc"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// liveEstate serves the demo estate on an in-process emulator that
// outlives several CLI invocations (a --demo run forgets its changes when
// it ends), and points the SDK's default credential chain at it.
func liveEstate(t *testing.T) (*emulator.Server, []string) {
	t.Helper()
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	srv, url := serveSeedServer(t, seed, emulator.Options{}, "111122223333")
	return srv, []string{"--endpoint-url", url, "--org", "--regions", "us-east-1,eu-west-1", "--thorough", "--pace", "none"}
}

func scanJSON(t *testing.T, args []string) *report.Document {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"scan", "-o", "json", "--fail-on", "none", "--no-roles"}, args...)...)
	if code != exitIncomplete {
		t.Fatalf("scan: exit %d (want 3, the demo's unreadable policy): %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// policies reads every resource's policy straight from the emulator.
func policies(srv *emulator.Server, d *report.Document) map[string]string {
	out := map[string]string{}
	for _, r := range d.Resources {
		if doc, _, ok := srv.Policy(r.Account, r.Region, r.ARN); ok {
			out[r.ARN] = doc
		}
	}
	return out
}

type fixOut struct {
	Mode    string `json:"mode"`
	Actions []struct {
		Resource string `json:"resource"`
		Changes  []struct {
			Sid         string          `json:"sid"`
			Statement   json.RawMessage `json:"statement"`
			Replacement json.RawMessage `json:"replacement"`
		} `json:"changes"`
		Calls  []struct{ API string } `json:"calls"`
		Result *struct {
			Status  string   `json:"status"`
			Backups []string `json:"backups"`
		} `json:"result"`
	} `json:"actions"`
	Unknown []struct{ ARN string } `json:"unknown"`
	Summary struct {
		Calls   int  `json:"calls"`
		Applied *int `json:"applied"`
		Failed  *int `json:"failed"`
	} `json:"summary"`
}

func runFixJSON(t *testing.T, wantCode int, args ...string) *fixOut {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"fix", "-o", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("fix %v: exit %d, want %d\n%s\n%s", args, code, wantCode, errOut, out)
	}
	var f fixOut
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("fix output is not JSON: %v\n%s", err, out)
	}
	return &f
}

// exposedFindings lists the exposed findings fix acts on: a path through
// an assumable role (lambda-external-path-via-role) is closed in IAM, not
// in the function's policy, and fix neither reports nor changes it.
func exposedFindings(d *report.Document) []string {
	var out []string
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if f.RuleID == "lambda-external-path-via-role" {
				continue
			}
			if c, err := policy.ParseClass(f.Exposure); err == nil && c.Exposed() {
				out = append(out, r.ARN+" "+f.RuleID)
			}
		}
	}
	return out
}

func TestFixRoundTripOnTheEmulator(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags []string
		// bytes: every policy comes back byte for byte. A narrowing made
		// with remove-permission + add-permission comes back the same way,
		// at the end of the policy, so only its verdicts and statements
		// are the same.
		bytes bool
	}{
		{"remove", []string{"--remove"}, true},
		{"default", nil, true},
		{"narrow and switch the URL", []string{"--narrow-to-org", "--narrow-to-account", "--url-auth", "aws-iam"}, false},
	} {
		t.Run(c.name, func(t *testing.T) { roundTrip(t, c.flags, c.bytes) })
	}
}

// verdicts is what a scan says about each resource, without the
// statements' positions.
func verdicts(d *report.Document) string {
	var out []string
	for _, r := range d.Resources {
		line := r.ARN + " " + r.Status + " " + r.Exposure
		var fs []string
		for _, f := range r.Findings {
			sid := ""
			if f.Statement != nil {
				sid = f.Statement.Sid
			}
			fs = append(fs, f.RuleID+"/"+sid+"/"+f.Exposure+"/"+f.Severity.String())
		}
		sort.Strings(fs)
		out = append(out, line+" ["+strings.Join(fs, " ")+"]")
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// statementSet is a policy's statements, compacted and sorted.
func statementSet(t *testing.T, doc string) string {
	t.Helper()
	var st struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range st.Statement {
		out = append(out, compactJSON(s))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// roundTrip: scan, fix --apply, scan (nothing exposed is left, nothing
// else changed), restore, scan (the same verdicts as the first).
func roundTrip(t *testing.T, flags []string, bytes bool) {
	srv, args := liveEstate(t)
	first := scanJSON(t, args)
	if len(exposedFindings(first)) == 0 {
		t.Fatal("the demo estate must start with exposed findings")
	}
	before := policies(srv, first)

	backups := filepath.Join(t.TempDir(), "backups")
	applied := runFixJSON(t, exitIncomplete, append(append(args, flags...), "--apply", "--yes", "--backup-dir", backups)...)
	if applied.Summary.Failed == nil || *applied.Summary.Failed != 0 || *applied.Summary.Applied == 0 {
		t.Fatalf("apply summary %+v", applied.Summary)
	}
	if len(applied.Unknown) != 1 || !strings.HasSuffix(applied.Unknown[0].ARN, ":secrets-rotator") {
		t.Errorf("the unreadable function must be reported as left alone: %+v", applied.Unknown)
	}

	second := scanJSON(t, args)
	if left := exposedFindings(second); len(left) > 0 {
		t.Errorf("public, cross-account or unscoped findings left after the fix: %v", left)
	}
	after := policies(srv, second)
	removed := map[string][]string{}
	for _, a := range applied.Actions {
		if a.Result == nil || a.Result.Status != "applied" || len(a.Result.Backups) == 0 {
			t.Errorf("%s: %+v, want applied with a backup", a.Resource, a.Result)
		}
		for _, c := range a.Changes {
			removed[a.Resource] = append(removed[a.Resource], compactJSON(c.Statement))
			if c.Replacement != nil && !strings.Contains(after[a.Resource], compactJSON(c.Replacement)) {
				t.Errorf("%s: the narrowed statement %s is not in the policy:\n%s", a.Resource, c.Replacement, after[a.Resource])
			}
		}
	}
	for arn, doc := range before {
		var st struct{ Statement []json.RawMessage }
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Statement {
			gone := false
			for _, r := range removed[arn] {
				gone = gone || r == compactJSON(s)
			}
			if gone == strings.Contains(after[arn], string(s)) {
				t.Errorf("%s: statement %s: removed=%v, but present after the fix=%v", arn, s, gone, !gone)
			}
		}
		if len(removed[arn]) == 0 && after[arn] != doc {
			t.Errorf("%s was not in the plan but its policy changed:\n%s\n%s", arn, doc, after[arn])
		}
	}

	code, out, errOut := runCLI(t, "", "restore", backups, "--endpoint-url", args[1], "-o", "json")
	if code != exitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, errOut, out)
	}
	var rd fixdoc.RestoreDocument
	if err := json.Unmarshal([]byte(out), &rd); err != nil {
		t.Fatal(err)
	}
	if rd.Summary.CouldNot != 0 || rd.Summary.Restored == 0 {
		t.Errorf("restore summary %+v", rd.Summary)
	}

	third := scanJSON(t, args)
	if got, want := verdicts(third), verdicts(first); got != want {
		t.Errorf("the scan after restore differs from the first scan:\n%s\n---\n%s", got, want)
	}
	if bytes {
		if got, want := mustJSON(t, third.Resources), mustJSON(t, first.Resources); got != want {
			t.Errorf("the scan after restore differs from the first scan:\n%s\n---\n%s", got, want)
		}
	}
	if got, want := mustJSON(t, third.Summary), mustJSON(t, first.Summary); got != want {
		t.Errorf("summary after restore %s, want %s", got, want)
	}
	for arn, doc := range policies(srv, third) {
		if bytes && doc != before[arn] {
			t.Errorf("%s is not back byte for byte:\n%s\nwant\n%s", arn, doc, before[arn])
		}
		if statementSet(t, doc) != statementSet(t, before[arn]) {
			t.Errorf("%s does not hold the same statements again:\n%s\nwant\n%s", arn, doc, before[arn])
		}
	}

	// Restoring again finds everything in place.
	code, out, _ = runCLI(t, "", "restore", backups, "--endpoint-url", args[1], "-o", "json")
	if err := json.Unmarshal([]byte(out), &rd); err != nil || code != exitOK || rd.Summary.Restored != 0 || rd.Summary.AlreadyExists == 0 {
		t.Errorf("second restore: exit %d, %+v", code, rd.Summary)
	}
}

// compactJSON drops insignificant whitespace, keeping key order and
// escaping, so it can be looked for in a compacted policy.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var writeOps = map[string]bool{
	"AddPermission": true, "RemovePermission": true, "PutResourcePolicy": true, "DeleteResourcePolicy": true,
	"UpdateFunctionUrlConfig": true, "CreateFunctionUrlConfig": true, "DeleteFunctionUrlConfig": true,
	"AddLayerVersionPermission": true, "RemoveLayerVersionPermission": true,
}

func TestFixDryRunNeverWrites(t *testing.T) {
	srv, args := liveEstate(t)
	report := filepath.Join(t.TempDir(), "report.json")
	if code, _, errOut := runCLI(t, "", append([]string{"scan", "-o", "json=" + report, "--no-roles"}, args...)...); code != exitFindings {
		t.Fatalf("scan: %d %s", code, errOut)
	}
	runs := [][]string{
		append([]string{}, args...),
		append([]string{"--dry-run", "--narrow-to-org", "--narrow-to-account", "--url-auth", "aws-iam"}, args...),
		append([]string{"--from", report}, args...),
		// --apply refused for want of confirmation must not write either.
		append([]string{"--apply"}, args...),
	}
	for i, a := range runs {
		code, out, errOut := runCLI(t, "", append([]string{"fix", "-o", "json"}, a...)...)
		if i == len(runs)-1 {
			if code != exitUsage || !strings.Contains(errOut, "--yes") {
				t.Errorf("--apply off a terminal without --yes: exit %d %s", code, errOut)
			}
			continue
		}
		var f fixOut
		if code != exitIncomplete || json.Unmarshal([]byte(out), &f) != nil || f.Summary.Calls == 0 || f.Mode != "dry-run" {
			t.Errorf("fix %v: exit %d, plan %+v\n%s", a, code, f.Summary, errOut)
		}
	}
	for _, r := range srv.Requests() {
		if writeOps[r.Op] {
			t.Errorf("a dry run called %s %s", r.Op, r.Path)
		}
	}
}

func TestFixFromReportActsOnlyOnWhatTheReportFlagged(t *testing.T) {
	srv, args := liveEstate(t)
	report := filepath.Join(t.TempDir(), "report.json")
	if code, _, errOut := runCLI(t, "", append([]string{"scan", "-o", "json=" + report, "--no-roles"}, args...)...); code != exitFindings {
		t.Fatalf("scan: %d %s", code, errOut)
	}
	// After the report: a new public grant nobody reviewed.
	const arn = "arn:aws:lambda:us-east-1:111122223333:function:patient-intake"
	doc, _, _ := srv.Policy("111122223333", "us-east-1", arn)
	fresh := `{"Sid":"new-oops","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`
	i := strings.LastIndex(doc, "]")
	if err := srv.SetPolicy("111122223333", "us-east-1", arn, []byte(doc[:i]+","+fresh+doc[i:])); err != nil {
		t.Fatal(err)
	}
	f := runFixJSON(t, exitIncomplete, append(args, "--from", report, "--apply", "--yes", "--backup-dir", t.TempDir(), "--resource", "arn:aws:lambda:*:*:function:patient-*")...)
	if *f.Summary.Failed != 0 || *f.Summary.Applied != 2 {
		t.Fatalf("summary %+v", f.Summary)
	}
	got, _, _ := srv.Policy("111122223333", "us-east-1", arn)
	if !strings.Contains(got, fresh) || strings.Contains(got, `"Sid":"oops"`) {
		t.Errorf("want oops removed (in the report) and new-oops kept (not in it):\n%s", got)
	}
	if other, _, _ := srv.Policy("111122223333", "us-east-1", "arn:aws:lambda:us-east-1:111122223333:function:billing-export"); !strings.Contains(other, "partner-billing") {
		t.Error("--resource must limit the fix to matching resources")
	}
}

var uuid = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func TestFixGoldenPlan(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"fix-demo.txt", []string{"fix", "--demo", "-o", "text"}},
		{"fix-demo.json", []string{"fix", "--demo", "-o", "json"}},
		{"fix-demo-narrow.txt", []string{"fix", "--demo", "-o", "text", "--narrow-to-org", "--narrow-to-account", "--url-auth", "aws-iam"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", c.args...)
			if code != exitIncomplete {
				t.Fatalf("exit %d (want 3: the demo has an unreadable policy): %s", code, errOut)
			}
			golden(t, c.golden, uuid.ReplaceAllString(out, "REVISION-ID"))
		})
	}
}

func TestFixUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"fix", "--demo", "--apply", "--dry-run"}, "exclusive"},
		{[]string{"fix", "--demo", "--rule", "no-such-rule"}, `unknown rule "no-such-rule"`},
		{[]string{"fix", "--demo", "--exposure", "org"}, "never changed"},
		{[]string{"fix", "--demo", "--severity", "none"}, "--severity"},
		{[]string{"fix", "--demo", "--url-auth", "none"}, "aws-iam"},
		{[]string{"fix", "--demo", "--resource", "intake"}, "ARN pattern"},
		{[]string{"fix", "--demo", "-o", "sarif"}, "want text or json"},
		{[]string{"fix", "--from", "nope.json"}, "cannot read nope.json"},
		{[]string{"fix", "--demo", "--apply"}, "pass --yes"},
		{[]string{"restore"}, "needs a backup"},
		{[]string{"restore", "nope"}, "no such backup"},
		{[]string{"restore", p("url-none.json")}, "not a lambdawarden backup"},
		{[]string{"guardrails", "--org-id", "abc"}, "starts with o-"},
		{[]string{"guardrails", "--deployment-role", "deployer"}, "not an ARN pattern"},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.stderr) || out != "" {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q), stdout %q", c.args, code, errOut, c.stderr, out)
		}
	}
}

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{"yes\n": true, "YES": true, "y\n": false, "no\n": false, "": false} {
		var prompt strings.Builder
		got, err := confirm(strings.NewReader(in), &prompt, "Apply? ")
		if err != nil || got != want || prompt.String() != "Apply? " {
			t.Errorf("confirm(%q) = %v, %v (prompt %q)", in, got, err, prompt.String())
		}
	}
}

func TestGuardrailsGolden(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"guardrails.txt", []string{"guardrails", "--org-id", "o-abc123def4", "-o", "text"}},
		{"guardrails.json", []string{"guardrails", "-o", "json"}},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d %s", c.args, code, errOut)
		}
		golden(t, c.golden, out)
	}
}

func TestFixApplyOnTheDemoEstate(t *testing.T) {
	// The demo emulator lives for one command: apply and its results are
	// in one process. Backups land in the directory given.
	dir := filepath.Join(t.TempDir(), "b")
	f := runFixJSON(t, exitIncomplete, "--demo", "--apply", "--yes", "--backup-dir", dir)
	if *f.Summary.Failed != 0 || *f.Summary.Applied != len(f.Actions) {
		t.Fatalf("summary %+v", f.Summary)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != *f.Summary.Applied {
		t.Errorf("want one backup per applied resource, got %d (%v)", len(entries), err)
	}
}
