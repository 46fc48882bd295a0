package policy

import (
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, c := range verdictCases {
		if c.policy != "" {
			f.Add([]byte(c.policy))
		}
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`))
	f.Add([]byte(`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"1"},"NotAction":"x","NotResource":"*","Condition":{"ForAnyValue:StringNotLikeIfExists":{"k":["a",1,true]}}}]}`))
	f.Add([]byte(`not json`))
}

// FuzzParse: the parser never panics, and whatever it accepts the
// analysis and the evaluator can judge without panicking.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(d.Statements) == 0 {
			t.Fatal("parsed a policy without statements")
		}
		for _, ctx := range []Context{baseCtx(), {}, {Resource: layerARN, OrgID: myOrg}} {
			res := Analyze(d, d, ctx)
			for _, g := range res.Grants {
				if g.Explanation() == "" {
					t.Fatalf("grant without explanation")
				}
				if g.Class > res.Exposure {
					t.Fatalf("grant %s above resource exposure %s", g.Class, res.Exposure)
				}
			}
		}
	})
}

// FuzzEvaluate: concrete evaluation never contradicts the analysis for
// an anonymous caller, whatever the policy.
func FuzzEvaluate(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		res := Analyze(d, nil, baseCtx())
		for _, cl := range callers {
			for _, a := range []string{"lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:UpdateFunctionCode"} {
				if d.Evaluate(Request{Caller: cl.c, Action: a, Resource: fnARN, Context: cl.ctx}) == Allowed && res.ClassFor(a) < cl.class {
					t.Fatalf("%s allowed to %s but analysis says %s", cl.name, a, res.ClassFor(a))
				}
			}
		}
	})
}
