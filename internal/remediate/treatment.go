package remediate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// A flagged statement can be closed in several ways. The planner lists
// them least disruptive first and keeps the first one that the engine,
// re-judging every resource the statement reaches, finds both closed (no
// view left exposed) and harmless (no view loses a grant that was not a
// finding). Removal is always last: it is what is left when no narrowing
// closes the exposure.

// treatment is one way to change a statement.
type treatment struct {
	kind ChangeKind
	// repl is the narrowed statement; nil for a removal.
	repl []byte
	// perm is set when repl is exactly what AddPermission writes for
	// perm, so the narrowing can be made with remove-permission +
	// add-permission on a policy Lambda cannot edit in place.
	perm   *Permission
	how    string
	impact string
	note   string
}

// picking is a picked statement with the ways it can be changed and
// which one is being tried.
type picking struct {
	base  Change
	opts  []treatment
	pos   int
	tried []string // why earlier treatments were not kept
}

func (p *picking) current() *treatment { return &p.opts[p.pos] }

// treatments lists, per picked statement, the ways to change it.
func (a *Action) treatments(picked map[int][]FindingRef, forURL map[int]bool, before map[string]*rules.Subject) map[int]*picking {
	out := map[int]*picking{}
	sids := map[string]int{}
	if a.doc != nil {
		for _, st := range a.doc.Statements {
			sids[st.Sid]++
		}
	}
	narrowAsked := a.opt.NarrowToOrg || a.opt.NarrowToAccount
	for idx, fs := range picked {
		st := a.doc.Statements[idx]
		raw := a.layout.raw(idx)
		base := Change{Kind: Remove, Sid: st.Sid, Index: idx, Statement: append(json.RawMessage(nil), raw...), Findings: fs}
		remove := treatment{kind: Remove, impact: a.removeImpact(st, before)}
		p := &picking{base: base}
		switch {
		case a.Target.Kind == inventory.KindLayerVersion:
			if !addPermissionShaped(st) || sids[st.Sid] != 1 {
				a.Skipped = append(a.Skipped, Skip{Resource: a.Target.ARN, Sid: st.Sid, Index: idx,
					Reason: "a layer version's policy can only be changed statement by statement with remove-layer-version-permission, and this statement has no unique Sid"})
				continue
			}
			if narrowAsked {
				remove.note = "layer version statements are removed, not narrowed (Lambda has no call to rewrite a layer statement); share it again with add-layer-version-permission --organization-id if needed"
			}
			p.opts = []treatment{remove}
		case forURL[idx]:
			// The grant exists for unsigned URL callers; once the URL
			// requires AWS_IAM it has no purpose, so it goes.
			if narrowAsked {
				remove.note = "removed, not narrowed: it is the public grant of a function URL being switched to AWS_IAM"
			}
			p.opts = []treatment{remove}
		default:
			var notes []string
			p.opts, notes = a.narrowings(st, raw, before)
			if len(notes) > 0 {
				remove.note = strings.Join(notes, "; ") + "; removed instead"
			}
			p.opts = append(p.opts, remove)
		}
		out[idx] = p
	}
	return out
}

