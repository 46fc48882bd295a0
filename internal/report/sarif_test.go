package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// sarifSchema compiles the official SARIF 2.1.0 JSON schema, which the
// sarif-multitool npm package ships (bash .ci/install-test-tools).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := outsideTool(t, "the SARIF 2.1.0 JSON schema", "LW_SARIF_SCHEMA",
		".cache/test-tools/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "file:///sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

func TestSARIFValidAgainstSchema(t *testing.T) {
	schema := sarifSchema(t)
	validate := func(data []byte) error {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return err
		}
		return schema.Validate(v)
	}
	d := loadDocument(t)
	if err := validate(render(t, "sarif", d, Options{})); err != nil {
		t.Errorf("the test document's SARIF does not validate: %v", err)
	}
	empty := &Document{SchemaVersion: SchemaVersion, Tool: d.Tool}
	if err := validate(render(t, "sarif", empty, Options{})); err != nil {
		t.Errorf("an empty document's SARIF does not validate: %v", err)
	}
	// The schema must be able to fail, or the checks above prove nothing.
	if err := validate([]byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[{"level":"fatal"}]}]}`)); err == nil {
		t.Error("a broken SARIF log validated: the schema is not being applied")
	}
}

// TestSARIFMultitool runs Microsoft's SARIF Multitool validate verb with
// the SARIF and GitHub rule sets and fails on any error or warning it
// reports (notes are advice, such as "use message ids", and are logged).
func TestSARIFMultitool(t *testing.T) {
	tool := outsideTool(t, "Microsoft SARIF Multitool", "LW_SARIF_MULTITOOL",
		".cache/test-tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
	dir := t.TempDir()
	run := func(name string, data []byte) []map[string]any {
		t.Helper()
		in := filepath.Join(dir, name+".sarif")
		out := filepath.Join(dir, name+".validation.sarif")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "validate", in, "--output", out, "--log", "ForceOverwrite",
			"--rule-kind", "Sarif;Gh", "--level", "Error;Warning;Note")
		// The .NET runtime needs ICU unless told not to; the tests should
		// not depend on it being installed.
		cmd.Env = append(os.Environ(), "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", "DOTNET_CLI_TELEMETRY_OPTOUT=1")
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s validate: %v\n%s", tool, err, msg)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("the multitool wrote no output: %v\n%s", err, msg)
		}
		var log struct {
			Runs []struct {
				Results []map[string]any `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(raw, &log); err != nil || len(log.Runs) == 0 {
			t.Fatalf("cannot read the multitool's output: %v\n%s", err, raw)
		}
		return log.Runs[0].Results
	}
	problems := func(results []map[string]any) []string {
		var out []string
		notes := map[string]int{}
		defer func() {
			if len(notes) > 0 {
				t.Logf("multitool notes (advice, not failures): %v", notes)
			}
		}()
		for _, r := range results {
			level, _ := r["level"].(string)
			text := r["ruleId"].(string) + " " + level
			if m, ok := r["message"].(map[string]any); ok {
				if args, ok := m["arguments"].([]any); ok {
					b, _ := json.Marshal(args)
					text += " " + string(b)
				}
			}
			if level == "error" || level == "warning" || level == "" {
				out = append(out, text)
			} else {
				notes[r["ruleId"].(string)]++
			}
		}
		return out
	}

	if p := problems(run("report", render(t, "sarif", loadDocument(t), Options{}))); len(p) > 0 {
		t.Errorf("SARIF Multitool reports problems:\n%s", strings.Join(p, "\n"))
	}
	// A log with a dangling ruleIndex and a result without a message must
	// be rejected, or the validator is not really running.
	var bad map[string]any
	if err := json.Unmarshal(render(t, "sarif", loadDocument(t), Options{}), &bad); err != nil {
		t.Fatal(err)
	}
	res := bad["runs"].([]any)[0].(map[string]any)["results"].([]any)
	delete(res[0].(map[string]any), "message")
	broken, _ := json.Marshal(bad)
	if p := problems(run("broken", broken)); len(p) == 0 {
		t.Error("SARIF Multitool accepted a result without a message: the validation is not effective")
	}
	// The GitHub rules (GH…) must be running too: a rule without help or
	// a short description breaks GH2012.
	var noHelp map[string]any
	if err := json.Unmarshal(render(t, "sarif", loadDocument(t), Options{}), &noHelp); err != nil {
		t.Fatal(err)
	}
	for _, r := range noHelp["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any) {
		delete(r.(map[string]any), "help")
	}
	broken, _ = json.Marshal(noHelp)
	if p := problems(run("no-help", broken)); !strings.Contains(strings.Join(p, "\n"), "GH2012") {
		t.Errorf("SARIF Multitool's GitHub rules did not flag rules without help (GH2012): %v", p)
	}
}

