package report

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// spooled returns a copy of d whose resources are in a spool (in ARN
// order, as a scan reports them) and the same document in memory,
// sorted the same way, to compare with.
func spooled(t *testing.T, d *Document) (spool, memory *Document) {
	t.Helper()
	sp, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Resources {
		if err := sp.Add(&d.Resources[i]); err != nil {
			t.Fatal(err)
		}
	}
	s := *d
	s.Resources = nil
	if err := s.UseSpool(sp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	m := *d
	m.Resources = slices.Clone(d.Resources)
	slices.SortStableFunc(m.Resources, func(a, b Resource) int { return strings.Compare(a.ARN, b.ARN) })
	m.Summarize()
	return &s, &m
}

// Every writer gives the same bytes for a spooled document as for the
// same resources in memory, and the formats that order resources
// themselves give the golden bytes.
func TestSpooledDocumentRendersTheSame(t *testing.T) {
	d := loadDocument(t)
	s, m := spooled(t, d)
	for _, opt := range []Options{{}, {OCSFCompliance: true}} {
		for _, w := range Writers() {
			got := render(t, w.Name(), s, opt)
			if want := render(t, w.Name(), m, opt); !bytes.Equal(got, want) {
				t.Errorf("%s (%+v): the spooled document renders differently from the same one in memory:\n--- spooled\n%s", w.Name(), opt, got)
			}
			if w.Name() == "json" || w.Name() == "text" || opt.OCSFCompliance && w.Name() != "ocsf" {
				continue // in document order, which the spool changed
			}
			name := goldenName[w.Name()]
			if opt.OCSFCompliance {
				name = "report-compliance.ocsf.json"
			}
			golden(t, name, got)
		}
	}
	if !equalSummary(s.Summary, m.Summary) {
		t.Errorf("spooled summary %+v, in memory %+v", s.Summary, m.Summary)
	}
	for sev := finding.Info; sev <= finding.Critical+1; sev++ {
		if a, b := s.ExitCode(sev), m.ExitCode(sev); a != b {
			t.Errorf("ExitCode(%v): spooled %d, in memory %d", sev, a, b)
		}
	}
	var arns []string
	if err := s.Each(func(r *Resource) error { arns = append(arns, r.ARN); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(arns) || len(arns) != len(d.Resources) || s.Len() != len(d.Resources) {
		t.Errorf("Each over the spool: %d resources, sorted %v; want %d in ARN order", len(arns), slices.IsSorted(arns), len(d.Resources))
	}
}

func equalSummary(a, b Summary) bool {
	return a.Resources == b.Resources && a.Unknown == b.Unknown && a.Findings == b.Findings && a.Suppressed == b.Suppressed &&
		maps2Equal(a.ByExposure, b.ByExposure) && maps2Equal(a.BySeverity, b.BySeverity)
}

func maps2Equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A document with no resources keeps its JSON form: null for a nil
// list (a scan that found nothing), [] for an empty one.
func TestJSONWithoutResources(t *testing.T) {
	d := loadDocument(t)
	d.Resources = nil
	d.Summarize()
	if out := render(t, "json", d, Options{}); !bytes.Contains(out, []byte(`"resources": null,`)) {
		t.Errorf("nil resources:\n%s", out)
	}
	d.Resources = []Resource{}
	if out := render(t, "json", d, Options{}); !bytes.Contains(out, []byte(`"resources": [],`)) {
		t.Errorf("empty resources:\n%s", out)
	}
	sp, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &Document{SchemaVersion: SchemaVersion}
	if err := e.UseSpool(sp); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, w := range Writers() {
		render(t, w.Name(), e, Options{OCSFCompliance: true})
	}
	if out := render(t, "json", e, Options{}); !bytes.Contains(out, []byte(`"resources": null,`)) {
		t.Errorf("empty spool:\n%s", out)
	}
}

// The spool file is gone once the spool is closed (on Unix as soon as it
// is created), and a closed or used spool takes no more resources.
func TestSpoolFileIsRemoved(t *testing.T) {
	dir := t.TempDir()
	sp, err := NewSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := loadDocument(t)
	if err := sp.Add(&d.Resources[0]); err != nil {
		t.Fatal(err)
	}
	doc := &Document{}
	if err := doc.UseSpool(sp); err != nil {
		t.Fatal(err)
	}
	if err := sp.Add(&d.Resources[1]); err == nil {
		t.Error("Add after UseSpool succeeded")
	}
	if err := doc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := doc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("spool left %s behind", left[0].Name())
	}
	if err := doc.Each(func(*Resource) error { return nil }); err == nil {
		t.Error("reading a closed spool succeeded")
	}
	if err := (&Document{Resources: d.Resources}).UseSpool(sp); err == nil {
		t.Error("UseSpool on a document with resources in memory succeeded")
	}
}

// The text report prints at most textMaxFindings findings per severity
// and as many unknown resources, and counts the rest exactly.
func TestTextCaps(t *testing.T) {
	d := loadDocument(t)
	defer func(n int) { textMaxFindings = n }(textMaxFindings)
	textMaxFindings = 1
	out := string(render(t, "text", d, Options{}))
	counts := map[string]int{}
	unknown := 0
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			counts[f.Severity.String()]++
		}
		if r.Status == "unknown" {
			unknown++
		}
	}
	for sev, n := range counts {
		if !strings.Contains(out, "== "+strings.ToUpper(sev)+" ("+strconv.Itoa(n)+") ==") {
			t.Errorf("the %s header does not count %d", sev, n)
		}
		more := "… and " + strconv.Itoa(n-1) + " more " + sev + " findings (all of them are in -o json/csv/sarif)"
		if n > 1 && !strings.Contains(out, more) {
			t.Errorf("missing %q", more)
		}
		if n == 1 && strings.Contains(out, "more "+sev+" findings") {
			t.Errorf("a cap line for %s, which has one finding", sev)
		}
	}
	if unknown < 2 {
		t.Fatal("the test document needs two unknown resources")
	}
	if more := "… and " + strconv.Itoa(unknown-1) + " more unknown resources"; !strings.Contains(out, more) {
		t.Errorf("missing %q", more)
	}
	if n := strings.Count(out, "\n  resource  "); n != len(counts) {
		t.Errorf("%d findings printed in full, want one per severity (%d)", n, len(counts))
	}
	if n := strings.Count(out, "\n    reason  "); n != 1 {
		t.Errorf("%d unknown resources printed in full, want 1", n)
	}
	// The findings printed are the first of each severity in the
	// uncapped report.
	textMaxFindings = 1000
	full := string(render(t, "text", d, Options{}))
	for _, block := range regexp.MustCompile(`(?s)== [A-Z]+ \(\d+\) ==\n.*?\n\n`).FindAllString(out, -1) {
		if !strings.Contains(full, block) {
			t.Errorf("capped block is not the start of the full one:\n%s", block)
		}
	}
}

