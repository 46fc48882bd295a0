package history

import (
	"context"
	"strings"
	"testing"
	"time"
)

// threeScans records three scans a day apart.
func threeScans(t *testing.T, s *sqlStore, c *clock) {
	t.Helper()
	record(t, s, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0))))
	c.add(24 * time.Hour)
	record(t, s, doc(nil, fn("a", policyWith("a", partnerStmt), "cross-account", crossFinding(0))))
	c.add(24 * time.Hour)
	record(t, s, doc(nil, fn("a", policyWith("a"), "private")))
}

func problems(t *testing.T, s Store) []string {
	t.Helper()
	vr, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return vr.Problems
}

func wantProblem(t *testing.T, got []string, want string) {
	t.Helper()
	for _, p := range got {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("verify did not report %q; problems: %q", want, got)
}

func TestVerifyDetectsTampering(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		cases := []struct {
			name   string
			tamper func(t *testing.T, s *sqlStore)
			want   string
		}{
			{"edited scan row", func(t *testing.T, s *sqlStore) {
				exec(t, s, `UPDATE scans SET caller = ? WHERE id = 2`, "arn:aws:iam::111122223333:user/someone-else")
			}, "scan 2: its content"},
			{"edited resource of a scan", func(t *testing.T, s *sqlStore) {
				exec(t, s, `UPDATE scan_resources SET exposure = 'private' WHERE scan_id = 1`)
			}, "scan 1: its content"},
			{"deleted finding of a scan", func(t *testing.T, s *sqlStore) {
				exec(t, s, `DELETE FROM scan_findings WHERE scan_id = 2`)
			}, "scan 2: its content"},
			{"edited policy text", func(t *testing.T, s *sqlStore) {
				exec(t, s, `UPDATE policies SET text = ? WHERE id = 1`, policyWith("a"))
			}, "its text was edited"},
			{"deleted scan", func(t *testing.T, s *sqlStore) {
				exec(t, s, `DELETE FROM scan_findings WHERE scan_id = 2`)
				exec(t, s, `DELETE FROM scan_resources WHERE scan_id = 2`)
				exec(t, s, `DELETE FROM scans WHERE id = 2`)
			}, "scan 3: does not follow scan 1"},
			{"inserted scan", func(t *testing.T, s *sqlStore) {
				// A forged scan appended, copying the newest one's row.
				exec(t, s, `INSERT INTO scans (`+scanColumns+`) SELECT 4, recorded_at, started_at, finished_at, caller, accounts, regions, scope, complete, covered, errors,
					tool_version, catalog_version, api_calls, summary, skipped_rules, content_hash, prev_hash, chain_hash FROM scans WHERE id = 3`)
			}, "scan 4:"},
			{"re-linked chain", func(t *testing.T, s *sqlStore) {
				exec(t, s, `UPDATE scans SET chain_hash = ? WHERE id = 3`, strings.Repeat("0", 64))
			}, "scan 3: its chain hash was edited"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := newClock()
				s := open(t, b.dsn(t), c)
				threeScans(t, s, c)
				if p := problems(t, s); len(p) != 0 {
					t.Fatalf("an untouched history has problems: %q", p)
				}
				tc.tamper(t, s)
				wantProblem(t, problems(t, s), tc.want)
			})
		}
	})
}

func TestVerifyReportsHead(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		c := newClock()
		s := open(t, b.dsn(t), c)
		threeScans(t, s, c)
		vr, _ := s.Verify(context.Background())
		last, _ := s.Scan(context.Background(), 3)
		if vr.Head != last.Hash || vr.HeadScan != 3 || vr.Scans != 3 || len(vr.Head) != 64 {
			t.Errorf("verify result: %+v", vr)
		}
	})
}

func TestPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		threeScans(t, s, c)
		// Everything before the third scan goes.
		res, err := s.Prune(ctx, c.now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if res.Scans != 2 || res.Policies != 2 {
			t.Errorf("pruned %+v, want 2 scans and their 2 policies", res)
		}
		scans, _ := s.Scans(ctx, ScanFilter{})
		if len(scans) != 1 || scans[0].ID != 3 {
			t.Fatalf("left after pruning: %+v", scans)
		}
		if p := problems(t, s); len(p) != 0 {
			t.Errorf("verify after pruning: %q", p)
		}
		c.add(time.Hour)
		record(t, s, doc(nil, fn("a", policyWith("a"), "private")))
		if p := problems(t, s); len(p) != 0 {
			t.Errorf("verify after pruning and recording: %q", p)
		}
		if n := count(t, s, "policies"); n != 1 {
			t.Errorf("%d policies left, want 1", n)
		}
		// Pruning nothing changes nothing.
		if res, err := s.Prune(ctx, time.Time{}); err != nil || res.Scans != 0 {
			t.Errorf("pruning before the first scan: %+v %v", res, err)
		}
	})
}
