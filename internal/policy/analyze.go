package policy

import (
	"strings"
	"sync"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Context is what the analysis needs besides the policy: the resource
// under evaluation and the owner's trust boundary.
type Context struct {
	// Resource is the ARN under evaluation. Statements whose Resource
	// cannot match it do not apply. Empty means every statement applies.
	Resource string
	// Kind selects the actions that matter (function actions or layer
	// actions). Empty: read from Resource, else both.
	Kind inventory.Kind
	// Owner is the account that owns the resource. Empty: read from
	// Resource.
	Owner string
	// Trusted accounts count as the owner.
	Trusted []string
	// OrgID is the owner's organization; an org-scoped grant to another
	// organization is cross-account.
	OrgID string
	// URLAuthType is the function URL's auth type on this resource
	// ("NONE" or "AWS_IAM"), or "" when it has no URL or it is not known.
	URLAuthType string
}

// Result is the exposure of one resource.
type Result struct {
	// Exposure is the worst class among the grants; Private when nothing
	// is granted beyond the owner.
	Exposure Class
	// Grants lists every Allow statement that grants a Lambda action on
	// the resource, in policy order (the resource's own policy first).
	Grants []*Grant
	// Notes says what the analysis set aside and why (a statement that
	// names no Lambda action, a Deny whose conditions cannot be bounded).
	Notes []string
}

// Grant is the verdict on one Allow statement for one resource. The
// class and actions are decided eagerly; the sentences that explain them
// are written on first use, since many grants are never shown.
type Grant struct {
	Statement *Statement
	// Inherited is true when the statement comes from the unqualified
	// function's policy and applies to this alias or version because its
	// Resource matches (our stricter reading).
	Inherited bool
	Class     Class
	// NarrowedBy is the Deny statement that lowered the class, if any.
	NarrowedBy *Statement

	segments []segment
	segBuf   [2]segment
	at       actionSet // actions granted at Class
	worst    *termResult
	all      []termResult
	termBuf  [1]termResult
	a        *analyzer
	once     sync.Once
	text     explanation
}

type explanation struct {
	sentence, missing, network string
}

// Actions lists the actions granted at the grant's class, as
// "lambda:Name".
func (g *Grant) Actions() []string { return g.at.names() }

// Groups lists the action groups granted at the grant's class, worst
// first.
func (g *Grant) Groups() []Group { return g.at.groups() }

// PrincipalVerdict is the class one principal of a statement reaches.
type PrincipalVerdict struct {
	Who     string // as in explanations
	Service string // the service principal's name, when it is one
	Class   Class
}

// Principals returns the verdict for each principal the statement names.
func (g *Grant) Principals() []PrincipalVerdict {
	out := make([]PrincipalVerdict, 0, len(g.all))
	for i := range g.all {
		tr := &g.all[i]
		v := PrincipalVerdict{Who: tr.t.display, Class: tr.class}
		if tr.t.kind == pkService {
			v.Service = tr.t.name
		}
		out = append(out, v)
	}
	return out
}

// Who describes the principal that reaches the grant's class.
func (g *Grant) Who() string { return g.worst.t.display }

// Explanation is one sentence a person can check against the policy.
func (g *Grant) Explanation() string { g.explainOnce(); return g.text.sentence }

// Missing says what would narrow an exposed grant ("" when not exposed).
func (g *Grant) Missing() string { g.explainOnce(); return g.text.missing }

// Network is set when the only limit on the caller is a network.
func (g *Grant) Network() string { g.explainOnce(); return g.text.network }

func (g *Grant) explainOnce() {
	g.once.Do(func() { g.a.explain(g, g.worst, g.at) })
}

// segment is a set of actions granted at one class.
type segment struct {
	class   Class
	actions actionSet
}

// ClassFor returns the worst class at which the result grants action
// ("lambda:InvokeFunction"); ClassNone when nothing grants it.
func (r *Result) ClassFor(action string) Class {
	i, ok := actionIndex[strings.ToLower(action)]
	if !ok {
		return ClassNone
	}
	worst := ClassNone
	for _, g := range r.Grants {
		for _, s := range g.segments {
			if s.actions.has(i) {
				worst = maxClass(worst, s.class)
			}
		}
	}
	return worst
}

// GrantsURLInvoke reports whether g grants lambda:InvokeFunctionUrl at
// its class.
func (g *Grant) GrantsURLInvoke() bool { return g.hasGroupAt(GroupURLInvoke, g.Class) }

func (g *Grant) hasGroupAt(gr Group, c Class) bool {
	for _, s := range g.segments {
		if s.class == c && !s.actions.and(groupActions[gr]).empty() {
			return true
		}
	}
	return false
}

// HasGroup reports whether the grant's actions at its class include group.
func (g *Grant) HasGroup(gr Group) bool { return !g.at.and(groupActions[gr]).empty() }

type analyzer struct {
	ctx     Context
	trusted map[string]bool
	mask    actionSet
	denies  []*Statement
	notes   []string
}

// Analyze judges a resource: its own policy (may be nil) and, for an
// alias or version, the unqualified function's policy (may be nil), whose
// Allow statements count when their Resource matches ctx.Resource. Deny
// statements count only from the resource's own policy.
func Analyze(own, function *Document, ctx Context) *Result {
	a := &analyzer{ctx: ctx}
	var arn inventory.LambdaARN
	if ctx.Resource != "" {
		if parsed, err := inventory.ParseLambdaARN(ctx.Resource); err == nil {
			arn = parsed
		}
	}
	if a.ctx.Owner == "" {
		a.ctx.Owner = arn.Account
	}
	kind := ctx.Kind
	if kind == "" {
		kind = arn.Kind
	}
	switch kind {
	case inventory.KindLayerVersion:
		a.mask = layerActions
	case inventory.KindExecutionRole:
		a.mask = roleActions
	case "":
		a.mask = functionActions.or(layerActions)
	default:
		a.mask = functionActions
	}
	if len(ctx.Trusted) > 0 {
		a.trusted = make(map[string]bool, len(ctx.Trusted))
		for _, t := range ctx.Trusted {
			a.trusted[t] = true
		}
	}
	res := &Result{Exposure: Private}
	if own != nil {
		for _, s := range own.Statements {
			if s.Effect == Deny && s.resourceMatches(ctx.Resource) {
				a.denies = append(a.denies, s)
			}
		}
		for _, s := range own.Statements {
			if s.Effect == Allow {
				a.allow(res, s, false)
			}
		}
	}
	if function != nil && ctx.Resource != "" && arn.Qualifier != "" {
		for _, s := range function.Statements {
			if s.Effect == Allow && s.HasResource {
				a.allow(res, s, true)
			}
		}
	}
	for _, g := range res.Grants {
		res.Exposure = maxClass(res.Exposure, g.Class)
	}
	res.Notes = a.notes
	return res
}

// termResult is the verdict for one principal of one statement.
type termResult struct {
	t          term
	class      Class
	pin        audience // the pin that decided the class, when hasPin
	hasPin     bool
	loose      []*Condition // conditions that limit nothing
	segments   []segment
	segBuf     [2]segment // backing for segments in the common case
	narrowedBy *Statement
	narrowEx   exemption
	removedBy  *Statement
}

func (a *analyzer) allow(res *Result, s *Statement, inherited bool) {
	if !s.resourceMatches(a.ctx.Resource) {
		return
	}
	acts := s.actions.and(a.mask)
	if acts.empty() {
		a.notes = append(a.notes, stmtLabel(s)+" grants no Lambda action that applies to this resource; it is not counted.")
		return
	}
	// One allocation holds the grant and its principals' verdicts.
	terms := s.terms()
	g := &Grant{Statement: s, Inherited: inherited, a: a}
	if len(terms) <= len(g.termBuf) {
		g.all = g.termBuf[:len(terms)]
	} else {
		g.all = make([]termResult, len(terms))
	}
	var worst *termResult
	for i, t := range terms {
		tr := &g.all[i]
		a.term(tr, s, t, acts)
		if worst == nil || tr.class > worst.class {
			worst = tr
		}
	}
	segs := g.segBuf[:0]
	for i := range g.all {
		segs = append(segs, g.all[i].segments...)
	}
	g.segments, g.worst, g.Class, g.NarrowedBy = segs, worst, worst.class, worst.narrowedBy
	for _, sg := range segs {
		if sg.class == g.Class {
			g.at = g.at.or(sg.actions)
		}
	}
	res.Grants = append(res.Grants, g)
}

// baseClass classes a principal before conditions, and says whether
// conditions can narrow it: only grants to everyone or to a service are
// narrowed; a grant to a named account is classed by that account alone,
// whatever its conditions.
func (a *analyzer) baseClass(t term) (Class, bool) {
	switch t.kind {
	case pkEveryone, pkFederated:
		return Public, true
	case pkService:
		return ServiceUnscoped, true
	case pkAccount:
		return a.accountClass(t.account), false
	}
	return CrossAccount, false
}

func (a *analyzer) term(tr *termResult, s *Statement, t term, acts actionSet) {
	base, narrowable := a.baseClass(t)
	tr.t, tr.class = t, base
	if narrowable {
		nullFalse := nullFalseKeys(s.Conditions)
		for i := range s.Conditions {
			c := &s.Conditions[i]
			aud, ok := a.pinOf(c, true, nullFalse)
			// A network limit pins no identity; on a service grant it
			// leaves the service's callers in every account.
			if !ok || aud.class == Public || (aud.network && base == ServiceUnscoped) {
				if !(c.Op.Base == "Null" && nullFalse[c.key] && c.pin != pinNone) {
					tr.loose = append(tr.loose, c)
				}
				continue
			}
			if !tr.hasPin || narrower(aud.class, tr.pin.class) {
				tr.pin, tr.hasPin = aud, true
			}
		}
		if tr.hasPin {
			// A fixed pin replaces the base class: a service grant pinned
			// to the owner is private, pinned to another account's
			// buckets, topics or rules it is cross-account (those
			// accounts can trigger it), pinned only by a bucket name it
			// stays service-unscoped (SEMANTICS.md section 4).
			tr.class = tr.pin.class
		}
	}
	tr.segments = append(tr.segBuf[:0], segment{tr.class, acts})
	for _, d := range a.denies {
		ex, applies := a.denyEffect(d, t)
		if !applies {
			continue
		}
		var next []segment
		for _, sg := range tr.segments {
			hit := sg.actions.and(d.actions)
			if hit.empty() {
				next = append(next, sg)
				continue
			}
			if rest := sg.actions.minus(hit); !rest.empty() {
				next = append(next, segment{sg.class, rest})
			}
			nc := minClass(sg.class, ex.class)
			if nc < sg.class {
				if nc == ClassNone {
					tr.removedBy = d
				} else {
					tr.narrowedBy, tr.narrowEx = d, ex
				}
			}
			if nc != ClassNone {
				next = append(next, segment{nc, hit})
			}
		}
		tr.segments = next
	}
	tr.class = ClassNone
	for _, sg := range tr.segments {
		tr.class = maxClass(tr.class, sg.class)
	}
}

// narrower reports whether pin a limits callers more than pin b, both
// conditions of one statement (so ANDed). A pin that fixes no account (an
// S3 bucket name, class service-unscoped) yields to any pin that fixes
// one: bucket "partner-drop" AND SourceAccount 444455556666 is that
// account's bucket alone.
func narrower(a, b Class) bool {
	switch {
	case b == ServiceUnscoped && a != ServiceUnscoped:
		return true
	case a == ServiceUnscoped && b != ServiceUnscoped:
		return false
	}
	return a < b
}

// exemption is who a Deny lets through: the principals NotPrincipal
// lists, the callers its negated pins describe, and AWS services when it
// spares them.
type exemption struct {
	class    Class // ClassNone: nobody
	listed   []term
	auds     []audience
	services bool
}

// denyEffect says whether Deny statement d covers principal t and, if so,
// who it still lets through.
func (a *analyzer) denyEffect(d *Statement, t term) (exemption, bool) {
	ex := exemption{class: ClassNone}
	if d.NotPrincipal != nil {
		for _, x := range d.listed() {
			if sameTerm(x, t) {
				return ex, false
			}
			c, _ := a.baseClass(x)
			ex.class = maxClass(ex.class, c)
		}
		ex.listed = d.listed()
	} else if !principalsCoverAll(d.Principal) {
		// A Deny of a few named principals removes only those; it does
		// not change who else is allowed.
		if len(d.Conditions) > 0 {
			return ex, false
		}
		for _, x := range d.listed() {
			if sameTerm(x, t) {
				return ex, true
			}
		}
		return ex, false
	}
	if len(d.Conditions) == 0 {
		return ex, true
	}
	nullFalse := nullFalseKeys(d.Conditions)
	for i := range d.Conditions {
		c := &d.Conditions[i]
		if aud, ok := a.pinOf(c, false, nullFalse); ok {
			ex.class = maxClass(ex.class, aud.class)
			ex.auds = append(ex.auds, aud)
			continue
		}
		if c.key == "aws:principalisawsservice" && c.Op.Base == "Bool" && c.Op.Set == SingleValued && len(c.Values) == 1 && strings.EqualFold(c.Values[0], "false") {
			// The Deny spares calls made by AWS services.
			ex.class = maxClass(ex.class, ServiceUnscoped)
			ex.services = true
			continue
		}
		a.noteOnce(stmtLabel(d) + " (Deny) is not counted as narrowing any grant: its condition " + c.String() + " does not confine callers to an account, organization or network.")
		return ex, false
	}
	return ex, true
}

// exemptionDesc names who a Deny lets through, for explanations.
func (a *analyzer) exemptionDesc(ex exemption) string {
	var parts []string
	for _, x := range ex.listed {
		parts = append(parts, x.display)
	}
	for _, aud := range ex.auds {
		parts = append(parts, a.describe(aud))
	}
	if ex.services {
		parts = append(parts, "AWS services acting for any account")
	}
	return joinLimited(parts, 3)
}

func (a *analyzer) noteOnce(n string) {
	for _, x := range a.notes {
		if x == n {
			return
		}
	}
	a.notes = append(a.notes, n)
}

func principalsCoverAll(p *Principals) bool {
	if p == nil {
		return false
	}
	if p.Everyone {
		return true
	}
	for _, v := range p.AWS {
		if awsTerm(v).kind == pkEveryone {
			return true
		}
	}
	return false
}

// sameTerm reports whether two principals name the same identity for the
// purpose of a Deny: the same account, service or provider.
func sameTerm(x, t term) bool {
	if x.kind != t.kind {
		return false
	}
	switch x.kind {
	case pkAccount:
		return x.account == t.account && (x.name == t.name || isAccountID(x.name) || strings.HasSuffix(x.name, ":root"))
	case pkEveryone:
		return true
	}
	return strings.EqualFold(x.name, t.name)
}

func nullFalseKeys(conds []Condition) map[string]bool {
	var m map[string]bool
	for _, c := range conds {
		if c.Op.Base == "Null" && len(c.Values) == 1 && strings.EqualFold(c.Values[0], "false") {
			if m == nil {
				m = map[string]bool{}
			}
			m[c.key] = true
		}
	}
	return m
}

// stmtLabel names a statement for people: Statement "sid" or Statement 2
// (no Sid).
func stmtLabel(s *Statement) string {
	if s.Sid != "" {
		return `Statement "` + s.Sid + `"`
	}
	return "Statement " + itoa(s.Index) + " (no Sid)"
}
