package suppress

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

const (
	webhook = "arn:aws:lambda:us-east-1:111122223333:function:public-webhook"
	intake  = "arn:aws:lambda:us-east-1:111122223333:function:intake"
	partner = "arn:aws:lambda:eu-west-1:444455556666:function:billing:prod"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newFinding(rule, sid string) finding.Finding {
	r, err := rules.ByID(rule)
	if err != nil {
		panic(err)
	}
	f := finding.Finding{RuleID: r.ID, Title: r.Title, Severity: r.Severity, Explanation: "x", Compliance: rules.Compliance(r.ID)}
	if sid != "" {
		f.Statement = &finding.StatementRef{Sid: sid, Index: 0}
	}
	return f
}

// doc is a document with a public URL finding (critical), a public
// access finding on another function (critical) and a cross-account
// finding in another account (high).
func doc() *report.Document {
	d := &report.Document{
		SchemaVersion: report.SchemaVersion,
		Resources: []report.Resource{
			{ARN: webhook, Kind: "function", Account: "111122223333", Region: "us-east-1", Status: "evaluated", Exposure: "public",
				Findings: []finding.Finding{newFinding("lambda-public-function-url", "FunctionURLAllowPublicAccess")}},
			{ARN: intake, Kind: "function", Account: "111122223333", Region: "us-east-1", Status: "evaluated", Exposure: "public",
				Findings: []finding.Finding{newFinding("lambda-public-access", "oops")}},
			{ARN: partner, Kind: "alias", Account: "444455556666", Region: "eu-west-1", Status: "evaluated", Exposure: "cross-account",
				Findings: []finding.Finding{newFinding("lambda-cross-account-access", "partner")}},
		},
	}
	d.Summarize()
	return d
}

func parse(t *testing.T, text string) *Set {
	t.Helper()
	s, err := Parse([]byte(text), "suppressions.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

const webhookEntry = `suppressions:
  - rule: lambda-public-function-url
    resource: "arn:aws:lambda:us-east-1:111122223333:function:public-webhook*"
    account: "111122223333"
    sid: FunctionURLAllowPublicAccess
    reason: "Public webhook for the patient portal, reviewed by security"
    expires: %s
    approved_by: "jane.doe@example.org"
`

func TestActiveSuppression(t *testing.T) {
	d := doc()
	if d.ExitCode(finding.Critical) != 1 {
		t.Fatal("precondition: the document fails at critical")
	}
	s := parse(t, strings.Replace(webhookEntry, "%s", "2027-03-31", 1))
	out := s.Apply(d, now)
	f := d.Resources[0].Findings[0]
	if !f.Suppressed {
		t.Fatal("the webhook finding is not suppressed")
	}
	for _, want := range []string{"suppressions.yaml:2", "patient portal", "jane.doe@example.org", "2027-03-31"} {
		if !strings.Contains(f.SuppressedBy, want) {
			t.Errorf("SuppressedBy %q lacks %q", f.SuppressedBy, want)
		}
	}
	if len(d.Resources[0].Findings) != 1 {
		t.Error("a suppressed finding must stay in the document")
	}
	if out.Suppressed != 1 || out.Expired != 0 || len(out.Unused) != 0 {
		t.Errorf("outcome %+v", out)
	}
	if d.Summary.Suppressed != 1 || d.Summary.Findings != 2 || d.Summary.BySeverity["critical"] != 1 {
		t.Errorf("summary not recomputed: %+v", d.Summary)
	}
	// The other critical finding still fails the run; suppress it too
	// and only the high one is left.
	if d.ExitCode(finding.Critical) != 1 {
		t.Error("an unrelated critical finding must still fail")
	}
	parse(t, `suppressions:
  - resource: "`+intake+`"
    reason: accepted
    expires: 2026-05-01
    approved_by: ciso
`).Apply(d, now)
	if d.ExitCode(finding.Critical) != 0 || d.ExitCode(finding.High) != 1 {
		t.Errorf("suppressed findings still count toward --fail-on: exit %d at critical, %d at high", d.ExitCode(finding.Critical), d.ExitCode(finding.High))
	}
}

func TestExpiredSuppressionCountsAgain(t *testing.T) {
	d := doc()
	s := parse(t, strings.Replace(webhookEntry, "%s", "2026-04-30", 1))
	out := s.Apply(d, now)
	f := d.Resources[0].Findings[0]
	if f.Suppressed || f.SuppressedBy != "" {
		t.Fatalf("an expired suppression still suppresses: %+v", f)
	}
	if !strings.Contains(f.Note, "suppression expired on 2026-04-30") || !strings.Contains(f.Note, "suppressions.yaml:2") {
		t.Errorf("note %q does not say the suppression expired", f.Note)
	}
	if out.Expired != 1 || len(out.ExpiredEntries) != 1 || out.Suppressed != 0 {
		t.Errorf("outcome %+v", out)
	}
	if d.ExitCode(finding.Critical) != 1 || d.Summary.Suppressed != 0 {
		t.Error("an expired suppression must count toward --fail-on again")
	}
}

func TestExpiryBoundaries(t *testing.T) {
	day := parse(t, strings.Replace(webhookEntry, "%s", "2026-05-01", 1)).Entries[0]
	if !day.Active(time.Date(2026, 5, 1, 23, 59, 59, 0, time.UTC)) || day.Active(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date is valid through that day in UTC: expires %v", day.Expires)
	}
	instant := parse(t, strings.Replace(webhookEntry, "%s", "2026-05-01T12:00:00Z", 1)).Entries[0]
	if !instant.Active(now.Add(-time.Second)) || instant.Active(now) {
		t.Errorf("a time is valid until that instant: expires %v", instant.Expires)
	}
	// An active entry after an expired one in the file still wins.
	d := doc()
	s := parse(t, strings.Replace(webhookEntry, "%s", "2020-01-01", 1)+`  - rule: lambda-public-function-url
    reason: renewed
    expires: 2027-01-01
    approved_by: ciso
`)
	s.Apply(d, now)
	if f := d.Resources[0].Findings[0]; !f.Suppressed || !strings.Contains(f.SuppressedBy, "renewed") || f.Note != "" {
		t.Errorf("the renewed entry should suppress without an expiry note: %+v", f)
	}
}

func TestNotMatching(t *testing.T) {
	cases := map[string]string{
		"other rule":    "rule: lambda-layer-public",
		"other account": `account: "999999999999"`,
		"other sid":     "sid: SomethingElse",
		"exact ARN of an alias is not the function": `resource: "arn:aws:lambda:us-east-1:111122223333:function:public-webhook:prod"`,
		"wildcard elsewhere":                        `resource: "arn:aws:lambda:eu-west-1:*"`,
	}
	for name, matcher := range cases {
		t.Run(name, func(t *testing.T) {
			d := doc()
			s := parse(t, "suppressions:\n  - "+matcher+"\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n")
			out := s.Apply(d, now)
			for _, r := range d.Resources {
				for _, f := range r.Findings {
					if f.Suppressed && (name != "wildcard elsewhere" || r.ARN != partner) {
						t.Errorf("%s on %s suppressed by a non-matching entry", f.RuleID, r.ARN)
					}
				}
			}
			if name != "wildcard elsewhere" && (out.Suppressed != 0 || len(out.Unused) != 1) {
				t.Errorf("outcome %+v: the entry should be reported unused", out)
			}
		})
	}
}

func TestMatchers(t *testing.T) {
	d := doc()
	s := parse(t, `suppressions:
  - account: "444455556666"
    reason: partner account reviewed
    expires: 2027-01-01
    approved_by: ciso
`)
	out := s.Apply(d, now)
	if !d.Resources[2].Findings[0].Suppressed || d.Resources[0].Findings[0].Suppressed || out.Suppressed != 1 {
		t.Errorf("account matcher: outcome %+v", out)
	}
	d = doc()
	parse(t, `suppressions:
  - sid: oops
    reason: r
    expires: 2027-01-01
    approved_by: a
`).Apply(d, now)
	if !d.Resources[1].Findings[0].Suppressed || d.Resources[0].Findings[0].Suppressed {
		t.Error("sid matcher")
	}
	// A sid entry never matches a finding without a statement.
	d = doc()
	d.Resources[1].Findings[0].Statement = nil
	parse(t, "suppressions:\n  - sid: oops\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n").Apply(d, now)
	if d.Resources[1].Findings[0].Suppressed {
		t.Error("a sid entry matched a finding without a statement")
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"arn:aws:lambda:us-east-1:111122223333:function:public-webhook*", webhook, true},
		{"arn:aws:lambda:us-east-1:111122223333:function:public-webhook*", webhook + ":prod", true},
		{"arn:aws:lambda:*:111122223333:function:*", partner, false},
		{"arn:aws:lambda:*:444455556666:function:*", partner, true},
		{"arn:aws:lambda:us-east-?:*", intake, true},
		{"arn:aws:lambda:us-east-?:*", partner, false},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"**x", "x", true},
	}
	for _, c := range cases {
		if got := Wildcard(c.p, c.s); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

// TestMalformed: every mistake is an error naming the file, the line and
// the field.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"bad date", "suppressions:\n  - rule: lambda-public-access\n    reason: r\n    expires: 31/03/2027\n    approved_by: a\n",
			`suppressions.yaml:4: field "expires": "31/03/2027" is not a date`},
		{"missing reason", "suppressions:\n  - rule: lambda-public-access\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: suppression 1: missing field "reason"`},
		{"missing expires", "suppressions:\n  - rule: lambda-public-access\n    reason: r\n    approved_by: a\n",
			`suppressions.yaml:2: suppression 1: missing field "expires"`},
		{"missing approver", "suppressions:\n  - rule: lambda-public-access\n    reason: r\n    expires: 2027-01-01\n",
			`suppressions.yaml:2: suppression 1: missing field "approved_by"`},
		{"empty reason", "suppressions:\n  - rule: lambda-public-access\n    reason: \"\"\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:3: field "reason": must not be empty`},
		{"unknown field", "suppressions:\n  - rule: lambda-public-access\n    reson: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:3: field "reson": unknown field`},
		{"unknown rule", "suppressions:\n  - rule: lambda-publik-access\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "rule": unknown rule "lambda-publik-access"`},
		{"bad account", "suppressions:\n  - account: 1234\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "account": "1234" is not a 12-digit AWS account id`},
		{"not an ARN", "suppressions:\n  - resource: public-webhook\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "resource": "public-webhook" is not an ARN pattern`},
		{"matches everything", "suppressions:\n  - reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: suppression 1: give at least one of rule, resource, account or sid`},
		{"duplicate field", "suppressions:\n  - rule: lambda-public-access\n    rule: lambda-layer-public\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:3: field "rule": given twice`},
		{"list value", "suppressions:\n  - sid: [a, b]\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "sid": want a single value`},
		{"unknown rule in a list", "suppressions:\n  - rule:\n      - lambda-public-access\n      - lambda-nope\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:4: field "rule": unknown rule "lambda-nope"`},
		{"empty rule list", "suppressions:\n  - rule: []\n    sid: a\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "rule": the list is empty`},
		{"star in a list", "suppressions:\n  - rule: [lambda-public-access, \"*\"]\n    sid: a\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: field "rule": "*" already means every rule`},
		{"star alone", "suppressions:\n  - rule: \"*\"\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: suppression 1: rule "*" matches every rule, so name the statement too`},
		{"star with only an account", "suppressions:\n  - rule: \"*\"\n    account: \"111122223333\"\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n",
			`suppressions.yaml:2: suppression 1: rule "*" matches every rule`},
		{"top-level typo", "supressions:\n  - rule: lambda-public-access\n",
			`suppressions.yaml:1: field "supressions": unknown field`},
		{"not a list", "suppressions: lambda-public-access\n",
			`suppressions.yaml:1: field "suppressions": want a list of entries`},
		{"entry not a mapping", "suppressions:\n  - lambda-public-access\n",
			`suppressions.yaml:2: suppression 1: want a mapping`},
		{"second entry", "suppressions:\n  - rule: lambda-public-access\n    reason: r\n    expires: 2027-01-01\n    approved_by: a\n  - rule: lambda-public-access\n    reason: r\n    expires: tomorrow\n    approved_by: a\n",
			`suppressions.yaml:8: field "expires": "tomorrow" is not a date`},
		{"YAML syntax", "suppressions:\n  - rule: lambda-public-access\n    reason: r: x\n",
			`suppressions.yaml:3: YAML syntax:`},
		{"top level list", "- rule: lambda-public-access\n",
			`suppressions.yaml:1: want a mapping with a "suppressions" list`},
		{"two documents", "suppressions: []\n---\nsuppressions: []\n",
			`suppressions.yaml:2: only one YAML document`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.text), "suppressions.yaml")
			if err == nil {
				t.Fatalf("no error for:\n%s", c.text)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to start with %q", err, c.want)
			}
		})
	}
}

func TestEmptyAndLoad(t *testing.T) {
	for _, text := range []string{"", "# nothing yet\n", "suppressions:\n", "suppressions: []\n"} {
		s, err := Parse([]byte(text), "s.yaml")
		if err != nil || len(s.Entries) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want an empty set", text, s, err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "suppressions.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(webhookEntry, "%s", "2027-03-31", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Entries[0]
	if strings.Join(e.Rules, ",") != "lambda-public-function-url" || e.Account != "111122223333" || e.Sid != "FunctionURLAllowPublicAccess" ||
		e.ApprovedBy != "jane.doe@example.org" || e.Where() != path+":2" {
		t.Errorf("entry %+v", e)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	var nilSet *Set
	if out := nilSet.Apply(doc(), now); out.Suppressed != 0 {
		t.Error("a nil set suppresses nothing")
	}
}

// YAML anchors are resolved, so shared reasons work.
func TestAnchors(t *testing.T) {
	s := parse(t, `suppressions:
  - rule: lambda-public-access
    reason: &why "accepted by the risk board"
    expires: 2027-01-01
    approved_by: &who ciso
  - rule: lambda-layer-public
    reason: *why
    expires: 2027-01-01
    approved_by: *who
`)
	if s.Entries[1].Reason != "accepted by the risk board" || s.Entries[1].ApprovedBy != "ciso" {
		t.Errorf("aliases not resolved: %+v", s.Entries[1])
	}
}

// Marking resources one at a time, as a scan does, gives what Apply
// gives on the whole document.
func TestMarkerMatchesApply(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	src := `suppressions:
  - rule: lambda-public-access
    reason: r
    expires: 2027-01-01
    approved_by: a
  - sid: oops
    reason: r
    expires: 2020-01-01
    approved_by: a
  - rule: lambda-role-admin
    resource: "arn:aws:lambda:*:000000000000:function:*"
    reason: r
    expires: 2027-01-01
    approved_by: a
`
	whole := doc()
	want := parse(t, src).Apply(whole, now)
	one := doc()
	m := parse(t, src).Marker(now)
	for i := range one.Resources {
		m.Mark(&one.Resources[i])
	}
	got := m.Outcome()
	if got.Suppressed != want.Suppressed || got.Expired != want.Expired || len(got.ExpiredEntries) != len(want.ExpiredEntries) || len(got.Unused) != len(want.Unused) {
		t.Errorf("Marker outcome %+v, Apply %+v", got, want)
	}
	for i := range whole.Resources {
		if !reflect.DeepEqual(whole.Resources[i].Findings, one.Resources[i].Findings) {
			t.Errorf("resource %d: Marker %+v, Apply %+v", i, one.Resources[i].Findings, whole.Resources[i].Findings)
		}
	}
	var nilSet *Set
	nilSet.Marker(now).Mark(&one.Resources[0])
}

// TestSeveralRulesAndStar: rule takes a list of ids, or "*" for every
// finding of the statement the entry names.
func TestSeveralRulesAndStar(t *testing.T) {
	d := doc()
	s := parse(t, `suppressions:
  - rule: [lambda-public-function-url, lambda-cross-account-access]
    reason: r
    expires: 2099-01-01
    approved_by: a
`)
	out := s.Apply(d, now)
	if out.Suppressed != 2 || d.Resources[1].Findings[0].Suppressed {
		t.Errorf("a list of rules suppresses the findings of those rules only: %+v", out)
	}

	d = doc()
	s = parse(t, `suppressions:
  - rule: "*"
    resource: "arn:aws:lambda:us-east-1:111122223333:function:intake"
    sid: oops
    reason: r
    expires: 2099-01-01
    approved_by: a
`)
	if !s.Entries[0].AnyRule || len(s.Entries[0].Rules) != 0 {
		t.Fatalf("entry %+v", s.Entries[0])
	}
	// A second finding of another rule on the same statement.
	d.Resources[1].Findings = append(d.Resources[1].Findings, newFinding("lambda-public-function-url", "oops"))
	out = s.Apply(d, now)
	if out.Suppressed != 2 || d.Resources[0].Findings[0].Suppressed {
		t.Errorf(`rule "*" suppresses every finding of the named statement and nothing else: %+v`, out)
	}
}
