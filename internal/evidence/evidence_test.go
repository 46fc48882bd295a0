package evidence

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/chromiumtest"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/history/pgtest"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

const acct = "111122223333"

var start = time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC)

func arn(name string) string { return "arn:aws:lambda:us-east-1:" + acct + ":function:" + name }

func res(name, exposure string, fs ...finding.Finding) report.Resource {
	if fs == nil {
		fs = []finding.Finding{}
	}
	return report.Resource{ARN: arn(name), Kind: "function", Account: acct, Region: "us-east-1", Status: "evaluated", Exposure: exposure,
		Policy: `{"Statement":[{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn(name) + `"}]}`, Findings: fs}
}

func public(sid string) finding.Finding {
	return finding.Finding{RuleID: "lambda-public-access", Title: "Lambda functions should restrict public access", Severity: finding.Critical, Exposure: "public",
		Statement: &finding.StatementRef{Sid: sid}, Explanation: fmt.Sprintf("Statement %q allows anyone to invoke.", sid),
		Compliance: finding.Compliance{{Framework: "HIPAA", IDs: []string{"164.312(a)(1)", "164.312(e)(1)"}}}}
}

func cross() finding.Finding {
	return finding.Finding{RuleID: "lambda-cross-account-access", Title: "Lambda functions should not grant access to other accounts", Severity: finding.High,
		Exposure: "cross-account", Statement: &finding.StatementRef{Sid: "partner"}, Explanation: "Account 444455556666 may invoke.",
		Compliance: finding.Compliance{{Framework: "HIPAA", IDs: []string{"164.308(a)(4)(ii)(B)"}}}}
}

// month records 31 daily scans of January 2025: intake public from the
// 3rd to the 10th; billing cross-account all month, suppressed from the
// 5th; portal public, unreadable from the 15th to the 17th, fixed on the
// 20th; a hostile Sid on the 25th.
func month(t *testing.T, dsn string) history.Store {
	t.Helper()
	now := start
	s, err := history.Open(context.Background(), dsn, history.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for day := 1; day <= 31; day++ {
		var rs []report.Resource
		if day >= 3 && day < 10 {
			rs = append(rs, res("intake", "public", public("oops")))
		} else {
			rs = append(rs, res("intake", "private"))
		}
		b := cross()
		if day >= 5 {
			b.Suppressed, b.SuppressedBy = true, `suppressions.yaml:4: "partner integration, reviewed" (approved by ciso@example.org, expires 2025-12-31)`
		}
		rs = append(rs, res("billing", "cross-account", b))
		switch {
		case day >= 15 && day <= 17:
			rs = append(rs, report.Resource{ARN: arn("portal"), Kind: "function", Account: acct, Region: "us-east-1", Status: "unknown", Exposure: "unknown",
				UnknownReason: "AccessDeniedException: not authorized", Findings: []finding.Finding{}})
		case day < 20:
			rs = append(rs, res("portal", "public", public("url")))
		default:
			rs = append(rs, res("portal", "private"))
		}
		if day == 25 {
			rs = append(rs, res("hostile", "public", public(`<script>alert(1)</script>`)))
		}
		d := &report.Document{SchemaVersion: "1", Tool: report.Tool{Name: "lambdawarden", Version: "test"}, Resources: rs,
			Scan: &report.ScanInfo{StartedAt: now.Format(time.RFC3339), FinishedAt: now.Add(time.Minute).Format(time.RFC3339), Accounts: []string{acct}, Regions: []string{"us-east-1"}}}
		d.Summarize()
		d.Scan.Complete = d.Summary.Unknown == 0
		if _, err := s.RecordScan(context.Background(), d, history.Meta{Caller: "arn:aws:iam::111122223333:role/auditor", CatalogVersion: "cat"}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(24 * time.Hour)
	}
	return s
}

var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "h.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/evidence -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (run with -update to accept); got:\n%s", name, got)
	}
}

func build(t *testing.T, s history.Store) *Pack {
	t.Helper()
	p, err := Build(context.Background(), s, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 2, 3, 12, 0, 0, 0, time.UTC), report.Tool{Name: "lambdawarden", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvidenceGolden(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			p := build(t, month(t, b.dsn(t)))
			var js, page bytes.Buffer
			if err := WriteJSON(&js, p); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&page, p); err != nil {
				t.Fatal(err)
			}
			golden(t, "evidence.json", js.Bytes())
			golden(t, "evidence.html", page.Bytes())
		})
	}
}

