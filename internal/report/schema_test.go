package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lambdawarden/lambdawarden/internal/cli"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

const reportSchemaPath = "../../docs/report.schema.json"

// runCLI runs the lambdawarden command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// reportSchema compiles docs/report.schema.json, formats asserted.
func reportSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	f, err := os.Open(reportSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", reportSchemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "file:///report.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", reportSchemaPath, err)
	}
	return s, doc.(map[string]any)
}

func validateJSON(t *testing.T, s *jsonschema.Schema, what, data string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not validate against %s:\n%v", what, reportSchemaPath, err)
	}
	return v
}

// schemaProperties is every property name the schema defines anywhere.
func schemaProperties(node any, into map[string]bool) {
	switch n := node.(type) {
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok {
			for k := range props {
				into[k] = true
			}
		}
		for _, v := range n {
			schemaProperties(v, into)
		}
	case []any:
		for _, v := range n {
			schemaProperties(v, into)
		}
	}
}

// undocumented lists the keys in a document the schema does not name
// (the schema lets consumers expect additions, so validation alone would
// not notice a field it forgot). compliance is a map from framework names.
func undocumented(v any, known map[string]bool, path string, out map[string]bool) {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			if !known[k] {
				out[path+k] = true
			}
			if k == "compliance" {
				continue
			}
			undocumented(child, known, path+k+".", out)
		}
	case []any:
		for _, child := range n {
			undocumented(child, known, path, out)
		}
	}
}

func checkDocumented(t *testing.T, what string, v any, schemaDoc map[string]any) {
	t.Helper()
	known := map[string]bool{}
	schemaProperties(schemaDoc, known)
	missing := map[string]bool{}
	undocumented(v, known, "", missing)
	if len(missing) > 0 {
		var list []string
		for k := range missing {
			list = append(list, k)
		}
		sort.Strings(list)
		t.Errorf("%s has fields %s does not describe: %s", what, reportSchemaPath, strings.Join(list, ", "))
	}
}

// The JSON Schema in docs/ describes what scan --demo and analyze really
// write, field for field, and carries the document's schema_version.
func TestReportSchemaDescribesRealOutput(t *testing.T) {
	s, doc := reportSchema(t)
	version := doc["$defs"].(map[string]any)["schemaVersion"].(map[string]any)["const"]
	if version != report.SchemaVersion {
		t.Errorf("%s is for schema_version %v, the code writes %s: update both together", reportSchemaPath, version, report.SchemaVersion)
	}

	code, out, errOut := runCLI(t, "", "scan", "--demo", "-o", "json")
	if code != 1 {
		t.Fatalf("scan --demo: exit %d, want 1 (the demo has findings): %s", code, errOut)
	}
	v := validateJSON(t, s, "scan --demo -o json", out)
	checkDocumented(t, "scan --demo -o json", v, doc)
	if n := len(v.(map[string]any)["resources"].([]any)); n < 10 {
		t.Fatalf("the demo report has %d resources: too few to prove anything", n)
	}
	// A report read back and written again (fix --from report.json reads
	// one) still validates: the document round-trips.
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	w, _ := report.Lookup("json")
	var again bytes.Buffer
	if err := w.Write(&again, &d, report.Options{}); err != nil {
		t.Fatal(err)
	}
	validateJSON(t, s, "the demo report written again", again.String())

	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"Policy": "{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[{\"Sid\":\"oops\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:111122223333:function:intake\"},{\"Sid\":\"partner\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"444455556666\"},\"Action\":\"lambda:GetFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:111122223333:function:intake\"}]}", "RevisionId": "r1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "analyze", policy, "-o", "json", "--url-auth-type", "NONE")
	if code != 1 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	v = validateJSON(t, s, "analyze -o json", out)
	checkDocumented(t, "analyze -o json", v, doc)

	// The field check must be able to fail too.
	v.(map[string]any)["findings"].([]any)[0].(map[string]any)["surprise"] = 1
	known := map[string]bool{}
	schemaProperties(doc, known)
	missing := map[string]bool{}
	undocumented(v, known, "", missing)
	if !missing["findings.surprise"] {
		t.Errorf("an undocumented field went unnoticed: %v", missing)
	}

	// The schema must be able to fail.
	for name, bad := range map[string]string{
		"wrong schema_version": `{"schema_version":"2","tool":{"name":"lambdawarden","version":"x"},"resources":[],"summary":{"resources":0,"by_exposure":{},"by_severity":{},"unknown":0}}`,
		"unknown severity":     strings.Replace(out, `"severity": "critical"`, `"severity": "urgent"`, 1),
		"missing exposure":     strings.Replace(out, `"exposure": "public",`, ``, 1),
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Validate(v) == nil {
			t.Errorf("a document with %s validated: the schema checks nothing", name)
		}
	}
}
