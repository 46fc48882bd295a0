package report

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// reportTime is the moment the exchange formats (SARIF, ASFF, OCSF,
// JUnit) stamp on what they emit: when the scan finished, so every format
// written from one run carries the same time and golden files stay
// stable; Options.Time when the document has no scan (analyze); else now.
func reportTime(d *Document, opt Options) time.Time {
	if d.Scan != nil {
		if t, err := time.Parse(time.RFC3339Nano, d.Scan.FinishedAt); err == nil {
			return t.UTC()
		}
	}
	if !opt.Time.IsZero() {
		return opt.Time.UTC()
	}
	return time.Now().UTC()
}

// scanStart is when the scan started, or the report time.
func scanStart(d *Document, opt Options) time.Time {
	if d.Scan != nil {
		if t, err := time.Parse(time.RFC3339Nano, d.Scan.StartedAt); err == nil {
			return t.UTC()
		}
	}
	return reportTime(d, opt)
}

// toolVersion is the producer version, never empty (several formats
// require one).
func toolVersion(d *Document) string {
	if d.Tool.Version != "" {
		return d.Tool.Version
	}
	return "dev"
}

// toolName is the producer name, never empty.
func toolName(d *Document) string {
	if d.Tool.Name != "" {
		return d.Tool.Name
	}
	return "lambdawarden"
}

// applicableRules are the catalog rules that look at a resource of this
// kind, most severe first. Formats that list a verdict per resource and
// rule (JUnit test cases, ASFF PASSED findings) use it: the document
// records findings, not which rules ran, and the scan runs the whole
// catalog on every evaluated resource.
func applicableRules(kind string) []*rules.Rule {
	var out []*rules.Rule
	for _, r := range rules.All() {
		if r.Applies(inventory.Kind(kind)) {
			out = append(out, r)
		}
	}
	return out
}

// ruleCatalog is the catalog plus any rule a finding names that the
// catalog does not know (a document from a newer version), so formats
// that index rules never lose a finding.
func ruleCatalog(x *index) ([]*rules.Rule, error) {
	out := rules.All()
	known := map[string]bool{}
	for _, r := range out {
		known[r.ID] = true
	}
	var extra []*rules.Rule
	for i := range x.items {
		for j, h := range x.items[i].hits {
			if known[h.rule] {
				continue
			}
			// Rare: only then is the resource read for the finding's
			// title and fix.
			res, err := x.load(i)
			if err != nil {
				return nil, err
			}
			f := res.Findings[j]
			known[f.RuleID] = true
			extra = append(extra, &rules.Rule{ID: f.RuleID, Title: f.Title, Severity: f.Severity, Rationale: f.Title, Remediation: f.Remediation.Text})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].ID < extra[j].ID })
	return append(out, extra...), nil
}

// arnPart returns field i (0-based, colon-separated) of an ARN, or "".
func arnPart(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 7)
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// partition is the ARN's partition (aws, aws-cn, aws-us-gov), "aws" when
// the ARN does not say.
func partition(arn string) string {
	if p := arnPart(arn, 1); p != "" {
		return p
	}
	return "aws"
}

// resourceName is the function or layer name in a Lambda ARN.
func resourceName(arn string) string {
	rest := arnPart(arn, 6)
	if name, _, ok := strings.Cut(rest, ":"); ok {
		return name
	}
	return rest
}

// statementLabel names a finding's statement for people: `Sid "x",
// index 2`, or `index 2` when it has no Sid.
func statementLabel(s *finding.StatementRef) string {
	if s == nil {
		return ""
	}
	label := "index " + strconv.Itoa(s.Index)
	if s.Sid != "" {
		label = "Sid " + quoteField(s.Sid) + ", " + label
	}
	if s.Policy == "function" {
		label += ", in the function's policy"
	}
	return label
}

// quoteField is s in double quotes, made inert as Inert does (the same
// escapes as every other estate string in the report, a quote as \"),
// at most InertField runes of it, the cut marked with s's length after
// the closing quote.
func quoteField(s string) string {
	n := utf8.RuneCountInString(s)
	cut := s
	if n > InertField {
		i := 0
		for j := range s {
			if i == InertField {
				cut = s[:j]
				break
			}
			i++
		}
	}
	q := `"` + strings.ReplaceAll(Inert(cut, 0), `"`, `\"`) + `"`
	if n > InertField {
		q += "… (" + strconv.Itoa(n) + " chars)"
	}
	return q
}

// frameworkRequirements flattens a finding's compliance mapping into
// "FRAMEWORK ID" strings, HIPAA first (the mapping's own order).
func frameworkRequirements(c finding.Compliance) []string {
	var out []string
	for _, r := range c {
		for _, id := range r.IDs {
			out = append(out, r.Framework+" "+id)
		}
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut,
// for formats with hard field limits (ASFF).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