// narrowings lists the narrowed forms of a statement worth trying, and
// notes on the narrowings asked for that cannot be made.
func (a *Action) narrowings(st *policy.Statement, raw []byte, before map[string]*rules.Subject) ([]treatment, []string) {
	var out []treatment
	var notes []string
	add := func(t treatment, err error) {
		if err != nil {
			notes = append(notes, "not narrowed ("+err.Error()+")")
			return
		}
		out = append(out, t)
	}
	// A Deny of the same policy already limits the statement for the
	// resources it covers (the unqualified function, typically), but
	// Denies do not reach aliases and versions, which inherit the Allow
	// alone. Writing the Deny's limit into the Allow closes those and
	// changes nothing for the function.
	seen := map[string]bool{}
	for _, v := range a.views {
		g := grantOf(before[v.ARN], st.Index, v.ARN != a.Target.ARN)
		if g == nil || g.NarrowedBy == nil || seen[g.NarrowedBy.Sid+fmt.Sprint(g.NarrowedBy.Index)] {
			continue
		}
		seen[g.NarrowedBy.Sid+fmt.Sprint(g.NarrowedBy.Index)] = true
		if op, key, vals, ok := positivePin(g.NarrowedBy); ok {
			t, err := a.withCondition(st, raw, op, key, vals)
			if err == nil {
				t.how = fmt.Sprintf("adds %s %s %s, the limit Deny %s already puts on %s", op, key, strings.Join(vals, ", "), stmtWhat(g.NarrowedBy.Sid, g.NarrowedBy.Index), v.ARN)
				t.impact = denyPinImpact(op, key, vals, a.inheritingViews())
			}
			add(t, err)
		}
	}
	// Or stop the statement from reaching the resources it exposes,
	// keeping it on those where it is not a finding.
	if t, ok := a.scopeResource(st, raw, before); ok {
		out = append(out, t)
	}

	everyone := st.NotPrincipal != nil || st.Principal != nil && (st.Principal.Everyone || contains(st.Principal.AWS, "*"))
	service := st.Principal != nil && len(st.Principal.Service) > 0 && len(st.Principal.AWS) == 0 && !st.Principal.Everyone
	// A grant to everyone that only a service's request can meet (limited
	// by aws:SourceArn) is a trigger too: the engine classes it
	// service-unscoped, not public.
	if everyone && a.worstClass(st, before) == policy.ServiceUnscoped {
		everyone, service = false, true
	}
	switch {
	case everyone && a.opt.NarrowToOrg && a.opt.Trust.OrgID != "":
		t, err := a.withCondition(st, raw, "StringEquals", "aws:PrincipalOrgID", []string{a.opt.Trust.OrgID})
		t.how, t.impact = "adds StringEquals aws:PrincipalOrgID "+a.opt.Trust.OrgID, orgImpact(a.opt.Trust.OrgID, st)
		add(t, err)
	case everyone && a.opt.NarrowToOrg:
		notes = append(notes, "no organization id to narrow to")
	}
	foreign := a.foreignSource(st)
	switch {
	case service && !a.opt.Remove && foreign != "":
		notes = append(notes, "its source is in account "+foreign+", so pinning it to the owner account would stop it as surely as removing it")
	case everyone && a.opt.NarrowToAccount, service && !a.opt.Remove:
		t, err := a.withCondition(st, raw, "StringEquals", "AWS:SourceAccount", []string{a.Target.Account})
		t.how = "adds StringEquals AWS:SourceAccount " + a.Target.Account
		if service {
			t.impact = serviceImpact(st, a.Target.Account)
		} else {
			t.impact = "Only AWS services acting for account " + a.Target.Account + " (aws:SourceAccount) can still call it; every other caller loses access."
		}
		add(t, err)
	case service && a.opt.Remove:
		// --remove: the trigger goes.
	case !everyone && !service && (a.opt.NarrowToOrg || a.opt.NarrowToAccount):
		notes = append(notes, "a grant to a named account or role cannot be narrowed by a condition (it is classed by the account alone)")
	}
	return out, notes
}

// withCondition returns the statement narrowed by one more condition.
// When the statement is exactly what AddPermission writes and the
// condition is one AddPermission takes, the narrowed statement is what
// AddPermission writes with it, so the change can be made the way Lambda
// changes such statements: remove-permission, then add-permission.
func (a *Action) withCondition(st *policy.Statement, raw []byte, op, key string, vals []string) (treatment, error) {
	t := treatment{kind: Narrow}
	if p, exact, err := permissionOf(st, raw, a.Target); err == nil && exact && op == "StringEquals" && len(vals) == 1 && a.Target.Kind != inventory.KindLayerVersion {
		field := map[string]*string{"aws:sourceaccount": &p.SourceAccount, "aws:principalorgid": &p.PrincipalOrgID}[strings.ToLower(key)]
		if field != nil {
			if *field != "" {
				return t, fmt.Errorf("the statement already tests %s", key)
			}
			*field = vals[0]
			t.repl, t.perm = []byte(canonicalStatement(p, a.Target)), &p
			return t, nil
		}
	}
	repl, err := addCondition(raw, op, key, vals)
	if err != nil {
		return t, err
	}
	t.repl = repl
	return t, nil
}

