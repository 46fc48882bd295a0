package fixdoc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

const fnARN = "arn:aws:lambda:us-east-1:111122223333:function:intake"

// mixedPlan has one statement the plan removes and one it cannot close:
// an org grant for the function (its Deny) that its alias inherits
// without the Deny, and that no narrowing can fix.
func mixedPlan(t *testing.T) (*remediate.Plan, []*inventory.Resource) {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"debug","Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Resource":"` + fnARN + `"},` +
		`{"Sid":"everything","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","NotResource":"arn:aws:lambda:us-east-1:111122223333:function:other","Condition":{"StringLike":{"aws:PrincipalOrgID":"o-*"}}},` +
		`{"Sid":"deny","Effect":"Deny","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fnARN + `","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}]}`
	fn := &inventory.Resource{ARN: fnARN, Kind: inventory.KindFunction, Account: "111122223333", Region: "us-east-1", Name: "intake",
		Policy: &inventory.Policy{Document: doc, RevisionID: "rev-1"}}
	prod := &inventory.Resource{ARN: fnARN + ":prod", Kind: inventory.KindAlias, Account: "111122223333", Region: "us-east-1", Name: "intake", Qualifier: "prod", FunctionPolicy: fn.Policy}
	resources := []*inventory.Resource{fn, prod}
	return remediate.MakePlan(resources, remediate.Options{Trust: rules.Trust{OrgID: "o-abc123def4"}}), resources
}

// TestUnresolvedSurvivesTheReplan: at apply time a resource is
// re-planned on a fresh read, limited to what the reviewed plan changed;
// the exposures that plan could not close must still be reported (and
// make fix exit 1).
func TestUnresolvedSurvivesTheReplan(t *testing.T) {
	plan, resources := mixedPlan(t)
	if len(plan.Actions) != 1 || len(plan.Actions[0].Changes) != 1 || len(plan.Unresolved()) == 0 {
		t.Fatalf("want one change and an unresolved exposure, got %+v / %+v", plan.Actions, plan.Unresolved())
	}
	d := New(plan, report.Tool{Name: "lambdawarden"}, nil, ModeApply)
	if d.Summary.Unresolved == 0 || len(d.Unresolved) != d.Summary.Unresolved {
		t.Fatalf("summary %+v, unresolved %+v", d.Summary, d.Unresolved)
	}
	a := plan.Actions[0]
	replanned := remediate.PlanTarget(remediate.Target{Ref: a.Target, State: a.State(), Views: resources},
		remediate.Options{Trust: rules.Trust{OrgID: "o-abc123def4"}, Only: a.Keys()})
	if len(replanned.Unresolved) != 0 {
		t.Fatalf("the keyed re-plan looks at the changed statement only: %+v", replanned.Unresolved)
	}
	sum := &remediate.Summary{Applied: 1, Results: []*remediate.Result{{Target: a.Target, Status: remediate.Applied, Action: replanned, Calls: []string{}}}}
	d.Attach(sum)
	if d.Summary.Unresolved == 0 {
		t.Fatal("the re-plan hid what the plan could not close")
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Unresolved []remediate.Unresolved `json:"unresolved"`
		Summary    struct {
			Unresolved int `json:"unresolved"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Unresolved) == 0 || back.Summary.Unresolved != len(back.Unresolved) {
		t.Errorf("JSON unresolved %+v (%v)", back, err)
	}
	var text bytes.Buffer
	WritePlan(&text, d, "dir")
	if !strings.Contains(text.String(), "Could not be closed (fix exits 1):") || !strings.Contains(text.String(), fnARN+":prod") {
		t.Errorf("the text plan must list what it cannot close:\n%s", text.String())
	}
}

// TestTextIsInert: what comes from AWS cannot drive the terminal.
func TestTextIsInert(t *testing.T) {
	if got := inert("a\x1b[31mred\r\nb"); strings.ContainsAny(got, "\x1b\r\n") {
		t.Errorf("control characters pass through: %q", got)
	}
	if got := inert(strings.Repeat("x", 3*textCap)); len(got) > textCap+64 || !strings.Contains(got, "more bytes") {
		t.Errorf("a long value is not cut: %d bytes", len(got))
	}
}

// TestJSONListsEveryAttempt: after a 412 re-plan, fix's JSON lists every
// attempt's changes, not only the last (issue 10 item 10).
func TestJSONListsEveryAttempt(t *testing.T) {
	plan, _ := mixedPlan(t)
	a := plan.Actions[0]
	d := New(plan, report.Tool{Name: "lambdawarden"}, nil, ModeApply)
	res := &remediate.Result{Target: a.Target, Status: remediate.Applied, Action: a, Calls: []string{"c1", "c2"}, Attempts: []remediate.Attempt{
		{Attempt: 1, RevisionID: "rev-1", Changes: a.Changes, Planned: a.Steps, Calls: []string{"c1"}, Outcome: "the policy was changed by someone else during the fix: PutResourcePolicy answered 412 PreconditionFailed"},
		{Attempt: 2, RevisionID: "rev-2", Changes: a.Changes, Planned: a.Steps, Calls: []string{"c2"}, Outcome: "applied"},
	}}
	d.Attach(&remediate.Summary{Applied: 1, Results: []*remediate.Result{res}})
	var b bytes.Buffer
	if err := WriteJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Actions []struct {
			Result struct {
				Attempts []struct {
					Attempt int               `json:"attempt"`
					Changes []json.RawMessage `json:"changes"`
					Outcome string            `json:"outcome"`
				} `json:"attempts"`
			} `json:"result"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	at := back.Actions[0].Result.Attempts
	if len(at) != 2 || len(at[0].Changes) == 0 || len(at[1].Changes) == 0 || !strings.Contains(at[0].Outcome, "412") {
		t.Errorf("attempts in the JSON: %+v", at)
	}
}
