package history

import (
	"context"
	"testing"
	"time"
)

// TestIncrementalRecorded: an incremental scan's base and carried
// resources are read back; a full scan has none; pruning removes them
// with their scans, on both backends.
func TestIncrementalRecorded(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		first := record(t, s, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("b", "", "private")))
		if inc, err := s.Incremental(ctx, first.ID); err != nil || inc != nil {
			t.Fatalf("a full scan: %+v %v", inc, err)
		}
		c.add(time.Hour)
		second, err := s.RecordScan(ctx, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("b", "", "private")),
			Meta{Incremental: &Incremental{BaseScan: first.ID, Since: "2025-01-01T09:00:00Z", Info: []byte(`{"events":0}`), Carried: map[string]int64{fnARN("b"): first.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		inc, err := s.Incremental(ctx, second.ID)
		if err != nil || inc == nil || inc.BaseScan != first.ID || inc.Carried[fnARN("b")] != first.ID || len(inc.Carried) != 1 || string(inc.Info) != `{"events":0}` {
			t.Fatalf("incremental: %+v %v", inc, err)
		}
		if _, err := s.RecordScan(ctx, doc(nil, fn("a", "", "private")), Meta{Incremental: &Incremental{BaseScan: 1, Carried: map[string]int64{fnARN("zz"): 1}}}); err == nil {
			t.Error("a carried resource that is not in the scan must be refused")
		}
		c.add(time.Hour)
		record(t, s, doc(nil, fn("a", "", "private")))
		if _, err := s.Prune(ctx, c.now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "scan_carried") + count(t, s, "scan_incremental"); n != 0 {
			t.Errorf("%d incremental rows left after pruning their scans", n)
		}
	})
}

// TestVerifyCoversIncremental: the hash chain covers what an incremental
// scan records beside its resources, so an edited base or carried origin
// is found like an edited verdict.
func TestVerifyCoversIncremental(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		cases := []struct {
			name   string
			tamper string
		}{
			{"carried origin edited", `UPDATE scan_carried SET from_scan = 7`},
			{"carried row deleted", `DELETE FROM scan_carried`},
			{"base scan edited", `UPDATE scan_incremental SET base_scan = 7`},
			{"since edited", `UPDATE scan_incremental SET since = '2020-01-01T00:00:00Z'`},
			{"incremental record deleted", `DELETE FROM scan_incremental`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				c := newClock()
				s := open(t, b.dsn(t), c)
				first := record(t, s, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("b", "", "private")))
				c.add(time.Hour)
				if _, err := s.RecordScan(ctx, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("b", "", "private")),
					Meta{Incremental: &Incremental{BaseScan: first.ID, Since: "2025-01-01T09:00:00Z", Info: []byte(`{"events":0}`), Carried: map[string]int64{fnARN("b"): first.ID}}}); err != nil {
					t.Fatal(err)
				}
				if p := problems(t, s); len(p) != 0 {
					t.Fatalf("an untouched history has problems: %q", p)
				}
				exec(t, s, tc.tamper)
				wantProblem(t, problems(t, s), "scan 2: its content")
			})
		}
	})
}
