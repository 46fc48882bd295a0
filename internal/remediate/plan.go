package remediate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Targets groups judged resources by the policy a fix would change. A
// resource that cannot be judged is returned as unknown.
func Targets(resources []*inventory.Resource, trust rules.Trust) ([]Target, []UnknownResource) {
	byARN := map[string]*Target{}
	var unknown []UnknownResource
	var known []*inventory.Resource
	for _, r := range resources {
		if why := r.UnknownReason(); why != "" {
			unknown = append(unknown, UnknownResource{ARN: r.ARN, Reason: why})
			continue
		}
		if _, err := rules.NewSubject(r, trust); err != nil {
			unknown = append(unknown, UnknownResource{ARN: r.ARN, Reason: "policy does not parse: " + err.Error()})
			continue
		}
		known = append(known, r)
		byARN[r.ARN] = &Target{Ref: RefOf(r), State: State{Policy: r.Policy, URL: r.URL}, Views: []*inventory.Resource{r}}
	}
	for _, r := range known {
		if r.Kind != inventory.KindAlias && r.Kind != inventory.KindVersion {
			continue
		}
		fn := RefOf(r).unqualified()
		t := byARN[fn.ARN]
		if t == nil {
			// The function itself was not judged (a report that lists only
			// the alias): its policy as the alias saw it is the target.
			t = &Target{Ref: fn, State: State{Policy: r.FunctionPolicy}}
			byARN[fn.ARN] = t
		}
		t.Views = append(t.Views, r)
	}
	out := make([]Target, 0, len(byARN))
	for _, t := range byARN {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.ARN < out[j].Ref.ARN })
	sort.Slice(unknown, func(i, j int) bool { return unknown[i].ARN < unknown[j].ARN })
	return out, unknown
}

// MakePlan plans every target built from the resources. Actions with
// nothing to do or report are left out.
func MakePlan(resources []*inventory.Resource, opt Options) *Plan {
	targets, unknown := Targets(resources, opt.Trust)
	p := &Plan{Unknown: unknown}
	unknownARN := map[string]bool{}
	for _, u := range unknown {
		unknownARN[u.ARN] = true
	}
	for _, t := range targets {
		a := PlanTarget(t, opt)
		if !a.HasWork() && len(a.Skipped) == 0 && len(a.Unresolved) == 0 {
			continue
		}
		if a.Target.Kind == inventory.KindFunction && len(a.Changes) > 0 {
			for _, u := range unknown {
				if strings.HasPrefix(u.ARN, a.Target.ARN+":") {
					a.Notes = append(a.Notes, u.ARN+" could not be assessed, so the effect of this change on it is not known.")
				}
			}
		}
		p.Actions = append(p.Actions, a)
	}
	return p
}

// views returns copies of the target's views carrying its state.
func (t Target) views() []*inventory.Resource {
	out := make([]*inventory.Resource, 0, len(t.Views))
	for _, v := range t.Views {
		c := *v
		if c.ARN == t.Ref.ARN {
			c.Policy, c.PolicyUnknown = t.State.Policy, ""
			if t.Ref.hasURL() {
				c.URL = t.State.URL
			}
		} else {
			c.FunctionPolicy, c.FunctionPolicyUnknown = t.State.Policy, ""
		}
		out = append(out, &c)
	}
	return out
}

// selected is a finding the plan answers, kept so the re-judged plan can
// tell whether it is gone: the view it is on, its rule, and the
// statement's index in the target's policy.
type selected struct {
	view, rule string
	index      int
	sid        string
	exposure   string
}

