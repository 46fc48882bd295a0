package remediate

import (
	"encoding/json"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// FuzzSplice: the byte-exact rewriter never panics, a rewrite that
// changes nothing gives back the same bytes, and what it writes is JSON.
func FuzzSplice(f *testing.F) {
	f.Add(doc(public, apigw), "aws:PrincipalOrgID")
	f.Add(`{"Statement":{"Sid":"a","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "AWS:SourceAccount")
	f.Add(`{"Statement":[]}`, "k")
	f.Add(doc(unscopedS, orgGrant, partner), "AWS:SourceArn")
	f.Fuzz(func(t *testing.T, document, key string) {
		lay, err := layoutOf([]byte(document))
		if err != nil {
			return
		}
		if out, empty := lay.rewrite(nil, nil); len(lay.elems) > 0 && (empty || string(out) != document) {
			t.Fatalf("a rewrite without changes altered the document:\n%s\n%s", document, out)
		}
		for i := range lay.elems {
			raw := lay.raw(i)
			if got, err := addCondition(raw, "StringEquals", key, []string{"v"}); err == nil && json.Valid(raw) && !json.Valid(got) {
				t.Fatalf("addCondition wrote invalid JSON: %s", got)
			}
			if got, err := replaceMember(raw, "Resource", `"*"`); err == nil && json.Valid(raw) && !json.Valid(got) {
				t.Fatalf("replaceMember wrote invalid JSON: %s", got)
			}
			if out, _ := lay.rewrite(map[int]bool{i: true}, nil); out != nil && json.Valid([]byte(document)) && !json.Valid(out) {
				t.Fatalf("removing statement %d wrote invalid JSON: %s", i, out)
			}
		}
		_ = lay.insert(0, []byte(public))
	})
}

// FuzzPlanTarget: any policy the parser accepts can be planned, and the
// planned document parses.
func FuzzPlanTarget(f *testing.F) {
	f.Add(doc(public, apigw, unscopedS), true)
	f.Add(doc(stmt("wide", `"*"`, "lambda:*", fnARN+"*", ""), `{"Effect":"Deny","Principal":"*","Action":"lambda:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`), false)
	f.Fuzz(func(t *testing.T, document string, narrow bool) {
		if _, err := policy.Parse([]byte(document)); err != nil {
			return
		}
		fn := function(document)
		p := MakePlan([]*inventory.Resource{fn, alias("prod", "", fn)}, Options{Trust: trust, NarrowToOrg: narrow})
		for _, a := range p.Actions {
			if a.After != "" {
				if _, err := policy.Parse([]byte(a.After)); err != nil {
					t.Fatalf("the planned policy does not parse: %v\n%s", err, a.After)
				}
			}
			for _, u := range a.Unresolved {
				if u.Reason == "" {
					t.Fatalf("unresolved without a reason: %+v", u)
				}
			}
		}
	})
}

// FuzzBackup: the backup reader never panics and accepts only what
// names a resource.
func FuzzBackup(f *testing.F) {
	f.Add([]byte(`{"format":"lambdawarden-backup","version":2,"resource":{"arn":"` + fnARN + `"},"policy":null,"changes":[],"calls":[]}`))
	f.Add([]byte(`{"format":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBackup("fuzz.json", data)
		if err == nil && b.Format != BackupFormat {
			t.Fatalf("accepted format %q", b.Format)
		}
	})
}
