package remediate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// settle rewrites the policy with each statement's current treatment,
// re-judges every view on it, and moves a statement on to its next
// treatment while the current one leaves it exposed for some view or
// takes away a grant that is not a finding for some view. A statement
// with no treatment left is not changed, and the plan says why. It
// returns the views as judged on the final plan and, for each statement
// left in the planned policy, its index in the policy as read.
func (a *Action) settle(pend map[int]*picking, before map[string]*rules.Subject) (map[string]*rules.Subject, map[int]int) {
	rounds := 1
	for _, p := range pend {
		rounds += len(p.opts)
	}
	var (
		after     map[string]*rules.Subject
		newDoc    []byte
		empty     bool
		newIndex  map[int]int
		origIndex map[int]int
	)
	for round := 0; round < rounds; round++ {
		newDoc, empty, newIndex, origIndex = a.rewrite(pend)
		var failed map[int]string
		after, failed = a.judge(pend, newDoc, empty, newIndex, before)
		if len(failed) == 0 {
			break
		}
		idxs := make([]int, 0, len(failed))
		for idx := range failed {
			idxs = append(idxs, idx)
		}
		sort.Ints(idxs)
		for _, idx := range idxs {
			p := pend[idx]
			p.tried = append(p.tried, treatmentLabel(p.current())+" "+failed[idx])
			p.pos++
			if p.pos == len(p.opts) {
				why := append([]string(nil), p.tried...)
				if n := p.opts[len(p.opts)-1].note; n != "" {
					why = append(why, strings.TrimSuffix(n, "; removed instead"))
				}
				a.Skipped = append(a.Skipped, Skip{Resource: a.Target.ARN, Sid: p.base.Sid, Index: idx,
					Reason: "no change closes it without taking away access that is not a finding (" + strings.Join(why, "; ") + "); fix it by hand"})
				delete(pend, idx)
			}
		}
	}

	idxs := make([]int, 0, len(pend))
	for idx := range pend {
		idxs = append(idxs, idx)
	}
	sort.Ints(idxs)
	a.addPerm = map[int]Permission{}
	for _, idx := range idxs {
		p := pend[idx]
		t := p.current()
		ch := p.base
		ch.Kind, ch.How, ch.Impact = t.kind, t.how, t.impact
		if t.kind == Narrow {
			ch.Replacement = append([]byte(nil), t.repl...)
			if t.perm != nil {
				a.addPerm[idx] = *t.perm
			}
		}
		notes := append([]string(nil), p.tried...)
		if t.note != "" {
			notes = append(notes, t.note)
		}
		if len(p.tried) > 0 && t.kind == Remove {
			notes[len(p.tried)-1] += "; removed instead"
		}
		ch.Note = strings.Join(notes, "; ")
		a.Changes = append(a.Changes, ch)
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
	return after, origIndex
}

func treatmentLabel(t *treatment) string {
	if t.kind == Remove {
		return "removing it"
	}
	return "narrowing it (" + t.how + ")"
}

// rewrite is the planned document with every statement's current
// treatment, and the index maps between the policy as read and it.
func (a *Action) rewrite(pend map[int]*picking) (doc []byte, empty bool, newIndex, origIndex map[int]int) {
	remove, replace := map[int]bool{}, map[int][]byte{}
	for idx, p := range pend {
		if t := p.current(); t.kind == Remove {
			remove[idx] = true
		} else {
			replace[idx] = t.repl
		}
	}
	if a.layout != nil && len(pend) > 0 {
		doc, empty = a.layout.rewrite(remove, replace)
	}
	newIndex, origIndex = map[int]int{}, map[int]int{}
	if a.doc != nil {
		n := 0
		for i := range a.doc.Statements {
			if !remove[i] {
				newIndex[i], origIndex[n] = n, i
				n++
			}
		}
	}
	return doc, empty, newIndex, origIndex
}

// judge re-judges every view on the planned document and returns, per
// statement whose treatment is not acceptable, why.
func (a *Action) judge(pend map[int]*picking, newDoc []byte, empty bool, newIndex map[int]int, before map[string]*rules.Subject) (map[string]*rules.Subject, map[int]string) {
	after := map[string]*rules.Subject{}
	failed := map[int]string{}
	for _, v := range a.views {
		subj, err := rules.NewSubject(a.afterView(v, len(pend) > 0, newDoc, empty), a.opt.Trust)
		if err != nil {
			// A narrowed statement the engine cannot read is not worth
			// the risk: every narrowing moves on.
			for idx, p := range pend {
				if p.current().kind == Narrow {
					failed[idx] = "gives a policy that does not parse (" + err.Error() + ")"
				}
			}
			return after, failed
		}
		after[v.ARN] = subj
	}
	for idx, p := range pend {
		if why := a.reject(idx, p.current(), newIndex, before, after); why != "" {
			failed[idx] = why
		}
	}
	return after, failed
}

// reject says why a statement's treatment is not acceptable, or "".
func (a *Action) reject(idx int, t *treatment, newIndex map[int]int, before, after map[string]*rules.Subject) string {
	for _, v := range a.views {
		b, af := before[v.ARN], after[v.ARN]
		if b == nil || af == nil {
			continue
		}
		inherited := v.ARN != a.Target.ARN
		gb := grantOf(b, idx, inherited)
		var ga *policy.Grant
		if t.kind == Narrow {
			ga = grantOf(af, newIndex[idx], inherited)
		}
		if ga != nil && ga.Class.Exposed() {
			return fmt.Sprintf("leaves it %s for %s", ga.Class, v.ARN)
		}
		if gb != nil && gb.Class > policy.ClassNone && !gb.Class.Exposed() && (ga == nil || ga.Class != gb.Class) {
			return fmt.Sprintf("takes away the %s grant it gives %s", gb.Class, v.ARN)
		}
	}
	return ""
}

// afterView is a view as it will be once the action is carried out.
func (a *Action) afterView(v *inventory.Resource, changed bool, newDoc []byte, empty bool) *inventory.Resource {
	c := *v
	var pol *inventory.Policy
	switch {
	case !changed:
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
