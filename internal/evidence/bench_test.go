package evidence

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// The figures: a year of daily scans of a 1,000-function estate
// on SQLite, its size on disk, and the time to build and render a year's
// evidence. Measured here, never asserted in a timed test:
//
//	go test ./internal/evidence -run '^$' -bench . -benchtime 3x

const (
	benchFunctions = 1000
	benchDays      = 365
)

var (
	benchDir   string
	benchOnce  sync.Once
	benchPath  string
	benchErr   error
	benchBuilt time.Duration
)

// benchPolicy is function i's policy on a given revision: an EventBridge
// rule's grant, and for one function in ten a public one.
func benchPolicy(arn string, i, rev int) string {
	s := fmt.Sprintf(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"events-%d","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:events:us-east-1:111122223333:rule/nightly-%d"}}}`, rev, arn, rev)
	if i%10 == 0 {
		s += fmt.Sprintf(`,{"Sid":"vendor","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s"}`, arn)
	}
	return s + "]}"
}

// benchScan is day d's scan: five policies change a day, one function is
// unreadable, one function in ten is public.
func benchScan(d int, revs []int) *report.Document {
	rs := make([]report.Resource, 0, benchFunctions)
	for k := range 5 {
		revs[(d*7+k*131)%benchFunctions]++
	}
	for i := range benchFunctions {
		arn := fmt.Sprintf("arn:aws:lambda:us-east-1:111122223333:function:fn-%04d", i)
		r := report.Resource{ARN: arn, Kind: "function", Account: "111122223333", Region: "us-east-1", Status: "evaluated", Exposure: "private",
			Policy: benchPolicy(arn, i, revs[i]), RevisionID: fmt.Sprintf("rev-%d-%d", i, revs[i]), Findings: []finding.Finding{}}
		if i == d%benchFunctions {
			r.Status, r.Exposure, r.UnknownReason = "unknown", "unknown", "ThrottlingException: rate exceeded (retries exhausted)"
		} else if i%10 == 0 {
			r.Exposure = "public"
			r.Findings = append(r.Findings, finding.Finding{RuleID: "lambda-public-access", Title: "Lambda functions should restrict public access",
				Severity: finding.Critical, Exposure: "public", Statement: &finding.StatementRef{Sid: "vendor", Index: 1},
				Explanation: `Statement "vendor" allows anyone (Principal "*") to call lambda:InvokeFunction; no condition limits the caller.`,
				Compliance:  finding.Compliance{{Framework: "HIPAA", IDs: []string{"164.312(a)(1)", "164.312(e)(1)"}}}})
		}
		rs = append(rs, r)
	}
	doc := &report.Document{SchemaVersion: "1", Tool: report.Tool{Name: "lambdawarden", Version: "bench"}, Resources: rs,
		Scan: &report.ScanInfo{StartedAt: "2025-01-01T00:00:00Z", FinishedAt: "2025-01-01T00:05:00Z", Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, APICalls: 2100}}
	doc.Summarize()
	return doc
}

// benchHistory records the year once per test binary.
func benchHistory(b *testing.B) string {
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "lw-bench-history-"); benchErr != nil {
			return
		}
		benchPath = filepath.Join(benchDir, "history.db")
		now := time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC)
		s, err := history.Open(context.Background(), benchPath, history.Options{Now: func() time.Time { return now }})
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		revs := make([]int, benchFunctions)
		start := time.Now()
		for d := range benchDays {
			if _, err := s.RecordScan(context.Background(), benchScan(d, revs), history.Meta{Caller: "arn:aws:iam::111122223333:role/audit"}); err != nil {
				benchErr = err
				return
			}
			now = now.Add(24 * time.Hour)
		}
		benchBuilt = time.Since(start)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

func fileSize(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// BenchmarkYearHistorySize reports the SQLite file of 365 daily scans of
// 1,000 functions (budget: 200 MB) and the time to record one scan.
func BenchmarkYearHistorySize(b *testing.B) {
	path := benchHistory(b)
	size := fileSize(path, path+"-wal")
	b.ReportMetric(float64(size)/1e6, "MB-on-disk")
	b.ReportMetric(float64(benchBuilt.Milliseconds())/benchDays, "ms/scan-recorded")
	for range b.N {
		// The metric is the point; the loop re-reads the size.
		size = fileSize(path, path+"-wal")
	}
}

// BenchmarkYearEvidence builds and renders (HTML and JSON) the evidence
// for the whole year, integrity check included (budget: 5 s).
func BenchmarkYearEvidence(b *testing.B) {
	path := benchHistory(b)
	s, err := history.Open(context.Background(), path, history.Options{MustExist: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	var htmlBytes int
	for range b.N {
		p, err := Build(context.Background(), s, from, to, to, report.Tool{Name: "lambdawarden", Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Integrity.Problems) != 0 || len(p.Scans) != benchDays {
			b.Fatalf("pack: %d scans, problems %v", len(p.Scans), p.Integrity.Problems)
		}
		var page bytes.Buffer
		if err := WriteHTML(&page, p); err != nil {
			b.Fatal(err)
		}
		if err := WriteJSON(io.Discard, p); err != nil {
			b.Fatal(err)
		}
		htmlBytes = page.Len()
	}
	b.ReportMetric(float64(htmlBytes)/1e6, "MB-html")
}
