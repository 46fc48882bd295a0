package history

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/history/pgtest"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is one Store implementation under the shared suite.
type backend struct {
	name string
	// dsn returns a new, empty history.
	dsn func(t *testing.T) string
}

var backends = []backend{
	{name: "sqlite", dsn: func(t *testing.T) string { return filepath.Join(t.TempDir(), "sub", "history.db") }},
	{name: "postgres", dsn: func(t *testing.T) string { return pgtest.DSN(t) }},
}

// eachBackend runs the test body against every backend.
func eachBackend(t *testing.T, body func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { body(t, b) })
	}
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func open(t *testing.T, dsn string, c *clock) *sqlStore {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*sqlStore)
}

const (
	acct   = "111122223333"
	region = "us-east-1"
)

func fnARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, acct, name)
}

// policyWith is a function policy with the given statements (JSON).
func policyWith(name string, statements ...string) string {
	s := `{"Version":"2012-10-17","Id":"default","Statement":[`
	for i, st := range statements {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(st, fnARN(name))
	}
	return s + `]}`
}

const (
	publicStmt  = `{"Sid":"open","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s"}`
	partnerStmt = `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"%s"}`
	noSidStmt   = `{"Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Resource":"%s"}`
)

func publicFinding(sid string, index int) finding.Finding {
	return finding.Finding{RuleID: "lambda-public-access", Title: "Lambda functions should restrict public access", Severity: finding.Critical,
		Exposure: "public", Statement: &finding.StatementRef{Sid: sid, Index: index}, Explanation: "anyone may invoke",
		Compliance: finding.Compliance{{Framework: "HIPAA", IDs: []string{"164.312(a)(1)"}}}}
}

func crossFinding(index int) finding.Finding {
	return finding.Finding{RuleID: "lambda-cross-account-access", Title: "cross-account", Severity: finding.High, Exposure: "cross-account",
		Statement: &finding.StatementRef{Sid: "partner", Index: index}, Explanation: "another account may invoke"}
}

func fn(name, policy, exposure string, fs ...finding.Finding) report.Resource {
	if fs == nil {
		fs = []finding.Finding{}
	}
	return report.Resource{ARN: fnARN(name), Kind: "function", Account: acct, Region: region, Status: "evaluated", Exposure: exposure, Policy: policy, Findings: fs}
}

func unknownFn(name string) report.Resource {
	return report.Resource{ARN: fnARN(name), Kind: "function", Account: acct, Region: region, Status: "unknown", Exposure: "unknown",
		UnknownReason: "AccessDeniedException: not allowed", Findings: []finding.Finding{}}
}

// doc is a scan report of the test account's Region.
func doc(errs []string, res ...report.Resource) *report.Document {
	d := &report.Document{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "lambdawarden", Version: "test"}, Resources: res,
		Scan: &report.ScanInfo{StartedAt: "2025-01-01T09:00:00Z", FinishedAt: "2025-01-01T09:01:00Z", Accounts: []string{acct}, Regions: []string{region}, Errors: errs}}
	d.Summarize()
	d.Scan.Complete = len(errs) == 0 && d.Summary.Unknown == 0
	return d
}

func record(t *testing.T, s Store, d *report.Document) Scan {
	t.Helper()
	sc, err := s.RecordScan(context.Background(), d, Meta{Caller: "arn:aws:iam::111122223333:user/auditor", CatalogVersion: "cat-1"})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func count(t *testing.T, s *sqlStore, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, s *sqlStore, q string, args ...any) {
	t.Helper()
	if _, err := s.db.Exec(s.d.rebind(q), args...); err != nil {
		t.Fatal(err)
	}
}

func findingByKey(t *testing.T, s Store, key string) Finding {
	t.Helper()
	fs, err := s.Findings(context.Background(), FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no finding %s among %d", key, len(fs))
	return Finding{}
}
