package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// asffLimits are Security Hub's documented size limits for the fields we
// fill from free text.
var asffLimits = map[string]int{"Title": 256, "Description": 1024}

// checkASFFFinding fails t for everything in one finding that Security
// Hub's BatchImportFindings requires or limits.
func checkASFFFinding(t *testing.T, f map[string]any) {
	t.Helper()
	labels := map[string]bool{"INFORMATIONAL": true, "LOW": true, "MEDIUM": true, "HIGH": true, "CRITICAL": true}
	statuses := map[string]bool{"PASSED": true, "WARNING": true, "FAILED": true, "NOT_AVAILABLE": true}
	typeRe := regexp.MustCompile(`^[^/]+(/[^/]+){0,2}$`)
	productArn := regexp.MustCompile(`^arn:aws[a-z-]*:securityhub:([a-z0-9-]+):(\d{12}):product/(\d{12})/default$`)
	id, _ := f["Id"].(string)
	for _, attr := range ASFFRequired {
		v, ok := f[attr]
		if !ok || v == nil || v == "" {
			t.Errorf("%s: required attribute %s is missing", id, attr)
			return
		}
	}
	if len(id) > 512 || len(f["GeneratorId"].(string)) > 512 {
		t.Errorf("%s: Id or GeneratorId over 512 characters", id)
	}
	if f["SchemaVersion"] != "2018-10-08" {
		t.Errorf("%s: SchemaVersion %v", id, f["SchemaVersion"])
	}
	m := productArn.FindStringSubmatch(f["ProductArn"].(string))
	if m == nil || m[2] != f["AwsAccountId"] || m[3] != f["AwsAccountId"] || m[1] != f["Region"] {
		t.Errorf("%s: ProductArn %v does not name the account's default product in the finding's Region %v", id, f["ProductArn"], f["Region"])
	}
	for _, ts := range []string{"CreatedAt", "UpdatedAt"} {
		if _, err := time.Parse(time.RFC3339, f[ts].(string)); err != nil {
			t.Errorf("%s: %s %v is not ISO 8601: %v", id, ts, f[ts], err)
		}
	}
	if !labels[f["Severity"].(map[string]any)["Label"].(string)] {
		t.Errorf("%s: Severity.Label %v", id, f["Severity"])
	}
	for _, ty := range f["Types"].([]any) {
		if !typeRe.MatchString(ty.(string)) {
			t.Errorf("%s: type %q is not namespace/category/classifier", id, ty)
		}
	}
	res := f["Resources"].([]any)
	if len(res) != 1 {
		t.Errorf("%s: %d resources", id, len(res))
	}
	r0 := res[0].(map[string]any)
	if ty := r0["Type"]; ty != "AwsLambdaFunction" && ty != "AwsLambdaLayerVersion" {
		t.Errorf("%s: resource type %v", id, ty)
	}
	if r0["Id"] == "" {
		t.Errorf("%s: resource without Id", id)
	}
	c := f["Compliance"].(map[string]any)
	if !statuses[c["Status"].(string)] {
		t.Errorf("%s: Compliance.Status %v", id, c["Status"])
	}
	if reqs, ok := c["RelatedRequirements"].([]any); ok && len(reqs) > 32 {
		t.Errorf("%s: %d related requirements, Security Hub takes 32", id, len(reqs))
	}
	if text := f["Remediation"].(map[string]any)["Recommendation"].(map[string]any)["Text"].(string); text == "" || len(text) > 512 {
		t.Errorf("%s: Remediation.Recommendation.Text has %d bytes", id, len(text))
	}
	for field, max := range asffLimits {
		if len(f[field].(string)) > max {
			t.Errorf("%s: %s longer than %d", id, field, max)
		}
	}
	if pf, ok := f["ProductFields"].(map[string]any); ok {
		if len(pf) > 50 {
			t.Errorf("%s: %d ProductFields, Security Hub takes 50", id, len(pf))
		}
		for k, v := range pf {
			if len(k) > 128 || len(v.(string)) > 2048 {
				t.Errorf("%s: ProductFields %s too long", id, k)
			}
		}
	}
	if raw, _ := json.Marshal(f); len(raw) > 240<<10 {
		t.Errorf("%s: %d bytes, Security Hub takes 240 KB a finding", id, len(raw))
	}
}