// The html page shows at most htmlMaxResources resources, exposed and
// unknown ones first, and says how many more there are.
func TestHTMLCap(t *testing.T) {
	d := loadDocument(t)
	defer func(n int) { htmlMaxResources = n }(htmlMaxResources)
	htmlMaxResources = 2
	out := string(render(t, "html", d, Options{}))
	arns := map[string]bool{}
	for _, m := range regexp.MustCompile(`<td class="lw-arn"><code>([^<]*)</code>`).FindAllStringSubmatch(out, -1) {
		arns[m[1]] = true
	}
	if len(arns) != 2 {
		t.Errorf("%d resources on the page, want 2", len(arns))
	}
	var public []string
	for _, r := range d.Resources {
		if r.Exposure == "public" {
			public = append(public, r.ARN)
		}
	}
	if len(public) < 2 {
		t.Fatal("the test document needs two public resources")
	}
	for a := range arns {
		if !slices.Contains(public, a) {
			t.Errorf("%s is on the page before a public resource", a)
		}
	}
	findings := 0
	for _, r := range d.Resources {
		if !arns[r.ARN] {
			findings += len(r.Findings)
		}
	}
	want := "This page shows 2 of " + strconv.Itoa(len(d.Resources)) + " resources in full: exposed and unknown ones first, worst first. The other " +
		strconv.Itoa(len(d.Resources)-2) + " resource(s), with " + strconv.Itoa(findings) + " finding(s), are counted in the summary above"
	if !strings.Contains(out, want) || !strings.Contains(out, "all of them are in the json report (-o json=FILE), and every finding is in csv and sarif too") {
		t.Errorf("the page does not say what it leaves out; want %q", want)
	}
	if !strings.Contains(out, `data-severity-count="critical">`) {
		t.Error("no summary")
	}
	if uncapped := string(render(t, "html", &Document{Resources: d.Resources[:1]}, Options{})); strings.Contains(uncapped, "lw-omitted") {
		t.Error("a page that shows everything says it leaves something out")
	}
}

// Add may be called from several goroutines at once.
func TestSpoolConcurrentAdd(t *testing.T) {
	sp, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				r := syntheticResource(g*50 + i)
				if err := sp.Add(&r); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	d := &Document{}
	if err := d.UseSpool(sp); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := map[string]Resource{}
	for i := range 200 {
		r := syntheticResource(i)
		want[r.ARN] = r
	}
	n := 0
	err = d.Each(func(r *Resource) error {
		if !reflect.DeepEqual(*r, want[r.ARN]) {
			t.Errorf("%s read back as %+v", r.ARN, r)
		}
		n++
		return nil
	})
	if err != nil || n != 200 || d.Summary.Resources != 200 {
		t.Errorf("read back %d resources (%v), summary %d; want 200", n, err, d.Summary.Resources)
	}
}
