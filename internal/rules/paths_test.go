package rules

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

func pathRule(t *testing.T) *Rule {
	t.Helper()
	r, err := ByID("lambda-external-path-via-role")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pathFindings(t *testing.T, res inventory.Resource, trust Trust) ([]finding.Finding, *Subject) {
	t.Helper()
	s, err := NewSubject(&res, trust)
	if err != nil {
		t.Fatal(err)
	}
	return pathRule(t).Findings(s), s
}

func TestPathFindingNamesAccountRoleStatementsAndActions(t *testing.T) {
	e := withPath("x", true, `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:role/ci"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"k3y"}}}]}`,
		`{"Sid":"Invoke","Effect":"Allow","Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"*"}`, "")
	fs, _ := pathFindings(t, e.Resource, Trust{})
	if len(fs) != 1 {
		t.Fatalf("one finding per (resource, role), got %d", len(fs))
	}
	f := fs[0]
	if f.Severity != finding.High || f.Exposure != "cross-account" || f.Compliance.IDs("HIPAA")[0] != "164.308(a)(1)(ii)(B)" {
		t.Errorf("severity %s exposure %s compliance %v", f.Severity, f.Exposure, f.Compliance)
	}
	for _, want := range []string{"account 444455556666", "arn:aws:iam::777788889999:role/ci", "arn:aws:iam::111122223333:role/partner", `statement "Partner"`,
		`inline policy "invoke" statement "Invoke" allows lambda:InvokeFunction, lambda:GetFunction on "*"`, "narrowed by ExternalId", "download link"} {
		if !strings.Contains(f.Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, f.Explanation)
		}
	}
	p := f.Path
	if p == nil || p.ViaRole != "arn:aws:iam::111122223333:role/partner" || len(p.From) != 2 || p.From[0].Account != "444455556666" || p.From[0].Kind != "account" ||
		p.From[0].Narrowed == "" || p.TrustStatement.Sid != "Partner" || p.PermissionStatement.Policy != "invoke" || p.PermissionStatement.Sid != "Invoke" ||
		strings.Join(p.Actions, ",") != "lambda:InvokeFunction,lambda:GetFunction" {
		t.Fatalf("path %+v", p)
	}
	if strings.Join(f.Actions, ",") != "lambda:InvokeFunction,lambda:GetFunction" || !strings.Contains(strings.Join(f.Remediation.Commands, "\n"), "update-assume-role-policy --role-name partner") {
		t.Errorf("actions %v remediation %+v", f.Actions, f.Remediation)
	}
}

func TestPathSeverityFollowsTheTrust(t *testing.T) {
	oidc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"%s}}}]}`
	invoke := `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`
	cases := []struct {
		name, trust string
		want        finding.Severity
		exposure    string
	}{
		{"public", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, finding.Critical, "public"},
		{"GitHub without sub", strings.Replace(oidc, "%s", "", 1), finding.Critical, "public"},
		{"GitHub with a fixed sub", strings.Replace(oidc, "%s", `,"token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"`, 1), finding.High, "cross-account"},
		{"foreign account", trustAWS("444455556666"), finding.High, "cross-account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, _ := pathFindings(t, withPath(c.name, true, c.trust, invoke, "").Resource, Trust{})
			if len(fs) != 1 || fs[0].Severity != c.want || fs[0].Exposure != c.exposure {
				t.Fatalf("findings %+v", fs)
			}
		})
	}
}