func TestASFFRequiredAttributes(t *testing.T) {
	d := loadDocument(t)
	var list []map[string]any
	if err := json.Unmarshal(render(t, "asff", d, Options{}), &list); err != nil {
		t.Fatalf("asff is not a JSON array: %v", err)
	}
	if len(list) == 0 {
		t.Fatal("no findings")
	}
	ids := map[string]bool{}
	byID := map[string]map[string]any{}
	for _, f := range list {
		id, _ := f["Id"].(string)
		checkASFFFinding(t, f)
		if ids[id] {
			t.Errorf("duplicate Id %s: a re-import would collapse two findings", id)
		}
		ids[id] = true
		byID[id] = f
	}

	public := byID[ASFFID("lambda-public-access", "arn:aws:lambda:us-east-1:111122223333:function:intake")]
	if public == nil {
		t.Fatal("no finding for the public function")
	}
	if public["Compliance"].(map[string]any)["Status"] != "FAILED" || public["Severity"].(map[string]any)["Label"] != "CRITICAL" {
		t.Errorf("public finding: %v %v", public["Compliance"], public["Severity"])
	}
	reqs := public["Compliance"].(map[string]any)["RelatedRequirements"].([]any)
	if reqs[0] != "HIPAA 164.308(a)(1)(ii)(B)" || !containsAny(reqs, "HIPAA 164.312(a)(1)") {
		t.Errorf("HIPAA sections missing or not first: %v", reqs)
	}
	if public["GeneratorId"] != "lambda-public-access" {
		t.Errorf("GeneratorId %v", public["GeneratorId"])
	}
	supp := byID[ASFFID("lambda-public-function-url", "arn:aws:lambda:us-east-1:111122223333:function:public-webhook")]
	if supp == nil || supp["Workflow"].(map[string]any)["Status"] != "SUPPRESSED" || supp["Compliance"].(map[string]any)["Status"] != "FAILED" {
		t.Errorf("suppressed finding: %v", supp)
	}
	unknown := byID["lambdawarden/resource-unknown/arn:aws:lambda:eu-west-1:444455556666:function:claims-export"]
	if unknown == nil || unknown["Compliance"].(map[string]any)["Status"] != "NOT_AVAILABLE" {
		t.Errorf("unknown resource: %v", unknown)
	}
	// A clean resource is PASSED under the same Id a failure would use, so
	// a re-import after a fix resolves the old finding.
	pass := byID[ASFFID("lambda-public-access", "arn:aws:lambda:us-east-1:444455556666:function:org-reports")]
	if pass == nil || pass["Compliance"].(map[string]any)["Status"] != "PASSED" {
		t.Errorf("org resource has no PASSED lambda-public-access finding: %v", pass)
	}
	layer := byID[ASFFID("lambda-layer-public", "arn:aws:lambda:eu-west-1:444455556666:layer:shared-libs:3")]
	if layer == nil || layer["Resources"].([]any)[0].(map[string]any)["Type"] != "AwsLambdaLayerVersion" {
		t.Errorf("layer finding: %v", layer)
	}
	// Per resource: one finding per applicable rule, failed or passed.
	for _, r := range d.Resources {
		if r.Status == "unknown" {
			continue
		}
		for _, rule := range rules.All() {
			if rule.Applies(inventory.Kind(r.Kind)) && byID[ASFFID(rule.ID, r.ARN)] == nil {
				t.Errorf("no ASFF finding for %s on %s", rule.ID, r.ARN)
			}
		}
	}
}

// The Id must not depend on anything that changes between scans.
func TestASFFIDStableAcrossScans(t *testing.T) {
	d := loadDocument(t)
	first := asffIDs(t, render(t, "asff", d, Options{}))
	d.Scan.StartedAt, d.Scan.FinishedAt = "2026-06-01T00:00:00Z", "2026-06-01T00:05:00Z"
	d.Resources[0].Findings[0].Explanation += " (reworded)"
	second := asffIDs(t, render(t, "asff", d, Options{}))
	if strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Errorf("Ids changed between scans:\n%v\n%v", first, second)
	}
}

