package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// GitHub's documented limits for one SARIF upload ("SARIF support for
// code scanning": validating your SARIF file; and "SARIF results exceed
// limits"). An upload over any of them is rejected.
const (
	ghMaxGzipBytes      = 10 << 20
	ghMaxRuns           = 20
	ghMaxResultsPerRun  = 25000
	ghMaxRulesPerRun    = 25000
	ghMaxExtensions     = 100
	ghMaxLocations      = 10 // "up to a maximum of 10" per result
	ghMaxTagsPerRule    = 20
	ghMaxSecuritySevStr = 10.0
)

// ghLog is the part of a SARIF log code scanning reads.
type ghLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string            `json:"id"`
					Name             string            `json:"name"`
					ShortDescription map[string]string `json:"shortDescription"`
					FullDescription  map[string]string `json:"fullDescription"`
					Help             map[string]string `json:"help"`
					Default          struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity any      `json:"security-severity"`
						Precision        string   `json:"precision"`
						Severity         string   `json:"severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
			Extensions []any `json:"extensions"`
		} `json:"tool"`
		AutomationDetails struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Results *[]struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// checkGitHubIngestion fails t for everything in a SARIF log that GitHub
// code scanning documents as required or limited.
func checkGitHubIngestion(t *testing.T, data []byte) *ghLog {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	if gz.Len() > ghMaxGzipBytes {
		t.Errorf("the log is %d bytes gzipped, GitHub takes %d", gz.Len(), ghMaxGzipBytes)
	}
	var log ghLog
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Schema == "" || log.Version != "2.1.0" {
		t.Errorf("$schema %q, version %q: GitHub requires both, version 2.1.0", log.Schema, log.Version)
	}
	if len(log.Runs) == 0 || len(log.Runs) > ghMaxRuns {
		t.Fatalf("%d runs; GitHub takes 1 to %d", len(log.Runs), ghMaxRuns)
	}
	bands := map[string][2]float64{"critical": {9.0, 10.0}, "high": {7.0, 8.9}, "medium": {4.0, 6.9}, "low": {0.1, 3.9}, "info": {0, 3.9}}
	for ri, run := range log.Runs {
		drv := run.Tool.Driver
		if drv.Name == "" {
			t.Errorf("run %d: tool.driver.name is required", ri)
		}
		if len(drv.Rules) > ghMaxRulesPerRun || len(run.Tool.Extensions) > ghMaxExtensions {
			t.Errorf("run %d: %d rules, %d extensions", ri, len(drv.Rules), len(run.Tool.Extensions))
		}
		if run.Results == nil {
			t.Fatalf("run %d: results is required (an empty array when there are none)", ri)
		}
		results := *run.Results
		if len(results) > ghMaxResultsPerRun {
			t.Errorf("run %d: %d results, GitHub rejects more than %d", ri, len(results), ghMaxResultsPerRun)
		}
		ruleIdx := map[string]int{}
		for i, r := range drv.Rules {
			where := fmt.Sprintf("run %d rule %s", ri, r.ID)
			if r.ID == "" {
				t.Errorf("run %d rule %d: id is required", ri, i)
			}
			if _, dup := ruleIdx[r.ID]; dup {
				t.Errorf("%s: id repeated", where)
			}
			ruleIdx[r.ID] = i
			if r.ShortDescription["text"] == "" || r.FullDescription["text"] == "" || r.Help["text"] == "" || r.Help["markdown"] == "" {
				t.Errorf("%s: shortDescription, fullDescription and help (text and markdown) are what GitHub shows: %+v %+v %+v", where, r.ShortDescription, r.FullDescription, r.Help)
			}
			if !slices.Contains([]string{"note", "warning", "error"}, r.Default.Level) {
				t.Errorf("%s: defaultConfiguration.level %q", where, r.Default.Level)
			}
			p := r.Properties
			if len(p.Tags) > ghMaxTagsPerRule || !slices.Contains(p.Tags, "security") || !slices.Contains(p.Tags, "HIPAA") {
				t.Errorf("%s: tags %v: want security and HIPAA, at most %d", where, p.Tags, ghMaxTagsPerRule)
			}
			sev, ok := p.SecuritySeverity.(string)
			score, err := strconv.ParseFloat(sev, 64)
			band, known := bands[p.Severity]
			switch {
			case !ok || err != nil:
				t.Errorf("%s: security-severity %v is not a numeric string", where, p.SecuritySeverity)
			case score < 0 || score > ghMaxSecuritySevStr:
				t.Errorf("%s: security-severity %v out of 0.0-10.0", where, score)
			case !known || score < band[0] || score > band[1]:
				t.Errorf("%s: security-severity %v is not in GitHub's band for %q", where, score, p.Severity)
			}
			if !slices.Contains([]string{"very-high", "high", "medium", "low"}, p.Precision) {
				t.Errorf("%s: precision %q", where, p.Precision)
			}
		}
		for i, res := range results {
			where := fmt.Sprintf("run %d result %d (%s)", ri, i, res.RuleID)
			if res.RuleID == "" {
				t.Errorf("%s: ruleId is required", where)
			}
			idx, ok := ruleIdx[res.RuleID]
			if !ok || res.RuleIndex == nil || *res.RuleIndex != idx {
				t.Errorf("%s: rule not in tool.driver.rules at its ruleIndex", where)
			}
			if !slices.Contains([]string{"note", "warning", "error"}, res.Level) {
				t.Errorf("%s: level %q", where, res.Level)
			}
			if strings.TrimSpace(res.Message.Text) == "" {
				t.Errorf("%s: message.text is required", where)
			}
			if len(res.Locations) == 0 || len(res.Locations) > ghMaxLocations {
				t.Errorf("%s: %d locations; GitHub shows a result only with 1 to %d", where, len(res.Locations), ghMaxLocations)
			}
			for _, l := range res.Locations {
				pl := l.PhysicalLocation
				if pl == nil || pl.ArtifactLocation.URI == "" || pl.Region == nil || pl.Region.StartLine < 1 {
					t.Errorf("%s: a location needs physicalLocation.artifactLocation.uri and region.startLine >= 1: %+v", where, pl)
					continue
				}
				u, err := url.Parse(pl.ArtifactLocation.URI)
				if err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(u.Path, "/") || slices.Contains(strings.Split(u.Path, "/"), "..") {
					t.Errorf("%s: artifact URI %q is not a relative path inside the repository", where, pl.ArtifactLocation.URI)
				}
			}
			if len(res.PartialFingerprints) == 0 {
				t.Errorf("%s: no partialFingerprints; alerts would not be matched across uploads", where)
			}
			for k, v := range res.PartialFingerprints {
				if k == "" || v == "" {
					t.Errorf("%s: empty fingerprint %q=%q", where, k, v)
				}
			}
		}
	}
	return &log
}

func TestSARIFMeetsGitHubIngestionRequirements(t *testing.T) {
	d := loadDocument(t)
	log := checkGitHubIngestion(t, render(t, "sarif", d, Options{}))
	if n := len(*log.Runs[0].Results); n == 0 {
		t.Fatal("the test document gave no results: the checks above proved nothing")
	}
	if id := log.Runs[0].AutomationDetails.ID; !strings.HasSuffix(id, "/") || !strings.HasPrefix(id, "lambdawarden/") {
		t.Errorf("automationDetails.id %q: want a lambdawarden category", id)
	}
	empty := &Document{SchemaVersion: SchemaVersion, Tool: d.Tool}
	checkGitHubIngestion(t, render(t, "sarif", empty, Options{}))
}

func TestSARIFArtifactURI(t *testing.T) {
	cases := []struct{ name, arn, want string }{
		{"function", "arn:aws:lambda:us-east-1:111122223333:function:intake", "lambda/111122223333/us-east-1/intake"},
		{"alias", "arn:aws:lambda:us-east-1:111122223333:function:intake:prod", "lambda/111122223333/us-east-1/intake/prod"},
		{"version", "arn:aws:lambda:eu-west-1:111122223333:function:intake:7", "lambda/111122223333/eu-west-1/intake/7"},
		{"$LATEST", "arn:aws:lambda:eu-west-1:111122223333:function:intake:$LATEST", "lambda/111122223333/eu-west-1/intake/$LATEST"},
		{"layer version", "arn:aws:lambda:eu-west-1:444455556666:layer:shared-libs:3", "lambda-layer/444455556666/eu-west-1/shared-libs/3"},
		{"other partition", "arn:aws-cn:lambda:cn-north-1:111122223333:function:f", "lambda/111122223333/cn-north-1/f"},
		{"not a Lambda ARN", "arn:aws:iam::111122223333:role/x", "aws/111122223333/us-east-1/arn:aws:iam::111122223333:role%2Fx"},
		{"hostile name is encoded", "arn:aws:lambda:us-east-1:1:function:a/../b c\x1b", "lambda/1/us-east-1/a%2F..%2Fb%20c%1B"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SARIFArtifactURI(&Resource{ARN: c.arn, Account: "111122223333", Region: "us-east-1"}); got != c.want {
				t.Errorf("SARIFArtifactURI(%q) = %q, want %q", c.arn, got, c.want)
			}
		})
	}
}

// sarifFingerprints maps each result's rule, artifact and statement Sid
// to its fingerprint.
func sarifFingerprints(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Properties struct {
					Statement *finding.StatementRef `json:"statement"`
				} `json:"properties"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range log.Runs[0].Results {
		key := r.RuleID + " " + r.Locations[0].PhysicalLocation.ArtifactLocation.URI
		if s := r.Properties.Statement; s != nil {
			key += " sid=" + s.Sid + " policy=" + s.Policy
			if s.Sid == "" {
				key += " index=" + strconv.Itoa(s.Index)
			}
		}
		out[key] = r.PartialFingerprints[sarifFingerprintKey]
	}
	return out
}

