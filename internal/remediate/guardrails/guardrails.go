// Package guardrails writes preventive service control policies (SCPs)
// that stop Lambda functions from being exposed in the first place
// (public grants, grants to other accounts, function URLs with AuthType
// NONE). Each policy comes with what it blocks, what it
// does not, and which of its conditions AWS documentation does not
// confirm, and each is checked with lambdawarden's own policy parser
// before it is printed.
//
// Resource Control Policies do not cover Lambda (the Organizations RCP
// supported-services list), so SCPs, which limit the callers inside the
// organization, are the only organization-wide preventive control.
package guardrails

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// DefaultDeploymentRole is the placeholder for the role allowed to manage
// Lambda permissions; replace it with your pipeline's role.
const DefaultDeploymentRole = "arn:aws:iam::*:role/LambdaDeploymentRole"

// Options shape the policies.
type Options struct {
	// OrgID is the organization the SCPs are meant for (used in the
	// attach instructions).
	OrgID string
	// DeploymentRole is an ARN pattern (ArnLike) of the principals still
	// allowed to call AddPermission with "*" and PutResourcePolicy.
	DeploymentRole string
}

// Guardrail is one SCP with its explanation.
type Guardrail struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Blocks      string          `json:"blocks"`
	DoesNotStop []string        `json:"does_not_stop"`
	Unconfirmed []string        `json:"unconfirmed"`
	Sources     []string        `json:"sources"`
	Policy      json.RawMessage `json:"policy"`
}

// Notes apply to every guardrail.
var Notes = []string{
	"These are service control policies: attach them to the organization root or to OUs (aws organizations create-policy --type SERVICE_CONTROL_POLICY, then attach-policy). SCPs never apply to the management account.",
	"Resource Control Policies do not cover AWS Lambda (Organizations RCP supported-services list, 2026), so an RCP cannot stop a Lambda grant; SCPs limit who inside your organization can write one.",
	"Guardrails prevent new exposure only. Run lambdawarden scan and lambdawarden fix for what already exists.",
	"Test each policy in a sandbox OU before attaching it to production accounts.",
}

