package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// writeTestFile is a plain file writer for WriteFiles.
func writeTestFile(path string, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// estateDocument has n functions in each of two accounts and two Regions,
// the first ones public, so the asff report has many findings in every
// account and Region.
func estateDocument(t *testing.T, n int) *Document {
	t.Helper()
	tmpl := loadDocument(t)
	var public Resource
	for _, r := range tmpl.Resources {
		if len(r.Findings) > 0 && r.Findings[0].RuleID == "lambda-public-access" {
			public = r
		}
	}
	d := &Document{SchemaVersion: SchemaVersion, Tool: tmpl.Tool, Scan: tmpl.Scan, FailOn: finding.High}
	for _, account := range []string{"111122223333", "444455556666"} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for i := range n {
				r := public
				r.Account, r.Region = account, region
				r.ARN = fmt.Sprintf("arn:aws:lambda:%s:%s:function:f%04d", region, account, i)
				if i%2 == 1 {
					r.Findings, r.Exposure = nil, "private"
				}
				d.Resources = append(d.Resources, r)
			}
		}
	}
	d.Summarize()
	return d
}

func readFindings(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("%s is not a JSON array of findings: %v", path, err)
	}
	return list
}

// A report over 100 findings and several accounts and Regions becomes
// files that BatchImportFindings takes one call each: at most 100
// findings, one account, one Region, named after them; together exactly
// the findings of the single-file report.
func TestASFFBatchesHoldAtMost100FindingsOfOneAccountAndRegion(t *testing.T) {
	d := estateDocument(t, 25)
	var whole []map[string]any
	if err := json.Unmarshal(render(t, "asff", d, Options{}), &whole); err != nil {
		t.Fatal(err)
	}
	if len(whole) <= 4*ASFFBatchSize {
		t.Fatalf("only %d findings: the test needs more than one batch per account and Region", len(whole))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.asff.json")
	files, err := WriteFiles(asffWriter{}, path, d, Options{}, writeTestFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists beside its parts: %v", path, err)
	}
	var ids []string
	perGroup := map[string]int{}
	for _, f := range files {
		list := readFindings(t, f)
		if len(list) == 0 || len(list) > ASFFBatchSize {
			t.Errorf("%s: %d findings, BatchImportFindings takes 1 to %d", f, len(list), ASFFBatchSize)
		}
		name := filepath.Base(f)
		fields := strings.Split(name, ".")
		if len(fields) != 6 || fields[0] != "report" || fields[1] != "asff" || fields[5] != "json" || len(fields[4]) != 3 {
			t.Errorf("part name %s is not report.asff.ACCOUNT.REGION.NNN.json", name)
			continue
		}
		account, region := fields[2], fields[3]
		perGroup[account+" "+region]++
		for _, x := range list {
			checkASFFFinding(t, x)
			if x["AwsAccountId"] != account || x["Region"] != region {
				t.Errorf("%s holds a finding of %v in %v", name, x["AwsAccountId"], x["Region"])
			}
			ids = append(ids, x["Id"].(string))
		}
	}
	if len(perGroup) != 4 {
		t.Errorf("parts for %d account-Region pairs, want 4: %v", len(perGroup), perGroup)
	}
	var want []string
	for _, x := range whole {
		want = append(want, x["Id"].(string))
	}
	sort.Strings(ids)
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Errorf("the parts hold %d findings, the single report %d: not the same set", len(ids), len(want))
	}
	t.Logf("%d findings in %d files", len(ids), len(files))
}

// A report that one call takes stays one file at the path given.
func TestASFFSingleFileWhenOneCallTakesIt(t *testing.T) {
	d := estateDocument(t, 3)
	d.Resources = slices.DeleteFunc(d.Resources, func(r Resource) bool { return r.Account != "111122223333" || r.Region != "us-east-1" })
	d.Summarize()
	path := filepath.Join(t.TempDir(), "r.asff.json")
	files, err := WriteFiles(asffWriter{}, path, d, Options{}, writeTestFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0] != path {
		t.Fatalf("files %v, want just %s", files, path)
	}
	if n := len(readFindings(t, path)); n == 0 || n > ASFFBatchSize {
		t.Errorf("%d findings", n)
	}
}

