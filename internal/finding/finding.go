// Package finding defines what a rule reports: a Finding with its
// severity, the statement it rests on, the explanation, the fix and the
// compliance requirements it maps to.
package finding

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Severity orders findings; a larger value is more severe.
type Severity int

// Severities, least severe first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s >= Info && s <= Critical {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// ParseSeverity reads a severity name (case-insensitive). "none" is
// accepted for --fail-on and returns a value above Critical.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	if strings.EqualFold(s, "none") {
		return Critical + 1, nil
	}
	return Info, fmt.Errorf("unknown severity %q (want critical, high, medium, low, info or none)", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// StatementRef points at the statement a finding rests on. Index is the
// 0-based position in the policy's Statement list. Policy is "function"
// when the statement is in the unqualified function's policy and counts
// for an alias or version; empty for the resource's own policy.
type StatementRef struct {
	Sid    string `json:"sid"`
	Index  int    `json:"index"`
	Policy string `json:"policy,omitempty"`
}

// Remediation is how to fix a finding: a sentence and the exact commands.
type Remediation struct {
	Text     string   `json:"text"`
	Commands []string `json:"commands,omitempty"`
}

// Requirement is one framework's requirements for a rule.
type Requirement struct {
	Framework string
	IDs       []string
}

// Compliance lists requirements per framework in a fixed order (HIPAA
// first); it marshals as a JSON object keeping that order.
type Compliance []Requirement

// MarshalJSON writes {"HIPAA": [...], ...} in slice order.
func (c Compliance) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(r.Framework)
		v, err := json.Marshal(r.IDs)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object form, keeping the document's key order.
func (c *Compliance) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("compliance must be an object")
	}
	*c = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var ids []string
		if err := dec.Decode(&ids); err != nil {
			return err
		}
		*c = append(*c, Requirement{Framework: t.(string), IDs: ids})
	}
	_, err := dec.Token()
	return err
}

// IDs returns the requirement IDs of one framework.
func (c Compliance) IDs(framework string) []string {
	for _, r := range c {
		if r.Framework == framework {
			return r.IDs
		}
	}
	return nil
}

// Location is where, in infrastructure code, a resource or a finding is
// declared: the file as the user named it, the line, and the Terraform
// address or CloudFormation logical id.
type Location struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Address string `json:"address,omitempty"`
}

// Finding is one rule's verdict on one resource (and, for policy rules,
// one statement).
type Finding struct {
	RuleID      string        `json:"rule_id"`
	Title       string        `json:"title"`
	Severity    Severity      `json:"severity"`
	Exposure    string        `json:"exposure,omitempty"`
	Statement   *StatementRef `json:"statement,omitempty"`
	Actions     []string      `json:"actions,omitempty"`
	Explanation string        `json:"explanation"`
	Remediation Remediation   `json:"remediation"`
	Compliance  Compliance    `json:"compliance"`
	Suppressed  bool          `json:"suppressed"`
	// SuppressedBy says which suppression matched, with its reason.
	SuppressedBy string `json:"suppressed_by,omitempty"`
	// Note carries context a reader needs, e.g. that the account's
	// public-access block restricts public resources.
	Note string `json:"note,omitempty"`
	// Path is set on findings about an access path from outside through
	// an assumable role (lambda-external-path-via-role).
	Path *Path `json:"path,omitempty"`
	// Source is where the statement (or, for resource-level rules, the
	// resource) is declared, for findings on infrastructure code.
	Source *Location `json:"source,omitempty"`
}

// Path is one hop from outside the trust boundary to a resource: outside
// principals assume a role of the owner account whose permissions reach
// the resource.
type Path struct {
	// From lists every outside principal that may assume the role, worst
	// first.
	From []PathPrincipal `json:"from"`
	// ViaRole is the role's ARN.
	ViaRole string `json:"via_role"`
	// TrustStatement is the trust policy statement that lets the first
	// (worst) principal of From assume the role.
	TrustStatement StatementRef `json:"trust_statement"`
	// PermissionStatement is the first statement that grants the actions
	// on the resource.
	PermissionStatement PermissionRef `json:"permission_statement"`
	// Actions are what the role may do to the resource after its
	// boundary, the SCPs and every Deny are applied.
	Actions []string `json:"actions"`
	// ConditionalActions are those of Actions that rest on conditions not
	// known at scan time (counted, as they may hold).
	ConditionalActions []string `json:"conditional_actions,omitempty"`
}

// PathPrincipal is one outside principal that may assume the role.
type PathPrincipal struct {
	// Principal is the value as written in the trust policy.
	Principal string `json:"principal"`
	// Kind is account, everyone, oidc, saml or opaque.
	Kind string `json:"kind"`
	// Account is the foreign account, for kind account.
	Account string `json:"account,omitempty"`
	// Accounts, for kind everyone, are the accounts a condition or a Deny
	// confines "*" to, when it names them.
	Accounts []string `json:"accounts,omitempty"`
	// Exposure is public or cross-account.
	Exposure       string       `json:"exposure"`
	TrustStatement StatementRef `json:"trust_statement"`
	// Narrowed says what narrows the principal without making it trusted
	// (an sts:ExternalId condition).
	Narrowed string `json:"narrowed,omitempty"`
}

// PermissionRef points at a statement of one of the role's policies (or
// of the resource's own policy, when it names the role).
type PermissionRef struct {
	// Policy names the policy: an inline policy's name, a managed
	// policy's ARN, or "resource" / "function" for the resource's own
	// policy and the unqualified function's.
	Policy string `json:"policy"`
	Sid    string `json:"sid"`
	Index  int    `json:"index"`
}
