package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

func TestMigrationsFromEmpty(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		c := newClock()
		s := open(t, dsn, c)
		v, err := s.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := len(migrationFiles(s.d)); v != want || want < 2 {
			t.Fatalf("schema version %d, want %d", v, want)
		}
		// Opening again applies nothing twice.
		s2 := open(t, dsn, c)
		if n := count(t, s2, "schema_migrations"); n != v {
			t.Errorf("%d migration rows after reopening, want %d", n, v)
		}
	})
}

func TestMigrationFromPreviousVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		c := newClock()
		ctx := context.Background()
		// A history written by the previous schema version.
		old, err := Open(ctx, dsn, Options{Now: c.now, MustExist: false})
		if err != nil {
			t.Fatal(err)
		}
		old.Close()
		s := open(t, dsn, c)
		exec(t, s, `DROP INDEX scans_scope`)
		exec(t, s, `DROP INDEX scans_recorded`)
		exec(t, s, `DROP INDEX scan_resources_resource`)
		exec(t, s, `DROP INDEX findings_open`)
		exec(t, s, `DROP INDEX findings_resource`)
		exec(t, s, `DROP INDEX finding_intervals_time`)
		exec(t, s, `DROP TABLE scan_carried`)
		exec(t, s, `DROP TABLE scan_incremental`)
		exec(t, s, `DELETE FROM schema_migrations WHERE version >= 2`)
		if v, _ := s.SchemaVersion(ctx); v != 1 {
			t.Fatalf("set-up: version %d", v)
		}
		first := record(t, s, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0))))

		up := open(t, dsn, c)
		if v, _ := up.SchemaVersion(ctx); v != 3 {
			t.Fatalf("after upgrade: version %d, want 3", v)
		}
		c.add(24 * time.Hour)
		second := record(t, up, doc(nil, fn("a", policyWith("a"), "private")))
		if second.PrevHash != first.Hash {
			t.Errorf("the scan after the upgrade does not chain on the one before it")
		}
		vr, err := up.Verify(ctx)
		if err != nil || len(vr.Problems) != 0 || vr.Scans != 2 {
			t.Fatalf("verify after upgrade: %+v %v", vr, err)
		}
		f := findingByKey(t, up, fnARN("a")+"|lambda-public-access|sid:open")
		if f.Open() {
			t.Errorf("the finding recorded before the upgrade was not resolved after it")
		}
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s := open(t, dsn, newClock())
		exec(t, s, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'x')`)
		_, err := Open(context.Background(), dsn, Options{})
		if err == nil || !strings.Contains(err.Error(), "newer than this lambdawarden") {
			t.Fatalf("opening a newer schema: %v", err)
		}
	})
}

func TestRecordAndReadBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		pa, pb := policyWith("a", publicStmt), policyWith("b", partnerStmt)
		d := doc(nil, fn("a", pa, "public", publicFinding("open", 0)), fn("b", pb, "cross-account", crossFinding(0)), unknownFn("c"))
		d.Resources[0].FunctionURL = &report.FunctionURL{AuthType: "NONE", URL: "https://x.lambda-url.us-east-1.on.aws/"}
		d.Resources[1].Findings[0].Suppressed, d.Resources[1].Findings[0].SuppressedBy = true, `s.yaml:3: "partner" (approved by ciso, expires 2026-01-01)`
		d.Resources[1].FunctionPolicy = pa // any text: stored once with a's
		d.Scan.Errors = nil
		first := record(t, s, d)
		if first.ID != 1 || first.Caller != "arn:aws:iam::111122223333:user/auditor" || !first.At.Equal(c.now()) || first.Complete || !first.Covered {
			t.Errorf("scan as recorded: %+v", first)
		}
		if first.Summary.Resources != 3 || first.Summary.Unknown != 1 || first.CatalogVersion != "cat-1" || first.ToolVersion != "test" {
			t.Errorf("summary or versions: %+v", first)
		}
		c.add(time.Hour)
		record(t, s, d)
		if n := count(t, s, "policies"); n != 2 {
			t.Errorf("%d policy rows for two distinct texts in two scans, want 2 (stored once)", n)
		}
		if n := count(t, s, "resources"); n != 3 {
			t.Errorf("%d resource rows, want 3", n)
		}
		snap, err := s.Snapshot(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Resources) != 3 || len(snap.Findings) != 2 {
			t.Fatalf("snapshot: %+v", snap)
		}
		r := snap.Resources[0]
		if r.ARN != fnARN("a") || r.URLAuth != "NONE" || r.PolicySHA != policySHA(pa) || r.Exposure != "public" {
			t.Errorf("resource a: %+v", r)
		}
		if snap.Resources[2].Status != "unknown" || !strings.Contains(snap.Resources[2].UnknownReason, "AccessDenied") {
			t.Errorf("resource c: %+v", snap.Resources[2])
		}
		text, err := s.Policy(ctx, r.PolicySHA)
		if err != nil || text != pa {
			t.Errorf("policy text back: %q %v", text, err)
		}
		sup := snap.Findings[1] // key order: a before b
		if !sup.Suppressed || !strings.Contains(sup.SuppressedBy, "ciso") {
			t.Errorf("suppression state: %+v", sup)
		}
		if _, err := s.Scan(ctx, 9); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing scan: %v", err)
		}
		if _, err := s.Policy(ctx, "00"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing policy: %v", err)
		}
		scans, err := s.Scans(ctx, ScanFilter{Limit: 1})
		if err != nil || len(scans) != 1 || scans[0].ID != 2 {
			t.Errorf("latest scan: %+v %v", scans, err)
		}
	})
}

func TestInterruptedScanLeavesNoRows(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := open(t, b.dsn(t), newClock())
		// The second resource repeats the first ARN: the transaction fails
		// after the scan row and the first resource are in.
		d := doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("a", policyWith("a"), "private"))
		if _, err := s.RecordScan(context.Background(), d, Meta{}); err == nil {
			t.Fatal("recording a broken scan succeeded")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.RecordScan(ctx, doc(nil, fn("b", policyWith("b"), "private")), Meta{}); err == nil {
			t.Fatal("recording with a cancelled context succeeded")
		}
		for _, table := range []string{"scans", "scan_resources", "resources", "policies", "findings", "finding_intervals", "scan_findings"} {
			if n := count(t, s, table); n != 0 {
				t.Errorf("%s holds %d rows after failed recordings", table, n)
			}
		}
		sc := record(t, s, doc(nil, fn("b", policyWith("b"), "private")))
		if sc.ID != 1 {
			t.Errorf("the first good scan is %d, want 1", sc.ID)
		}
	})
}

func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		c := newClock()
		open(t, dsn, c) // create the schema once, as the first scan would
		writers, each := 2, 4
		if b.name == "postgres" {
			writers = 6
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			// Separate handles: as separate processes would have.
			st, err := Open(context.Background(), dsn, Options{Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					name := fmt.Sprintf("w%d-%d", w, i)
					d := doc(nil, fn(name, policyWith(name, publicStmt), "public", publicFinding("open", 0)), fn("shared", policyWith("shared", publicStmt), "public", publicFinding("open", 0)))
					if _, err := st.RecordScan(context.Background(), d, Meta{Caller: name}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s := open(t, dsn, c)
		vr, err := s.Verify(context.Background())
		if err != nil || len(vr.Problems) != 0 || vr.Scans != writers*each || vr.HeadScan != int64(writers*each) {
			t.Fatalf("after %d concurrent scans: %+v %v", writers*each, vr, err)
		}
		if n := count(t, s, "resources"); n != writers*each+1 {
			t.Errorf("%d resources, want %d", n, writers*each+1)
		}
		shared := findingByKey(t, s, fnARN("shared")+"|lambda-public-access|sid:open")
		if !shared.Open() || shared.FirstScan != 1 {
			t.Errorf("the finding every scan saw: %+v", shared)
		}
	})
}

func TestHistoryOnDiskMustExist(t *testing.T) {
	path := t.TempDir() + "/missing.db"
	_, err := Open(context.Background(), path, Options{MustExist: true})
	if err == nil || !strings.Contains(err.Error(), "scan --history") {
		t.Fatalf("opening a missing history for reading: %v", err)
	}
	if _, err := Open(context.Background(), t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory as history: %v", err)
	}
}

// TestConcurrentProcessesSQLite: SQLite's locks are per process, so two
// real processes (this test binary, re-run) write into one file at once.
func TestConcurrentProcessesSQLite(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "history.db")
	open(t, dsn, newClock())
	const procs, each = 2, 5
	var cmds []*osexec.Cmd
	for p := range procs {
		cmd := osexec.Command(os.Args[0], "-test.run=^TestHelperRecordingProcess$")
		cmd.Env = append(os.Environ(), "LW_HISTORY_HELPER_DSN="+dsn, fmt.Sprintf("LW_HISTORY_HELPER_NAME=p%d", p), fmt.Sprintf("LW_HISTORY_HELPER_SCANS=%d", each))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(out.String())
			}
		})
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("recording process: %v", err)
		}
	}
	s := open(t, dsn, newClock())
	vr, err := s.Verify(context.Background())
	if err != nil || len(vr.Problems) != 0 || vr.Scans != procs*each {
		t.Fatalf("after two processes: %+v %v", vr, err)
	}
}

// TestHelperRecordingProcess is the child of the test above.
func TestHelperRecordingProcess(t *testing.T) {
	dsn := os.Getenv("LW_HISTORY_HELPER_DSN")
	if dsn == "" {
		t.Skip("only run as a child of TestConcurrentProcessesSQLite")
	}
	name := os.Getenv("LW_HISTORY_HELPER_NAME")
	n, _ := strconv.Atoi(os.Getenv("LW_HISTORY_HELPER_SCANS"))
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		fname := fmt.Sprintf("%s-%d", name, i)
		if _, err := s.RecordScan(context.Background(), doc(nil, fn(fname, policyWith(fname, publicStmt), "public", publicFinding("open", 0))), Meta{Caller: name}); err != nil {
			t.Fatal(err)
		}
	}
}
