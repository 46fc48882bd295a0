package remediate

import (
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/policy"
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
// characters and ? any one character (IAM's matching, from the engine).
func Glob(pattern, s string) bool { return policy.Glob(pattern, s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
