package remediate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// The statement grammar the property test draws from: principals,
// actions, resources and conditions as they appear in real Lambda
// policies, good and bad, and Deny statements laid over them.
var (
	genPrincipals = []string{
		`"Principal":"*"`, `"Principal":{"AWS":"*"}`,
		`"Principal":{"AWS":"arn:aws:iam::111122223333:root"}`,
		`"Principal":{"AWS":"arn:aws:iam::444455556666:root"}`,
		`"Principal":{"AWS":"arn:aws:iam::444455556666:role/partner"}`,
		`"Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:root"]}`,
		`"Principal":{"Service":"s3.amazonaws.com"}`,
		`"Principal":{"Service":"events.amazonaws.com"}`,
		`"Principal":{"Service":"sns.amazonaws.com"}`,
		`"Principal":{"Service":["apigateway.amazonaws.com","logs.us-east-1.amazonaws.com"]}`,
		`"NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}`,
	}
	genActions = []string{
		`"Action":"lambda:InvokeFunction"`, `"Action":"lambda:*"`, `"Action":"lambda:GetFunction"`,
		`"Action":["lambda:InvokeFunction","lambda:InvokeFunctionUrl"]`, `"Action":"*"`,
		`"Action":"lambda:InvokeFunctionUrl"`, `"NotAction":"lambda:UpdateFunctionCode"`,
	}
	genResources = []string{
		`"Resource":"` + fnARN + `"`, `"Resource":"` + fnARN + `:*"`, `"Resource":"` + fnARN + `*"`, `"Resource":"*"`,
		`"Resource":["` + fnARN + `","` + fnARN + `:*"]`, `"NotResource":"arn:aws:lambda:us-east-1:111122223333:function:other"`,
	}
	// genConditions are [operator, key, value JSON].
	genConditions = [][3]string{
		{"ArnLike", "AWS:SourceArn", `"arn:aws:s3:::phi-uploads"`},
		{"ArnLike", "AWS:SourceArn", `"arn:aws:sns:us-east-1:111122223333:alerts"`},
		{"ArnLike", "AWS:SourceArn", `"arn:aws:events:us-east-1:999988887777:rule/x"`},
		{"StringEquals", "AWS:SourceAccount", `"111122223333"`},
		{"StringEquals", "AWS:SourceAccount", `"999988887777"`},
		{"StringEquals", "aws:PrincipalOrgID", `"o-abc123def4"`},
		{"StringEquals", "aws:PrincipalOrgID", `"o-zz9yx8wv7u"`},
		{"StringLike", "aws:PrincipalOrgID", `"o-*"`},
		{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`},
		{"IpAddress", "aws:SourceIp", `"0.0.0.0/0"`},
		{"StringNotEquals", "aws:PrincipalAccount", `"111122223333"`},
		{"StringEqualsIfExists", "AWS:SourceAccount", `"111122223333"`},
		{"StringEquals", "lambda:FunctionUrlAuthType", `"NONE"`},
		{"Bool", "lambda:InvokedViaFunctionUrl", `"true"`},
		{"StringEquals", "aws:PrincipalAccount", `["111122223333","444455556666"]`},
	}
	genDenies = []string{
		`{"Effect":"Deny","Principal":"*","Action":"lambda:*","Resource":["` + fnARN + `","` + fnARN + `:*"],"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`,
		`{"Effect":"Deny","Principal":"*","Action":"lambda:*","Resource":"` + fnARN + `","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}`,
		`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"*"}`,
		`{"Effect":"Deny","Principal":"*","Action":"lambda:GetFunction","Resource":"*"}`,
		`{"Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fnARN + `","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`,
	}
)

// drawStatement builds one Allow statement from the grammar.
func drawStatement(t *rapid.T, sid string) string {
	parts := []string{}
	if sid != "" {
		parts = append(parts, `"Sid":`+quote(sid))
	}
	parts = append(parts, `"Effect":"Allow"`,
		rapid.SampledFrom(genPrincipals).Draw(t, "principal"),
		rapid.SampledFrom(genActions).Draw(t, "action"),
		rapid.SampledFrom(genResources).Draw(t, "resource"))
	n := rapid.IntRange(0, 2).Draw(t, "conditions")
	blocks := map[string][]string{}
	var order []string
	keys := map[string]bool{}
	for i := 0; i < n; i++ {
		c := rapid.SampledFrom(genConditions).Draw(t, "condition")
		k := strings.ToLower(c[1])
		if keys[k] {
			continue // one key per statement keeps every block valid JSON for IAM
		}
		keys[k] = true
		if _, ok := blocks[c[0]]; !ok {
			order = append(order, c[0])
		}
		blocks[c[0]] = append(blocks[c[0]], quote(c[1])+":"+c[2])
	}
	if len(order) > 0 {
		var ops []string
		for _, op := range order {
			ops = append(ops, quote(op)+":{"+strings.Join(blocks[op], ",")+"}")
		}
		parts = append(parts, `"Condition":{`+strings.Join(ops, ",")+`}`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func drawPolicy(t *rapid.T, label string) string {
	var stmts []string
	for i := rapid.IntRange(1, 4).Draw(t, label+" allows"); i > 0; i-- {
		sid := ""
		if rapid.IntRange(0, 5).Draw(t, label+" sid") > 0 {
			sid = fmt.Sprintf("%s%d", label, len(stmts))
		}
		stmts = append(stmts, drawStatement(t, sid))
	}
	for i := rapid.IntRange(0, 2).Draw(t, label+" denies"); i > 0; i-- {
		stmts = append(stmts, rapid.SampledFrom(genDenies).Draw(t, label+" deny"))
	}
	return doc(stmts...)
}

// verdictOf judges a policy document on the unqualified function.
func verdictOf(t *rapid.T, document string) string {
	d, err := policy.Parse([]byte(document))
	if err != nil {
		return "error"
	}
	r := policy.Analyze(d, nil, policy.Context{Resource: fnARN, Owner: owner, OrgID: orgID})
	var gs []string
	for _, g := range r.Grants {
		gs = append(gs, fmt.Sprintf("%d:%s:%v", g.Statement.Index, g.Class, g.Actions()))
	}
	return r.Exposure.String() + " " + strings.Join(gs, " ")
}

// reserialize decodes the document into plain values and encodes it
// again (keys sorted, other spacing): the same policy in other bytes.
func reserialize(t *rapid.T, document string) string {
	var v any
	if err := json.Unmarshal([]byte(document), &v); err != nil {
		t.Fatalf("generated policy is not JSON: %v\n%s", err, document)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPropertyFixNeverWidensAndClosesWhatItReports: for random policies
// built from the statement grammar, with Deny overlays and aliases that
// inherit the function's Allows, the planned state is never more exposed
// than the original for any resource, every exposed finding left is one
// the plan lists as unresolved with a reason, and parse → serialize →
// parse keeps the verdict.
func TestPropertyFixNeverWidensAndClosesWhatItReports(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fnDoc := drawPolicy(t, "f")
		fn := function(fnDoc)
		if rapid.Bool().Draw(t, "url") {
			fn.URL = &inventory.FunctionURL{URL: "https://x.lambda-url.us-east-1.on.aws/", AuthType: rapid.SampledFrom([]string{"NONE", "AWS_IAM"}).Draw(t, "auth")}
			fn.URLChecked = true
		}
		resources := []*inventory.Resource{fn}
		if rapid.Bool().Draw(t, "alias") {
			own := ""
			if rapid.Bool().Draw(t, "alias policy") {
				own = strings.ReplaceAll(drawPolicy(t, "a"), fnARN+`"`, fnARN+`:prod"`)
			}
			resources = append(resources, alias("prod", own, fn))
		}
		if rapid.Bool().Draw(t, "version") {
			resources = append(resources, version("3", fn))
		}

		// parse → serialize → parse keeps the verdict.
		for _, r := range resources {
			if r.Policy == nil {
				continue
			}
			if a, b := verdictOf(t, r.Policy.Document), verdictOf(t, reserialize(t, r.Policy.Document)); a != b {
				t.Fatalf("re-serialized, the verdict changes: %s vs %s\n%s", a, b, r.Policy.Document)
			}
		}

		opt := Options{Trust: trust}
		switch rapid.IntRange(0, 3).Draw(t, "mode") {
		case 1:
			opt.NarrowToOrg = true
		case 2:
			opt.NarrowToOrg, opt.NarrowToAccount = true, true
		case 3:
			opt.Remove = true
		}
		opt.URLAuthIAM = rapid.Bool().Draw(t, "url switch")
		plan := MakePlan(resources, opt)
		if len(plan.Unknown) > 0 {
			return // a drawn policy the parser refuses: nothing is planned
		}

		planned := map[string]*inventory.Policy{}
		urlTo := map[string]string{}
		for _, a := range plan.Actions {
			if !a.HasWork() {
				continue
			}
			pol := plannedPolicy(t, a)
			planned[a.Target.ARN] = pol
			if pol != nil {
				if a, b := verdictOf(t, pol.Document), verdictOf(t, reserialize(t, pol.Document)); a != b {
					t.Fatalf("the planned policy re-serialized judges differently: %s vs %s\n%s", a, b, pol.Document)
				}
			}
			if a.URL != nil {
				urlTo[a.Target.ARN] = a.URL.To
			}
		}
		unresolved := map[string]bool{}
		for _, u := range plan.Unresolved() {
			if u.Reason == "" {
				t.Fatalf("an unresolved exposure without a reason: %+v", u)
			}
			unresolved[u.Resource+" "+u.RuleID] = true
		}
		for _, r := range resources {
			after := *r
			if p, ok := planned[r.ARN]; ok {
				after.Policy = p
			}
			if a, err := inventory.ParseLambdaARN(r.ARN); err == nil && a.Qualifier != "" {
				if p, ok := planned[a.Unqualified()]; ok {
					after.FunctionPolicy = p
				}
			}
			if to, ok := urlTo[r.ARN]; ok && after.URL != nil {
				u := *after.URL
				u.AuthType = to
				after.URL = &u
			}
			b, err := rules.NewSubject(r, trust)
			if err != nil {
				t.Fatal(err)
			}
			af, err := rules.NewSubject(&after, trust)
			if err != nil {
				t.Fatalf("%s: the planned policy does not parse: %v", r.ARN, err)
			}
			if af.Result.Exposure > b.Result.Exposure {
				t.Fatalf("%s: %s before, %s after the plan\nbefore %s\nafter  %+v", r.ARN, b.Result.Exposure, af.Result.Exposure, r.Policy.Document, planned)
			}
			for _, rule := range rules.All() {
				for _, f := range rule.Findings(af) {
					if !fixable(f) || unresolved[r.ARN+" "+f.RuleID] {
						continue
					}
					t.Fatalf("%s: %s (%s) is still there after the plan and the plan does not say so: %s\npolicy before %s\nplanned %+v",
						r.ARN, f.RuleID, f.Exposure, f.Explanation, docOf(r), docOf(&after))
				}
			}
		}
	})
}

func docOf(r *inventory.Resource) string {
	s := ""
	if r.Policy != nil {
		s += "own: " + r.Policy.Document
	}
	if r.FunctionPolicy != nil {
		s += " function: " + r.FunctionPolicy.Document
	}
	return s
}