// PlanTarget plans the fix of one target from its state. It is pure: the
// same target and options give the same action.
func PlanTarget(t Target, opt Options) *Action {
	a := &Action{Target: t.Ref, state: t.State, opt: opt, Changes: []Change{}, Steps: []Step{}, Effects: []Effect{}}
	a.views = t.views()
	if t.State.Policy != nil {
		a.RevisionID = t.State.Policy.RevisionID
		doc, err := policy.Parse([]byte(t.State.Policy.Document))
		if err != nil {
			a.Skipped = append(a.Skipped, Skip{Resource: t.Ref.ARN, Index: -1, Reason: "the policy does not parse, so it is not changed: " + err.Error()})
			return a
		}
		lay, err := layoutOf([]byte(t.State.Policy.Document))
		if err != nil || len(lay.elems) != len(doc.Statements) {
			a.Skipped = append(a.Skipped, Skip{Resource: t.Ref.ARN, Index: -1, Reason: fmt.Sprintf("the policy's statements cannot be located for a byte-exact rewrite (%v)", err)})
			return a
		}
		a.doc, a.layout = doc, lay
	}

	before := map[string]*rules.Subject{}
	picked := map[int][]FindingRef{}
	forURL := map[int]bool{}
	var sel []selected
	var urlFindings []FindingRef
	urlSkip := ""
	for _, v := range a.views {
		subj, err := rules.NewSubject(v, opt.Trust)
		if err != nil {
			a.Notes = append(a.Notes, v.ARN+" cannot be judged: "+err.Error())
			continue
		}
		before[v.ARN] = subj
		own := v.ARN == t.Ref.ARN
		for _, r := range rules.All() {
			for _, f := range r.Findings(subj) {
				if !opt.Filter.Match(v.ARN, f) {
					continue
				}
				ref := FindingRef{Resource: v.ARN, RuleID: f.RuleID, Severity: f.Severity.String(), Exposure: f.Exposure, Explanation: f.Explanation}
				if f.RuleID == RuleURL && own && v.URL != nil && strings.EqualFold(v.URL.AuthType, "NONE") {
					switch {
					case !opt.URLAuthIAM:
						if urlSkip == "" {
							urlSkip = "the function URL keeps AuthType NONE: switching it to AWS_IAM breaks unsigned callers, so it is only reported (pass --url-auth aws-iam to switch it)"
							a.Skipped = append(a.Skipped, Skip{Resource: v.ARN, RuleID: f.RuleID, Index: -1, Reason: urlSkip})
						}
					case opt.Only == nil || opt.Only(Candidate{Target: t.Ref, View: v.ARN, Finding: f, URL: true}):
						urlFindings = append(urlFindings, ref)
					}
				}
				inherited := f.Statement.Policy == "function"
				if inherited == own {
					continue // the statement lives in another target's policy
				}
				idx := f.Statement.Index
				if a.doc == nil || idx < 0 || idx >= len(a.doc.Statements) || a.doc.Statements[idx].Sid != f.Statement.Sid {
					why := fmt.Sprintf("finding %s on %s names statement %d (Sid %q), which is not in the policy as read; it is left alone", f.RuleID, v.ARN, idx, f.Statement.Sid)
					a.Notes = append(a.Notes, why)
					a.Unresolved = append(a.Unresolved, Unresolved{Resource: v.ARN, RuleID: f.RuleID, Exposure: f.Exposure, Sid: f.Statement.Sid, Index: idx, Reason: why})
					continue
				}
				st := a.doc.Statements[idx]
				c := Candidate{Target: t.Ref, View: v.ARN, Finding: f, Sid: st.Sid, Index: idx, Raw: compact(st.Raw)}
				if opt.Only != nil && !opt.Only(c) {
					continue
				}
				sel = append(sel, selected{view: v.ARN, rule: f.RuleID, index: idx, sid: st.Sid, exposure: f.Exposure})
				if f.RuleID == RuleURL && !opt.URLAuthIAM {
					// Without the switch the URL rule's findings are
					// reports; the same statements are still changed when
					// lambda-public-access flags them.
					continue
				}
				picked[idx] = appendFinding(picked[idx], ref)
				if f.RuleID == RuleURL {
					forURL[idx] = true
				}
			}
		}
	}
	if len(urlFindings) > 0 {
		a.URL = &URLChange{From: "NONE", To: "AWS_IAM", Impact: urlImpact(), Findings: urlFindings}
		if t.State.URL != nil {
			a.URL.URL = t.State.URL.URL
		}
	}

	pend := a.treatments(picked, forURL, before)
	after, origIndex := a.settle(pend, before)
	a.findUnresolved(sel, after, origIndex, urlSkip)
	return a
}

func appendFinding(list []FindingRef, f FindingRef) []FindingRef {
	for _, x := range list {
		if x.Resource == f.Resource && x.RuleID == f.RuleID {
			return list
		}
	}
	return append(list, f)
}

// grantOf returns the verdict on statement index of the target's policy
// for a view (nil when the statement grants it nothing).
func grantOf(s *rules.Subject, index int, inherited bool) *policy.Grant {
	if s == nil || s.Result == nil {
		return nil
	}
	for _, g := range s.Result.Grants {
		if g.Inherited == inherited && g.Statement.Index == index {
			return g
		}
	}
	return nil
}

// findUnresolved re-runs the rules on the planned state and lists every
// selected finding that is still there, with the reason the plan gives
// for its statement.
func (a *Action) findUnresolved(sel []selected, after map[string]*rules.Subject, origIndex map[int]int, urlSkip string) {
	want := map[string]selected{}
	for _, s := range sel {
		want[s.view+"\x00"+s.rule+"\x00"+fmt.Sprint(s.index)] = s
	}
	reasons := map[int]string{}
	for _, s := range a.Skipped {
		if s.Index >= 0 && reasons[s.Index] == "" {
			reasons[s.Index] = s.Reason
		}
	}
	seen := map[string]bool{}
	for _, v := range a.views {
		subj := after[v.ARN]
		if subj == nil {
			continue
		}
		own := v.ARN == a.Target.ARN
		for _, r := range rules.All() {
			for _, f := range r.Findings(subj) {
				if f.Statement == nil || (f.Statement.Policy == "function") == own || !a.opt.Filter.Match(v.ARN, f) {
					continue
				}
				orig, ok := origIndex[f.Statement.Index]
				if !ok {
					continue
				}
				key := v.ARN + "\x00" + f.RuleID + "\x00" + fmt.Sprint(orig)
				s, ok := want[key]
				if !ok || seen[key] {
					continue
				}
				seen[key] = true
				why := reasons[orig]
				switch {
				case why != "":
				case f.RuleID == RuleURL && urlSkip != "":
					why = urlSkip
				default:
					why = "the planned change leaves it " + f.Exposure
				}
				a.Unresolved = append(a.Unresolved, Unresolved{Resource: v.ARN, RuleID: f.RuleID, Exposure: f.Exposure, Sid: s.sid, Index: orig, Reason: why})
			}
		}
	}
	sort.SliceStable(a.Unresolved, func(i, j int) bool {
		x, y := a.Unresolved[i], a.Unresolved[j]
		if x.Resource != y.Resource {
			return x.Resource < y.Resource
		}
		return x.Index < y.Index
	})
}
