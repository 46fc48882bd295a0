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
