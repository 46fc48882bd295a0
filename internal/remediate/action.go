package remediate

import (
	"encoding/json"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Options configure planning.
type Options struct {
	Trust  rules.Trust
	Filter Filter
	// NarrowToOrg adds StringEquals aws:PrincipalOrgID Trust.OrgID to a
	// flagged grant to everyone instead of removing it.
	NarrowToOrg bool
	// NarrowToAccount adds StringEquals AWS:SourceAccount (the owner) to a
	// flagged grant to everyone instead of removing it. Service grants are
	// narrowed that way by default.
	NarrowToAccount bool
	// Remove removes a flagged service grant instead of pinning it to the
	// owner account. Pinning is the default because a service grant is a
	// trigger someone relies on: pinned, the owner's buckets, topics and
	// rules keep invoking the function.
	Remove bool
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
	// How says in a few words what the narrowing does ("adds StringEquals
	// AWS:SourceAccount 111122223333").
	How string `json:"how,omitempty"`
	// Impact says what stops working and what keeps working.
	Impact   string       `json:"impact"`
	Findings []FindingRef `json:"findings"`
	// Note says why the change differs from what was asked (narrowing
	// that could not be done, for example).
	Note string `json:"note,omitempty"`
}

// URLChange is a function URL auth type switch.
type URLChange struct {
	URL      string       `json:"url,omitempty"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Impact   string       `json:"impact"`
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
	// Permission holds AddPermission's parameters: the second half of
	// narrowing a statement written by AddPermission, which Lambda cannot
	// edit in place.
	Permission *Permission `json:"permission,omitempty"`
	CLI        string      `json:"cli"`
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

// Unresolved is a reported exposure the planned change does not close:
// re-judged on the planned policy, the finding is still there. fix exits
// 1 when there is one, so no exposure is silently left open.
type Unresolved struct {
	Resource string `json:"resource"`
	RuleID   string `json:"rule_id"`
	Exposure string `json:"exposure"`
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
	After      string       `json:"after_policy,omitempty"`
	Deleted    bool         `json:"policy_deleted,omitempty"`
	Changes    []Change     `json:"changes"`
	URL        *URLChange   `json:"url,omitempty"`
	Steps      []Step       `json:"calls"`
	Effects    []Effect     `json:"exposure"`
	Skipped    []Skip       `json:"not_changed,omitempty"`
	Unresolved []Unresolved `json:"unresolved,omitempty"`
	Notes      []string     `json:"notes,omitempty"`
	Kept       int          `json:"statements_kept"`
	state      State        // what the plan was made from
	views      []*inventory.Resource
	layout     *docLayout
	doc        *policy.Document
	opt        Options
	// addPerm holds, per narrowed statement, the AddPermission
	// parameters that write its replacement.
	addPerm map[int]Permission
}

// HasWork reports whether the action calls any write API.
func (a *Action) HasWork() bool { return len(a.Steps) > 0 }

// State returns what the action was planned from.
func (a *Action) State() State { return a.state }

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

// Unresolved lists every reported exposure the plan leaves open.
func (p *Plan) Unresolved() []Unresolved {
	var out []Unresolved
	for _, a := range p.Actions {
		out = append(out, a.Unresolved...)
	}
	return out
}