// Parts an earlier run left (more batches then) and an earlier single
// file are removed, so a glob imports this run only; files that merely
// look alike are kept.
func TestASFFStalePartsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	stale := []string{"report.111122223333.us-east-1.099.json", "report.999999999999.ap-south-1.001.json"}
	keep := []string{"report.notes.json", "report.2024.jan.001.json", "other.111122223333.us-east-1.001.json", "report.111122223333.us-east-1.001.txt"}
	for _, n := range append(append([]string{"report.json"}, stale...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("[]"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteFiles(asffWriter{}, path, estateDocument(t, 25), Options{}, writeTestFile); err != nil {
		t.Fatal(err)
	}
	for _, n := range append(stale, "report.json") {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s is still there", n)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
	// Back to one file: the parts of the run before go.
	small := estateDocument(t, 1)
	small.Resources = small.Resources[:1]
	small.Summarize()
	if _, err := WriteFiles(asffWriter{}, path, small, Options{}, writeTestFile); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "report.*.*.*.json")); len(m) != 1 || !strings.HasSuffix(m[0], "report.2024.jan.001.json") {
		t.Errorf("after a single-file run the folder still has parts: %v", m)
	}
}

// A part that cannot be written leaves no part at all: never a set that
// looks complete and is not.
func TestASFFPartFailureLeavesNoPart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	n := 0
	failing := func(p string, render func(io.Writer) error) error {
		if n++; n == 3 {
			return errors.New("disk full")
		}
		return writeTestFile(p, render)
	}
	_, err := WriteFiles(asffWriter{}, path, estateDocument(t, 25), Options{}, failing)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "no part of it is left") {
		t.Fatalf("error %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("files left after a failed split: %v", m)
	}
}

// A path that is not a regular file (a symlink here; a FIFO or
// /dev/stdout alike) gets the whole report, never parts beside it.
func TestASFFNonRegularPathGetsOneFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	var got []string
	files, err := WriteFiles(asffWriter{}, link, estateDocument(t, 25), Options{}, func(p string, render func(io.Writer) error) error {
		got = append(got, p)
		return render(io.Discard)
	})
	if err != nil || len(files) != 1 || len(got) != 1 || got[0] != link {
		t.Errorf("files %v, written %v, err %v: want the whole report through the symlink", files, got, err)
	}
}

// Other formats are one file whatever their size.
func TestWriteFilesOtherFormatsAreOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	files, err := WriteFiles(jsonWriter{}, path, estateDocument(t, 25), Options{}, writeTestFile)
	if err != nil || len(files) != 1 || files[0] != path {
		t.Errorf("json: files %v, %v", files, err)
	}
}

func TestPartPath(t *testing.T) {
	cases := []struct{ name, path, want string }{
		{"json", "out/report.json", "out/report.111122223333.us-east-1.007.json"},
		{"two extensions", "r.asff.json", "r.asff.111122223333.us-east-1.007.json"},
		{"no extension", "findings", "findings.111122223333.us-east-1.007.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := partPath(c.path, "111122223333", "us-east-1", 7); got != c.want {
				t.Errorf("partPath(%q) = %q, want %q", c.path, got, c.want)
			}
			if !partPattern(c.path).MatchString(filepath.Base(c.want)) {
				t.Errorf("partPattern(%q) does not match %q", c.path, c.want)
			}
		})
	}
	if got := partPath("r.json", "../x", "a/b", 1); strings.ContainsAny(strings.TrimPrefix(got, "r."), "/") || strings.Contains(got, "..x") {
		t.Errorf("estate strings leave the folder: %q", got)
	}
}
