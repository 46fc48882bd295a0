package remediate

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// fataler is what the helpers need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// plannedPolicy is the target's policy as it will be once the action is
// carried out, whichever calls it makes: the rewritten document, or for
// the statement-by-statement calls the policy without the removed
// statements and with the narrowed ones added at the end, as AddPermission
// does. Nil when no policy is left.
func plannedPolicy(t fataler, a *Action) *inventory.Policy {
	t.Helper()
	switch {
	case !a.HasWork():
		return a.state.Policy
	case a.Deleted:
		return nil
	case a.After != "":
		return &inventory.Policy{Document: a.After}
	case a.state.Policy == nil || len(a.Changes) == 0:
		return a.state.Policy
	}
	remove := map[int]bool{}
	var added [][]byte
	for _, c := range a.Changes {
		remove[c.Index] = true
		if c.Kind == Narrow {
			added = append(added, c.Replacement)
		}
	}
	doc, empty := a.layout.rewrite(remove, nil)
	if empty && len(added) == 0 {
		return nil
	}
	if empty {
		doc = []byte(`{"Version":"2012-10-17","Statement":[]}`)
	}
	for _, s := range added {
		lay, err := layoutOf(doc)
		if err != nil {
			t.Fatal(err)
		}
		doc = lay.insert(len(lay.elems), s)
	}
	return &inventory.Policy{Document: string(doc)}
}

// plannedState is every view of the action as it will be once the action
// is carried out.
func plannedState(t fataler, a *Action) []*inventory.Resource {
	t.Helper()
	pol := plannedPolicy(t, a)
	var out []*inventory.Resource
	for _, v := range a.views {
		c := *v
		if c.ARN == a.Target.ARN {
			c.Policy = pol
			if a.URL != nil && c.URL != nil {
				u := *c.URL
				u.AuthType = a.URL.To
				c.URL = &u
			}
		} else {
			c.FunctionPolicy = pol
		}
		out = append(out, &c)
	}
	return out
}

func exposureOf(t *testing.T, r *inventory.Resource) policy.Class {
	t.Helper()
	s, err := rules.NewSubject(r, trust)
	if err != nil {
		t.Fatalf("%s: %v", r.ARN, err)
	}
	return s.Result.Exposure
}

func version(v string, fn *inventory.Resource) *inventory.Resource {
	r := alias(v, "", fn)
	r.Kind = inventory.KindVersion
	return r
}

const denyOutsideOrg = `{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"lambda:*","Resource":["` + fnARN + `","` + fnARN + `:*"],"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`

