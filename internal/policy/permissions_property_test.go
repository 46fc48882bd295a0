package policy

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var (
	genIDResources = append([]string{`"Resource":"arn:aws:lambda:*:${aws:PrincipalAccount}:function:*"`, `"Resource":"arn:aws:lambda:*:*:function:${aws:PrincipalTag/app}"`,
		`"NotResource":"FN:*"`, `"Resource":"arn:aws:lambda:us-east-1:111122223333:function:int*"`}, genResources...)
	genIDActions = append([]string{`"Action":"s3:*"`, `"NotAction":"iam:*"`, `"Action":"lambda:Invoke*"`}, genActions...)
	// Keys whose values the request may or may not carry.
	genIDConds = [][3]string{
		{"StringEquals", "aws:PrincipalAccount", `"` + owner + `"`},
		{"StringEquals", "aws:PrincipalAccount", `"` + foreign + `"`},
		{"StringNotEquals", "aws:PrincipalOrgID", `"` + myOrg + `"`},
		{"StringEquals", "aws:PrincipalOrgID", `"o-zzzzzzzzzz"`},
		{"Bool", "aws:MultiFactorAuthPresent", `"true"`},
		{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`},
		{"StringEquals", "aws:PrincipalTag/app", `"intake"`},
		{"Null", "aws:SourceArn", `"true"`},
		{"StringEquals", "aws:PrincipalType", `"AssumedRole"`},
		{"ArnLike", "aws:PrincipalArn", `"arn:aws:iam::` + owner + `:role/*"`},
	}
	// Request contexts: the known keys plus some of the unknown ones.
	genExtra = []map[string][]string{
		{},
		{"aws:multifactorauthpresent": {"true"}},
		{"aws:sourceip": {"10.1.2.3"}, "aws:principaltag/app": {"intake"}},
		{"aws:sourceip": {"198.51.100.9"}, "aws:multifactorauthpresent": {"false"}, "aws:principaltag/app": {"billing"}},
	}
)

func drawIDConditions(t *rapid.T, label string) string {
	n := rapid.IntRange(0, 2).Draw(t, label+"-n")
	byOp := map[string][]string{}
	var ops []string
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		c := rapid.SampledFrom(genIDConds).Draw(t, label)
		if seen[c[1]] {
			continue
		}
		seen[c[1]] = true
		if byOp[c[0]] == nil {
			ops = append(ops, c[0])
		}
		byOp[c[0]] = append(byOp[c[0]], `"`+c[1]+`":`+c[2])
	}
	if len(ops) == 0 {
		return ""
	}
	var parts []string
	for _, op := range ops {
		parts = append(parts, `"`+op+`":{`+strings.Join(byOp[op], ",")+`}`)
	}
	return `,"Condition":{` + strings.Join(parts, ",") + `}`
}

func drawIDPolicy(t *rapid.T, label string, minAllow int) *Document {
	var stmts []string
	n := rapid.IntRange(minAllow, 3).Draw(t, label+"-allows")
	for i := 0; i < n; i++ {
		stmts = append(stmts, `{"Effect":"Allow",`+rapid.SampledFrom(genIDActions).Draw(t, label+"-a")+`,`+rapid.SampledFrom(genIDResources).Draw(t, label+"-r")+drawIDConditions(t, label+"-c")+`}`)
	}
	d := rapid.IntRange(0, 2).Draw(t, label+"-denies")
	for i := 0; i < d; i++ {
		stmts = append(stmts, `{"Effect":"Deny",`+rapid.SampledFrom(genIDActions).Draw(t, label+"-da")+`,`+rapid.SampledFrom(genIDResources).Draw(t, label+"-dr")+drawIDConditions(t, label+"-dc")+`}`)
	}
	if len(stmts) == 0 {
		return nil
	}
	doc, err := ParseIdentity([]byte(doc(stmts...)))
	if err != nil {
		t.Fatalf("generated identity policy does not parse: %v", err)
	}
	return doc
}

// TestPropertyPermissionsAreSound checks the abstract evaluator against
// the concrete one: whatever IAM would allow for some request of the
// role, Evaluate reports as allowed; whatever Evaluate reports as allowed
// without conditions, IAM allows for every such request.
func TestPropertyPermissionsAreSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ps := &PermissionSet{Caller: Caller{Kind: CallerIAM, Account: owner, ARN: roleARN}, Known: RoleSessionContext(owner, roleARN, myOrg)}
		for i := range rapid.IntRange(1, 2).Draw(t, "identities") {
			if d := drawIDPolicy(t, "id"+itoa(i), 1); d != nil {
				ps.Identity = append(ps.Identity, IdentityPolicy{Name: "p" + itoa(i), Doc: d})
			}
		}
		if rapid.Bool().Draw(t, "boundary") {
			if d := drawIDPolicy(t, "b", 1); d != nil {
				ps.Boundary = &IdentityPolicy{Name: "b", Doc: d}
			}
		}
		for i := range rapid.IntRange(0, 2).Draw(t, "scps") {
			if d := drawIDPolicy(t, "scp"+itoa(i), 0); d != nil {
				ps.SCPs = append(ps.SCPs, IdentityPolicy{Name: "s" + itoa(i), Doc: d})
			}
		}
		resource := rapid.SampledFrom([]string{fnARN, aliasARN, "arn:aws:lambda:us-east-1:111122223333:function:billing"}).Draw(t, "resource")
		e := ps.Evaluate(resource)
		conditional := map[string]bool{}
		for _, a := range e.Conditional() {
			conditional[a] = true
		}
		for _, extra := range genExtra {
			ctx := knownContext(ps.Known)
			for k, v := range extra {
				ctx[k] = v
			}
			for _, action := range []string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:InvokeFunctionUrl"} {
				d := ps.Decide(Request{Caller: ps.Caller, Action: action, Resource: resource, Context: ctx})
				if d == Allowed && !e.Allows(action) {
					t.Fatalf("IAM allows %s on %s (context %v) but Evaluate does not", action, resource, extra)
				}
				if e.Allows(action) && !conditional[action] && d != Allowed {
					t.Fatalf("Evaluate allows %s on %s for certain, but IAM says %s (context %v)", action, resource, d, extra)
				}
			}
		}
	})
}