// Generate returns the guardrails, each checked with policy.Parse.
func Generate(opt Options) ([]Guardrail, error) {
	role := opt.DeploymentRole
	if role == "" {
		role = DefaultDeploymentRole
	}
	if !strings.HasPrefix(role, "arn:") {
		return nil, fmt.Errorf("deployment role %q is not an ARN pattern (for example %s)", role, DefaultDeploymentRole)
	}
	if opt.OrgID != "" && !strings.HasPrefix(opt.OrgID, "o-") {
		return nil, fmt.Errorf("organization id %q does not start with o-", opt.OrgID)
	}
	target := "the organization root"
	if opt.OrgID != "" {
		target = "the root of organization " + opt.OrgID
	}
	functions := "arn:aws:lambda:*:*:function:*"
	out := []Guardrail{
		{
			Name:  "deny-function-url-without-iam-auth",
			Title: "Function URLs must use AWS_IAM authentication",
			Blocks: "Creating a function URL, or changing one, with AuthType NONE (an anonymous internet endpoint), for every principal in the accounts under " + target +
				". This is the control AWS Lambda documents for function URLs and Control Tower ships as CT.LAMBDA.PV.1.",
			DoesNotStop: []string{
				"function URLs that already have AuthType NONE (find them with lambdawarden scan; switch them with lambdawarden fix --url-auth aws-iam)",
				"an AWS_IAM URL whose resource policy allows \"*\": any signed-in principal of any AWS account can then call it (the next guardrail covers add-permission with \"*\")",
				"callers in the management account, which SCPs never restrict",
			},
			Unconfirmed: []string{
				"An UpdateFunctionUrlConfig call that does not send AuthType (a CORS-only change) may carry no lambda:FunctionUrlAuthType value; StringNotEquals is true on a missing key, so such calls are probably denied too. Send --auth-type AWS_IAM with every update.",
			},
			Sources: []string{"docs.aws.amazon.com/lambda/latest/dg/urls-auth.html", "AWS Control Tower CT.LAMBDA.PV.1"},
			Policy: doc(statement{
				Sid: "DenyFunctionUrlWithoutIAMAuth", Effect: "Deny",
				Action:    []string{"lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"},
				Resource:  functions,
				Condition: map[string]map[string]any{"StringNotEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
			}),
		},
		{
			Name:  "deny-public-add-permission",
			Title: "Only the deployment role may grant \"*\" with add-permission",
			Blocks: "lambda:AddPermission calls whose principal is \"*\" (everyone: every AWS account, and anonymous callers through a function URL) made by anyone but " + role +
				", in the accounts under " + target + ".",
			DoesNotStop: []string{
				"grants to a named foreign account, role or service principal (review them with lambdawarden scan)",
				"public grants written as a full JSON policy with PutResourcePolicy (the next guardrail)",
				"public layer sharing with add-layer-version-permission (lambda:Principal is not documented for that action)",
				"the deployment role itself, and the management account",
			},
			Unconfirmed: []string{
				"How lambda:Principal compares against \"*\" is not confirmed by AWS documentation: StringEquals matches the literal value \"*\" only if Lambda passes the principal through unchanged. Test it in a sandbox account (aws lambda add-permission --principal '*' must be denied) before relying on it. Do not switch to StringLike: there \"*\" is a wildcard and the statement would deny every add-permission call.",
			},
			Sources: []string{"docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html (lambda:Principal)", "docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html"},
			Policy: doc(statement{
				Sid: "DenyPublicAddPermission", Effect: "Deny",
				Action:   []string{"lambda:AddPermission"},
				Resource: functions,
				Condition: map[string]map[string]any{
					"StringEquals": {"lambda:Principal": "*"},
					"ArnNotLike":   {"aws:PrincipalArn": role},
				},
			}),
		},
		{
			Name:  "deny-put-resource-policy",
			Title: "Only the deployment role may write full JSON resource policies",
			Blocks: "lambda:PutResourcePolicy (which replaces a function's whole policy and may grant anyone anything) for everyone but " + role +
				", in the accounts under " + target + ".",
			DoesNotStop: []string{
				"what the deployment role writes: review its templates (lambdawarden iac) and its policies (lambdawarden scan)",
				"lambda:DeleteResourcePolicy and lambda:RemovePermission, which can take away a protective Deny statement; add them to the Action list if your policies rely on Deny",
				"add-permission grants to named accounts or services",
				"the management account",
			},
			Unconfirmed: []string{
				"lambda:PutResourcePolicy is new (2026); check that the action name is listed for Lambda in the Service Authorization Reference of your partition before attaching.",
			},
			Sources: []string{"docs.aws.amazon.com/lambda/latest/api/API_PutResourcePolicy.html"},
			Policy: doc(statement{
				Sid: "DenyPutResourcePolicyOutsideDeployment", Effect: "Deny",
				Action:    []string{"lambda:PutResourcePolicy"},
				Resource:  functions,
				Condition: map[string]map[string]any{"ArnNotLike": {"aws:PrincipalArn": role}},
			}),
		},
	}
	for _, g := range out {
		if _, err := Check(g.Policy); err != nil {
			return nil, fmt.Errorf("guardrail %s: %w", g.Name, err)
		}
	}
	return out, nil
}

type statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  string                    `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

func doc(stmts ...statement) json.RawMessage {
	d := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{"2012-10-17", stmts}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Check parses an SCP with the engine's parser, as an identity-style
// policy: it names no principal (it applies to every principal of the
// accounts it is attached to), and every element, operator and value goes
// through the same checks as a scanned policy.
func Check(scp []byte) (*policy.Document, error) {
	d, err := policy.ParseIdentity(scp)
	if err != nil {
		return nil, err
	}
	if d.Version != "2012-10-17" {
		return nil, fmt.Errorf("Version is %q, want 2012-10-17", d.Version)
	}
	for _, st := range d.Statements {
		for _, r := range st.Resource {
			if strings.Contains(r, ":function/") {
				return nil, fmt.Errorf("resource %s uses function/; Lambda ARNs use function: (a colon)", r)
			}
		}
	}
	return d, nil
}