func TestPathTrustBoundaryAndSCPs(t *testing.T) {
	invoke := `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`
	res := withPath("x", true, trustAWS("444455556666"), invoke, "").Resource
	if fs, _ := pathFindings(t, res, Trust{Trusted: []string{"444455556666"}}); len(fs) != 0 {
		t.Errorf("a trusted account is no path: %+v", fs)
	}
	scp := func(doc string) []SCP {
		d, err := policy.ParseIdentity([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return []SCP{{Name: "deny-invoke.json", Doc: d}}
	}
	deny := scp(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*"}]}`)
	if fs, _ := pathFindings(t, res, Trust{SCPs: deny}); len(fs) != 0 {
		t.Errorf("an SCP denying invoke removes the path: %+v", fs)
	}
	if fs, _ := pathFindings(t, res, Trust{SCPs: deny, ManagementAccount: "111122223333"}); len(fs) != 1 {
		t.Errorf("SCPs do not restrict the management account: %+v", fs)
	}
	other := scp(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`)
	if fs, _ := pathFindings(t, res, Trust{SCPs: other}); len(fs) != 1 {
		t.Errorf("an SCP denying something else keeps the path: %+v", fs)
	}
}

func TestPathUnknownIsNeverAbsent(t *testing.T) {
	cache := NewPathCache()
	e := withPath("x", true, trustAWS("444455556666"), `{"Effect":"allow","Action":"lambda:InvokeFunction","Resource":"*"}`, "")
	fs, s := pathFindings(t, e.Resource, Trust{Paths: cache})
	if len(fs) != 0 {
		t.Fatalf("no verdict from a policy that does not parse: %+v", fs)
	}
	if !strings.Contains(strings.Join(s.Notes, " "), "access paths through it are unknown") {
		t.Errorf("notes %v", s.Notes)
	}
	if p := cache.Problems(); len(p) != 1 || !strings.Contains(p[0], "role/partner") {
		t.Errorf("the scan must learn it is incomplete: %v", p)
	}
	res := baseResource()
	res.AccountIAM = &inventory.AccountIAM{Account: "111122223333", Unknown: "iam:GetAccountAuthorizationDetails: AccessDenied"}
	_, s = pathFindings(t, res, Trust{})
	if !strings.Contains(strings.Join(s.Notes, " "), "Access paths through assumable roles are unknown") {
		t.Errorf("notes %v", s.Notes)
	}
}

func TestPathCacheJudgesAnAccountOnce(t *testing.T) {
	cache := NewPathCache()
	e := withPath("x", true, trustAWS("444455556666"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`, "")
	a := e.Resource.AccountIAM
	first := cache.judged(a, Trust{Paths: cache})
	if cache.judged(a, Trust{Paths: cache}) != first {
		t.Error("the account was judged twice")
	}
	// Qualified resources: the unqualified ARN in a statement does not
	// reach a version, its :* form does.
	v := e.Resource
	v.ARN, v.Kind, v.Qualifier = v.ARN+":3", inventory.KindVersion, "3"
	v.AccountIAM.Roles[0].Policies[0].Document = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"` + exampleFunction + `"}]}`
	if fs, _ := pathFindings(t, v, Trust{}); len(fs) != 0 {
		t.Errorf("function ARN reaches the version: %+v", fs)
	}
	v.AccountIAM.Roles[0].Policies[0].Document = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"` + exampleFunction + `:*"}]}`
	if fs, _ := pathFindings(t, v, Trust{}); len(fs) != 1 {
		t.Errorf("function ARN :* misses the version: %+v", fs)
	}
}

func TestGapsSayWhichRulesGaveNoVerdict(t *testing.T) {
	gaps := func(s *Subject) map[string]bool {
		out := map[string]bool{}
		for _, g := range s.Gaps {
			out[g.Rule] = g.Unknown
		}
		return out
	}
	_, s := pathFindings(t, baseResource(), Trust{})
	if g := gaps(s); len(g) != 3 || g["lambda-external-path-via-role"] || g["lambda-role-admin"] {
		t.Errorf("nothing collected: not run, not unknown: %+v", s.Gaps)
	}
	res := baseResource()
	res.AccountIAM = &inventory.AccountIAM{Account: "111122223333", Unknown: "AccessDenied"}
	res.ExecutionRole = &inventory.ExecutionRole{ARN: "arn:aws:iam::111122223333:role/intake", Unknown: "iam:GetRole: AccessDenied"}
	_, s = pathFindings(t, res, Trust{})
	if g := gaps(s); !g["lambda-external-path-via-role"] || !g["lambda-role-admin"] || !g["lambda-role-trust-broad"] {
		t.Errorf("unreadable input is unknown: %+v", s.Gaps)
	}
	e := withPath("x", true, trustAWS("444455556666"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`, "")
	_, s = pathFindings(t, e.Resource, Trust{})
	if g, ok := gaps(s)["lambda-external-path-via-role"]; ok {
		t.Errorf("judged paths leave no gap: %v", g)
	}
}
