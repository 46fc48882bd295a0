package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/configrule"
)

// TestConfigRuleScheduledOnTheDemoEstate: `config-rule --event` with a
// scheduled notification marks exactly the exposed functions
// NON_COMPLIANT and prints what it put.
func TestConfigRuleScheduledOnTheDemoEstate(t *testing.T) {
	srv, url, _ := watchEstate(t)
	code, out, errOut := runCLI(t, "", "config-rule", "--event", "../configrule/testdata/scheduled.json", "--endpoint-url", url, "--pace", "none")
	var res configrule.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not the result: %v\n%s\n%s", err, out, errOut)
	}
	if code != exitFindings || res.MessageType != "ScheduledNotification" || res.Batches != 1 {
		t.Fatalf("exit %d, result %+v, stderr %s", code, res, errOut)
	}
	bad := map[string]bool{}
	for _, e := range res.Evaluations {
		if e.Compliance == configrule.NonCompliant {
			bad[e.ResourceID] = true
		}
	}
	for _, fn := range []string{"patient-intake", "patient-portal", "claims-api", "billing-export", "scan-ingest", "appointment-scheduler", "legacy-etl", "secrets-rotator"} {
		if !bad[fn] {
			t.Errorf("%s should be NON_COMPLIANT", fn)
		}
	}
	if len(bad) != 8 || len(res.Evaluations) != 11 || len(srv.Evaluations()) != 11 {
		t.Errorf("%d NON_COMPLIANT of %d printed, %d put", len(bad), len(res.Evaluations), len(srv.Evaluations()))
	}
}

func TestConfigRuleUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"config-rule"}, "needs --event"},
		{[]string{"config-rule", "--event", "no/such.json"}, "no such file"},
		{[]string{"config-rule", "--event", "testdata/policies/not-json.json", "--region", "us-east-1"}, "not JSON"},
	} {
		code, _, errOut := runCLI(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, errOut)
		}
	}
}
