package remediate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// RuleURL is the rule whose findings a function URL switch fixes.
const RuleURL = "lambda-public-function-url"

// Filter selects the findings to act on. The zero value selects every
// finding a fix exists for: a statement that grants public,
// cross-account or service-unscoped access.
type Filter struct {
	// Rules limits the plan to these rule ids.
	Rules []string
	// MinSeverity drops findings below it.
	MinSeverity finding.Severity
	// Resources are ARN patterns (* and ?) the flagged resource must match.
	Resources []string
	// Exposures limits the plan to these classes (public, cross-account,
	// service-unscoped).
	Exposures []string
}

// Match reports whether the filter selects a finding on the resource
// named view.
func (f *Filter) Match(view string, fd finding.Finding) bool {
	if fd.Suppressed || !fixable(fd) {
		return false
	}
	if len(f.Rules) > 0 && !contains(f.Rules, fd.RuleID) {
		return false
	}
	if fd.Severity < f.MinSeverity {
		return false
	}
	if len(f.Exposures) > 0 && !contains(f.Exposures, fd.Exposure) {
		return false
	}
	if len(f.Resources) > 0 {
		ok := false
		for _, p := range f.Resources {
			if Glob(p, view) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// fixable reports whether a finding rests on a statement whose grant is
// outside the trust boundary: the only findings fix changes anything for.
func fixable(fd finding.Finding) bool {
	if fd.Statement == nil {
		return false
	}
	c, err := policy.ParseClass(fd.Exposure)
	return err == nil && c.Exposed()
}

// OnlyReported limits a plan to the findings of a saved report, keyed by
// the ARN of the resource they are on: same rule, same policy, and the
// same statement (by Sid, or by index when it has none). A statement that
// the report did not flag is never acted on, even if it is flagged now.
func OnlyReported(flagged map[string][]finding.Finding) func(Candidate) bool {
	return func(c Candidate) bool {
		for _, f := range flagged[c.View] {
			if f.RuleID != c.Finding.RuleID {
				continue
			}
			if c.URL {
				return true
			}
			if f.Statement == nil || c.Finding.Statement == nil || f.Statement.Policy != c.Finding.Statement.Policy {
				continue
			}
			if f.Statement.Sid != "" {
				if f.Statement.Sid == c.Sid {
					return true
				}
				continue
			}
			if f.Statement.Index == c.Index {
				return true
			}
		}
		return false
	}
}

// Glob matches an ARN against a pattern where * matches any run of
// characters and ? any one character.
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Options configure planning.
type Options struct {
	Trust  rules.Trust
	Filter Filter
	// NarrowToOrg adds StringEquals aws:PrincipalOrgID Trust.OrgID to a
	// flagged grant to everyone instead of removing it.
	NarrowToOrg bool
	// NarrowToAccount adds StringEquals AWS:SourceAccount (the owner) to a
	// flagged grant to everyone or to a service instead of removing it.
	NarrowToAccount bool
	// URLAuthIAM switches function URLs with AuthType NONE and a public
	// grant to AWS_IAM. Without it such URLs are only reported, because
	// the switch breaks unsigned callers.
	URLAuthIAM bool
	// Only, when set, further limits the plan: at apply time to what the
	// reviewed plan showed; with a saved report to what it flagged.
	Only func(Candidate) bool
}

// Candidate is one thing the planner could change: a flagged statement in
// the target's policy, or the target's function URL auth type.
type Candidate struct {
	Target Ref
	// View is the ARN of the resource the finding is on (an alias, for a
	// statement inherited from its function's policy).
	View    string
	Finding finding.Finding
	// URL is true for the function URL switch; otherwise Sid, Index and
	// Raw (compacted) name the statement.
	URL   bool
	Sid   string
	Index int
	Raw   string
}

// ChangeKind is what happens to a statement.
type ChangeKind string

// Change kinds.
const (
	Remove ChangeKind = "remove"
	Narrow ChangeKind = "narrow"
)

// FindingRef is a finding a change answers.
type FindingRef struct {
	Resource    string `json:"resource"`
	RuleID      string `json:"rule_id"`
	Severity    string `json:"severity"`
	Exposure    string `json:"exposure"`
	Explanation string `json:"explanation"`
}

// Change is what happens to one statement of the target's policy.
type Change struct {
	Kind  ChangeKind `json:"change"`
	Sid   string     `json:"sid"`
	Index int        `json:"index"`
	// Statement is the statement as read; Replacement the narrowed one.
	Statement   json.RawMessage `json:"statement"`
	Replacement json.RawMessage `json:"replacement,omitempty"`
	Findings    []FindingRef    `json:"findings"`
	// Note says why the change differs from what was asked (narrowing
	// that could not be done, for example).
	Note string `json:"note,omitempty"`
}

// URLChange is a function URL auth type switch.
type URLChange struct {
	URL      string       `json:"url,omitempty"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Findings []FindingRef `json:"findings"`
}

// Op names an API call.
type Op string

// The write calls a plan can make.
const (
	OpRemovePermission             Op = "RemovePermission"
	OpRemoveLayerVersionPermission Op = "RemoveLayerVersionPermission"
	OpPutResourcePolicy            Op = "PutResourcePolicy"
	OpDeleteResourcePolicy         Op = "DeleteResourcePolicy"
	OpUpdateFunctionURLConfig      Op = "UpdateFunctionUrlConfig"
	OpAddPermission                Op = "AddPermission"
	OpAddLayerVersionPermission    Op = "AddLayerVersionPermission"
)

// Step is one API call of a plan, with its AWS CLI equivalent.
type Step struct {
	Op       Op     `json:"api"`
	Sid      string `json:"sid,omitempty"`
	Document string `json:"policy,omitempty"`
	AuthType string `json:"auth_type,omitempty"`
	CLI      string `json:"cli"`
}

// Effect is a resource's exposure before and after the action, computed
// by the engine on the planned policy.
type Effect struct {
	Resource string         `json:"resource"`
	Kind     inventory.Kind `json:"kind"`
	Before   string         `json:"before"`
	After    string         `json:"after"`
}

// Skip is a selected finding the plan does not act on, and why.
type Skip struct {
	Resource string `json:"resource"`
	RuleID   string `json:"rule_id,omitempty"`
	Sid      string `json:"sid,omitempty"`
	Index    int    `json:"index"`
	Reason   string `json:"reason"`
}

// Action is the plan for one policy-bearing resource.
type Action struct {
	Target     Ref    `json:"target"`
	RevisionID string `json:"revision_id,omitempty"`
	// After is the planned policy document when it is rewritten with
	// PutResourcePolicy; Deleted is true when no statement is left.
	After   string     `json:"after_policy,omitempty"`
	Deleted bool       `json:"policy_deleted,omitempty"`
	Changes []Change   `json:"changes"`
	URL     *URLChange `json:"url,omitempty"`
	Steps   []Step     `json:"calls"`
	Effects []Effect   `json:"exposure"`
	Skipped []Skip     `json:"not_changed,omitempty"`
	Notes   []string   `json:"notes,omitempty"`
	Kept    int        `json:"statements_kept"`
	state   State      // what the plan was made from
	views   []*inventory.Resource
	layout  *docLayout
	doc     *policy.Document
	opt     Options
}

// HasWork reports whether the action calls any write API.
func (a *Action) HasWork() bool { return len(a.Steps) > 0 }

// State returns what the action was planned from.
func (a *Action) State() State { return a.state }

// Target is one policy-bearing resource with the resources whose verdict
// rests on its policy: itself, and for an unqualified function its
// aliases and versions, which inherit its matching Allow statements.
type Target struct {
	Ref   Ref
	State State
	// Views are the judged resources. The one whose ARN is Ref.ARN takes
	// State as its own policy and URL; the others take State.Policy as
	// their FunctionPolicy.
	Views []*inventory.Resource
}

// UnknownResource is a resource that could not be assessed; fix never
// touches it.
type UnknownResource struct {
	ARN    string `json:"arn"`
	Reason string `json:"reason"`
}

// Plan is every action, in ARN order, and the resources left alone
// because they could not be assessed.
type Plan struct {
	Actions []*Action
	Unknown []UnknownResource
}

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
		if !a.HasWork() && len(a.Skipped) == 0 {
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
	var urlFindings []FindingRef
	urlSkipped := false
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
						if !urlSkipped {
							urlSkipped = true
							a.Skipped = append(a.Skipped, Skip{Resource: v.ARN, RuleID: f.RuleID, Index: -1,
								Reason: "the function URL keeps AuthType NONE: switching it to AWS_IAM breaks unsigned callers, so it is only reported (pass --url-auth aws-iam to switch it)"})
						}
					case opt.Only == nil || opt.Only(Candidate{Target: t.Ref, View: v.ARN, Finding: f, URL: true}):
						urlFindings = append(urlFindings, ref)
					}
				}
				if f.RuleID == RuleURL && !opt.URLAuthIAM {
					// Without the switch the URL rule's findings are
					// reports; the same statements are still removed when
					// lambda-public-access flags them.
					continue
				}
				inherited := f.Statement.Policy == "function"
				if inherited == own {
					continue // the statement lives in another target's policy
				}
				idx := f.Statement.Index
				if a.doc == nil || idx < 0 || idx >= len(a.doc.Statements) || a.doc.Statements[idx].Sid != f.Statement.Sid {
					a.Notes = append(a.Notes, fmt.Sprintf("finding %s on %s names statement %d (Sid %q), which is not in the policy as read; it is left alone", f.RuleID, v.ARN, idx, f.Statement.Sid))
					continue
				}
				st := a.doc.Statements[idx]
				c := Candidate{Target: t.Ref, View: v.ARN, Finding: f, Sid: st.Sid, Index: idx, Raw: compact(st.Raw)}
				if opt.Only != nil && !opt.Only(c) {
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
		a.URL = &URLChange{From: "NONE", To: "AWS_IAM", Findings: urlFindings}
		if t.State.URL != nil {
			a.URL.URL = t.State.URL.URL
		}
	}

	changes := a.initialChanges(picked, forURL)
	a.settle(changes, before)
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

// initialChanges decides, per picked statement, whether it is narrowed
// or removed, before the engine checks the result.
func (a *Action) initialChanges(picked map[int][]FindingRef, forURL map[int]bool) map[int]*Change {
	changes := map[int]*Change{}
	sids := map[string]int{}
	if a.doc != nil {
		for _, st := range a.doc.Statements {
			sids[st.Sid]++
		}
	}
	for idx, fs := range picked {
		st := a.doc.Statements[idx]
		ch := &Change{Kind: Remove, Sid: st.Sid, Index: idx, Statement: append(json.RawMessage(nil), a.layout.raw(idx)...), Findings: fs}
		if a.Target.Kind == inventory.KindLayerVersion {
			if !addPermissionShaped(st) || sids[st.Sid] != 1 {
				a.Skipped = append(a.Skipped, Skip{Resource: a.Target.ARN, Sid: st.Sid, Index: idx,
					Reason: "a layer version's policy can only be changed statement by statement with remove-layer-version-permission, and this statement has no unique Sid"})
				continue
			}
			if a.opt.NarrowToOrg || a.opt.NarrowToAccount {
				ch.Note = "layer version statements are removed, not narrowed (Lambda has no call to rewrite a layer statement); share it again with add-layer-version-permission --organization-id if needed"
			}
			changes[idx] = ch
			continue
		}
		if forURL[idx] {
			// The grant exists for unsigned URL callers; once the URL
			// requires AWS_IAM it has no purpose, so it goes.
			if a.opt.NarrowToOrg || a.opt.NarrowToAccount {
				ch.Note = "removed, not narrowed: it is the public grant of a function URL being switched to AWS_IAM"
			}
			changes[idx] = ch
			continue
		}
		if key, val, why := a.narrowing(st); key != "" {
			repl, err := addCondition(a.layout.raw(idx), "StringEquals", key, val)
			if err != nil {
				ch.Note = "not narrowed (" + err.Error() + "); removed instead"
			} else {
				ch.Kind, ch.Replacement = Narrow, repl
			}
		} else if why != "" {
			ch.Note = why
		}
		changes[idx] = ch
	}
	return changes
}

// narrowing returns the condition to add to a statement instead of
// removing it, or why it cannot be narrowed when narrowing was asked for.
// Conditions narrow only grants to everyone or to a service: a grant to a
// named account is classed by that account alone.
func (a *Action) narrowing(st *policy.Statement) (key, value, why string) {
	if !a.opt.NarrowToOrg && !a.opt.NarrowToAccount {
		return "", "", ""
	}
	everyone := st.NotPrincipal != nil || st.Principal != nil && (st.Principal.Everyone || contains(st.Principal.AWS, "*"))
	service := st.Principal != nil && len(st.Principal.Service) > 0 && len(st.Principal.AWS) == 0 && !st.Principal.Everyone
	switch {
	case everyone && a.opt.NarrowToOrg && a.opt.Trust.OrgID != "":
		return "aws:PrincipalOrgID", a.opt.Trust.OrgID, ""
	case (everyone || service) && a.opt.NarrowToAccount:
		return "AWS:SourceAccount", a.Target.Account, ""
	case service:
		return "", "", "a service grant is narrowed only with --narrow-to-account (a service call carries no organization id); removed instead"
	case everyone:
		return "", "", "no organization id to narrow to; removed instead"
	}
	return "", "", "a grant to a named account or role cannot be narrowed by a condition (it is classed by the account alone); removed instead"
}

// settle rewrites the policy with the changes, re-judges every view on it,
// and adjusts until the result is safe: a narrowing that leaves the grant
// exposed becomes a removal, and a removal that would take away a grant
// that is private or organization-only for some view is dropped.
func (a *Action) settle(changes map[int]*Change, before map[string]*rules.Subject) {
	var after map[string]*rules.Subject
	var newDoc []byte
	empty := false
	for round := 0; round < 4; round++ {
		remove, replace := map[int]bool{}, map[int][]byte{}
		for idx, ch := range changes {
			if ch.Kind == Remove {
				remove[idx] = true
			} else {
				replace[idx] = ch.Replacement
			}
		}
		newDoc, empty = nil, false
		if a.layout != nil && len(changes) > 0 {
			newDoc, empty = a.layout.rewrite(remove, replace)
		}
		newIndex := map[int]int{}
		n := 0
		if a.doc != nil {
			for i := range a.doc.Statements {
				if !remove[i] {
					newIndex[i] = n
					n++
				}
			}
		}
		after = map[string]*rules.Subject{}
		stable := true
		for _, v := range a.views {
			subj, err := rules.NewSubject(a.afterView(v, changes, newDoc, empty), a.opt.Trust)
			if err != nil {
				// A narrowed statement that the engine cannot read is not
				// worth the risk: fall back to removing it.
				for _, ch := range changes {
					if ch.Kind == Narrow {
						ch.Kind, ch.Replacement, ch.Note = Remove, nil, "the narrowed statement does not parse ("+err.Error()+"); removed instead"
						stable = false
					}
				}
				break
			}
			after[v.ARN] = subj
			inherited := v.ARN != a.Target.ARN
			for idx, ch := range changes {
				if ch.Kind != Narrow {
					continue
				}
				for _, g := range subj.Result.Grants {
					if g.Inherited == inherited && g.Statement.Index == newIndex[idx] && g.Class.Exposed() {
						ch.Kind, ch.Replacement = Remove, nil
						ch.Note = fmt.Sprintf("narrowing leaves it %s for %s; removed instead", g.Class, v.ARN)
						stable = false
					}
				}
			}
		}
		for idx, ch := range changes {
			if ch.Kind != Remove {
				continue
			}
			for _, v := range a.views {
				subj := before[v.ARN]
				if subj == nil {
					continue
				}
				inherited := v.ARN != a.Target.ARN
				for _, g := range subj.Result.Grants {
					if g.Inherited == inherited && g.Statement.Index == idx && !g.Class.Exposed() && changes[idx] != nil {
						a.Skipped = append(a.Skipped, Skip{Resource: v.ARN, Sid: ch.Sid, Index: idx,
							Reason: fmt.Sprintf("the statement is a %s grant for %s; removing it would take away access that is not a finding (narrow it instead, or fix it by hand)", g.Class, v.ARN)})
						delete(changes, idx)
						stable = false
					}
				}
			}
		}
		if stable {
			break
		}
	}

	idxs := make([]int, 0, len(changes))
	for idx := range changes {
		idxs = append(idxs, idx)
	}
	sort.Ints(idxs)
	for _, idx := range idxs {
		a.Changes = append(a.Changes, *changes[idx])
	}
	if a.doc != nil {
		a.Kept = len(a.doc.Statements) - len(a.Changes)
	}
	a.steps(newDoc, empty)
	for _, v := range a.views {
		b, af := before[v.ARN], after[v.ARN]
		if b == nil || af == nil {
			continue
		}
		if v.ARN == a.Target.ARN || b.Result.Exposure != af.Result.Exposure {
			a.Effects = append(a.Effects, Effect{Resource: v.ARN, Kind: v.Kind, Before: b.Result.Exposure.String(), After: af.Result.Exposure.String()})
		}
	}
	if len(a.Steps) == 0 {
		a.Effects = []Effect{}
	}
}

// afterView is a view as it will be once the action is carried out.
func (a *Action) afterView(v *inventory.Resource, changes map[int]*Change, newDoc []byte, empty bool) *inventory.Resource {
	c := *v
	var pol *inventory.Policy
	switch {
	case len(changes) == 0:
		pol = a.state.Policy
	case !empty:
		p := *a.state.Policy
		p.Document = string(newDoc)
		pol = &p
	}
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
	return &c
}

// steps lists the calls: statement removals with RemovePermission when
// every removed statement has the shape AddPermission writes and a Sid no
// other statement shares (RemovePermission deletes by Sid); otherwise one
// PutResourcePolicy of the rewritten document, or DeleteResourcePolicy
// when nothing is left. Guarded policy writes come first and the URL
// switch, which takes no RevisionId, last: a concurrent change is then
// noticed before anything unguarded is done.
func (a *Action) steps(newDoc []byte, empty bool) {
	ref, rev := a.Target, a.RevisionID
	if len(a.Changes) > 0 {
		byPermission := a.state.Policy.Origin != inventory.OriginResourcePolicy
		sids := map[string]int{}
		for _, st := range a.doc.Statements {
			sids[st.Sid]++
		}
		for _, ch := range a.Changes {
			st := a.doc.Statements[ch.Index]
			if ch.Kind != Remove || !addPermissionShaped(st) || sids[st.Sid] != 1 {
				byPermission = false
			}
		}
		if ref.Kind == inventory.KindLayerVersion {
			byPermission = true // initialChanges kept only removable statements
		}
		if byPermission {
			for i, ch := range a.Changes {
				r := rev
				cli := ""
				if i > 0 {
					r = ""
					cli = cliRemovePermission(ref, ch.Sid, "") + ` --revision-id "$(` + cliCurrentRevision(ref) + `)"`
				} else {
					cli = cliRemovePermission(ref, ch.Sid, r)
				}
				op := OpRemovePermission
				if ref.Kind == inventory.KindLayerVersion {
					op = OpRemoveLayerVersionPermission
				}
				a.Steps = append(a.Steps, Step{Op: op, Sid: ch.Sid, CLI: cli})
			}
		} else if empty {
			a.Deleted = true
			a.Steps = append(a.Steps, Step{Op: OpDeleteResourcePolicy, CLI: cliDeleteResourcePolicy(ref, rev)})
		} else {
			a.After = string(newDoc)
			a.Steps = append(a.Steps, Step{Op: OpPutResourcePolicy, Document: a.After, CLI: cliPutResourcePolicy(ref, a.After, rev)})
		}
	}
	if a.URL != nil {
		a.Steps = append(a.Steps, Step{Op: OpUpdateFunctionURLConfig, AuthType: a.URL.To, CLI: cliUpdateURL(ref, a.URL.To)})
	}
}

// cliCurrentRevision reads the RevisionId again: RemovePermission answers
// without one, so a second removal needs a fresh read.
func cliCurrentRevision(ref Ref) string {
	if ref.Kind == inventory.KindLayerVersion {
		return fmt.Sprintf("aws lambda get-layer-version-policy --layer-name %s --version-number %d --query RevisionId --output text%s", shellQuote(ref.Name), ref.LayerVersion, regionFlag(ref.Region))
	}
	return "aws lambda get-policy --function-name " + shellQuote(ref.Name) + qualifierFlag(ref.Qualifier) + " --query RevisionId --output text" + regionFlag(ref.Region)
}

// Keys returns a predicate that accepts exactly the candidates this
// action acts on, so a re-plan at apply time never does more than the
// reviewed plan showed: a statement is matched by Sid and by its exact
// (compacted) text, so one that changed since is left alone.
func (a *Action) Keys() func(Candidate) bool {
	stmts := map[string]bool{}
	for _, ch := range a.Changes {
		stmts[ch.Sid+"\x00"+compact(ch.Statement)] = true
	}
	url := a.URL != nil
	target := a.Target.ARN
	return func(c Candidate) bool {
		if c.Target.ARN != target {
			return false
		}
		if c.URL {
			return url
		}
		return stmts[c.Sid+"\x00"+c.Raw]
	}
}