// A rescan finds the same alerts: other times, other wording, another
// resource order, and a statement removed before the one that fired (its
// index shifts) leave every fingerprint as it was.
func TestSARIFFingerprintsStableAcrossScans(t *testing.T) {
	d := loadDocument(t)
	first := sarifFingerprints(t, render(t, "sarif", d, Options{}))
	if len(first) == 0 {
		t.Fatal("no results")
	}
	d.Scan.StartedAt, d.Scan.FinishedAt = "2026-06-01T00:00:00Z", "2026-06-01T00:05:00Z"
	slices.Reverse(d.Resources)
	shifted := 0
	for i := range d.Resources {
		for j := range d.Resources[i].Findings {
			f := &d.Resources[i].Findings[j]
			f.Explanation += " (reworded)"
			if f.Statement != nil && f.Statement.Sid != "" {
				f.Statement.Index += 3
				shifted++
			}
		}
	}
	if shifted == 0 {
		t.Fatal("the test document has no statement with a Sid")
	}
	second := sarifFingerprints(t, render(t, "sarif", d, Options{}))
	for k, fp := range first {
		if second[k] != fp {
			t.Errorf("%s: fingerprint %s became %q", k, fp, second[k])
		}
	}
	seen := map[string]string{}
	for k, fp := range first {
		if other, dup := seen[fp]; dup {
			t.Errorf("%s and %s share fingerprint %s", k, other, fp)
		}
		seen[fp] = k
	}
}

