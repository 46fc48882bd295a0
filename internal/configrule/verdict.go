package configrule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Parameters are the rule's InputParameters.
type Parameters struct {
	Trust rules.Trust
	// Threshold is the least severity that makes a function
	// NON_COMPLIANT (default high).
	Threshold finding.Severity
}

var reAccount = regexp.MustCompile(`^\d{12}$`)

// ParseParameters reads the rule's InputParameters (ruleParameters, a JSON
// object as a string):
//
//	{"trustedAccounts": "111122223333,444455556666", "orgId": "o-abc123def4", "severityThreshold": "high"}
//
// trustedAccounts may also be a JSON list. An unknown key or a bad value
// is an error, so a typo does not quietly weaken the rule.
func ParseParameters(raw string) (Parameters, error) {
	p := Parameters{Threshold: finding.High}
	if strings.TrimSpace(raw) == "" {
		return p, nil
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&m); err != nil {
		return p, fmt.Errorf("ruleParameters is not a JSON object: %v", err)
	}
	for k, v := range m {
		switch strings.ToLower(k) {
		case "trustedaccounts":
			var list []string
			var s string
			if json.Unmarshal(v, &s) == nil {
				list = strings.Split(s, ",")
			} else if err := json.Unmarshal(v, &list); err != nil {
				return p, fmt.Errorf("ruleParameters.%s: want a comma-separated string or a list of account ids", k)
			}
			for _, id := range list {
				id = strings.TrimSpace(id)
				if id == "" {
					continue
				}
				if !reAccount.MatchString(id) {
					return p, fmt.Errorf("ruleParameters.%s: %q is not a 12-digit account id", k, id)
				}
				p.Trust.Trusted = append(p.Trust.Trusted, id)
			}
		case "orgid":
			if err := json.Unmarshal(v, &p.Trust.OrgID); err != nil || (p.Trust.OrgID != "" && !strings.HasPrefix(p.Trust.OrgID, "o-")) {
				return p, fmt.Errorf("ruleParameters.%s: want an organization id (o-...)", k)
			}
		case "severitythreshold":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return p, fmt.Errorf("ruleParameters.%s: want a severity name", k)
			}
			sev, err := finding.ParseSeverity(s)
			if err != nil || sev > finding.Critical {
				return p, fmt.Errorf("ruleParameters.%s: %q is not critical, high, medium, low or info", k, s)
			}
			p.Threshold = sev
		default:
			return p, fmt.Errorf("ruleParameters: unknown parameter %q (known: trustedAccounts, orgId, severityThreshold)", k)
		}
	}
	return p, nil
}

// verdict is one function's compliance over its resources (function,
// aliases, versions): NON_COMPLIANT when one could not be assessed or has
// a finding at or above the threshold, with an annotation naming the
// resource, statement and class of the worst. A finding that was read
// comes first in the annotation: "could not be assessed" on a function
// that is public through another of its resources would hide what is
// known.
func verdict(resources []report.Resource, p Parameters) (string, string) {
	if len(resources) == 0 {
		return NonCompliant, "could not be assessed: nothing was read"
	}
	var unknown *report.Resource
	for i := range resources {
		if resources[i].Status == "unknown" {
			unknown = &resources[i]
			break
		}
	}
	var worst *finding.Finding
	var at string
	for _, r := range resources {
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.Suppressed || f.Severity < p.Threshold {
				continue
			}
			if worst == nil || f.Severity > worst.Severity {
				worst, at = f, where(r.ARN)
			}
		}
	}
	if worst == nil && unknown != nil {
		return NonCompliant, clip("could not be assessed (" + where(unknown.ARN) + "): " + unknown.UnknownReason)
	}
	if worst == nil {
		n := len(resources)
		return Compliant, clip(fmt.Sprintf("no finding at or above %s on the function, its aliases and versions (%d resource(s) judged)", p.Threshold, n))
	}
	class := worst.Exposure
	if class == "" {
		class = worst.Severity.String()
	}
	stmt := ""
	if s := worst.Statement; s != nil {
		stmt = fmt.Sprintf(", statement %q (#%d)", s.Sid, s.Index)
		if s.Policy == "function" {
			stmt += " of the function's policy"
		}
	}
	note := fmt.Sprintf("%s via %s%s: %s (%s)", class, at, stmt, worst.RuleID, worst.Severity)
	if unknown != nil {
		note += "; " + where(unknown.ARN) + " could not be assessed: " + unknown.UnknownReason
	}
	return NonCompliant, clip(note)
}

// where names a resource within its function: "the function", "alias
// prod", "version 3".
func where(arn string) string {
	la, err := inventory.ParseLambdaARN(arn)
	switch {
	case err != nil:
		return arn
	case la.Qualifier == "*" && la.Kind == inventory.KindAlias:
		return "its aliases"
	case la.Qualifier == "*":
		return "its " + string(la.Kind) + "s"
	case la.Kind == inventory.KindAlias:
		return "alias " + la.Qualifier
	case la.Kind == inventory.KindVersion:
		return "version " + la.Qualifier
	}
	return "the function"
}

// clip fits an annotation into Config's 256 characters.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 256 {
		return s
	}
	r := []rune(s)
	return string(r[:255]) + "…"
}
