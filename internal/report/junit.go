package report

import (
	"encoding/xml"
	"io"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// The junit writer renders the document as JUnit XML for CI dashboards:
//
//   - one <testsuite> per rule (catalog order), so a dashboard shows
//     "lambda-public-access: 2 failed" at a glance;
//   - one <testcase> per resource and rule that applies to its kind, named
//     "<rule_id> <resource ARN>", classname "lambdawarden.<account>.<region>";
//   - <failure> when the rule has an unsuppressed finding on the resource
//     (type = severity; the body has every statement's explanation, the fix
//     and the HIPAA sections), <skipped> when all its findings are
//     suppressed, <error> when the resource could not be assessed, and a
//     plain pass otherwise;
//   - scan-level errors (an account or region that could not be read) form
//     a last suite, "lambdawarden-scan", one <error> each.
type junitWriter struct{}

func (junitWriter) Name() string { return "junit" }
func (junitWriter) Description() string {
	return "JUnit XML: a suite per rule, a test case per resource and rule (failure, skipped when suppressed, error when unknown)"
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",innerxml"` // already escaped: see xmlText
}

// xmlText escapes element text by hand: encoding/xml writes every newline
// as &#xA;, which some CI viewers show verbatim, so multi-line failure
// bodies would be unreadable.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\n' || r == '\t' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF:
			b.WriteRune(r)
		default:
			// Not allowed in XML 1.0 (control characters, a lone
			// carriage return we would lose anyway, invalid UTF-8).
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func (junitWriter) Write(out io.Writer, d *Document, opt Options) error {
	stamp := reportTime(d, opt).Format(time.RFC3339)
	all := junitSuites{Name: toolName(d), Time: "0"}
	resources := sortedResources(d)
	for _, rule := range ruleCatalog(d) {
		s := junitSuite{
			Name: rule.ID, Time: "0", Timestamp: stamp,
			Properties: []junitProperty{
				{Name: "title", Value: rule.Title},
				{Name: "severity", Value: rule.Severity.String()},
				{Name: "hipaa", Value: strings.Join(rules.Compliance(rule.ID).IDs("HIPAA"), ", ")},
			},
		}
		for _, r := range resources {
			var hits []int
			for i, f := range r.Findings {
				if f.RuleID == rule.ID {
					hits = append(hits, i)
				}
			}
			if len(hits) == 0 && !rule.Applies(inventory.Kind(r.Kind)) {
				continue
			}
			c := junitCase{Name: rule.ID + " " + r.ARN, Classname: "lambdawarden." + r.Account + "." + r.Region, Time: "0"}
			switch {
			case r.Status == "unknown":
				c.Error = &junitProblem{Message: "could not assess: " + r.UnknownReason, Type: "unknown", Body: xmlText(r.ARN + " could not be read or parsed (" + r.UnknownReason + "); it is not counted as compliant.")}
				s.Errors++
			case len(hits) > 0:
				var body []string
				open := 0
				worst := finding.Info
				var why []string
				for _, i := range hits {
					f := &r.Findings[i]
					if f.Suppressed {
						why = append(why, f.SuppressedBy)
					} else {
						open++
						worst = max(worst, f.Severity)
					}
					body = append(body, junitFindingText(f))
				}
				if open == 0 {
					c.Skipped = &junitSkipped{Message: "suppressed: " + strings.Join(why, "; ")}
					s.Skipped++
					break
				}
				first := r.Findings[hits[0]]
				c.Failure = &junitProblem{Message: first.Title, Type: worst.String(), Body: xmlText(strings.Join(body, "\n\n"))}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		all.add(s)
	}
	if d.Scan != nil && len(d.Scan.Errors) > 0 {
		s := junitSuite{Name: "lambdawarden-scan", Time: "0", Timestamp: stamp}
		for _, e := range d.Scan.Errors {
			s.Cases = append(s.Cases, junitCase{Name: "scan " + e, Classname: "lambdawarden.scan", Time: "0", Error: &junitProblem{Message: e, Type: "incomplete", Body: xmlText(e)}})
			s.Tests++
			s.Errors++
		}
		all.add(s)
	}
	if _, err := io.WriteString(out, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(out)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(out, "\n")
	return err
}

func (a *junitSuites) add(s junitSuite) {
	a.Tests += s.Tests
	a.Failures += s.Failures
	a.Errors += s.Errors
	a.Skipped += s.Skipped
	a.Suites = append(a.Suites, s)
}

// junitFindingText is one finding as a failure body paragraph.
func junitFindingText(f *finding.Finding) string {
	var b strings.Builder
	if f.Suppressed {
		b.WriteString("[suppressed: " + f.SuppressedBy + "] ")
	}
	b.WriteString(strings.ToUpper(f.Severity.String()) + " " + f.Title)
	if f.Statement != nil {
		b.WriteString(" (" + statementLabel(f.Statement) + ")")
	}
	b.WriteString("\n" + f.Explanation)
	if f.Note != "" {
		b.WriteString("\nNote: " + f.Note)
	}
	b.WriteString("\nFix: " + remediationText(f.Remediation))
	if ids := f.Compliance.IDs("HIPAA"); len(ids) > 0 {
		b.WriteString("\nHIPAA: " + strings.Join(ids, ", "))
	}
	return b.String()
}
