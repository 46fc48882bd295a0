package report

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRulesNotJudgedAreNeverPasses: a rule that could not read its input
// is an error (JUnit) or NOT_AVAILABLE (ASFF) and makes the OCSF
// requirement a warning; a rule that was not run is not reported at all.
func TestRulesNotJudgedAreNeverPasses(t *testing.T) {
	d := &Document{SchemaVersion: SchemaVersion, Tool: Tool{Name: "lambdawarden", Version: "test"}, Resources: []Resource{{
		ARN: "arn:aws:lambda:us-east-1:111122223333:function:intake", Kind: "function", Account: "111122223333", Region: "us-east-1",
		Status: "evaluated", Exposure: "private", Findings: nil,
		RulesNotJudged: []RuleGap{
			{Rule: "lambda-external-path-via-role", Reason: "the account's roles could not be read: iam:GetAccountAuthorizationDetails: AccessDenied", Unknown: true},
			{Rule: "lambda-role-admin", Reason: "the execution role was not read"},
		},
	}}}
	d.Summarize()

	junit := string(render(t, "junit", d, Options{}))
	if !strings.Contains(junit, `<testcase name="lambda-external-path-via-role arn:aws:lambda:us-east-1:111122223333:function:intake"`) ||
		!strings.Contains(junit, "could not assess: the account&#39;s roles could not be read") {
		t.Errorf("junit: the unknown rule must be an error:\n%s", junit)
	}
	if strings.Contains(junit, `name="lambda-role-admin arn:`) {
		t.Errorf("junit: a rule that was not run has no test case")
	}
	if !strings.Contains(junit, `name="lambda-public-access arn:aws:lambda:us-east-1:111122223333:function:intake"`) {
		t.Errorf("junit: the rules that ran still pass")
	}

	var asff []struct {
		GeneratorID string `json:"GeneratorId"`
		Compliance  struct{ Status string }
	}
	if err := json.Unmarshal(render(t, "asff", d, Options{}), &asff); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range asff {
		status[f.GeneratorID] = f.Compliance.Status
	}
	if status["lambda-external-path-via-role"] != "NOT_AVAILABLE" || status["lambda-public-access"] != "PASSED" {
		t.Errorf("asff statuses %v", status)
	}
	if _, ok := status["lambda-role-admin"]; ok {
		t.Errorf("asff: a rule that was not run is not reported: %v", status)
	}

	ocsf := string(render(t, "ocsf", d, Options{OCSFCompliance: true}))
	if !strings.Contains(ocsf, `"HIPAA 164.312(e)(1): Warning`) || !strings.Contains(ocsf, "lambda-external-path-via-role: the account's roles could not be read") {
		t.Errorf("ocsf: the requirement the path rule maps to must be a warning naming why")
	}
}