func asffIDs(t *testing.T, data []byte) []string {
	var list []struct{ Id string }
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range list {
		out = append(out, f.Id)
	}
	return out
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestOCSFClassesAndCompliance(t *testing.T) {
	d := loadDocument(t)
	var events []map[string]any
	if err := json.Unmarshal(render(t, "ocsf", d, Options{}), &events); err != nil {
		t.Fatalf("ocsf is not a JSON array: %v", err)
	}
	findings := 0
	unknown := 0
	for _, r := range d.Resources {
		findings += len(r.Findings)
		if r.Status == "unknown" {
			unknown++
		}
	}
	if len(events) != findings+unknown {
		t.Fatalf("%d events, want one per finding (%d) and per unknown resource (%d)", len(events), findings, unknown)
	}
	sevNames := map[float64]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
	suppressed := 0
	for _, e := range events {
		checkOCSFBase(t, e, 2004, 200401)
		sid := e["severity_id"].(float64)
		if sevNames[sid] != e["severity"] {
			t.Errorf("severity_id %v with severity %v", sid, e["severity"])
		}
		fi := e["finding_info"].(map[string]any)
		if fi["uid"] == "" || fi["title"] == "" || fi["desc"] == "" {
			t.Errorf("finding_info incomplete: %v", fi)
		}
		res := e["resources"].([]any)
		if len(res) != 1 || !strings.HasPrefix(res[0].(map[string]any)["uid"].(string), "arn:aws:lambda:") {
			t.Errorf("resources = %v", res)
		}
		if e["status"] == "Suppressed" {
			suppressed++
		}
		if sid == 0 {
			continue
		}
		if e["remediation"].(map[string]any)["desc"] == "" {
			t.Error("no remediation")
		}
		c := e["unmapped"].(map[string]any)["compliance"].(map[string]any)
		stds := c["standards"].([]any)
		reqs := c["requirements"].([]any)
		if stds[0] != "HIPAA" || !strings.HasPrefix(reqs[0].(string), "HIPAA 164.") || c["status"] != "Fail" || c["status_id"].(float64) != 3 {
			t.Errorf("compliance = %v", c)
		}
	}
	if suppressed != 2 {
		t.Errorf("%d suppressed events, want 2", suppressed)
	}

	events = nil
	if err := json.Unmarshal(render(t, "ocsf", d, Options{OCSFCompliance: true}), &events); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	var compliance int
	for _, e := range events[findings+unknown:] {
		checkOCSFBase(t, e, 2003, 200301)
		compliance++
		c := e["compliance"].(map[string]any)
		key := c["standards"].([]any)[0].(string) + " " + c["requirements"].([]any)[0].(string)
		status[key] = c["status"].(string)
		want := map[string]float64{"Pass": 1, "Warning": 2, "Fail": 3}[c["status"].(string)]
		if want == 0 || c["status_id"].(float64) != want {
			t.Errorf("%s: status %v / %v", key, c["status"], c["status_id"])
		}
	}
	reqs := 0
	seen := map[string]bool{}
	for _, fw := range rules.Frameworks() {
		for _, r := range rules.All() {
			for _, id := range rules.Compliance(r.ID).IDs(fw) {
				if !seen[fw+id] {
					seen[fw+id] = true
					reqs++
				}
			}
		}
	}
	if compliance != reqs {
		t.Errorf("%d compliance findings, want one per requirement (%d)", compliance, reqs)
	}
	// 164.312(a)(1) has open findings; 164.312(d) only the suppressed URL
	// finding (and the dormant-URL rule, which did not fire), with unknown
	// resources, so it is a warning, not a pass.
	if status["HIPAA 164.312(a)(1)"] != "Fail" || status["HIPAA 164.312(d)"] != "Warning" {
		t.Errorf("HIPAA statuses: %v", status)
	}
	clean := *d
	clean.Resources = nil
	for _, r := range d.Resources {
		if r.Status != "unknown" {
			clean.Resources = append(clean.Resources, r)
		}
	}
	events = nil
	if err := json.Unmarshal(render(t, "ocsf", &clean, Options{OCSFCompliance: true}), &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if c, ok := e["compliance"].(map[string]any); ok && c["requirements"].([]any)[0] == "164.312(d)" && c["status"] != "Pass" {
			t.Errorf("with nothing unknown and its only finding suppressed, HIPAA 164.312(d) should pass: %v", c)
		}
	}
}

func checkOCSFBase(t *testing.T, e map[string]any, class, typ float64) {
	t.Helper()
	for _, k := range []string{"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "finding_info"} {
		if _, ok := e[k]; !ok {
			t.Errorf("class %v event lacks required %s", class, k)
		}
	}
	if e["class_uid"] != class || e["type_uid"] != typ || e["category_uid"] != 2.0 || e["activity_id"] != 1.0 {
		t.Errorf("class_uid %v type_uid %v category_uid %v activity_id %v, want %v %v 2 1", e["class_uid"], e["type_uid"], e["category_uid"], e["activity_id"], class, typ)
	}
	if e["type_uid"] != e["class_uid"].(float64)*100+e["activity_id"].(float64) {
		t.Errorf("type_uid %v is not class_uid*100+activity_id", e["type_uid"])
	}
	meta := e["metadata"].(map[string]any)
	if meta["version"] != OCSFVersion || meta["product"].(map[string]any)["vendor_name"] == "" {
		t.Errorf("metadata = %v", meta)
	}
	if e["time"].(float64) != float64(time.Date(2026, 5, 1, 12, 3, 0, 0, time.UTC).UnixMilli()) {
		t.Errorf("time %v is not the scan's finish in ms", e["time"])
	}
}

// TestCSVParsesBack reads the CSV with a CSV parser and checks it row by
// row against the document.
func TestCSVParsesBack(t *testing.T) {
	d := loadDocument(t)
	r := csv.NewReader(bytes.NewReader(render(t, "csv", d, Options{})))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVColumns, ",") {
		t.Fatalf("header %v, want %v", rows[0], CSVColumns)
	}
	col := map[string]int{}
	for i, c := range CSVColumns {
		col[c] = i
	}
	type key struct{ arn, rule, index string }
	got := map[key][]string{}
	for _, row := range rows[1:] {
		if len(row) != len(CSVColumns) {
			t.Fatalf("row has %d cells: %v", len(row), row)
		}
		got[key{row[col["resource_arn"]], row[col["rule_id"]], row[col["statement_index"]]}] = row
	}
	want := 0
	for _, res := range d.Resources {
		if res.Status == "unknown" {
			want++
			row := got[key{res.ARN, "", ""}]
			if row == nil || row[col["status"]] != "unknown" || row[col["unknown_reason"]] != res.UnknownReason {
				t.Errorf("unknown resource %s: row %v", res.ARN, row)
			}
		}
		for _, f := range res.Findings {
			want++
			idx := ""
			if f.Statement != nil {
				idx = strconv.Itoa(f.Statement.Index)
			}
			row := got[key{res.ARN, f.RuleID, idx}]
			if row == nil {
				t.Errorf("no row for %s on %s", f.RuleID, res.ARN)
				continue
			}
			checks := map[string]string{
				"account": res.Account, "region": res.Region, "resource_kind": res.Kind, "status": res.Status,
				"severity": f.Severity.String(), "explanation": f.Explanation, "suppressed": strconv.FormatBool(f.Suppressed),
				"suppressed_by": f.SuppressedBy, "note": f.Note, "fix_command": strings.Join(f.Remediation.Commands, "\n"),
				"hipaa": strings.Join(f.Compliance.IDs("HIPAA"), "; "),
			}
			if f.Statement != nil {
				checks["statement_sid"] = f.Statement.Sid
			}
			for c, v := range checks {
				if row[col[c]] != v {
					t.Errorf("%s on %s: %s = %q, want %q", f.RuleID, res.ARN, c, row[col[c]], v)
				}
			}
		}
	}
	if len(rows)-1 != want {
		t.Errorf("%d rows, want %d (findings plus unknown resources)", len(rows)-1, want)
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "aws lambda": "aws lambda", "": ""} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJUnitParsesAsXML parses the JUnit output with an XML parser and
// checks one test case per resource and applicable rule, with failure,
// skipped and error where they belong, and counts that add up.
func TestJUnitParsesAsXML(t *testing.T) {
	d := loadDocument(t)
	type tc struct {
		Name      string `xml:"name,attr"`
		Classname string `xml:"classname,attr"`
		Failure   *struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"failure"`
		Error *struct {
			Message string `xml:"message,attr"`
		} `xml:"error"`
		Skipped *struct {
			Message string `xml:"message,attr"`
		} `xml:"skipped"`
	}
	type suite struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []tc   `xml:"testcase"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []suite  `xml:"testsuite"`
	}
	out := render(t, "junit", d, Options{})
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("junit is not XML: %v", err)
	}
	cases := map[string]tc{}
	var tests, failures, errors, skipped int
	for _, s := range doc.Suites {
		var f, e, sk int
		for _, c := range s.Cases {
			if _, dup := cases[c.Name]; dup {
				t.Errorf("duplicate test case %q", c.Name)
			}
			cases[c.Name] = c
			if c.Failure != nil {
				f++
			}
			if c.Error != nil {
				e++
			}
			if c.Skipped != nil {
				sk++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e || s.Skipped != sk {
			t.Errorf("suite %s counts tests=%d failures=%d errors=%d skipped=%d, cases say %d %d %d %d", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), f, e, sk)
		}
		tests, failures, errors, skipped = tests+s.Tests, failures+s.Failures, errors+s.Errors, skipped+s.Skipped
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Errors != errors || doc.Skipped != skipped {
		t.Errorf("testsuites counts %d/%d/%d/%d, suites add up to %d/%d/%d/%d", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tests, failures, errors, skipped)
	}
	want := 0
	for _, r := range d.Resources {
		for _, rule := range rules.All() {
			if !rule.Applies(inventory.Kind(r.Kind)) {
				continue
			}
			want++
			c, ok := cases[rule.ID+" "+r.ARN]
			if !ok {
				t.Errorf("no test case for %s on %s", rule.ID, r.ARN)
				continue
			}
			var open, supp int
			for _, f := range r.Findings {
				if f.RuleID == rule.ID {
					if f.Suppressed {
						supp++
					} else {
						open++
					}
				}
			}
			switch {
			case r.Status == "unknown":
				if c.Error == nil || !strings.Contains(c.Error.Message, r.UnknownReason) {
					t.Errorf("%s: unknown resource is not an error: %+v", c.Name, c)
				}
			case open > 0:
				if c.Failure == nil || c.Skipped != nil || c.Error != nil {
					t.Errorf("%s: want a failure: %+v", c.Name, c)
				}
			case supp > 0:
				if c.Skipped == nil || c.Failure != nil || !strings.Contains(c.Skipped.Message, "suppressed") {
					t.Errorf("%s: a suppressed finding should be skipped: %+v", c.Name, c)
				}
			default:
				if c.Failure != nil || c.Error != nil || c.Skipped != nil {
					t.Errorf("%s: want a pass: %+v", c.Name, c)
				}
			}
		}
	}
	if doc.Tests != want {
		t.Errorf("%d test cases, want %d (resource x applicable rule)", doc.Tests, want)
	}
	hostile := cases["lambda-cross-account-access arn:aws:lambda:us-east-1:111122223333:function:intake"]
	if hostile.Failure == nil || !strings.Contains(hostile.Failure.Body, "<script>alert(1)</script>") {
		t.Errorf("the hostile Sid does not survive the XML round trip as text: %+v", hostile.Failure)
	}
	if !bytes.Contains(out, []byte("&lt;script&gt;")) {
		t.Error("the hostile Sid is not escaped in the XML")
	}
}

func TestJUnitScanErrorsAreErrors(t *testing.T) {
	d := loadDocument(t)
	d.Scan.Errors = []string{"account 555566667777: AssumeRole denied"}
	out := string(render(t, "junit", d, Options{}))
	if !strings.Contains(out, `<testsuite name="lambdawarden-scan" tests="1" failures="0" errors="1"`) || !strings.Contains(out, "AssumeRole denied") {
		t.Errorf("scan error missing from junit:\n%s", out[len(out)-800:])
	}
	if got := xmlText("a\x00b\rc\n<&>"); got != "a\uFFFDb\uFFFDc\n&lt;&amp;&gt;" {
		t.Errorf("xmlText = %q", got)
	}
}
