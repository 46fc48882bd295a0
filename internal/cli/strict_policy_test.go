package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// ambiguousPolicies are documents IAM rejects, each of which a lenient
// reader judged private or wrongly: two Effects, two StringEquals blocks,
// two Conditions, a lower-case operator.
var ambiguousPolicies = map[string]string{
	"two-effects":         `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Effect":"Deny"}]}`,
	"two-stringequals":    `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"AWS:SourceAccount":"444455556666"},"StringEquals":{"AWS:SourceAccount":"111122223333"}}}]}`,
	"two-conditions":      `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"}},"Condition":{}}]}`,
	"lowercase-operator":  `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"*","Condition":{"stringequals":{"AWS:SourceAccount":"111122223333"}}}]}`,
	"lowercase-effect":    `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}`,
	"case-variant-policy": `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"}},"condition":{}}]}`,
}

// TestAnalyzeRejectsAmbiguousPolicy: exit 2 with one line naming the
// problem, never a verdict.
func TestAnalyzeRejectsAmbiguousPolicy(t *testing.T) {
	for name, doc := range ambiguousPolicies {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, doc, "analyze", "-", "-o", "json")
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stdout %s", code, out)
			}
			if out != "" {
				t.Errorf("a rejected policy printed a verdict: %s", out)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 {
				t.Errorf("want one line on stderr, got %d: %s", lines, errOut)
			}
			if !strings.Contains(errOut, "twice") && !strings.Contains(errOut, "case-sensitive") {
				t.Errorf("stderr does not say what is wrong: %s", errOut)
			}
		})
	}
}

// TestScanMarksAmbiguousPolicyUnknown: served by the emulator through the
// real SDK, each such policy makes its function unknown with the reason,
// and the scan is incomplete (exit 3), never private.
func TestScanMarksAmbiguousPolicyUnknown(t *testing.T) {
	var fns []string
	for name, doc := range ambiguousPolicies {
		fns = append(fns, `{"name":"`+name+`","policy":`+doc+`}`)
	}
	seedText := `{"accounts":[{"id":"111122223333","regions":{"us-east-1":{"functions":[` + strings.Join(fns, ",") + `]}}}]}`
	seed, err := emulator.ParseSeed([]byte(seedText))
	if err != nil {
		t.Fatal(err)
	}
	url := serveSeed(t, seed, emulator.Options{}, "111122223333")
	out := filepath.Join(t.TempDir(), "report.json")
	code, _, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--no-roles", "-o", "json="+out)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var d report.Document
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range d.Resources {
		if r.Kind != "function" {
			continue
		}
		seen++
		if r.Status != "unknown" || r.Exposure != "unknown" {
			t.Errorf("%s: status %s, exposure %s; want unknown", r.ARN, r.Status, r.Exposure)
		}
		if !strings.Contains(r.UnknownReason, "twice") && !strings.Contains(r.UnknownReason, "case-sensitive") {
			t.Errorf("%s: reason does not name the problem: %q", r.ARN, r.UnknownReason)
		}
	}
	if seen != len(ambiguousPolicies) {
		t.Errorf("saw %d functions, want %d", seen, len(ambiguousPolicies))
	}
}

// TestAnalyzeResourceARNNoStatementMatches: an ARN no statement can match
// (a typo, or an alias's policy checked against the unqualified ARN) is
// exit 2 naming the ARNs the statements name, not a PASS.
func TestAnalyzeResourceARNNoStatementMatches(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:111122223333:function:intake"
	alias := `{"Version":"2012-10-17","Statement":[{"Sid":"pub","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `:prod"}]}`
	cases := []struct {
		name, arn string
		code      int
		stderr    string
	}{
		{"alias policy against the unqualified ARN", fn, exitUsage, fn + ":prod"},
		{"typo in the function name", "arn:aws:lambda:us-east-1:111122223333:function:intak:prod", exitUsage, "no statement of the policy applies"},
		{"the ARN it is attached to", fn + ":prod", exitFindings, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, alias, "analyze", "-", "--resource-arn", c.arn, "-o", "json")
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, errOut)
			}
			if c.stderr != "" && !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, c.stderr)
			}
		})
	}
}

// TestAnalyzeEnvelopeWithTwoPolicyFields: the AWS CLI envelope is read
// strictly too.
func TestAnalyzeEnvelopeWithTwoPolicyFields(t *testing.T) {
	pub := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\"}]}`
	for name, in := range map[string]string{
		"exact repeat": `{"Policy":"` + pub + `","Policy":"{}"}`,
		"case variant": `{"Policy":"` + pub + `","policy":"{}"}`,
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, in, "analyze", "-")
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			if !strings.Contains(errOut, "twice") {
				t.Errorf("stderr %q does not say the field is repeated", errOut)
			}
		})
	}
}
