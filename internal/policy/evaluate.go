package policy

import "strings"

// CallerKind is what kind of identity makes a request.
type CallerKind int

// Caller kinds.
const (
	CallerAnonymous CallerKind = iota // unsigned request (function URL with AuthType NONE)
	CallerIAM                         // a user, role or root of some account
	CallerService                     // an AWS service principal
	CallerFederated                   // a web-identity or SAML user before role assumption
)

// Caller is the identity behind a concrete request.
type Caller struct {
	Kind        CallerKind
	Account     string // CallerIAM
	ARN         string // CallerIAM: the user or role ARN
	UserID      string // CallerIAM: unique ID
	CanonicalID string // CallerIAM: S3 canonical user ID, when known
	Service     string // CallerService, e.g. "s3.amazonaws.com"
	Provider    string // CallerFederated
}

// Request is one concrete request to evaluate.
type Request struct {
	Caller   Caller
	Action   string // "lambda:InvokeFunction"
	Resource string // the ARN being called
	// Context holds the request's condition keys, lower-cased, each with
	// one or more values. A key absent from the map is missing.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request.
type Decision int

// Decisions.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allow"
	case ExplicitDeny:
		return "explicit-deny"
	}
	return "implicit-deny"
}

// Evaluate decides a request against one resource policy the way IAM
// does for a resource-based policy alone: an applicable Deny wins, then an
// applicable Allow, else the request is implicitly denied.
func (d *Document) Evaluate(r Request) Decision {
	return EvaluateResource(d, nil, r)
}

// EvaluateResource decides a request against a qualified resource's own
// policy plus the Allow statements of its function's policy whose Resource
// matches (our stricter reading: AWS does not document whether such a
// statement applies to the alias or version). Either document
// may be nil.
func EvaluateResource(own, function *Document, r Request) Decision {
	allowed := false
	if own != nil {
		for _, s := range own.Statements {
			if !s.appliesTo(&r) {
				continue
			}
			if s.Effect == Deny {
				return ExplicitDeny
			}
			allowed = true
		}
	}
	if function != nil && !allowed {
		for _, s := range function.Statements {
			if s.Effect == Allow && s.resourceMatches(r.Resource) && s.appliesTo(&r) {
				allowed = true
				break
			}
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

func (s *Statement) appliesTo(r *Request) bool {
	if !s.principalMatches(&r.Caller) || !s.actionMatches(r.Action) || !s.resourceMatches(r.Resource) {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].Holds(r.Context) {
			return false
		}
	}
	return true
}

func (s *Statement) principalMatches(c *Caller) bool {
	switch {
	case s.NotPrincipal != nil:
		return !s.NotPrincipal.matchesCaller(c)
	case s.Principal == nil:
		// An identity policy or SCP applies to whoever it is attached to.
		return true
	}
	return s.Principal.matchesCaller(c)
}

func (s *Statement) actionMatches(action string) bool {
	match := func(list []string) bool {
		for _, p := range list {
			if globMatch(p, action, true) {
				return true
			}
		}
		return false
	}
	if s.HasAction {
		return match(s.Action)
	}
	return !match(s.NotAction)
}

// resourceMatches reports whether the statement covers the ARN. A
// statement without Resource covers everything; an empty ARN (resource not
// known) is covered by every statement.
func (s *Statement) resourceMatches(arn string) bool {
	if !s.HasResource || arn == "" {
		return true
	}
	if s.Resource != nil {
		for _, p := range s.Resource {
			if resourceGlob(p, arn) {
				return true
			}
		}
		return false
	}
	for _, p := range s.NotResource {
		if resourceGlob(p, arn) {
			return false
		}
	}
	return true
}

// resourceGlob matches a Resource pattern; ARNs are case-sensitive, and a
// lone "*" covers everything.
func resourceGlob(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == arn
	}
	return globMatch(pattern, arn, false)
}

// AppliesTo reports whether any statement can apply to the resource arn
// (its Resource or NotResource admits it). A policy checked against an
// ARN none of its statements names is a typo or the wrong resource, not
// a clean verdict.
func (d *Document) AppliesTo(arn string) bool {
	for _, s := range d.Statements {
		if s.resourceMatches(arn) {
			return true
		}
	}
	return false
}

// NamedResources returns the distinct Resource values the statements
// name, in order of appearance (NotResource values are not included).
func (d *Document) NamedResources() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Statements {
		for _, r := range s.Resource {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}