func TestEvidenceContent(t *testing.T) {
	p := build(t, month(t, filepath.Join(t.TempDir(), "h.db")))
	if len(p.Scans) != 31 || p.Coverage.Days != 31 || p.Coverage.DaysCovered != 31 || len(p.Integrity.Problems) != 0 {
		t.Errorf("scans %d, days %d, covered %d, problems %v", len(p.Scans), p.Coverage.Days, p.Coverage.DaysCovered, p.Integrity.Problems)
	}
	byKey := map[string]Exposure{}
	for _, f := range p.Findings {
		byKey[f.Key] = f
	}
	intake := byKey[arn("intake")+"|lambda-public-access|sid:oops"]
	if intake.ResolvedAt == nil || intake.ResolvedScan != 10 || time.Duration(intake.OpenFor) != 7*24*time.Hour || intake.ResolvedBy == "" {
		t.Errorf("intake's interval: %+v", intake)
	}
	portal := byKey[arn("portal")+"|lambda-public-access|sid:url"]
	if portal.ResolvedScan != 20 || time.Duration(portal.OpenFor) != 19*24*time.Hour {
		t.Errorf("portal, unreadable for three days then fixed: %+v", portal)
	}
	if len(p.Suppressions) != 1 || p.Suppressions[0].FirstScan != 5 || p.Suppressions[0].LastScan != 31 || !strings.Contains(p.Suppressions[0].SuppressedBy, "ciso@example.org") {
		t.Errorf("suppressions: %+v", p.Suppressions)
	}
	// The chart: on the 4th intake, portal (billing is suppressed).
	day4 := p.Chart[3]
	if p.Bucket != "day" || len(p.Chart) != 31 || day4.BySeverity["critical"] != 2 || day4.Total != 2 {
		t.Errorf("chart on 2025-01-04: %+v (of %d buckets)", day4, len(p.Chart))
	}
	sec := map[string]Section{}
	for _, s := range p.Sections {
		sec[s.ID] = s
	}
	if s := sec["164.312(a)(1)"]; s.Title != "Access control" || len(s.Findings) != 3 || s.Open != 0 {
		t.Errorf("section 164.312(a)(1): %+v", s)
	}
	if _, ok := sec["164.312(d)"]; !ok {
		t.Errorf("a section without findings is missing: %v", p.Sections)
	}
}

func TestEvidenceShowsTampering(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "h.db")
	s := month(t, dsn)
	s.Close()
	// Edit a scan behind the history's back.
	db, err := sql.Open("sqlite", dsn) // the driver the history registered
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE scans SET caller = 'someone' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	s2, err := history.Open(context.Background(), dsn, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	p := build(t, s2)
	var page bytes.Buffer
	if err := WriteHTML(&page, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "integrity check FAILED") || !strings.Contains(page.String(), "scan 7") {
		t.Errorf("the page does not say the history was tampered with")
	}
}

func TestEvidenceHTMLInChromium(t *testing.T) {
	bin := chromiumtest.Find(t)
	p := build(t, month(t, filepath.Join(t.TempDir(), "h.db")))
	var page bytes.Buffer
	if err := WriteHTML(&page, p); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if regexp.MustCompile(`(?i)<script|<link|\bsrc=|@import|url\(`).MatchString(html) {
		t.Fatal("the page has a script or loads something")
	}
	file := filepath.Join(t.TempDir(), "evidence.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := chromiumtest.Run(t, bin, "file://"+file, "--dump-dom")
	for _, want := range []string{
		`<b id="n-scans">31</b>`,
		`id="hipaa-164.312(a)(1)"`,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"partner integration, reviewed",
		"History integrity verified",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	// One critical segment on each day something unsuppressed was open:
	// the 1st to the 20th (portal; intake too from the 3rd) and the
	// 25th and 26th (the hostile one, fixed on the 26th).
	if n := strings.Count(dom, "<rect "); n != 22 {
		t.Errorf("the chart has %d bar segments, want 22", n)
	}
	if strings.Contains(dom, "<script>alert") {
		t.Error("a hostile Sid became markup")
	}
	chromiumtest.Screenshot(t, bin, "file://"+file, "evidence.png")
}
