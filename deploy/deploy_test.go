// Package deploy holds the CloudFormation template of the AWS Config rule
// and its real-time path; this test lints it and checks that its role
// grants exactly what the rule calls.
package deploy

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdawarden/lambdawarden/internal/configrule/awsconfig"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

const template = "config-rule.yaml"

// TestTemplateLints runs cfn-lint, which CI installs.
func TestTemplateLints(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint is not on PATH; CI must install it (pip install cfn-lint)")
		}
		t.Skip("cfn-lint is not on PATH; install it (pip install cfn-lint) to lint the deploy template")
	}
	out, err := exec.Command(bin, template).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", template, err, out)
	}
}

var reAction = regexp.MustCompile(`\b(lambda|config|sns|logs|sts):[A-Za-z]+\b`)

// granted returns the IAM actions the function's role allows.
func granted(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n  FunctionRole:")
	end := strings.Index(text, "\n  Function:")
	if start < 0 || end < start {
		t.Fatal("the template has no FunctionRole before Function")
	}
	out := map[string]bool{}
	for _, a := range reAction.FindAllString(text[start:end], -1) {
		out[a] = true
	}
	return out
}

// TestRoleGrantsWhatTheRuleCalls runs the rule's every path against the
// emulator and checks each call it made is allowed by the template's role,
// and that the role allows no Lambda write.
func TestRoleGrantsWhatTheRuleCalls(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(seed, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h, err := awsconfig.NewHandler(context.Background(), awsconfig.Settings{EndpointURL: url, Region: "us-east-1", NoPacing: true,
		SNSTopic: "arn:aws:sns:us-east-1:111122223333:lambdawarden-alerts", Credentials: credentials.NewStaticCredentialsProvider("AKIA111122223333", "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scheduled.json", "change-appointment-scheduler.json", "oversized-patient-intake.json"} {
		data, err := os.ReadFile("../internal/configrule/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.ConfigEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		if _, err := h.HandleConfig(context.Background(), ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	detail := `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/x","accountId":"111122223333"},"eventTime":"2026-12-01T00:00:00Z","eventSource":"lambda.amazonaws.com","eventName":"CreateFunctionUrlConfig20211031","awsRegion":"us-east-1","requestParameters":{"functionName":"appointment-scheduler","qualifier":"prod","authType":"NONE"},"responseElements":null,"eventID":"e1","recipientAccountId":"111122223333"}`
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.lambda","detail":`+detail+`}`)); err != nil {
		t.Fatal(err)
	}
	allowed := granted(t)
	var called []string
	for op := range srv.Counts() {
		called = append(called, op)
	}
	sort.Strings(called)
	t.Logf("called: %v", called)
	if len(called) < 8 {
		t.Fatalf("only %v called; the check would prove little", called)
	}
	for _, op := range called {
		action := ""
		switch {
		case op == "GetCallerIdentity":
			continue // needs no permission
		case strings.HasPrefix(op, "sns:"):
			action = op
		case op == "PutEvaluations" || op == "GetResourceConfigHistory":
			action = "config:" + op
		default:
			action = "lambda:" + op
		}
		if !allowed[action] {
			t.Errorf("the rule calls %s, which the template's role does not allow", action)
		}
	}
	for a := range allowed {
		if strings.HasPrefix(a, "lambda:") && !strings.HasPrefix(a, "lambda:Get") && !strings.HasPrefix(a, "lambda:List") {
			t.Errorf("the role allows %s: the rule must be read-only on Lambda", a)
		}
	}
}