// Two statements with one Sid (possible in a full JSON policy) stay two
// alerts.
func TestSARIFFingerprintRepeatedSid(t *testing.T) {
	fs := []finding.Finding{
		{RuleID: "lambda-public-access", Statement: &finding.StatementRef{Sid: "dup", Index: 0}},
		{RuleID: "lambda-public-access", Statement: &finding.StatementRef{Sid: "dup", Index: 2}},
		{RuleID: "lambda-public-access", Statement: &finding.StatementRef{Index: 1}},
	}
	keys := statementKeys(fs)
	if keys[0] == keys[1] || keys[1] == keys[2] || keys[0] == keys[2] {
		t.Errorf("statement keys collide: %q", keys)
	}
}

// manyFindings is a document of n public functions, one finding each,
// with a few suppressed and low ones so the cut has something to choose.
func manyFindings(t *testing.T, n int) *Document {
	t.Helper()
	tmpl := loadDocument(t)
	var base Resource
	for _, r := range tmpl.Resources {
		if len(r.Findings) > 0 && r.Findings[0].RuleID == "lambda-public-access" {
			base = r
		}
	}
	if base.ARN == "" {
		t.Fatal("the test document has no public function")
	}
	d := &Document{SchemaVersion: SchemaVersion, Tool: tmpl.Tool, Scan: tmpl.Scan, FailOn: finding.High}
	d.Resources = make([]Resource, n)
	for i := range d.Resources {
		r := base
		r.ARN = fmt.Sprintf("arn:aws:lambda:us-east-1:111122223333:function:f%06d", i)
		f := base.Findings[0]
		switch i % 10 {
		case 3:
			f.Severity = finding.Low
		case 7:
			f.Suppressed, f.SuppressedBy = true, "accepted"
		}
		r.Findings = []finding.Finding{f}
		d.Resources[i] = r
	}
	d.Summarize()
	return d
}

