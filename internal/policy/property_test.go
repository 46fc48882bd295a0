package policy

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The generators below build policies from the pieces that decide
// exposure (principals, Lambda actions, resources, the conditions that
// pin a caller, Deny statements), so random policies hit the interesting
// cases often.

var (
	genPrincipals = []string{
		star, aws("*"), aws(owner), aws(foreign), aws(trusted),
		aws("arn:aws:iam::" + owner + ":role/app"), aws("arn:aws:iam::" + foreign + ":role/etl"),
		aws("arn:aws:iam::*:root"), svc("s3.amazonaws.com"), svc("sns.amazonaws.com"), svc("alexa-appkit.amazon.com"),
		`{"AWS":["` + owner + `","` + foreign + `"]}`, `{"Federated":"accounts.google.com"}`,
	}
	genActions = []string{
		`"Action":"lambda:InvokeFunction"`, `"Action":"lambda:*"`, `"Action":"lambda:Get*"`, `"Action":"lambda:InvokeFunctionUrl"`,
		`"Action":"*"`, `"Action":["lambda:UpdateFunctionCode","lambda:InvokeFunction"]`, `"NotAction":"lambda:InvokeFunction"`,
		`"NotAction":["lambda:Get*","lambda:List*"]`,
	}
	genResources = []string{`"Resource":"FN"`, `"Resource":"*"`, `"Resource":"FN:*"`, `"Resource":"arn:aws:lambda:us-east-1:111122223333:function:billing"`, `"NotResource":"arn:aws:lambda:us-east-1:111122223333:function:billing"`}
	// Condition atoms: operator, key, values (already JSON).
	genConds = [][3]string{
		{"StringEquals", "aws:SourceAccount", `"` + owner + `"`},
		{"StringEquals", "aws:SourceAccount", `"` + foreign + `"`},
		{"StringEqualsIfExists", "aws:SourceAccount", `"` + owner + `"`},
		{"StringLike", "aws:SourceAccount", `"1111*"`},
		{"ArnLike", "aws:SourceArn", `"arn:aws:s3:::phi-uploads"`},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:us-east-1:` + owner + `:alerts"`},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:` + foreign + `:*"`},
		{"StringLike", "aws:SourceArn", `"*"`},
		{"StringEquals", "aws:PrincipalOrgID", `"` + myOrg + `"`},
		{"StringEquals", "aws:PrincipalOrgID", `"o-zzzzzzzzzz"`},
		{"StringLike", "aws:PrincipalOrgID", `"o-*"`},
		{"ForAnyValue:StringLike", "aws:PrincipalOrgPaths", `"` + myOrg + `/*"`},
		{"ForAllValues:StringLike", "aws:PrincipalOrgPaths", `"` + myOrg + `/*"`},
		{"StringEquals", "aws:PrincipalAccount", `"` + owner + `"`},
		{"ArnLike", "aws:PrincipalArn", `"arn:aws:iam::` + foreign + `:role/*"`},
		{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`},
		{"IpAddress", "aws:SourceIp", `"0.0.0.0/0"`},
		{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`},
		{"StringEquals", "aws:SourceVpce", `"vpce-1a2b3c4d"`},
		{"StringEquals", "lambda:EventSourceToken", `"amzn1.ask.skill.1234"`},
		{"StringNotEquals", "aws:PrincipalOrgID", `"` + myOrg + `"`},
		{"StringNotEqualsIfExists", "aws:PrincipalAccount", `"` + owner + `"`},
		{"Bool", "aws:SecureTransport", `"true"`},
		{"StringEquals", "lambda:FunctionUrlAuthType", `"NONE"`},
		{"Null", "aws:PrincipalOrgID", `"false"`},
		{"Null", "aws:SourceAccount", `"true"`},
		{"BoolIfExists", "aws:PrincipalIsAWSService", `"false"`},
		{"ForAnyValue:StringNotLike", "aws:PrincipalOrgPaths", `"` + myOrg + `/*"`},
	}
)

func drawConditions(t *rapid.T, label string) string {
	n := rapid.IntRange(0, 3).Draw(t, label+"-n")
	seen := map[string]bool{}
	byOp := map[string][]string{}
	var ops []string
	for i := 0; i < n; i++ {
		c := rapid.SampledFrom(genConds).Draw(t, label)
		if seen[c[0]+c[1]] {
			continue
		}
		seen[c[0]+c[1]] = true
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

func drawStatement(t *rapid.T, i int, effect string) string {
	label := effect + itoa(i)
	p := `"Principal":` + rapid.SampledFrom(genPrincipals).Draw(t, label+"-principal")
	if effect == "Deny" && rapid.IntRange(0, 3).Draw(t, label+"-notprincipal") == 0 {
		p = `"NotPrincipal":` + aws("arn:aws:iam::"+owner+":root")
	}
	return `{"Sid":"` + label + `","Effect":"` + effect + `",` + p + `,` +
		rapid.SampledFrom(genActions).Draw(t, label+"-action") + `,` +
		rapid.SampledFrom(genResources).Draw(t, label+"-resource") +
		drawConditions(t, label+"-cond") + `}`
}

func drawPolicy(t *rapid.T) []string {
	var stmts []string
	nAllow := rapid.IntRange(1, 4).Draw(t, "allows")
	for i := 0; i < nAllow; i++ {
		stmts = append(stmts, drawStatement(t, i, "Allow"))
	}
	nDeny := rapid.IntRange(0, 2).Draw(t, "denies")
	for i := 0; i < nDeny; i++ {
		stmts = append(stmts, drawStatement(t, i, "Deny"))
	}
	return stmts
}

func drawContext(t *rapid.T) Context {
	ctx := baseCtx()
	ctx.URLAuthType = rapid.SampledFrom([]string{"", "NONE", "AWS_IAM"}).Draw(t, "url")
	return ctx
}

// perAction returns the class of every known function action.
func perAction(r *Result) map[string]Class {
	out := map[string]Class{}
	for _, a := range functionActions.names() {
		out[a] = r.ClassFor(a)
	}
	return out
}

func parseDoc(t *rapid.T, stmts []string) *Document {
	d, err := Parse([]byte(doc(stmts...)))
	if err != nil {
		t.Fatalf("generated policy does not parse: %v\n%s", err, doc(stmts...))
	}
	return d
}

func TestPropertyStatementOrderDoesNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := drawPolicy(t)
		ctx := drawContext(t)
		before := Analyze(parseDoc(t, stmts), nil, ctx)
		perm := rapid.Permutation(stmts).Draw(t, "order")
		after := Analyze(parseDoc(t, perm), nil, ctx)
		if before.Exposure != after.Exposure {
			t.Fatalf("exposure %s became %s after reordering", before.Exposure, after.Exposure)
		}
		b, a := perAction(before), perAction(after)
		for k := range b {
			if b[k] != a[k] {
				t.Fatalf("%s: %s became %s after reordering", k, b[k], a[k])
			}
		}
	})
}

func TestPropertyAddingDenyNeverWidens(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := drawPolicy(t)
		ctx := drawContext(t)
		before := Analyze(parseDoc(t, stmts), nil, ctx)
		more := append(append([]string(nil), stmts...), drawStatement(t, 9, "Deny"))
		after := Analyze(parseDoc(t, more), nil, ctx)
		if after.Exposure > before.Exposure {
			t.Fatalf("adding a Deny widened %s to %s", before.Exposure, after.Exposure)
		}
		b, a := perAction(before), perAction(after)
		for k := range b {
			if a[k] > b[k] {
				t.Fatalf("%s: adding a Deny widened %s to %s", k, b[k], a[k])
			}
		}
	})
}

func TestPropertyAddingConditionToAllowNeverWidens(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := drawPolicy(t)
		ctx := drawContext(t)
		d := parseDoc(t, stmts)
		before := Analyze(d, nil, ctx)
		// Add one pinning condition to one Allow statement of a fresh copy.
		d2 := parseDoc(t, stmts)
		var allows []*Statement
		for _, s := range d2.Statements {
			if s.Effect == Allow {
				allows = append(allows, s)
			}
		}
		target := rapid.SampledFrom(allows).Draw(t, "target")
		c := rapid.SampledFrom(genConds).Draw(t, "pin")
		_, n, err := readTree([]byte(`{"` + c[0] + `":{"` + c[1] + `":` + c[2] + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		conds, err := parseConditions(n)
		if err != nil {
			t.Fatal(err)
		}
		target.Conditions = append(target.Conditions, conds...)
		after := Analyze(d2, nil, ctx)
		if widened(before.Exposure, after.Exposure) {
			t.Fatalf("adding %v widened %s to %s", conds[0], before.Exposure, after.Exposure)
		}
		b, a := perAction(before), perAction(after)
		for k := range b {
			if widened(b[k], a[k]) {
				t.Fatalf("%s: adding %v widened %s to %s", k, conds[0], b[k], a[k])
			}
		}
	})
}

// widened reports whether after lets more callers in than before. A
// service grant pinned to another account moves from service-unscoped to
// cross-account: a higher rank, but fewer callers (named accounts instead
// of any), so it is no widening.
func widened(before, after Class) bool {
	if before == ServiceUnscoped && after == CrossAccount {
		return false
	}
	return after > before
}

// caller is a concrete identity with the class it belongs to.
type caller struct {
	name  string
	class Class
	c     Caller
	ctx   map[string][]string
}

var callers = []caller{
	{"anonymous", Public, Caller{Kind: CallerAnonymous}, map[string][]string{"aws:sourceip": {"198.51.100.7"}, "aws:securetransport": {"true"}, "lambda:functionurlauthtype": {"NONE"}}},
	{"anonymous on a private network", CrossAccount, Caller{Kind: CallerAnonymous}, map[string][]string{"aws:sourceip": {"10.1.2.3"}, "aws:sourcevpce": {"vpce-1a2b3c4d"}}},
	{"foreign role", CrossAccount, Caller{Kind: CallerIAM, Account: foreign, ARN: "arn:aws:iam::" + foreign + ":role/etl", UserID: "AROAFOREIGN"},
		map[string][]string{"aws:principalaccount": {foreign}, "aws:principalarn": {"arn:aws:iam::" + foreign + ":role/etl"}, "aws:userid": {"AROAFOREIGN:s"}, "aws:sourceip": {"198.51.100.8"}, "aws:principalisawsservice": {"false"}}},
	{"foreign role in another org", CrossAccount, Caller{Kind: CallerIAM, Account: foreign, ARN: "arn:aws:iam::" + foreign + ":role/etl"},
		map[string][]string{"aws:principalaccount": {foreign}, "aws:principalorgid": {"o-zzzzzzzzzz"}, "aws:principalorgpaths": {"o-zzzzzzzzzz/r-zz/"}, "aws:principalisawsservice": {"false"}}},
	{"org member", Org, Caller{Kind: CallerIAM, Account: "555566667777", ARN: "arn:aws:iam::555566667777:role/app"},
		map[string][]string{"aws:principalaccount": {"555566667777"}, "aws:principalorgid": {myOrg}, "aws:principalorgpaths": {myOrg + "/r-ab12/ou-ab12-1/"}, "aws:principalisawsservice": {"false"}}},
	{"owner role", Private, Caller{Kind: CallerIAM, Account: owner, ARN: "arn:aws:iam::" + owner + ":role/app"},
		map[string][]string{"aws:principalaccount": {owner}, "aws:principalorgid": {myOrg}, "aws:principalarn": {"arn:aws:iam::" + owner + ":role/app"}}},
	{"trusted account", Private, Caller{Kind: CallerIAM, Account: trusted, ARN: "arn:aws:iam::" + trusted + ":root"},
		map[string][]string{"aws:principalaccount": {trusted}}},
	{"S3 for the owner's bucket", Private, Caller{Kind: CallerService, Service: "s3.amazonaws.com"},
		map[string][]string{"aws:sourceaccount": {owner}, "aws:sourcearn": {"arn:aws:s3:::phi-uploads"}, "aws:principalisawsservice": {"true"}}},
	{"S3 for a foreign bucket of the same name", ServiceUnscoped, Caller{Kind: CallerService, Service: "s3.amazonaws.com"},
		map[string][]string{"aws:sourceaccount": {foreign}, "aws:sourcearn": {"arn:aws:s3:::phi-uploads"}, "aws:principalisawsservice": {"true"}}},
	{"SNS for a foreign topic", ServiceUnscoped, Caller{Kind: CallerService, Service: "sns.amazonaws.com"},
		map[string][]string{"aws:sourceaccount": {foreign}, "aws:sourcearn": {"arn:aws:sns:us-east-1:" + foreign + ":alerts"}, "aws:principalisawsservice": {"true"}}},
	{"SNS for the owner's topic", Private, Caller{Kind: CallerService, Service: "sns.amazonaws.com"},
		map[string][]string{"aws:sourceaccount": {owner}, "aws:sourcearn": {"arn:aws:sns:us-east-1:" + owner + ":alerts"}, "aws:principalisawsservice": {"true"}}},
	{"Alexa skill", Private, Caller{Kind: CallerService, Service: "alexa-appkit.amazon.com"},
		map[string][]string{"lambda:eventsourcetoken": {"amzn1.ask.skill.1234"}, "aws:principalisawsservice": {"true"}}},
	{"Google user", Public, Caller{Kind: CallerFederated, Provider: "accounts.google.com"}, map[string][]string{"aws:sourceip": {"198.51.100.9"}}},
}

// TestPropertyAnalysisIsSound checks the analysis against the concrete
// evaluator: whenever IAM would allow a caller, the analysis must report
// at least that caller's class for the action. A failure here means the
// analysis called something safer than it is.
func TestPropertyAnalysisIsSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := drawPolicy(t)
		ctx := drawContext(t)
		d := parseDoc(t, stmts)
		res := Analyze(d, nil, ctx)
		for _, cl := range callers {
			for _, action := range []string{"lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "lambda:UpdateFunctionCode"} {
				req := Request{Caller: cl.c, Action: action, Resource: fnARN, Context: cl.ctx}
				if d.Evaluate(req) != Allowed {
					continue
				}
				if got := res.ClassFor(action); got < cl.class {
					t.Fatalf("IAM allows %s to call %s, a %s caller, but the analysis says %s\n%s", cl.name, action, cl.class, got, doc(stmts...))
				}
			}
		}
	})
}

func TestPropertyInheritedAnalysisIsSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		own := drawPolicy(t)
		fnPolicy := drawPolicy(t)
		ctx := baseCtx()
		ctx.Resource = aliasARN
		o, f := parseDoc(t, own), parseDoc(t, fnPolicy)
		res := Analyze(o, f, ctx)
		for _, cl := range callers {
			req := Request{Caller: cl.c, Action: "lambda:InvokeFunction", Resource: aliasARN, Context: cl.ctx}
			if EvaluateResource(o, f, req) == Allowed && res.ClassFor("lambda:InvokeFunction") < cl.class {
				t.Fatalf("%s can invoke the alias but the analysis says %s", cl.name, res.ClassFor("lambda:InvokeFunction"))
			}
		}
	})
}
