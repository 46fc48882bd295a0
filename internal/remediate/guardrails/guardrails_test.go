package guardrails

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/policy"
)

const fn = "arn:aws:lambda:us-east-1:111122223333:function:intake"

// decide evaluates a request against a guardrail the way our engine reads
// it; AWS's own behaviour for lambda:Principal is unconfirmed (see the
// guardrail's Unconfirmed list).
func decide(t *testing.T, g Guardrail, action, principalARN string, ctx map[string][]string) policy.Decision {
	t.Helper()
	d, err := Check(g.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if ctx == nil {
		ctx = map[string][]string{}
	}
	ctx["aws:principalarn"] = []string{principalARN}
	return d.Evaluate(policy.Request{
		Caller:   policy.Caller{Kind: policy.CallerIAM, Account: "111122223333", ARN: principalARN},
		Action:   action,
		Resource: fn,
		Context:  ctx,
	})
}

func TestGuardrailsParseAndSayWhatTheyDo(t *testing.T) {
	gs, err := Generate(Options{OrgID: "o-abc123def4"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Guardrail{}
	for _, g := range gs {
		byName[g.Name] = g
		if g.Blocks == "" || len(g.DoesNotStop) == 0 || len(g.Unconfirmed) == 0 {
			t.Errorf("%s: every guardrail says what it blocks, what it does not, and what is unconfirmed", g.Name)
		}
		if strings.Contains(string(g.Policy), "function/") || strings.Contains(string(g.Policy), `"Principal"`) {
			t.Errorf("%s: not a valid SCP for Lambda:\n%s", g.Name, g.Policy)
		}
		if !strings.Contains(g.Blocks, "o-abc123def4") {
			t.Errorf("%s does not name the organization", g.Name)
		}
	}
	if !strings.Contains(strings.Join(byName["deny-public-add-permission"].Unconfirmed, " "), "lambda:Principal") {
		t.Error("the lambda:Principal comparison must be marked unconfirmed")
	}
	if !strings.Contains(strings.Join(Notes, " "), "Resource Control Policies do not cover AWS Lambda") {
		t.Error("the notes must say RCPs do not cover Lambda")
	}

	dev := "arn:aws:iam::111122223333:role/developer"
	deployer := "arn:aws:iam::111122223333:role/LambdaDeploymentRole"
	cases := []struct {
		guardrail, action, who string
		ctx                    map[string][]string
		want                   policy.Decision
	}{
		{"deny-function-url-without-iam-auth", "lambda:CreateFunctionUrlConfig", dev, map[string][]string{"lambda:functionurlauthtype": {"NONE"}}, policy.ExplicitDeny},
		{"deny-function-url-without-iam-auth", "lambda:UpdateFunctionUrlConfig", dev, map[string][]string{"lambda:functionurlauthtype": {"AWS_IAM"}}, policy.ImplicitDeny},
		{"deny-public-add-permission", "lambda:AddPermission", dev, map[string][]string{"lambda:principal": {"*"}}, policy.ExplicitDeny},
		{"deny-public-add-permission", "lambda:AddPermission", dev, map[string][]string{"lambda:principal": {"444455556666"}}, policy.ImplicitDeny},
		{"deny-public-add-permission", "lambda:AddPermission", deployer, map[string][]string{"lambda:principal": {"*"}}, policy.ImplicitDeny},
		{"deny-put-resource-policy", "lambda:PutResourcePolicy", dev, nil, policy.ExplicitDeny},
		{"deny-put-resource-policy", "lambda:PutResourcePolicy", deployer, nil, policy.ImplicitDeny},
	}
	for _, c := range cases {
		if got := decide(t, byName[c.guardrail], c.action, c.who, c.ctx); got != c.want {
			t.Errorf("%s: %s by %s %v = %s, want %s", c.guardrail, c.action, c.who, c.ctx, got, c.want)
		}
	}
}

func TestCheckRejectsWhatAnSCPCannotSay(t *testing.T) {
	for _, bad := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"lambda:AddPermission","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:AddPermission","Resource":"arn:aws:lambda:*:*:function/x"}]}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Deny","Action":"lambda:AddPermission","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:AddPermission","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}`,
	} {
		if _, err := Check([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if _, err := Generate(Options{DeploymentRole: "deployer"}); err == nil {
		t.Error("a deployment role that is not an ARN pattern must be refused")
	}
}
