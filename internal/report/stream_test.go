package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// appendIndented must give json.Indent's bytes for anything
// encoding/json writes.
func FuzzAppendIndented(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":[]}`, `[{},[],{"b":{}}]`, `"x"`, `1`, `null`,
		`{"s":"a\"b\\c,d:e{f}[g]","n":-1.5e3,"t":true,"u":"\u2028<>&"}`,
		`[[[1,2],[3]],{"k":{"l":[{"m":null}]}}]`,
	} {
		f.Add([]byte(seed))
	}
	for _, name := range []string{"report.json", "report.sarif", "report.asff.json", "report.ocsf.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", "golden", name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, src) != nil {
			return
		}
		for _, prefix := range []string{"", "    "} {
			var want bytes.Buffer
			if err := json.Indent(&want, compact.Bytes(), prefix, "  "); err != nil {
				t.Fatal(err)
			}
			if got := appendIndented([]byte("x"), compact.Bytes(), prefix, "  "); string(got) != "x"+want.String() {
				t.Fatalf("appendIndented(%q, prefix %q)\n got %q\nwant %q", compact.Bytes(), prefix, got[1:], want.Bytes())
			}
		}
	})
}

// A mark in the skeleton must be found once, or splicing fails instead
// of writing a broken document.
func TestSpliceNeedsOneMark(t *testing.T) {
	var out bytes.Buffer
	fill := func(a *jsonArray) error { return a.add(1) }
	if err := writeSpliced(&out, map[string]any{"a": spliceMark(0)}, fill); err != nil || !strings.Contains(out.String(), "\"a\": [\n    1\n  ]") {
		t.Errorf("splice: %v\n%s", err, out.String())
	}
	if err := writeSpliced(&out, map[string]any{"a": spliceMark(0), "b": spliceMark(0)}, fill); err == nil {
		t.Error("two marks for one array were accepted")
	}
	if err := writeSpliced(&out, map[string]any{"a": 1}, fill); err == nil {
		t.Error("a missing mark was accepted")
	}
}
