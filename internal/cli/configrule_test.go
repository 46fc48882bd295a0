package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
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

// TestConfigRuleRealTimeExitCodes: an EventBridge event of a backdoor
// AddPermission is a finding (exit 1) whether or not the function can be
// read again (then the added statement is judged, beside an unknown
// alert); a change that carries nothing to judge and cannot be read again
// is incomplete (exit 3, an unknown alert printed), never silence.
func TestConfigRuleRealTimeExitCodes(t *testing.T) {
	const denied = "GetPolicy:denied=1,GetResourcePolicy:denied=1"
	publish := func(t *testing.T, url string) {
		if _, err := lambdaClient(url).PublishVersion(context.Background(), &lambda.PublishVersionInput{FunctionName: aws.String("lab-results")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, faults string
		change       func(t *testing.T, url string)
		code         int
		statuses     string
	}{
		{"backdoor", "", func(t *testing.T, url string) { backdoor(t, url, "lab-results") }, exitFindings, "fail"},
		{"backdoor unreadable", denied, func(t *testing.T, url string) { backdoor(t, url, "lab-results") }, exitFindings, "unknown fail"},
		{"new version unreadable", denied, publish, exitIncomplete, "unknown"},
	} {
		seed, err := demo.Seed()
		if err != nil {
			t.Fatal(err)
		}
		faults, err := emulator.ParseFaults(c.faults)
		if err != nil {
			t.Fatal(err)
		}
		srv, url := emulatortest.Serve(t, seed, emulator.Options{Faults: faults, FaultSeed: 1}, "111122223333")
		c.change(t, url)
		recs := srv.TrailRecords("111122223333", "us-east-1")
		envelope, _ := json.Marshal(map[string]any{"version": "0", "id": "eb-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.lambda",
			"account": "111122223333", "region": "us-east-1", "time": "2026-12-01T06:00:00Z", "resources": []string{}, "detail": json.RawMessage(recs[len(recs)-1])})
		file := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(file, envelope, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, "", "config-rule", "--event", file, "--endpoint-url", url, "--pace", "none", "--region", "us-east-1")
		var res struct {
			Raised []struct {
				Status string `json:"status"`
			} `json:"raised"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: stdout is not the result: %v\n%s\n%s", c.name, err, out, errOut)
		}
		var statuses []string
		for _, a := range res.Raised {
			statuses = append(statuses, a.Status)
		}
		if code != c.code || strings.Join(statuses, " ") != c.statuses {
			t.Errorf("%s: exit %d (want %d), alerts %v (want %s); stderr %s", c.name, code, c.code, statuses, c.statuses, errOut)
		}
	}
}
