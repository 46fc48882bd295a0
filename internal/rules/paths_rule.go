package rules

import (
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// pathChecks are the rules about access paths through assumable roles.
var pathChecks = []*Rule{
	{
		ID:          "lambda-external-path-via-role",
		Title:       "Lambda functions should not be reachable from outside through assumable roles",
		Severity:    finding.Critical,
		Rationale:   "Who can invoke, read or change a function is decided by its resource policy and by the identity policies of every principal inside the owner account. A role whose trust policy lets another account, anyone (\"*\"), or an identity provider's users (a GitHub OIDC trust without a sub condition) assume it, and whose permissions reach the function, is a path from outside that no resource-policy check sees. Public trust is critical; a foreign account or a pinned or SAML federation is high.",
		Remediation: "Remove the outside principals from the role's trust policy (or pin a web identity trust to an exact subject), or take the Lambda actions out of the role's policies, or bound the role with a permission boundary that does not allow them.",
		Kinds:       functionKinds,
		Check:       pathHits,
		SeverityOf: func(h Hit) finding.Severity {
			if h.Exposure == policy.Public {
				return finding.Critical
			}
			return finding.High
		},
		Examples: []Example{
			withPath("foreign account, invoke on *", true, trustAWS("arn:aws:iam::444455556666:root"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`, ""),
			withPath("GitHub OIDC without sub", true, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`, `{"Effect":"Allow","Action":"lambda:*","Resource":"*"}`, ""),
			withPath("only Lambda may assume", false, trustService("lambda.amazonaws.com"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`, ""),
			withPath("foreign account, other function only", false, trustAWS("arn:aws:iam::444455556666:root"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:billing"}`, ""),
			withPath("boundary without lambda", false, trustAWS("arn:aws:iam::444455556666:root"), `{"Effect":"Allow","Action":"lambda:*","Resource":"*"}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
		},
	},
}

func trustAWS(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

func trustService(svc string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + svc + `"},"Action":"sts:AssumeRole"}]}`
}

// withPath is an example function whose account has one role "partner"
// with the given trust policy, one inline policy statement and an
// optional permission boundary.
func withPath(name string, bad bool, trust, statement, boundary string) Example {
	r := baseResource()
	role := inventory.IAMRole{ARN: "arn:aws:iam::111122223333:role/partner", Name: "partner", TrustPolicy: trust,
		Policies: []inventory.RolePolicy{{Name: "invoke", Document: `{"Version":"2012-10-17","Statement":[` + statement + `]}`}}}
	if boundary != "" {
		role.Boundary = &inventory.RolePolicy{Name: "boundary", ARN: "arn:aws:iam::111122223333:policy/boundary", Document: boundary}
	}
	r.AccountIAM = &inventory.AccountIAM{Account: "111122223333", Roles: []inventory.IAMRole{role}}
	return Example{Name: name, Bad: bad, Resource: r}
}
