// Package rules is the catalog: each rule a declared value with complete
// metadata, a check over one judged resource, and good and bad examples
// that one test runs. Framework mappings live in mappings.json, embedded,
// with one owner.
package rules

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// Subject is one resource after the policy engine has judged it.
type Subject struct {
	Resource *inventory.Resource
	// Own and Function are the parsed policies (nil when absent).
	Own, Function *policy.Document
	Result        *policy.Result
	// RoleTrust is the verdict on the execution role's trust policy, and
	// RolePolicies its parsed permissions policies (index-aligned with
	// Resource.ExecutionRole.Policies; nil for AdministratorAccess, which
	// is known by name). Nil when the role was not read.
	RoleTrust    *policy.Result
	RolePolicies []*policy.Document
	// roleFederated are the role's web identity and SAML assumers, which
	// RoleTrust classes by the provider's (the owner's) account.
	roleFederated []policy.Assumer
	// Notes say what could not be judged (a role document that does not
	// parse).
	Notes []string
	// Paths are the outside access paths to the resource through roles
	// of its account (nil when the account's roles were not read).
	Paths []RolePath
	// Gaps are the rules that could not give a verdict on the resource.
	Gaps []Gap
}

// Gap is a rule that could not judge a resource: it was not run (its
// input was not collected) or its input could not be read (Unknown). A
// rule with a gap has no findings there, and must not be reported as
// passed.
type Gap struct {
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	Unknown bool   `json:"unknown,omitempty"`
}

func (s *Subject) gap(rule, reason string, unknown bool) {
	for i := range s.Gaps {
		if s.Gaps[i].Rule == rule {
			s.Gaps[i].Unknown = s.Gaps[i].Unknown || unknown
			return
		}
	}
	s.Gaps = append(s.Gaps, Gap{Rule: rule, Reason: reason, Unknown: unknown})
}

// Hit is one thing a rule found on a subject.
type Hit struct {
	Grant       *policy.Grant // the statement it rests on, if any
	Exposure    policy.Class
	Explanation string
	Remediation finding.Remediation
	// Path is the access path a path finding rests on.
	Path *finding.Path
	// Actions overrides the grant's actions (a path's actions).
	Actions []string
}

// Rule is one check with its metadata.
type Rule struct {
	ID          string
	Title       string
	Severity    finding.Severity
	Rationale   string
	Remediation string
	// Kinds are the resource kinds the rule looks at.
	Kinds []inventory.Kind
	// Check returns what the rule finds; nil means the resource passes.
	Check func(*Subject) []Hit
	// SeverityOf, when set, grades each hit (Severity is then the worst
	// it gives).
	SeverityOf func(Hit) finding.Severity
	// Examples are resources the rule must flag (Bad) or pass.
	Examples []Example
}

// Example is a sample resource for a rule's self-test.
type Example struct {
	Name     string
	Bad      bool
	Resource inventory.Resource
}

//go:embed mappings.json
var mappingsJSON []byte

type mappingFile struct {
	Comment    string                         `json:"_comment"`
	Frameworks []string                       `json:"frameworks"`
	Rules      map[string]map[string][]string `json:"rules"`
}

// loadMappings reads the embedded mapping data.
func loadMappings(data []byte) (*mappingFile, error) {
	var m mappingFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("rules: mappings.json: %w", err)
	}
	known := map[string]bool{}
	for _, f := range m.Frameworks {
		known[f] = true
	}
	for id, fw := range m.Rules {
		for f := range fw {
			if !known[f] {
				return nil, fmt.Errorf("rules: mappings.json: rule %s maps to undeclared framework %q", id, f)
			}
		}
	}
	return &m, nil
}

var mappings = func() *mappingFile {
	m, err := loadMappings(mappingsJSON)
	if err != nil {
		// The file is compiled in; a test loads it, so this cannot
		// happen in a released binary.
		panic(err)
	}
	return m
}()

// Compliance returns a rule's framework requirements, HIPAA first.
func Compliance(ruleID string) finding.Compliance {
	fw := mappings.Rules[ruleID]
	var out finding.Compliance
	for _, f := range mappings.Frameworks {
		if ids, ok := fw[f]; ok {
			out = append(out, finding.Requirement{Framework: f, IDs: ids})
		}
	}
	return out
}

// Frameworks lists the frameworks the catalog maps to, in output order.
func Frameworks() []string { return append([]string(nil), mappings.Frameworks...) }

// All returns the catalog in a stable order: most severe first, then ID.
func All() []*Rule {
	out := append([]*Rule(nil), catalog...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ByID finds a rule; an unknown ID is an error naming the known ones.
func ByID(id string) (*Rule, error) {
	for _, r := range catalog {
		if r.ID == id {
			return r, nil
		}
	}
	ids := make([]string, len(catalog))
	for i, r := range catalog {
		ids[i] = r.ID
	}
	sort.Strings(ids)
	return nil, fmt.Errorf("unknown rule %q (known: %s)", id, strings.Join(ids, ", "))
}

// Applies reports whether the rule looks at this kind of resource.
func (r *Rule) Applies(k inventory.Kind) bool {
	for _, x := range r.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Findings runs the rule on a subject and turns its hits into findings.
func (r *Rule) Findings(s *Subject) []finding.Finding {
	if !r.Applies(s.Resource.Kind) {
		return nil
	}
	hits := r.Check(s)
	out := make([]finding.Finding, 0, len(hits))
	for _, h := range hits {
		f := finding.Finding{
			RuleID:      r.ID,
			Title:       r.Title,
			Severity:    r.Severity,
			Explanation: h.Explanation,
			Remediation: h.Remediation,
			Compliance:  Compliance(r.ID),
		}
		if h.Exposure != policy.ClassNone {
			f.Exposure = h.Exposure.String()
		}
		if g := h.Grant; g != nil {
			ref := &finding.StatementRef{Sid: g.Statement.Sid, Index: g.Statement.Index}
			if g.Inherited {
				ref.Policy = "function"
			}
			f.Statement = ref
			f.Actions = g.Actions()
		}
		if h.Path != nil {
			f.Path = h.Path
		}
		if h.Actions != nil {
			f.Actions = h.Actions
		}
		if r.SeverityOf != nil {
			f.Severity = r.SeverityOf(h)
		}
		if f.Remediation.Text == "" {
			f.Remediation.Text = r.Remediation
		}
		if pab := s.Resource.PublicAccessBlock; pab != nil && pab.RestrictPublicResource && f.Exposure == policy.Public.String() {
			f.Note = "The account's Lambda public-access block has RestrictPublicResource on, which may stop this grant from taking effect; the policy still says it."
		}
		out = append(out, f)
	}
	return out
}
