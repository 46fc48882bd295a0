package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
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

// FuzzStrictReader checks the strict reader against encoding/json: what
// it accepts, encoding/json reads to the same value (and each node's span
// is that value's text); what it rejects is a repeated name, bad UTF-8,
// nesting no policy has, or something encoding/json rejects too.
func FuzzStrictReader(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"a":{"b":[1,2,{"c":"\u00e9\"x"}]}, "d": -1.5e3, "e": null, "f": true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, n, err := readTree(data)
		var want any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		jerr := dec.Decode(&want)
		if jerr == nil && dec.More() {
			jerr = errors.New("trailing data")
		}
		if jerr == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				jerr = errors.New("trailing data")
			}
		}
		if err != nil {
			var dup *duplicateError
			msg := err.Error()
			if jerr == nil && !errors.As(err, &dup) && utf8.Valid(data) &&
				!strings.Contains(msg, "nests deeper") && !strings.Contains(msg, "UTF-8") && !strings.Contains(msg, "surrogate") {
				t.Fatalf("rejected JSON encoding/json reads: %v", err)
			}
			return
		}
		if jerr != nil {
			t.Fatalf("accepted what encoding/json rejects (%v)", jerr)
		}
		if got := toAny(n); !reflect.DeepEqual(got, want) {
			t.Fatalf("read %#v, encoding/json read %#v", got, want)
		}
		var walk func(val)
		walk = func(x val) {
			var v any
			if err := json.Unmarshal(x.raw(), &v); err != nil {
				t.Fatalf("span %q of a %s is not its JSON: %v", x.raw(), x.describe(), err)
			}
			for i := range x.len() {
				walk(x.elem(i))
			}
		}
		walk(n)
	})
}

func toAny(n val) any {
	switch n.kind() {
	case '{':
		m := map[string]any{}
		for i := range n.len() {
			m[n.name(i)] = toAny(n.elem(i))
		}
		return m
	case '[':
		out := []any{}
		for i := range n.len() {
			out = append(out, toAny(n.elem(i)))
		}
		return out
	case '"':
		return n.text()
	case '0':
		return json.Number(n.text())
	case 't':
		return true
	case 'f':
		return false
	}
	return nil
}