// positivePin turns a Deny's single negated pin ("deny unless the caller
// is in organization o-x") into the condition an Allow needs to grant
// only what the Deny lets through. A Deny whose condition has any other
// shape is not turned around: its meaning as an Allow condition would be
// a guess.
func positivePin(d *policy.Statement) (op, key string, vals []string, ok bool) {
	if len(d.Conditions) != 1 {
		return "", "", nil, false
	}
	c := d.Conditions[0]
	flip := map[string]string{
		"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase", "StringNotLike": "StringLike",
		"ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike", "NotIpAddress": "IpAddress",
	}
	pos, found := flip[c.Op.Base]
	if !found || c.Op.Set != policy.SingleValued || len(c.Values) == 0 {
		return "", "", nil, false
	}
	return pos, c.Key, append([]string(nil), c.Values...), true
}

// scopeResource narrows the statement's Resource to the resources where
// it is not a finding: an Allow on function:NAME and function:NAME:* that
// the function's own Deny limits to the organization, while its aliases
// inherit it without the Deny, keeps function:NAME only.
func (a *Action) scopeResource(st *policy.Statement, raw []byte, before map[string]*rules.Subject) (treatment, bool) {
	if !st.HasResource || len(st.Resource) == 0 {
		return treatment{}, false
	}
	var keep, drop []string
	for _, v := range a.views {
		g := grantOf(before[v.ARN], st.Index, v.ARN != a.Target.ARN)
		switch {
		case g == nil:
		case g.Class.Exposed():
			drop = append(drop, v.ARN)
		default:
			keep = append(keep, v.ARN)
		}
	}
	if len(keep) == 0 || len(drop) == 0 {
		return treatment{}, false
	}
	var res []string
	for _, pat := range st.Resource {
		exposes := false
		for _, d := range drop {
			exposes = exposes || Glob(pat, d)
		}
		if !exposes {
			res = appendUnique(res, pat)
			continue
		}
		for _, k := range keep {
			if Glob(pat, k) {
				res = appendUnique(res, k)
			}
		}
	}
	if len(res) == 0 {
		return treatment{}, false
	}
	var val string
	if len(res) == 1 {
		val = quote(res[0])
	} else {
		q := make([]string, len(res))
		for i, r := range res {
			q[i] = quote(r)
		}
		val = "[" + strings.Join(q, ",") + "]"
	}
	repl, err := replaceMember(raw, "Resource", val)
	if err != nil {
		return treatment{}, false
	}
	return treatment{kind: Narrow, repl: repl, how: "limits Resource to " + strings.Join(res, ", "), impact: scopeImpact(drop, keep)}, true
}

// foreignSource returns the account of an aws:SourceArn value that names
// one outside the owner and the trusted accounts, or "".
func (a *Action) foreignSource(st *policy.Statement) string {
	for _, c := range st.Conditions {
		if c.KeyLower() != "aws:sourcearn" {
			continue
		}
		for _, v := range c.Values {
			arn, err := inventory.ParseARN(v)
			if err != nil || arn.Account == "" || strings.ContainsAny(arn.Account, "*?$") {
				continue
			}
			if arn.Account != a.Target.Account && !contains(a.opt.Trust.Trusted, arn.Account) {
				return arn.Account
			}
		}
	}
	return ""
}

// worstClass is the worst class the statement reaches on any view.
func (a *Action) worstClass(st *policy.Statement, before map[string]*rules.Subject) policy.Class {
	worst := policy.ClassNone
	for _, v := range a.views {
		if g := grantOf(before[v.ARN], st.Index, v.ARN != a.Target.ARN); g != nil && g.Class > worst {
			worst = g.Class
		}
	}
	return worst
}

// inheritingViews lists the aliases and versions that inherit the
// target's statements.
func (a *Action) inheritingViews() []string {
	var out []string
	for _, v := range a.views {
		if v.ARN != a.Target.ARN {
			out = append(out, v.ARN)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