// TestSARIFContent checks what the schema cannot: the catalog is under
// tool.driver.rules with help and severities, every finding is a result
// that points at its rule and resource, suppressions survive, and unknown
// resources are reported.
func TestSARIFContent(t *testing.T) {
	d := loadDocument(t)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID                   string            `json:"id"`
						Help                 map[string]string `json:"help"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				Notifications []struct {
					Level     string `json:"level"`
					Locations []struct {
						LogicalLocations []struct {
							FullyQualifiedName string `json:"fullyQualifiedName"`
						} `json:"logicalLocations"`
					} `json:"locations"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
						Kind               string `json:"kind"`
					} `json:"logicalLocations"`
				} `json:"locations"`
				Suppressions []struct {
					Kind          string `json:"kind"`
					Status        string `json:"status"`
					Justification string `json:"justification"`
				} `json:"suppressions"`
				Fingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", d, Options{}), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with 1", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	catalog := append(rules.All(), resourceUnknownRule)
	if len(run.Tool.Driver.Rules) != len(catalog) {
		t.Fatalf("%d rules in tool.driver.rules, want the catalog's %d and resource-unknown", len(run.Tool.Driver.Rules), len(catalog)-1)
	}
	wantSev := map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
	wantLevel := map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
	for i, r := range catalog {
		got := run.Tool.Driver.Rules[i]
		if got.ID != r.ID {
			t.Errorf("rule %d is %s, want %s", i, got.ID, r.ID)
		}
		if !strings.Contains(got.Help["text"], r.Remediation) || got.Help["markdown"] == "" {
			t.Errorf("rule %s: help lacks the remediation: %v", r.ID, got.Help)
		}
		if got.Properties["security-severity"] != wantSev[r.Severity.String()] || got.DefaultConfiguration.Level != wantLevel[r.Severity.String()] {
			t.Errorf("rule %s (%s): security-severity %v level %s", r.ID, r.Severity, got.Properties["security-severity"], got.DefaultConfiguration.Level)
		}
	}
	total, suppressed := 0, 0
	seenFP := map[string]bool{}
	for _, res := range d.Resources {
		total += len(res.Findings)
		if res.Status == "unknown" {
			total++ // its resource-unknown result
		}
		for _, f := range res.Findings {
			if f.Suppressed {
				suppressed++
			}
		}
	}
	if len(run.Results) != total {
		t.Fatalf("%d results, want one per finding and unknown resource (%d)", len(run.Results), total)
	}
	gotSuppressed := 0
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d pointing elsewhere", r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) != 1 || len(r.Locations[0].LogicalLocations) != 1 ||
			!strings.HasPrefix(r.Locations[0].LogicalLocations[0].FullyQualifiedName, "arn:aws:lambda:") ||
			r.Locations[0].LogicalLocations[0].Kind != "resource" {
			t.Errorf("result %s: location is not the resource ARN: %+v", r.RuleID, r.Locations)
		} else if want := SARIFArtifactURI(&Resource{ARN: r.Locations[0].LogicalLocations[0].FullyQualifiedName}); r.Locations[0].PhysicalLocation.ArtifactLocation.URI != want {
			t.Errorf("result %s: artifact %q, want the resource's %q", r.RuleID, r.Locations[0].PhysicalLocation.ArtifactLocation.URI, want)
		}
		fp := r.Fingerprints["lambdawarden/v1"]
		if fp == "" || seenFP[fp] {
			t.Errorf("result %s: fingerprint %q missing or repeated", r.RuleID, fp)
		}
		seenFP[fp] = true
		if len(r.Suppressions) > 0 {
			gotSuppressed++
			if s := r.Suppressions[0]; s.Kind != "external" || s.Status != "accepted" || !strings.Contains(s.Justification, "patient portal") {
				t.Errorf("suppression = %+v", s)
			}
		}
	}
	if gotSuppressed != suppressed {
		t.Errorf("%d suppressed results, want %d", gotSuppressed, suppressed)
	}
	unknown := map[string]bool{}
	for _, n := range run.Invocations[0].Notifications {
		if n.Level == "error" && len(n.Locations) == 1 {
			unknown[n.Locations[0].LogicalLocations[0].FullyQualifiedName] = true
		}
	}
	for _, res := range d.Resources {
		if res.Status == "unknown" && !unknown[res.ARN] {
			t.Errorf("unknown resource %s is not reported as a tool execution notification", res.ARN)
		}
	}
}
