// Package report holds the versioned output document and the writers that
// render it. The document is the contract with scripts and auditors
// (CONTRACT.md); it is separate from the engine's internal types so they
// can change without breaking anyone.
package report

import (
	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// SchemaVersion is the version of the JSON document. Bump it, with a
// changelog line in the README, when a field is changed or removed.
const SchemaVersion = "1"

// Document is everything one scan (or one analyze) found.
type Document struct {
	SchemaVersion string     `json:"schema_version"`
	Tool          Tool       `json:"tool"`
	Scan          *ScanInfo  `json:"scan,omitempty"`
	Resources     []Resource `json:"resources"`
	Summary       Summary    `json:"summary"`
	// FailOn is the --fail-on threshold the run used (for writers that
	// mark pass/fail); not part of the JSON contract.
	FailOn finding.Severity `json:"-"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ScanInfo describes a live scan.
type ScanInfo struct {
	StartedAt  string   `json:"started_at"`
	FinishedAt string   `json:"finished_at"`
	Accounts   []string `json:"accounts"`
	Regions    []string `json:"regions"`
	APICalls   int      `json:"api_calls"`
	Complete   bool     `json:"complete"`
	// Errors lists what made the scan incomplete beyond single resources
	// (an account that could not be entered, a region that failed).
	Errors []string `json:"errors,omitempty"`
}

// Resource is one judged resource.
type Resource struct {
	ARN           string       `json:"arn"`
	Kind          string       `json:"kind"`
	Account       string       `json:"account"`
	Region        string       `json:"region"`
	Status        string       `json:"status"` // evaluated | unknown
	UnknownReason string       `json:"unknown_reason,omitempty"`
	Exposure      string       `json:"exposure"`
	FunctionURL   *FunctionURL `json:"function_url,omitempty"`
	// Grants is the verdict on every Allow statement that reaches the
	// resource, exposed or not.
	Grants   []Grant           `json:"grants,omitempty"`
	Notes    []string          `json:"notes,omitempty"`
	Findings []finding.Finding `json:"findings"`
	// Policy is the resource's own policy text, for writers that show the
	// offending statement; FunctionPolicy likewise for aliases/versions.
	Policy         string `json:"policy,omitempty"`
	FunctionPolicy string `json:"function_policy,omitempty"`
	// RevisionID is the policy's revision when it was read.
	RevisionID string `json:"revision_id,omitempty"`
}

// FunctionURL is a function URL on the resource.
type FunctionURL struct {
	AuthType string `json:"auth_type"`
	URL      string `json:"url"`
}

// Grant is the verdict on one Allow statement.
type Grant struct {
	Statement   finding.StatementRef `json:"statement"`
	Exposure    string               `json:"exposure"`
	Actions     []string             `json:"actions,omitempty"`
	Groups      []string             `json:"action_groups,omitempty"`
	Explanation string               `json:"explanation"`
}

// Summary counts what a person needs at a glance.
type Summary struct {
	Resources  int            `json:"resources"`
	ByExposure map[string]int `json:"by_exposure"`
	BySeverity map[string]int `json:"by_severity"`
	Unknown    int            `json:"unknown"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed"`
}

// Summarize recomputes the summary from the resources.
func (d *Document) Summarize() {
	s := Summary{
		ByExposure: map[string]int{"public": 0, "cross-account": 0, "service-unscoped": 0, "org": 0, "private": 0, "unknown": 0},
		BySeverity: map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0},
	}
	for _, r := range d.Resources {
		s.Resources++
		s.ByExposure[r.Exposure]++
		if r.Status == "unknown" {
			s.Unknown++
		}
		for _, f := range r.Findings {
			if f.Suppressed {
				s.Suppressed++
				continue
			}
			s.Findings++
			s.BySeverity[f.Severity.String()]++
		}
	}
	d.Summary = s
}

// ExitCode applies CONTRACT.md: 1 when an unsuppressed finding is at or
// above failOn, else 3 when something could not be read, else 0.
func (d *Document) ExitCode(failOn finding.Severity) int {
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if !f.Suppressed && f.Severity >= failOn {
				return 1
			}
		}
	}
	if d.Summary.Unknown > 0 || (d.Scan != nil && !d.Scan.Complete) {
		return 3
	}
	return 0
}
