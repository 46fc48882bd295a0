package remediate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

func TestBackupsRoundTripNewestFirst(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	store := &DirStore{Dir: dir}
	a := only(t, MakePlan([]*inventory.Resource{function(doc(apigw, public))}, Options{Trust: trust}))
	first := newBackup(a, 1, time.Unix(0, 0), "test")
	second := newBackup(a, 2, time.Unix(1, 0), "test")
	p1, err := store.Save(first)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := store.Save(second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p2, "-attempt2.json") {
		t.Errorf("a re-plan's backup must not overwrite the first: %s", p2)
	}
	got, files, err := LoadBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || files[0] != p2 || files[1] != p1 {
		t.Fatalf("want newest first, got %v", files)
	}
	b := got[1]
	if b.Policy.Document != doc(apigw, public) || b.Policy.RevisionID != "rev-1" {
		t.Errorf("policy not saved exactly: %+v", b.Policy)
	}
	if len(b.Changes) != 1 || b.Changes[0].Statement != public || b.Changes[0].Via != OpRemovePermission || !b.Changes[0].Exact {
		t.Errorf("change not saved exactly: %+v", b.Changes)
	}
	if info, err := os.Stat(p1); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("backups hold policies; want mode 0600, got %v %v", info.Mode(), err)
	}

	for name, body := range map[string]string{
		"other.json":   `{"format":"something-else","version":1}`,
		"future.json":  `{"format":"lambdawarden-backup","version":99}`,
		"garbage.json": `not json`,
	} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadBackups(path); err == nil {
			t.Errorf("%s was accepted as a backup", name)
		}
	}
}

func TestBackupsNeverOverwrite(t *testing.T) {
	dir := t.TempDir()
	a := only(t, MakePlan([]*inventory.Resource{function(doc(apigw, public))}, Options{Trust: trust}))
	// Two runs that picked the same directory.
	p1, err := (&DirStore{Dir: dir}).Save(newBackup(a, 1, time.Unix(0, 0), "run 1"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := (&DirStore{Dir: dir}).Save(newBackup(a, 1, time.Unix(0, 0), "run 2"))
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 {
		t.Fatalf("the second run overwrote the first's backup %s", p1)
	}
	if got, _, err := LoadBackups(dir); err != nil || len(got) != 2 {
		t.Errorf("want both backups, got %d (%v)", len(got), err)
	}
}