// TestFixClosesWhatItReports is one case per defect of issue 10 items 7
// and 8: the plan closes each reported exposure with the least
// disruptive change, or lists it as unresolved with the reason.
func TestFixClosesWhatItReports(t *testing.T) {
	allowFnAndAliases := `{"Sid":"AllowInvoke","Effect":"Allow","Principal":"*","Action":["lambda:InvokeFunction","lambda:GetFunctionConfiguration"],"Resource":["` + fnARN + `","` + fnARN + `:*"]}`
	// Its loose organization test pins nothing, and stops the Deny's
	// limit from being written into it.
	looseOrg := `{"StringLike":{"aws:PrincipalOrgID":"o-*"}}`
	s3Unpinned := stmt("s3-uploads", `{"Service":"s3.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-scans-uploads"}}`)
	eventsUnpinned := stmt("nightly", `{"Service":"events.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, "")
	snsForeign := stmt("sns-foreign", `{"Service":"sns.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, `{"StringEquals":{"AWS:SourceAccount":"999988887777"}}`)
	notResource := `{"Sid":"everything","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","NotResource":"arn:aws:lambda:us-east-1:111122223333:function:other","Condition":` + looseOrg + `}`

	type want struct {
		kind       ChangeKind // of the one change; "" = no change
		ops        []Op
		replHas    []string // in the replacement
		impactHas  string
		unresolved int
	}
	cases := []struct {
		name  string
		fn    string
		orig  inventory.PolicyOrigin
		views func(fn *inventory.Resource) []*inventory.Resource
		opt   Options
		want  want
	}{
		{name: "function-level Allow * on function:NAME:* with a Deny outside the organization leaves aliases public",
			fn: doc(allowFnAndAliases, denyOutsideOrg),
			views: func(fn *inventory.Resource) []*inventory.Resource {
				return []*inventory.Resource{alias("prod", "", fn), version("1", fn)}
			},
			want: want{kind: Narrow, ops: []Op{OpPutResourcePolicy}, replHas: []string{`"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}`, fnARN + `:*`},
				impactHas: "the function itself keeps exactly the access it has today"}},
		{name: "the same with a Deny whose condition cannot be turned around narrows the Resource",
			fn: doc(stmt("allow", `"*"`, "lambda:InvokeFunction", fnARN+"*", looseOrg), denyOutsideOrg),
			views: func(fn *inventory.Resource) []*inventory.Resource {
				return []*inventory.Resource{alias("prod", "", fn)}
			},
			want: want{kind: Narrow, ops: []Op{OpPutResourcePolicy}, replHas: []string{`"Resource":"` + fnARN + `"`}, impactHas: "no longer covers " + fnARN + ":prod"}},
		{name: "an org grant for the function that nothing can narrow is unresolved, never removed",
			fn: doc(notResource, denyOutsideOrg),
			views: func(fn *inventory.Resource) []*inventory.Resource {
				return []*inventory.Resource{alias("prod", "", fn)}
			},
			want: want{unresolved: 1}},
		{name: "S3 grant without a pin is pinned to the owner with remove-permission + add-permission",
			fn:   doc(apigw, s3Unpinned),
			want: want{kind: Narrow, ops: []Op{OpRemovePermission, OpAddPermission}, replHas: []string{`"StringEquals":{"AWS:SourceAccount":"111122223333"}`, `"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-scans-uploads"}`}, impactHas: "S3 events from bucket phi-scans-uploads keep arriving; buckets of other accounts no longer can"}},
		{name: "EventBridge grant without any condition is pinned to the owner",
			fn:   doc(eventsUnpinned),
			want: want{kind: Narrow, ops: []Op{OpRemovePermission, OpAddPermission}, replHas: []string{`"AWS:SourceAccount":"111122223333"`}, impactHas: "EventBridge events from account 111122223333 keep arriving"}},
		{name: "service grant in a full JSON policy is pinned with put-resource-policy, keeping its SourceArn",
			fn: doc(apigw, s3Unpinned), orig: inventory.OriginResourcePolicy,
			want: want{kind: Narrow, ops: []Op{OpPutResourcePolicy}, replHas: []string{`"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-scans-uploads"}`, `"StringEquals":{"AWS:SourceAccount":"111122223333"}`}}},
		{name: "a grant to everyone limited by an S3 source is a trigger too and is pinned, not removed",
			fn:   doc(apigw, stmt("s3-star", `"*"`, "lambda:InvokeFunction", fnARN, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-scans-uploads"}}`)),
			want: want{kind: Narrow, ops: []Op{OpRemovePermission, OpAddPermission}, replHas: []string{`"AWS:SourceAccount":"111122223333"`}, impactHas: "S3 events from bucket phi-scans-uploads keep arriving"}},
		{name: "--remove removes the service grant",
			fn: doc(apigw, s3Unpinned), opt: Options{Remove: true},
			want: want{kind: Remove, ops: []Op{OpRemovePermission}, impactHas: "stop invoking it"}},
		{name: "a public grant is removed, not narrowed, by default",
			fn:   doc(apigw, public),
			want: want{kind: Remove, ops: []Op{OpRemovePermission}, impactHas: "can no longer call lambda:InvokeFunction"}},
		{name: "a named account is removed even when narrowing is asked for",
			fn: doc(apigw, partner), opt: Options{NarrowToOrg: true, NarrowToAccount: true},
			want: want{kind: Remove, ops: []Op{OpRemovePermission}, impactHas: "444455556666 can no longer call"}},
		{name: "a service grant pinned to a foreign account is removed: it cannot be pinned twice",
			fn:   doc(apigw, snsForeign),
			want: want{kind: Remove, ops: []Op{OpRemovePermission}}},
		{name: "a service grant whose source is in another account is removed: pinning it to the owner would stop it anyway",
			fn:   doc(apigw, stmt("foreign-topic", `{"Service":"sns.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, `{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:999988887777:alerts"}}`)),
			want: want{kind: Remove, ops: []Op{OpRemovePermission}, impactHas: "SNS notifications from topic alerts stop invoking it"}},
		{name: "--narrow-to-org keeps a public grant for the organization",
			fn: doc(apigw, public), opt: Options{NarrowToOrg: true},
			want: want{kind: Narrow, ops: []Op{OpRemovePermission, OpAddPermission}, replHas: []string{`"aws:PrincipalOrgID":"o-abc123def4"`}, impactHas: "members of the organization keep access"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fn := function(c.fn)
			fn.Policy.Origin = c.orig
			resources := []*inventory.Resource{fn}
			if c.views != nil {
				resources = append(resources, c.views(fn)...)
			}
			opt := c.opt
			opt.Trust = trust
			p := MakePlan(resources, opt)
			if len(p.Actions) != 1 {
				t.Fatalf("want one action, got %d", len(p.Actions))
			}
			a := p.Actions[0]
			if got := len(p.Unresolved()); got != c.want.unresolved {
				t.Fatalf("unresolved %+v, want %d", p.Unresolved(), c.want.unresolved)
			}
			for _, u := range a.Unresolved {
				if u.Reason == "" || u.Exposure == "" {
					t.Errorf("an unresolved exposure must say what and why: %+v", u)
				}
			}
			if c.want.kind == "" {
				if a.HasWork() {
					t.Fatalf("want no change, got %+v", a.Changes)
				}
				return
			}
			var ch *Change
			for i := range a.Changes {
				if a.Changes[i].Sid != "apigw" {
					ch = &a.Changes[i]
				}
			}
			if len(a.Changes) != 1 || ch == nil || ch.Kind != c.want.kind {
				t.Fatalf("changes %+v, want one %s", a.Changes, c.want.kind)
			}
			var ops []Op
			for _, s := range a.Steps {
				ops = append(ops, s.Op)
			}
			if strings.Join(opNames(ops), ",") != strings.Join(opNames(c.want.ops), ",") {
				t.Errorf("calls %v, want %v", ops, c.want.ops)
			}
			if !strings.Contains(a.Steps[0].CLI, "--revision-id rev-1") {
				t.Errorf("the first call is not guarded by the RevisionId read: %s", a.Steps[0].CLI)
			}
			for _, h := range c.want.replHas {
				if !strings.Contains(string(ch.Replacement), h) {
					t.Errorf("replacement %s lacks %s", ch.Replacement, h)
				}
			}
			if ch.Impact == "" || !strings.Contains(ch.Impact, c.want.impactHas) {
				t.Errorf("impact %q, want it to say %q", ch.Impact, c.want.impactHas)
			}
			before := map[string]policy.Class{}
			for _, r := range resources {
				before[r.ARN] = exposureOf(t, r)
			}
			for _, r := range plannedState(t, a) {
				after := exposureOf(t, r)
				if after.Exposed() {
					t.Errorf("%s is still %s after the plan", r.ARN, after)
				}
				if b := before[r.ARN]; !b.Exposed() && after != b {
					t.Errorf("%s was %s and would become %s: the fix takes away access that is not a finding", r.ARN, b, after)
				}
			}
			if strings.Contains(c.fn, `"Sid":"apigw"`) && !strings.Contains(a.After+plannedDoc(t, a), apigw) {
				t.Error("the untouched statement changed")
			}
		})
	}
}

func plannedDoc(t *testing.T, a *Action) string {
	for _, r := range plannedState(t, a) {
		if r.ARN == a.Target.ARN && r.Policy != nil {
			return r.Policy.Document
		}
	}
	return ""
}

func opNames(ops []Op) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = string(o)
	}
	return out
}

// TestLayerStatementWithoutSidIsUnresolved: a layer statement can only be
// removed by Sid; without one the plan cannot close it and says so.
func TestLayerStatementWithoutSidIsUnresolved(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:111122223333:layer:libs:3"
	r := &inventory.Resource{ARN: arn, Kind: inventory.KindLayerVersion, Account: owner, Region: "us-east-1", Name: "libs", Qualifier: "3", LayerVersion: 3,
		Policy: &inventory.Policy{Document: doc(`{"Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"` + arn + `"}`), RevisionID: "rev-l"}}
	p := MakePlan([]*inventory.Resource{r}, Options{Trust: trust})
	u := p.Unresolved()
	if len(u) != 1 || u[0].Resource != arn || !strings.Contains(u[0].Reason, "no unique Sid") {
		t.Fatalf("unresolved %+v", u)
	}
}
