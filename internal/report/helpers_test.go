package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadDocument reads the hand-made test document: every exposure class,
// an unknown resource, a suppressed finding, an expired suppression's
// note, a hostile Sid and a policy that contains </script>.
func loadDocument(t *testing.T) *Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "document.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("testdata/document.json: %v", err)
	}
	d.FailOn = finding.High
	d.Summarize()
	return &d
}

// render writes the document with one writer.
func render(t *testing.T, name string, d *Document, opt Options) []byte {
	t.Helper()
	w, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, d, opt); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update. The document's scan times are fixed, so nothing needs
// redacting.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file %s (run go test ./internal/report -update): %v", path, err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from golden (run go test ./internal/report -update to accept, then review the diff):\n--- got\n%s", name, got)
	}
}

// repoRoot is the module root, where .cache/test-tools lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// outsideTool finds a program or file a validation test needs: the path
// in env var envVar, else the first well-known path (relative ones are
// under the repository root) or program on PATH that exists. Missing, the
// test skips with how to install it, except under CI=true, where a
// skipped validation would hide a broken report, so it fails.
func outsideTool(t *testing.T, what, envVar string, candidates ...string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		missing(t, "%s: %s=%s does not exist", what, envVar, p)
	}
	root := repoRoot(t)
	for _, c := range candidates {
		if filepath.IsAbs(c) {
			if _, err := os.Stat(c); err == nil {
				return c
			}
			continue
		}
		if p := filepath.Join(root, c); fileExists(p) {
			return p
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	missing(t, "%s not found (set %s, or run: bash .ci/install-test-tools)", what, envVar)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