// More findings than code scanning takes: the run carries exactly the
// limit, the open critical ones first, says how many it left out, and
// stays under GitHub's 10 MB gzipped. Under the race detector, which
// makes encoding about five times slower, the same proportions run at a
// 25th of the size and the size is extrapolated.
func TestSARIFCapsResultsAtGitHubLimit(t *testing.T) {
	limit := ghMaxResultsPerRun
	if raceEnabled {
		defer func(n int) { SARIFMaxResults = n }(SARIFMaxResults)
		limit = ghMaxResultsPerRun / 25
		SARIFMaxResults = limit
	}
	scale := ghMaxResultsPerRun / limit
	d := manyFindings(t, limit*6/5)
	data := render(t, "sarif", d, Options{})
	log := checkGitHubIngestion(t, data)
	results := *log.Runs[0].Results
	if len(results) != limit {
		t.Fatalf("%d results, want the limit %d", len(results), limit)
	}
	levels := map[string]int{}
	for _, r := range results {
		levels[r.Level]++
	}
	// 6/5 of the limit: 8 in 10 open critical, 1 in 10 open low, 1 in 10
	// suppressed critical. The cut keeps every open critical one, then
	// low ones, and no suppressed one.
	open := limit * 6 / 5 * 8 / 10
	if levels["error"] != open || levels["note"] != limit-open {
		t.Errorf("levels kept %v, want %d error and %d note", levels, open, limit-open)
	}
	if bytes.Contains(data, []byte(`"suppressions"`)) {
		t.Error("a suppressed finding was kept over open ones")
	}
	if want := fmt.Sprintf(`"omittedResults": %d`, limit/5); !bytes.Contains(data, []byte(want)) || !bytes.Contains(data, []byte(`"id": "results-omitted"`)) {
		t.Errorf("the run does not say %s", want)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	if gz.Len()*scale > ghMaxGzipBytes {
		t.Errorf("%d results are %d bytes gzipped: %d results would be over GitHub's %d", limit, gz.Len(), ghMaxResultsPerRun, ghMaxGzipBytes)
	}
	t.Logf("%d results: %d bytes, %d gzipped (x%d for GitHub's limit of %d results; it takes %d bytes)", limit, len(data), gz.Len(), scale, ghMaxResultsPerRun, ghMaxGzipBytes)
}

func TestSARIFBudgetOrder(t *testing.T) {
	defer func(n int) { SARIFMaxResults = n }(SARIFMaxResults)
	d := loadDocument(t)
	SARIFMaxResults = 3
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Suppressions []any  `json:"suppressions"`
				Properties   struct {
					Severity string `json:"severity"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", d, Options{}), &log); err != nil {
		t.Fatal(err)
	}
	got := log.Runs[0].Results
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	for _, r := range got {
		if len(r.Suppressions) > 0 || r.Properties.Severity != "critical" && r.Properties.Severity != "high" {
			t.Errorf("kept %s (%s, suppressed %v) over an open critical or high finding", r.RuleID, r.Properties.Severity, len(r.Suppressions) > 0)
		}
	}
}
