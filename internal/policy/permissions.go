package policy

import (
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// IdentityPolicy is one policy that governs a principal's requests, with
// the name explanations give it ("inline policy invoke", a managed
// policy's ARN, an SCP file).
type IdentityPolicy struct {
	Name string
	// ID identifies the policy for machines (an inline policy's name, a
	// managed policy's ARN, a file); Name is for people.
	ID  string
	Doc *Document
}

// PermissionSet is everything that decides what a principal of the owner
// account (a role) may do to a Lambda resource of that account, following
// the IAM policy evaluation logic for a request within one account:
//
//   - an explicit Deny in any policy below wins;
//   - otherwise the request needs an Allow from an identity policy, or
//     from the resource's policy naming the role itself;
//   - and, when the role has a permission boundary, an Allow from it;
//   - and an Allow from every SCP (each file is the SCPs of one level of
//     the organization: root, OU or account, which intersect). A file
//     with no Allow statement at all is read as a deny list used beside
//     FullAWSAccess, the way deny-list SCPs are always attached.
type PermissionSet struct {
	Identity []IdentityPolicy
	Boundary *IdentityPolicy
	SCPs     []IdentityPolicy
	// Own is the resource's own policy and Function, for an alias or
	// version, the unqualified function's (its Allow statements count when
	// their Resource matches). Either may be nil. Their statements count
	// for the role when they name it (Allow) or cover it (Deny).
	Own, Function *Document
	// Caller is the role's session, for resource-policy principals.
	Caller Caller
	// Known is what is known of the request before it is made
	// (RoleSessionContext). A condition on any other key is unknown at
	// scan time: an Allow under it counts (it may hold) and a Deny under
	// it does not (it may not); both are said in the result.
	Known Known
}

// Effective is what a PermissionSet allows on one resource.
type Effective struct {
	may, certain actionSet
	// Grants lists the Allow statements that grant a Lambda action on the
	// resource, identity policies first, before boundaries, SCPs and
	// Denies are applied.
	Grants []PermissionGrant
	// Blocks says what took granted actions away again.
	Blocks []Block
	// Notes says what the reading had to assume (conditions not known at
	// scan time).
	Notes []string
}

// PermissionGrant is one Allow statement that grants actions.
type PermissionGrant struct {
	Policy string
	// PolicyID is the policy's ID, or "resource" / "function" for the
	// resource's own policy and the unqualified function's.
	PolicyID  string
	Statement *Statement
	// Conditional lists the statement's conditions that cannot be decided
	// at scan time; the grant is counted, as it may hold.
	Conditional []*Condition
	actions     actionSet
}

// Actions lists the Lambda actions the statement grants on the resource.
func (g *PermissionGrant) Actions() []string { return g.actions.names() }

// Describe names the statement and what it grants, for explanations.
func (g *PermissionGrant) Describe() string {
	s := g.Policy + " " + lowerFirst(stmtLabel(g.Statement)) + " allows " + actionsPhrase(g.Statement, g.actions) + " on " + resourcePhrase(g.Statement)
	if len(g.Conditional) > 0 {
		s += " under " + conditionsPhrase(g.Conditional) + " (not known at scan time; counted as if it holds)"
	}
	return s
}

// Block is a policy that took granted actions away.
type Block struct {
	By      string
	actions actionSet
}

// Actions lists the actions the block removed.
func (b *Block) Actions() []string { return b.actions.names() }

// Actions lists the actions that may be allowed, as "lambda:Name".
func (e *Effective) Actions() []string { return e.may.names() }

// Groups lists the action groups that may be allowed, worst first.
func (e *Effective) Groups() []Group { return e.may.groups() }

// Empty reports whether nothing is allowed.
func (e *Effective) Empty() bool { return e.may.empty() }

// Allows reports whether action ("lambda:InvokeFunction") may be allowed.
func (e *Effective) Allows(action string) bool {
	i, ok := actionIndex[strings.ToLower(action)]
	return ok && e.may.has(i)
}

// Conditional lists the allowed actions that rest on conditions not
// known at scan time (they are allowed only when those conditions hold).
func (e *Effective) Conditional() []string { return e.may.minus(e.certain).names() }

// FirstGrant returns the first grant that contributes to what is allowed
// (nil when nothing is).
func (e *Effective) FirstGrant() *PermissionGrant {
	for i := range e.Grants {
		if !e.Grants[i].actions.and(e.may).empty() {
			return &e.Grants[i]
		}
	}
	return nil
}

// maskFor returns the actions that apply to a resource ARN.
func maskFor(arn string) actionSet {
	a, err := inventory.ParseLambdaARN(arn)
	switch {
	case err != nil:
		return functionActions.or(layerActions)
	case a.Kind == inventory.KindLayerVersion:
		return layerActions
	}
	return functionActions
}

// stage is the verdict of one policy (or group of policies) on the
// resource: what it may and what it certainly allows or denies.
type stage struct {
	mayAllow, allow, deny, mayDeny actionSet
	hasAllow                       bool
}

func (ps *PermissionSet) read(e *Effective, pol IdentityPolicy, arn string, mask actionSet, st *stage, grants bool) {
	for _, s := range pol.Doc.Statements {
		acts := s.actions.and(mask)
		if s.Effect == Allow {
			st.hasAllow = true
		}
		if acts.empty() {
			continue
		}
		state, unknown := s.conditionState(ps.Known)
		rs := s.resourceState(arn, ps.Known)
		state = triAnd(state, rs)
		if state == triFalse {
			continue
		}
		if rs == triUnknown {
			e.noteOnce(variableNote(pol.Name, s))
		}
		if s.Effect == Deny {
			if state == triTrue {
				st.deny = st.deny.or(acts)
				e.Blocks = append(e.Blocks, Block{By: "the Deny in " + pol.Name + " " + lowerFirst(stmtLabel(s)), actions: acts})
			} else {
				st.mayDeny = st.mayDeny.or(acts)
				e.noteOnce("The Deny in " + pol.Name + " " + lowerFirst(stmtLabel(s)) + " would remove " + actionsPhrase(s, acts) + " under " + conditionsPhrase(unknown) + ", which is not known at scan time; it is not counted.")
			}
			continue
		}
		st.mayAllow = st.mayAllow.or(acts)
		if state == triTrue {
			st.allow = st.allow.or(acts)
		} else if !grants && len(unknown) > 0 {
			// A boundary or SCP Allow that may not hold: what passes only
			// through it is conditional, and the reader must learn why.
			e.noteOnce("The Allow in " + pol.Name + " " + lowerFirst(stmtLabel(s)) + " lets " + actionsPhrase(s, acts) + " through only under " + conditionsPhrase(unknown) + ", which is not known at scan time; it is counted as if it holds.")
		}
		if grants {
			e.Grants = append(e.Grants, PermissionGrant{Policy: pol.Name, PolicyID: pol.ID, Statement: s, Conditional: unknown, actions: acts})
		}
	}
}

// Evaluate decides, for every Lambda action at once, whether the
// principal may perform it on the resource arn.
func (ps *PermissionSet) Evaluate(arn string) *Effective {
	e := &Effective{}
	mask := maskFor(arn)
	var id, deny stage
	for _, p := range ps.Identity {
		if p.Doc != nil {
			ps.read(e, p, arn, mask, &id, true)
		}
	}
	var sess stage // resource-policy grants to a session of the role
	ps.readResourcePolicies(e, arn, mask, &id, &sess, &deny)
	may, certain := id.mayAllow, id.allow
	deny.deny, deny.mayDeny = deny.deny.or(id.deny), deny.mayDeny.or(id.mayDeny)

	if b := ps.Boundary; b != nil && b.Doc != nil {
		var st stage
		ps.read(e, *b, arn, mask, &st, false)
		if cut := may.minus(st.mayAllow).minus(sess.mayAllow); !cut.empty() {
			e.Blocks = append(e.Blocks, Block{By: "the permission boundary " + b.Name + ", which does not allow them", actions: cut})
		}
		may, certain = may.and(st.mayAllow), certain.and(st.allow)
		deny.deny, deny.mayDeny = deny.deny.or(st.deny), deny.mayDeny.or(st.mayDeny)
	}
	// A resource policy's grant to a role session is not limited by the
	// role's permission boundary (IAM policy evaluation logic); SCPs and
	// Denies still apply.
	may, certain = may.or(sess.mayAllow), certain.or(sess.allow)
	id.mayAllow = id.mayAllow.or(sess.mayAllow)
	for _, scp := range ps.SCPs {
		if scp.Doc == nil {
			continue
		}
		var st stage
		ps.read(e, scp, arn, mask, &st, false)
		if st.hasAllow {
			if cut := may.minus(st.mayAllow); !cut.empty() {
				e.Blocks = append(e.Blocks, Block{By: "the SCP " + scp.Name + ", which does not allow them", actions: cut})
			}
			may, certain = may.and(st.mayAllow), certain.and(st.allow)
		}
		deny.deny, deny.mayDeny = deny.deny.or(st.deny), deny.mayDeny.or(st.mayDeny)
	}
	// Only what some Allow granted needs explaining.
	kept := e.Blocks[:0]
	for _, b := range e.Blocks {
		if b.actions = b.actions.and(id.mayAllow); !b.actions.empty() {
			kept = append(kept, b)
		}
	}
	e.Blocks = kept
	e.may = may.minus(deny.deny)
	e.certain = certain.minus(deny.deny).minus(deny.mayDeny)
	return e
}

// readResourcePolicies adds the resource policy statements that name the
// caller (Allow) or cover it (Deny).
func (ps *PermissionSet) readResourcePolicies(e *Effective, arn string, mask actionSet, allow, session, deny *stage) {
	read := func(d *Document, name, id string, inherited bool) {
		for _, s := range d.Statements {
			acts := s.actions.and(mask)
			if acts.empty() || inherited && (s.Effect == Deny || !s.HasResource) {
				continue
			}
			if s.Effect == Allow && !s.namesCaller(&ps.Caller) || s.Effect == Deny && !s.principalMatches(&ps.Caller) {
				continue
			}
			state, unknown := s.conditionState(ps.Known)
			rs := s.resourceState(arn, ps.Known)
			state = triAnd(state, rs)
			if rs == triUnknown && state != triFalse {
				e.noteOnce(variableNote(name, s))
			}
			switch {
			case state == triFalse:
			case s.Effect == Deny && state == triTrue:
				deny.deny = deny.deny.or(acts)
				e.Blocks = append(e.Blocks, Block{By: "the Deny in " + name + " " + lowerFirst(stmtLabel(s)), actions: acts})
			case s.Effect == Deny:
				deny.mayDeny = deny.mayDeny.or(acts)
				e.noteOnce("The Deny in " + name + " " + lowerFirst(stmtLabel(s)) + " would remove " + actionsPhrase(s, acts) + " under " + conditionsPhrase(unknown) + ", which is not known at scan time; it is not counted.")
			default:
				to := allow
				if s.namesSession(&ps.Caller) {
					to = session
				}
				to.mayAllow = to.mayAllow.or(acts)
				if state == triTrue {
					to.allow = to.allow.or(acts)
				}
				e.Grants = append(e.Grants, PermissionGrant{Policy: name, PolicyID: id, Statement: s, Conditional: unknown, actions: acts})
			}
		}
	}
	if ps.Own != nil {
		read(ps.Own, "the resource's own policy", "resource", false)
	}
	if ps.Function != nil {
		if a, err := inventory.ParseLambdaARN(arn); err == nil && a.Qualifier != "" {
			read(ps.Function, "the function's policy", "function", true)
		}
	}
}

// namesCaller reports whether an Allow statement's Principal names the
// caller: its own ARN, a session of the caller's role (the assumer picks
// the session name, so a grant to one session is a grant to whoever may
// assume the role), or "*". Within one account a grant to "*" needs no
// identity policy: one confined to the owner's organization or account
// (aws:PrincipalOrgID, aws:PrincipalAccount) still holds for a session of
// the role, and so for whoever outside may assume it; its conditions are
// judged on what is known of that session (no aws:SourceAccount on a
// direct call). A grant to the account delegates to the identity
// policies, which are read anyway.
// NamesEveryone reports whether the statement's Principal is "*" (or
// {"AWS": "*"}).
func (s *Statement) NamesEveryone() bool {
	if s.Principal == nil {
		return false
	}
	if s.Principal.Everyone {
		return true
	}
	for _, v := range s.Principal.AWS {
		if awsTerm(v).kind == pkEveryone {
			return true
		}
	}
	return false
}

func (s *Statement) namesCaller(c *Caller) bool {
	if s.Principal == nil || c.ARN == "" {
		return false
	}
	if s.NamesEveryone() {
		return true
	}
	for _, v := range s.Principal.AWS {
		if v == c.ARN || isSessionOf(v, c.ARN) {
			return true
		}
	}
	return false
}

// namesSession reports whether an Allow statement names a session of
// the caller's role (and not the role itself).
func (s *Statement) namesSession(c *Caller) bool {
	if s.Principal == nil {
		return false
	}
	role := false
	for _, v := range s.Principal.AWS {
		role = role || v == c.ARN
	}
	if role {
		return false // the role's own grant is limited by the boundary
	}
	for _, v := range s.Principal.AWS {
		if isSessionOf(v, c.ARN) {
			return true
		}
	}
	return false
}

// isSessionOf reports whether principal is an assumed-role session ARN
// of the role roleARN (a session ARN carries the role's name, not its
// path).
func isSessionOf(principal, roleARN string) bool {
	r, err := parseARNParts(roleARN)
	if err != nil || r[2] != "iam" || !strings.HasPrefix(r[5], "role/") {
		return false
	}
	name := r[5][strings.LastIndexByte(r[5], '/')+1:]
	rest, ok := strings.CutPrefix(principal, "arn:"+r[1]+":sts::"+r[4]+":assumed-role/"+name+"/")
	return ok && rest != ""
}

func variableNote(policy string, s *Statement) string {
	verdict := "counted as if it covers this resource"
	if s.Effect == Deny {
		verdict = "not counted as denying"
	}
	return "The " + lowerFirst(stmtLabel(s)) + " of " + policy + " names its Resource with a policy variable whose value is not known at scan time; it is " + verdict + "."
}

func (e *Effective) noteOnce(n string) {
	for _, x := range e.Notes {
		if x == n {
			return
		}
	}
	e.Notes = append(e.Notes, n)
}

// Decide evaluates one concrete request the way IAM does (the reference
// the abstract Evaluate is checked against). Policy variables in Resource
// take their values from the request context; one the context lacks
// matches nothing.
func (ps *PermissionSet) Decide(r Request) Decision {
	applies := func(s *Statement) bool {
		if !s.actionMatches(r.Action) || !s.resourceMatchesContext(r.Resource, r.Context) {
			return false
		}
		for i := range s.Conditions {
			if !s.Conditions[i].Holds(r.Context) {
				return false
			}
		}
		return true
	}
	allowedBy := func(d *Document) (allowed, denied, hasAllow bool) {
		for _, s := range d.Statements {
			if s.Effect == Allow {
				hasAllow = true
			}
			if !applies(s) {
				continue
			}
			if s.Effect == Deny {
				denied = true
			} else {
				allowed = true
			}
		}
		return
	}
	if i, ok := actionIndex[strings.ToLower(r.Action)]; ok && !maskFor(r.Resource).has(i) {
		return ImplicitDeny // a function action cannot apply to a layer, nor the reverse
	}
	allowed, bySession := false, false
	var checks []func() bool // every one must allow
	for _, p := range ps.Identity {
		if p.Doc == nil {
			continue
		}
		a, d, _ := allowedBy(p.Doc)
		if d {
			return ExplicitDeny
		}
		allowed = allowed || a
	}
	for _, d := range []*Document{ps.Own, ps.Function} {
		if d == nil {
			continue
		}
		inherited := d == ps.Function && d != ps.Own
		if inherited {
			if a, err := inventory.ParseLambdaARN(r.Resource); err != nil || a.Qualifier == "" {
				continue
			}
		}
		for _, s := range d.Statements {
			if inherited && (s.Effect == Deny || !s.HasResource) || !applies(s) {
				continue
			}
			switch {
			case s.Effect == Deny && s.principalMatches(&r.Caller):
				return ExplicitDeny
			case s.Effect == Allow && s.namesSession(&r.Caller):
				bySession = true
			case s.Effect == Allow && s.namesCaller(&r.Caller):
				allowed = true
			}
		}
	}
	if b := ps.Boundary; b != nil && b.Doc != nil {
		a, d, _ := allowedBy(b.Doc)
		if d {
			return ExplicitDeny
		}
		// A grant to the role session is not limited by the boundary.
		allowed = allowed && a || bySession
	} else {
		allowed = allowed || bySession
	}
	for _, scp := range ps.SCPs {
		if scp.Doc == nil {
			continue
		}
		a, d, has := allowedBy(scp.Doc)
		if d {
			return ExplicitDeny
		}
		if has {
			checks = append(checks, func() bool { return a })
		}
	}
	if !allowed {
		return ImplicitDeny
	}
	for _, ok := range checks {
		if !ok() {
			return ImplicitDeny
		}
	}
	return Allowed
}

// resourceMatchesContext is resourceMatches with policy variables taken
// from the request context.
func (s *Statement) resourceMatchesContext(arn string, ctx map[string][]string) bool {
	if !s.HasResource || arn == "" {
		return true
	}
	list := s.Resource
	if list == nil {
		list = s.NotResource
	}
	hit := false
	for _, p := range list {
		if lo, _ := resolveVariables(p, ctx); lo != "" && resourceGlob(lo, arn) {
			hit = true
			break
		}
	}
	if s.Resource == nil {
		return !hit
	}
	return hit
}

// resourcePhrase names a statement's Resource or NotResource briefly.
func resourcePhrase(s *Statement) string {
	switch {
	case !s.HasResource:
		return "every resource"
	case s.Resource != nil:
		return quoteList(s.Resource)
	}
	return "every resource except " + quoteList(s.NotResource) + " (NotResource)"
}

func conditionsPhrase(cs []*Condition) string {
	texts := make([]string, len(cs))
	for i, c := range cs {
		texts[i] = c.String()
	}
	return joinLimited(texts, 3)
}
