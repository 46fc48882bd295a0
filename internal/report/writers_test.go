package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// goldenName is the golden file of each format.
var goldenName = map[string]string{
	"text":  "report.txt",
	"json":  "report.json",
	"csv":   "report.csv",
	"sarif": "report.sarif",
	"asff":  "report.asff.json",
	"ocsf":  "report.ocsf.json",
	"junit": "report.junit.xml",
	"html":  "report.html",
}

func TestGoldenEveryFormat(t *testing.T) {
	d := loadDocument(t)
	for _, w := range Writers() {
		t.Run(w.Name(), func(t *testing.T) {
			file, ok := goldenName[w.Name()]
			if !ok {
				t.Fatalf("format %q has no golden file: add it to goldenName", w.Name())
			}
			golden(t, file, render(t, w.Name(), d, Options{}))
		})
	}
	t.Run("ocsf-compliance", func(t *testing.T) {
		golden(t, "report-compliance.ocsf.json", render(t, "ocsf", d, Options{OCSFCompliance: true}))
	})
}

func TestFormatsComeFromTheWriters(t *testing.T) {
	want := []string{"text", "json", "csv", "sarif", "asff", "ocsf", "junit", "html"}
	got := Names()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v (the README's formats)", got, want)
	}
	seen := map[string]bool{}
	for _, w := range Writers() {
		if seen[w.Name()] {
			t.Errorf("two writers named %q", w.Name())
		}
		seen[w.Name()] = true
		if w.Description() == "" {
			t.Errorf("writer %q has no description", w.Name())
		}
		if l, err := Lookup(w.Name()); err != nil || l.Name() != w.Name() {
			t.Errorf("Lookup(%q) = %v, %v", w.Name(), l, err)
		}
	}
	if _, err := Lookup("xml"); err == nil || !strings.Contains(err.Error(), "sarif") {
		t.Errorf("Lookup of an unknown format should list the known ones, got %v", err)
	}
}

// Every writer must render every resource state without failing, and the
// same document twice must give the same bytes (map order must not leak).
func TestWritersAreDeterministic(t *testing.T) {
	d := loadDocument(t)
	for _, w := range Writers() {
		a := render(t, w.Name(), d, Options{OCSFCompliance: true})
		b := render(t, w.Name(), d, Options{OCSFCompliance: true})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings of one document differ", w.Name())
		}
	}
}

// A document without scan times (analyze) is stamped with Options.Time,
// else the current time, never the zero time.
func TestReportTimeWithoutScan(t *testing.T) {
	d := loadDocument(t)
	d.Scan = nil
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := reportTime(d, Options{Time: fixed}); !got.Equal(fixed) {
		t.Errorf("reportTime with Options.Time = %v, want %v", got, fixed)
	}
	before := time.Now().Add(-time.Second)
	if got := reportTime(d, Options{}); got.Before(before) {
		t.Errorf("reportTime without scan or Options.Time = %v, want about now", got)
	}
	out := string(render(t, "asff", d, Options{Time: fixed}))
	if !strings.Contains(out, `"CreatedAt": "2030-01-02T03:04:05.000Z"`) {
		t.Errorf("asff without scan does not use Options.Time:\n%s", out[:min(len(out), 800)])
	}
}

// Writers that need the catalog must not drop a finding whose rule the
// catalog does not know (a document from a newer version).
func TestUnknownRuleIsKept(t *testing.T) {
	d := loadDocument(t)
	d.Resources[0].Findings[0].RuleID = "lambda-from-the-future"
	for _, name := range []string{"sarif", "junit", "csv", "html", "ocsf", "asff"} {
		if out := render(t, name, d, Options{}); !bytes.Contains(out, []byte("lambda-from-the-future")) {
			t.Errorf("%s dropped the finding of an unknown rule", name)
		}
	}
}

func TestPolicySegments(t *testing.T) {
	cases := []struct {
		name, policy string
		idx          int
		highlight    string // must be exactly the highlighted text, trimmed
		note         string
	}{
		{"list", `{"Version":"2012-10-17","Statement":[{"Sid":"a"},{"Sid":"b","Effect":"Allow"}]}`, 1, "    {\n      \"Sid\": \"b\",\n      \"Effect\": \"Allow\"\n    }", ""},
		{"first of list", `{"Statement":[{"Sid":"a"},{"Sid":"b"}]}`, 0, "    {\n      \"Sid\": \"a\"\n    }", ""},
		{"lone object", `{"Version":"2012-10-17","Statement":{"Sid":"only"}}`, 0, "  \"Statement\": {\n    \"Sid\": \"only\"\n  }", ""},
		{"index out of range", `{"Statement":[{"Sid":"a"}]}`, 3, "", "Statement index 3 was not found"},
		{"not json", `{"Statement": [</script>`, 0, "", "does not parse"},
		{"nested Statement key is not the list", `{"Statement":[{"Sid":"a","Condition":{"Statement":[1,2]}}]}`, 1, "", "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			segs, note := policySegments(c.policy, c.idx)
			var hl []string
			var all strings.Builder
			for _, s := range segs {
				all.WriteString(s.Text)
				if s.Highlight {
					hl = append(hl, s.Text)
				}
			}
			if c.highlight == "" && len(hl) > 0 {
				t.Errorf("highlighted %q, want nothing", hl)
			}
			if c.highlight != "" && (len(hl) != 1 || hl[0] != c.highlight) {
				t.Errorf("highlighted %q, want %q", hl, c.highlight)
			}
			if !strings.Contains(note, c.note) || (c.note == "" && note != "") {
				t.Errorf("note %q, want it to contain %q", note, c.note)
			}
			if c.note == "" || !strings.Contains(c.note, "parse") {
				return
			}
			if all.String() != c.policy {
				t.Errorf("a policy that does not parse must be shown as read, got %q", all.String())
			}
		})
	}
	// Key order and values survive pretty-printing.
	segs, _ := policySegments(`{"b":1.50,"a":[true,null,"x<y"],"Statement":[]}`, -1)
	want := "{\n  \"b\": 1.50,\n  \"a\": [\n    true,\n    null,\n    \"x<y\"\n  ],\n  \"Statement\": []\n}"
	if len(segs) != 1 || segs[0].Text != want {
		t.Errorf("pretty policy = %+v, want %q", segs, want)
	}
}

func TestHelpers(t *testing.T) {
	if got := truncate("ééééé", 6); got != "é..." {
		t.Errorf("truncate must cut on a rune boundary: %q", got)
	}
	if got := truncate("abcdef", 5); got != "ab..." {
		t.Errorf("truncate = %q", got)
	}
	if got := partition("arn:aws-us-gov:lambda:us-gov-west-1:1:function:f"); got != "aws-us-gov" {
		t.Errorf("partition = %q", got)
	}
	if got := resourceName("arn:aws:lambda:us-east-1:1:function:f:prod"); got != "f" {
		t.Errorf("resourceName = %q", got)
	}
	if got := sarifRuleName("lambda-public-access"); got != "LambdaPublicAccess" {
		t.Errorf("sarifRuleName = %q", got)
	}
}
