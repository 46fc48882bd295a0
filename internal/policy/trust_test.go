package policy

import (
	"strings"
	"testing"
)

func trustDoc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func trustStmt(principal, action, cond string) string {
	s := `{"Sid":"T","Effect":"Allow","Principal":` + principal + `,"Action":` + action
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

const (
	assume   = `"sts:AssumeRole"`
	webID    = `"sts:AssumeRoleWithWebIdentity"`
	github   = `{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}`
	samlProv = `{"Federated":"arn:aws:iam::111122223333:saml-provider/okta"}`
)

func TestJudgeTrust(t *testing.T) {
	cases := []struct {
		name     string
		policy   string
		class    Class // of the first assumer; ClassNone: no assumer
		kind     AssumerKind
		who      string // substring of Who
		narrowed string // substring of Narrowed
		reason   string // substring of Reason
	}{
		{"foreign account root", trustDoc(trustStmt(aws("arn:aws:iam::"+foreign+":root"), assume, "")), CrossAccount, AssumerAccount, "account " + foreign, "", "outside the owner"},
		{"bare foreign account id", trustDoc(trustStmt(aws(foreign), assume, "")), CrossAccount, AssumerAccount, foreign, "", ""},
		{"foreign role", trustDoc(trustStmt(aws("arn:aws:iam::"+foreign+":role/ci"), assume, "")), CrossAccount, AssumerAccount, "role/ci", "", ""},
		{"owner account", trustDoc(trustStmt(aws(owner), assume, "")), ClassNone, "", "", "", ""},
		{"trusted account", trustDoc(trustStmt(aws(trusted), assume, "")), ClassNone, "", "", "", ""},
		{"lambda service", trustDoc(trustStmt(svc("lambda.amazonaws.com"), assume, "")), ClassNone, "", "", "", ""},
		{"everyone", trustDoc(trustStmt(star, assume, "")), Public, AssumerEveryone, "anyone", "", "no condition"},
		{"everyone in my org", trustDoc(trustStmt(star, assume, `{"StringEquals":{"aws:PrincipalOrgID":"`+myOrg+`"}}`)), ClassNone, "", "", "", ""},
		{"everyone in another org", trustDoc(trustStmt(star, assume, `{"StringEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}`)), CrossAccount, AssumerEveryone, "", "", ""},
		{"everyone with ExternalId stays public", trustDoc(trustStmt(star, assume, `{"StringEquals":{"sts:ExternalId":"s3cr3t"}}`)), Public, AssumerEveryone, "", "narrowed by ExternalId", ""},
		{"foreign with ExternalId stays foreign, narrowed", trustDoc(trustStmt(aws(foreign), assume, `{"StringEquals":{"sts:ExternalId":"s3cr3t"}}`)), CrossAccount, AssumerAccount, foreign, "narrowed by ExternalId", ""},
		{"foreign, TagSession only", trustDoc(trustStmt(aws(foreign), `"sts:TagSession"`, "")), ClassNone, "", "", "", ""},
		{"foreign, sts:*", trustDoc(trustStmt(aws(foreign), `"sts:*"`, "")), CrossAccount, AssumerAccount, "", "", ""},
		{"GitHub OIDC without sub is public", trustDoc(trustStmt(github, webID, `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`)), Public, AssumerOIDC, "anyone with a token from token.actions.githubusercontent.com", "", "no token.actions.githubusercontent.com:sub"},
		{"GitHub OIDC with a fixed sub is that repo", trustDoc(trustStmt(github, webID, `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"}}`)), CrossAccount, AssumerOIDC, "repo:acme/app:ref:refs/heads/main", "", ""},
		{"GitHub OIDC with an org-wide sub", trustDoc(trustStmt(github, webID, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}`)), CrossAccount, AssumerOIDC, "repo:acme/*", "", "no token.actions.githubusercontent.com:aud"},
		{"GitHub OIDC with sub repo:* is public", trustDoc(trustStmt(github, webID, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}`)), Public, AssumerOIDC, "", "", ""},
		{"GitHub OIDC with sub under IfExists is public", trustDoc(trustStmt(github, webID, `{"StringEqualsIfExists":{"token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"}}`)), Public, AssumerOIDC, "", "", ""},
		{"GitHub OIDC with a negated sub is public", trustDoc(trustStmt(github, webID, `{"StringNotLike":{"token.actions.githubusercontent.com:sub":"repo:evil/*"}}`)), Public, AssumerOIDC, "", "", ""},
		{"Google federation unpinned", trustDoc(trustStmt(`{"Federated":"accounts.google.com"}`, webID, "")), Public, AssumerOIDC, "accounts.google.com", "", ""},
		{"Cognito pinned by pool", trustDoc(trustStmt(`{"Federated":"cognito-identity.amazonaws.com"}`, webID, `{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:1234-abcd"}}`)), CrossAccount, AssumerOIDC, "us-east-1:1234-abcd", "", ""},
		{"SAML federation", trustDoc(trustStmt(samlProv, `"sts:AssumeRoleWithSAML"`, `{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}`)), CrossAccount, AssumerSAML, "okta", "", "no SAML:sub"},
		{"Deny everyone removes", trustDoc(trustStmt(aws(foreign), assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}`), ClassNone, "", "", "", ""},
		{"Deny outside the org narrows a star grant", trustDoc(trustStmt(star, assume, ""), `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"`+myOrg+`"}}}`), ClassNone, "", "", "", ""},
		{"unique id", trustDoc(trustStmt(aws("AROAEXAMPLEID123456"), assume, "")), CrossAccount, AssumerOpaque, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			v := JudgeTrust(d, roleARN, Context{Trusted: []string{trusted}, OrgID: myOrg})
			if c.class == ClassNone {
				if len(v.Assumers) > 0 {
					t.Fatalf("want no outside assumer, got %+v", v.Assumers[0])
				}
				return
			}
			if len(v.Assumers) == 0 {
				t.Fatalf("want a %s assumer, got none (notes %v)", c.class, v.Notes)
			}
			a := v.Assumers[0]
			if a.Class != c.class || a.Kind != c.kind {
				t.Errorf("class %s kind %s, want %s %s", a.Class, a.Kind, c.class, c.kind)
			}
			for _, want := range [][2]string{{a.Who, c.who}, {a.Narrowed, c.narrowed}, {a.Reason, c.reason}} {
				if !strings.Contains(want[0], want[1]) {
					t.Errorf("%q does not say %q", want[0], want[1])
				}
			}
			if c.narrowed == "" && a.Narrowed != "" {
				t.Errorf("unexpected narrowing %q", a.Narrowed)
			}
			if len(a.Actions()) == 0 || a.Statement == nil || a.Principal == "" {
				t.Errorf("incomplete assumer %+v", a)
			}
		})
	}
}

func TestFixedSubject(t *testing.T) {
	for v, want := range map[string]bool{
		"repo:acme/app:ref:refs/heads/main": true, "repo:acme/*": true, "repo:*": false, "*": false, "": false,
		"repo:${aws:username}": false, "system:serviceaccount:ns:sa": true, "123456": true, "?": false,
	} {
		if got := fixedSubject(v); got != want {
			t.Errorf("fixedSubject(%q) = %v, want %v", v, got, want)
		}
	}
}
