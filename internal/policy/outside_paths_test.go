package policy

import (
	"strings"
	"testing"
)

// Outside tests of access paths through assumable roles: an IAM reader's
// table of trust policies (who may assume the role) checked against
// JudgeTrust, named after the case.

const (
	foreignRole = "arn:aws:iam::444455556666:role/ci"
	otherOrg    = "o-zzzzzzzzzz"
	ghHost      = "token.actions.githubusercontent.com"
)

type outsideTrustCase struct {
	name   string
	policy string
	class  Class       // worst assumer; ClassNone: nobody from outside
	kind   AssumerKind // of the worst assumer
	who    string      // substring of its Who
	narrow string      // substring of its Narrowed
	acts   []string    // sts actions it may call, when set
}

func ghCond(op string, kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if !strings.HasPrefix(v, "[") {
			v = `"` + v + `"`
		}
		parts = append(parts, `"`+ghHost+`:`+kv[i]+`":`+v)
	}
	return `{"` + op + `":{` + strings.Join(parts, ",") + `}}`
}

var outsideTrustCases = []outsideTrustCase{
	// Principal forms.
	{name: "bare foreign account id is the whole account", policy: trustDoc(trustStmt(aws(foreign), assume, "")), class: CrossAccount, kind: AssumerAccount, who: foreign},
	{name: "foreign account root ARN", policy: trustDoc(trustStmt(aws("arn:aws:iam::"+foreign+":root"), assume, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "role ARN in another account", policy: trustDoc(trustStmt(aws(foreignRole), assume, "")), class: CrossAccount, kind: AssumerAccount, who: "role/ci"},
	{name: "assumed-role session ARN in another account", policy: trustDoc(trustStmt(aws("arn:aws:sts::"+foreign+":assumed-role/ci/s"), assume, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "owner account bare id is not outside", policy: trustDoc(trustStmt(aws(owner), assume, "")), class: ClassNone},
	{name: "owner root ARN is not outside", policy: trustDoc(trustStmt(aws("arn:aws:iam::"+owner+":root"), assume, "")), class: ClassNone},
	{name: "owner role is not outside", policy: trustDoc(trustStmt(aws("arn:aws:iam::"+owner+":role/admin"), assume, "")), class: ClassNone},
	{name: "trusted account is not outside", policy: trustDoc(trustStmt(aws("arn:aws:iam::"+trusted+":root"), assume, "")), class: ClassNone},
	{name: "owner and foreign in one array keeps the foreign", policy: trustDoc(trustStmt(`{"AWS":["`+owner+`","`+foreign+`"]}`, assume, "")), class: CrossAccount, kind: AssumerAccount, who: foreign},
	{name: "wildcard account in a principal ARN is everyone", policy: trustDoc(trustStmt(aws("arn:aws:iam::*:root"), assume, "")), class: Public, kind: AssumerEveryone},
	{name: "AWS star is everyone", policy: trustDoc(trustStmt(aws("*"), assume, "")), class: Public, kind: AssumerEveryone},

	// Principal "*" and its conditions.
	{name: "star unconditioned is public", policy: trustDoc(trustStmt(star, assume, "")), class: Public, kind: AssumerEveryone},
	{name: "star pinned to my org is no path", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalOrgID", myOrg))), class: ClassNone},
	{name: "star pinned to my org, key in odd case", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "AWS:principalorgid", myOrg))), class: ClassNone},
	{name: "star pinned to another org is cross-account", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalOrgID", otherOrg))), class: CrossAccount, kind: AssumerEveryone},
	{name: "star with org wildcard o-* is public", policy: trustDoc(trustStmt(star, assume, cond("StringLike", "aws:PrincipalOrgID", "o-*"))), class: Public, kind: AssumerEveryone},
	{name: "star with PrincipalOrgID IfExists is public", policy: trustDoc(trustStmt(star, assume, cond("StringEqualsIfExists", "aws:PrincipalOrgID", myOrg))), class: Public, kind: AssumerEveryone},
	{name: "star with negated org is public", policy: trustDoc(trustStmt(star, assume, cond("StringNotEquals", "aws:PrincipalOrgID", otherOrg))), class: Public, kind: AssumerEveryone},
	{name: "star pinned to my org with ForAnyValue is no path", policy: trustDoc(trustStmt(star, assume, cond("ForAnyValue:StringEquals", "aws:PrincipalOrgID", myOrg))), class: ClassNone},
	{name: "star pinned to my org with IfExists and Null false is no path", policy: trustDoc(trustStmt(star, assume, `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"`+myOrg+`"},"Null":{"aws:PrincipalOrgID":"false"}}`)), class: ClassNone},
	{name: "AWS star in an array is everyone", policy: trustDoc(trustStmt(`{"AWS":["*"]}`, assume, "")), class: Public, kind: AssumerEveryone},
	{name: "star with account prefix wildcard is public", policy: trustDoc(trustStmt(star, assume, cond("StringLike", "aws:PrincipalAccount", "1111*"))), class: Public, kind: AssumerEveryone},
	{name: "star pinned to my org but also open by a second statement is public", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalOrgID", myOrg)), `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`), class: Public, kind: AssumerEveryone},
	{name: "star pinned to the owner account is no path", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalAccount", owner))), class: ClassNone},
	{name: "star pinned to a trusted account is no path", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalAccount", trusted))), class: ClassNone},
	{name: "star pinned to a foreign account is cross-account", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalAccount", foreign))), class: CrossAccount, kind: AssumerEveryone},
	{name: "star pinned by PrincipalArn to a foreign role", policy: trustDoc(trustStmt(star, assume, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::"+foreign+":role/*"))), class: CrossAccount, kind: AssumerEveryone},
	{name: "star pinned by PrincipalArn with wildcard account is public", policy: trustDoc(trustStmt(star, assume, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/deploy"))), class: Public, kind: AssumerEveryone},
	{name: "star pinned by SourceAccount to the owner is no path", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:SourceAccount", owner))), class: ClassNone},
	{name: "star pinned by SourceAccount to a foreign account", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:SourceAccount", foreign))), class: CrossAccount, kind: AssumerEveryone},
	{name: "star with only a SecureTransport condition is public", policy: trustDoc(trustStmt(star, assume, cond("Bool", "aws:SecureTransport", "true"))), class: Public, kind: AssumerEveryone},
	{name: "star with ExternalId stays public, narrowed", policy: trustDoc(trustStmt(star, assume, cond("StringEquals", "sts:ExternalId", "k"))), class: Public, kind: AssumerEveryone, narrow: "ExternalId"},
	{name: "foreign with ExternalId stays cross-account, narrowed", policy: trustDoc(trustStmt(aws(foreign), assume, cond("StringEquals", "sts:ExternalId", "k"))), class: CrossAccount, kind: AssumerAccount, narrow: "ExternalId"},
	{name: "foreign pinned to my org by condition stays cross-account", policy: trustDoc(trustStmt(aws(foreign), assume, cond("StringEquals", "aws:PrincipalOrgID", myOrg))), class: CrossAccount, kind: AssumerAccount},

	// NotPrincipal.
	{name: "NotPrincipal Allow is public", policy: trustDoc(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + foreign + `"},"Action":"sts:AssumeRole"}`), class: Public, kind: AssumerEveryone},
	{name: "NotPrincipal Allow excluding only the owner is public", policy: trustDoc(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::` + owner + `:root"},"Action":"sts:AssumeRole"}`), class: Public, kind: AssumerEveryone},
	{name: "Deny NotPrincipal a foreign role narrows star to it", policy: trustDoc(trustStmt(star, assume, ""), `{"Effect":"Deny","NotPrincipal":{"AWS":"`+foreignRole+`"},"Action":"sts:AssumeRole"}`), class: CrossAccount, kind: AssumerEveryone},
	{name: "Deny NotPrincipal the owner removes star", policy: trustDoc(trustStmt(star, assume, ""), `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::`+owner+`:root"},"Action":"sts:AssumeRole"}`), class: ClassNone},

	// Deny statements.
	{name: "Deny of the foreign account removes it", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":{"AWS":"`+foreign+`"},"Action":"sts:AssumeRole"}`), class: ClassNone},
	{name: "Deny of sts star removes", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:*"}`), class: ClassNone},
	{name: "Deny of another account keeps the foreign", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":{"AWS":"`+trusted+`"},"Action":"sts:AssumeRole"}`), class: CrossAccount, kind: AssumerAccount},
	{name: "Deny of TagSession keeps AssumeRole", policy: trustDoc(trustStmt(aws(foreign), `["sts:AssumeRole","sts:TagSession"]`, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:TagSession"}`), class: CrossAccount, kind: AssumerAccount, acts: []string{"sts:AssumeRole"}},
	{name: "Deny of AssumeRole leaves web identity open to star", policy: trustDoc(trustStmt(star, `"sts:*"`, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}`), class: Public, kind: AssumerEveryone},
	{name: "Deny star of a foreign PrincipalAccount keeps another foreign", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"777766665555"}}}`), class: CrossAccount, kind: AssumerAccount},
	{name: "Deny outside my org removes a foreign account grant", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"`+myOrg+`"}}}`), class: ClassNone},
	{name: "Deny under an unknown condition does not remove", policy: trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`), class: CrossAccount, kind: AssumerAccount},

	// Actions.
	{name: "TagSession alone assumes nothing", policy: trustDoc(trustStmt(aws(foreign), `"sts:TagSession"`, "")), class: ClassNone},
	{name: "SetSourceIdentity alone assumes nothing", policy: trustDoc(trustStmt(aws(foreign), `"sts:SetSourceIdentity"`, "")), class: ClassNone},
	{name: "TagSession and SetSourceIdentity assume nothing", policy: trustDoc(trustStmt(aws(foreign), `["sts:TagSession","sts:SetSourceIdentity"]`, "")), class: ClassNone},
	{name: "AssumeRole with TagSession lists AssumeRole", policy: trustDoc(trustStmt(aws(foreign), `["sts:AssumeRole","sts:TagSession"]`, "")), class: CrossAccount, kind: AssumerAccount, acts: []string{"sts:AssumeRole"}},
	{name: "sts star assumes", policy: trustDoc(trustStmt(aws(foreign), `"sts:*"`, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "action star assumes", policy: trustDoc(trustStmt(aws(foreign), `"*"`, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "sts:AssumeRole* wildcard assumes", policy: trustDoc(trustStmt(aws(foreign), `"sts:AssumeRole*"`, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "action in odd case assumes", policy: trustDoc(trustStmt(aws(foreign), `"STS:assumerole"`, "")), class: CrossAccount, kind: AssumerAccount},
	{name: "NotAction TagSession assumes", policy: trustDoc(`{"Effect":"Allow","Principal":{"AWS":"` + foreign + `"},"NotAction":"sts:TagSession"}`), class: CrossAccount, kind: AssumerAccount},
	{name: "NotAction sts star assumes nothing", policy: trustDoc(`{"Effect":"Allow","Principal":{"AWS":"` + foreign + `"},"NotAction":"sts:*"}`), class: ClassNone},
	{name: "AssumeRoleWithSAML from SAML provider", policy: trustDoc(trustStmt(samlProv, `"sts:AssumeRoleWithSAML"`, "")), class: CrossAccount, kind: AssumerSAML},

	// Web identity.
	{name: "GitHub OIDC with only aud pinned is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringEquals", "aud", "sts.amazonaws.com"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC with no condition is public", policy: trustDoc(trustStmt(github, webID, "")), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub StringLike repo:org/* narrows to the org", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:acme/*", "aud", "sts.amazonaws.com"))), class: CrossAccount, kind: AssumerOIDC, who: "repo:acme/*"},
	{name: "GitHub OIDC sub pinned to one branch", policy: trustDoc(trustStmt(github, webID, ghCond("StringEquals", "sub", "repo:acme/app:ref:refs/heads/main"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "GitHub OIDC sub key in upper case still pins", policy: trustDoc(trustStmt(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}`, webID, `{"StringLike":{"TOKEN.ACTIONS.GITHUBUSERCONTENT.COM:SUB":"repo:acme/*"}}`)), class: CrossAccount, kind: AssumerOIDC},
	{name: "GitHub OIDC sub repo:* is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub * is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub org prefix without slash is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:acme*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub org with a question mark is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:acm?/*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub any ref of one repo", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:acme/app:*"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "GitHub OIDC customized sub cut inside a value is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repository_owner:acme*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub org wildcard mid repo is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:*/app:*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub one of several values, one loose, is public", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", `["repo:acme/app:*","repo:*"]`))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC sub with a repo-name prefix stays in the org", policy: trustDoc(trustStmt(github, webID, ghCond("StringLike", "sub", "repo:acme/app-*"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "GitHub OIDC sub ForAllValues is public", policy: trustDoc(trustStmt(github, webID, ghCond("ForAllValues:StringLike", "sub", "repo:acme/*"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC via AssumeRole only is still judged", policy: trustDoc(trustStmt(github, `"sts:*"`, ghCond("StringEquals", "aud", "sts.amazonaws.com"))), class: Public, kind: AssumerOIDC},
	{name: "GitHub OIDC Deny of everyone removes", policy: trustDoc(trustStmt(github, webID, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:*"}`), class: ClassNone},
	{name: "GitLab OIDC project_path group cut short is public", policy: trustDoc(trustStmt(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/gitlab.com"}`, webID, cond("StringLike", "gitlab.com:sub", "project_path:acme*"))), class: Public, kind: AssumerOIDC},
	{name: "GitLab OIDC project_path whole group narrows", policy: trustDoc(trustStmt(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/gitlab.com"}`, webID, cond("StringLike", "gitlab.com:sub", "project_path:acme/*"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "EKS OIDC service account prefix narrows to the cluster", policy: trustDoc(trustStmt(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"}`, webID, cond("StringLike", "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub", "system:serviceaccount:ci:runner-*"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "trusted account role is not outside", policy: trustDoc(trustStmt(aws("arn:aws:iam::"+trusted+":role/deploy"), assume, "")), class: ClassNone},
	{name: "Cognito without pool is public", policy: trustDoc(trustStmt(`{"Federated":"cognito-identity.amazonaws.com"}`, webID, cond("ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr", "authenticated"))), class: Public, kind: AssumerOIDC},
	{name: "Cognito pinned by pool is cross-account", policy: trustDoc(trustStmt(`{"Federated":"cognito-identity.amazonaws.com"}`, webID, cond("StringEquals", "cognito-identity.amazonaws.com:aud", "us-east-1:0000-1111"))), class: CrossAccount, kind: AssumerOIDC},
	{name: "Cognito pool wildcard is public", policy: trustDoc(trustStmt(`{"Federated":"cognito-identity.amazonaws.com"}`, webID, cond("StringLike", "cognito-identity.amazonaws.com:aud", "us-east-1:*"))), class: Public, kind: AssumerOIDC},
	{name: "SAML provider in the owner account is outside", policy: trustDoc(trustStmt(samlProv, `"sts:AssumeRoleWithSAML"`, cond("StringEquals", "SAML:aud", "https://signin.aws.amazon.com/saml"))), class: CrossAccount, kind: AssumerSAML, who: "okta"},
	{name: "service principal is no path", policy: trustDoc(trustStmt(svc("ec2.amazonaws.com"), assume, "")), class: ClassNone},
	{name: "service wildcard is everyone", policy: trustDoc(trustStmt(svc("*.amazonaws.com"), assume, "")), class: Public, kind: AssumerEveryone},
}

func TestOutsideTrust(t *testing.T) {
	for _, c := range outsideTrustCases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			v := JudgeTrust(d, roleARN, Context{Trusted: []string{trusted}, OrgID: myOrg})
			var worst *Assumer
			for i := range v.Assumers {
				if worst == nil || v.Assumers[i].Class > worst.Class {
					worst = &v.Assumers[i]
				}
			}
			if c.class == ClassNone {
				if worst != nil {
					t.Fatalf("want no outside assumer, got %s %s %q (%s)", worst.Class, worst.Kind, worst.Who, worst.Reason)
				}
				return
			}
			if worst == nil {
				t.Fatalf("want a %s assumer, got none (notes %v)", c.class, v.Notes)
			}
			if worst.Class != c.class || worst.Kind != c.kind {
				t.Errorf("got %s %s (%q: %s), want %s %s", worst.Class, worst.Kind, worst.Who, worst.Reason, c.class, c.kind)
			}
			if !strings.Contains(worst.Who, c.who) {
				t.Errorf("who %q does not say %q", worst.Who, c.who)
			}
			if !strings.Contains(worst.Narrowed, c.narrow) || c.narrow == "" && worst.Narrowed != "" {
				t.Errorf("narrowed %q, want %q", worst.Narrowed, c.narrow)
			}
			if c.acts != nil && strings.Join(worst.Actions(), ",") != strings.Join(c.acts, ",") {
				t.Errorf("actions %v, want %v", worst.Actions(), c.acts)
			}
		})
	}
}

// outsidePermCases are what a session of the role may do, checked with
// the same runner as permCases.
var outsidePermCases = []permCase{
	{name: "managed allows, inline denies", identity: []string{allowID(`"lambda:*"`, star)}, inline: []string{denyID(invoke, fn)}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:UpdateFunctionCode"}, blockedBy: "Deny in inline"},
	{name: "inline allows, managed denies everything", identity: []string{denyID(star, star)}, inline: []string{allowID(invoke, star)}, resource: fnARN},
	{name: "NotAction lambda:Delete* Allow includes invoke", identity: []string{idStmt("Allow", "NotAction", `"lambda:Delete*"`, "Resource", star, "")}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"}},
	{name: "NotResource of another function reaches this one", identity: []string{idStmt("Allow", "Action", invoke, "NotResource", `"`+otherFn+`"`, "")}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "NotResource FN:* still reaches the unqualified function", identity: []string{idStmt("Allow", "Action", invoke, "NotResource", `"FN:*"`, "")}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "NotResource FN:* spares the alias", identity: []string{idStmt("Allow", "Action", invoke, "NotResource", `"FN:*"`, "")}, resource: aliasARN},
	{name: "alias ARN reaches the alias", identity: []string{allowID(invoke, `"ALIAS"`)}, resource: aliasARN, want: []string{"lambda:InvokeFunction"}},
	{name: "alias ARN misses the unqualified function", identity: []string{allowID(invoke, `"ALIAS"`)}, resource: fnARN},
	{name: "alias ARN misses a version", identity: []string{allowID(invoke, `"ALIAS"`)}, resource: version1},
	{name: "unqualified ARN misses the alias", identity: []string{allowID(invoke, fn)}, resource: aliasARN},
	{name: "FN:* reaches the alias", identity: []string{allowID(invoke, `"FN:*"`)}, resource: aliasARN, want: []string{"lambda:InvokeFunction"}},
	{name: "FN:* misses the unqualified function", identity: []string{allowID(invoke, `"FN:*"`)}, resource: fnARN},
	{name: "function:int* reaches the alias too", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:111122223333:function:int*"`)}, resource: aliasARN, want: []string{"lambda:InvokeFunction"}},
	{name: "question mark matches one character", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:111122223333:function:intak?"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "question mark needs a character", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:111122223333:function:intake?"`)}, resource: fnARN},
	{name: "question mark in the account", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:11112222333?:function:intake"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource ARN in another account misses", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:444455556666:function:intake"`)}, resource: fnARN},
	{name: "resource ARN in another region misses", identity: []string{allowID(invoke, `"arn:aws:lambda:eu-west-1:111122223333:function:intake"`)}, resource: fnARN},
	{name: "Deny on FN:* keeps the unqualified function", identity: []string{allowID(invoke, star), denyID(invoke, `"FN:*"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "Deny on FN:* removes the alias", identity: []string{allowID(invoke, star), denyID(invoke, `"FN:*"`)}, resource: aliasARN},
	{name: "Deny lambda star in a boundary removes", identity: []string{allowID(invoke, star)}, boundary: []string{allowID(star, star), denyID(`"lambda:*"`, star)}, resource: fnARN},
	{name: "boundary allowing only the alias misses the function", identity: []string{allowID(invoke, star)}, boundary: []string{allowID(invoke, `"ALIAS"`)}, resource: fnARN},
	{name: "boundary with NotAction lambda keeps nothing of lambda", identity: []string{allowID(`"lambda:*"`, star)}, boundary: []string{idStmt("Allow", "NotAction", `"lambda:*"`, "Resource", star, "")}, resource: fnARN},
	{name: "condition on MFA keeps the path, conditional", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "condition on a principal tag keeps the path, conditional", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"StringEquals":{"aws:PrincipalTag/team":"data"}}`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "condition on source IP keeps the path, conditional", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "condition on my org holds for the role", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, cond("StringEquals", "aws:PrincipalOrgID", myOrg))}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "condition on PrincipalArn of the role holds", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/part*"))}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "condition on SourceArn cannot hold for a session", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, cond("ArnLike", "aws:SourceArn", "arn:aws:s3:::b"))}, resource: fnARN},
	{name: "unknown-condition Allow then a certain Deny removes", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), denyID(invoke, fn)}, resource: fnARN},
	{name: "SCP allow list under an unknown condition is conditional", identity: []string{allowID(invoke, star)}, scps: [][]string{{idStmt("Allow", "Action", `"lambda:*"`, "Resource", star, `{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`)}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "boundary under a known-false condition removes", identity: []string{allowID(invoke, star)}, boundary: []string{idStmt("Allow", "Action", star, "Resource", star, cond("StringEquals", "aws:PrincipalAccount", foreign))}, resource: fnARN},
	{name: "Deny when SourceArn is absent applies to a session", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "Resource", star, cond("ArnNotLikeIfExists", "aws:SourceArn", "arn:aws:s3:::b"))}, resource: fnARN},
	{name: "Deny on another principal ARN spares the role", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "Resource", star, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/admin"))}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "Deny on every principal but admin removes", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "Resource", star, cond("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/admin"))}, resource: fnARN},
	{name: "policy variable in Resource resolved to the role's account", identity: []string{allowID(invoke, `"arn:aws:lambda:us-east-1:${aws:PrincipalAccount}:function:intake"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy naming a session of the role grants", own: doc(allow("r", aws("arn:aws:sts::111122223333:assumed-role/partner/any-name"), invoke, fn, "")), resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy naming a session of another role does not", own: doc(allow("r", aws("arn:aws:sts::111122223333:assumed-role/partner2/any-name"), invoke, fn, "")), resource: fnARN},
	{name: "resource policy naming a session in another account does not", own: doc(allow("r", aws("arn:aws:sts::444455556666:assumed-role/partner/s"), invoke, fn, "")), resource: fnARN},
	{name: "resource policy grant to a session is not limited by the boundary", own: doc(allow("r", aws("arn:aws:sts::111122223333:assumed-role/partner/s"), invoke, fn, "")), boundary: []string{allowID(`"s3:*"`, star)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy grant to a session still meets a boundary Deny", own: doc(allow("r", aws("arn:aws:sts::111122223333:assumed-role/partner/s"), invoke, fn, "")), boundary: []string{allowID(star, star), denyID(invoke, star)}, resource: fnARN},
	{name: "resource policy grant to a session still meets the SCPs", own: doc(allow("r", aws("arn:aws:sts::111122223333:assumed-role/partner/s"), invoke, fn, "")), scps: [][]string{{allowID(`"s3:*"`, star)}}, resource: fnARN},
	{name: "SCP deny removes", identity: []string{allowID(`"lambda:*"`, star)}, scps: [][]string{{allowID(star, star)}, {denyID(`"lambda:Invoke*"`, star)}}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:UpdateFunctionCode"}},
	{name: "SCP allow list of only specific actions", identity: []string{allowID(`"lambda:*"`, star)}, scps: [][]string{{allowID(`["lambda:GetFunction","s3:*"]`, star)}}, resource: fnARN, want: []string{"lambda:GetFunction"}},
	{name: "SCP allow list on another resource", identity: []string{allowID(`"lambda:*"`, star)}, scps: [][]string{{allowID(`"lambda:*"`, `"`+otherFn+`"`)}}, resource: fnARN},
	{name: "SCP deny under an unknown condition keeps, conditional", identity: []string{allowID(invoke, star)}, scps: [][]string{{idStmt("Deny", "Action", invoke, "Resource", star, `{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}`)}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
}

func TestOutsidePermissions(t *testing.T) { runPermCases(t, outsidePermCases) }

// IAM and Organizations reject an identity or SCP statement without
// Resource; read as "every resource", a Deny in a mistyped --scp file
// would remove paths.
func TestOutsideIdentityStatementNeedsResource(t *testing.T) {
	for _, d := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`,
	} {
		if _, err := ParseIdentity([]byte(d)); err == nil || !strings.Contains(err.Error(), "missing Resource") {
			t.Errorf("%s: err %v, want missing Resource", d, err)
		}
	}
	if _, err := ParseIdentity([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","NotResource":"FN"}]}`)); err != nil {
		t.Errorf("NotResource is a Resource: %v", err)
	}
}

// A "*" confined to named accounts says which, so "--from ACCOUNT" can
// leave out roles that account may not assume.
func TestOutsideTrustConfinedAccounts(t *testing.T) {
	for _, c := range []struct {
		name, policy string
		want         string // comma-joined; "" for nil
	}{
		{"PrincipalAccount pin", trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalAccount", `["`+foreign+`","777766665555"]`))), foreign + ",777766665555"},
		{"PrincipalArn pin", trustDoc(trustStmt(star, assume, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::"+foreign+":role/*"))), foreign},
		{"Deny NotPrincipal a foreign role", trustDoc(trustStmt(star, assume, ""), `{"Effect":"Deny","NotPrincipal":{"AWS":"`+foreignRole+`"},"Action":"sts:AssumeRole"}`), foreign},
		{"Deny outside a foreign PrincipalAccount", trustDoc(trustStmt(star, assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"`+foreign+`"}}}`), foreign},
		{"another org", trustDoc(trustStmt(star, assume, cond("StringEquals", "aws:PrincipalOrgID", otherOrg))), ""},
		{"unpinned", trustDoc(trustStmt(star, assume, "")), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			v := JudgeTrust(d, roleARN, Context{Trusted: []string{trusted}, OrgID: myOrg})
			if len(v.Assumers) != 1 || v.Assumers[0].Kind != AssumerEveryone {
				t.Fatalf("assumers %+v", v.Assumers)
			}
			if got := strings.Join(v.Assumers[0].Accounts, ","); got != c.want || c.want == "" && v.Assumers[0].Accounts != nil {
				t.Errorf("accounts %q, want %q", got, c.want)
			}
		})
	}
}
