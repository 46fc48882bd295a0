package report

import (
	"encoding/xml"
	"io"
	"strconv"
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

// junitProperties is a suite's <properties> element on its own, for
// writing suites a piece at a time.
type junitProperties struct {
	XMLName    xml.Name        `xml:"properties"`
	Properties []junitProperty `xml:"property"`
}

// The junit writer takes two passes: the counts every suite and the root
// carry as attributes come from the index alone, then the cases are
// written suite by suite. A case is built from the index too, except a
// failure, a skip or an error, which reads its resource back for the
// findings or the reason.
func (junitWriter) Write(out io.Writer, d *Document, opt Options) error {
	stamp := reportTime(d, opt).Format(time.RFC3339)
	x := d.index()
	catalog, err := ruleCatalog(x)
	if err != nil {
		return err
	}
	placed := x.placed()
	all := junitSuites{Name: toolName(d), Time: "0"}
	for _, rule := range catalog {
		s := junitSuite{
			Name: rule.ID, Time: "0", Timestamp: stamp,
			Properties: []junitProperty{
				{Name: "title", Value: rule.Title},
				{Name: "severity", Value: rule.Severity.String()},
				{Name: "hipaa", Value: strings.Join(rules.Compliance(rule.ID).IDs("HIPAA"), ", ")},
			},
		}
		for _, i := range placed {
			switch junitOutcome(&x.items[i], rule) {
			case junitNone:
				continue
			case junitError:
				s.Errors++
			case junitFailure:
				s.Failures++
			case junitSkip:
				s.Skipped++
			}
			s.Tests++
		}
		all.add(s)
	}
	var scanErrors []string
	if d.Scan != nil && len(d.Scan.Errors) > 0 {
		scanErrors = d.Scan.Errors
		s := junitSuite{Name: "lambdawarden-scan", Time: "0", Timestamp: stamp}
		s.Tests, s.Errors = len(scanErrors), len(scanErrors)
		all.add(s)
	}

	if _, err := io.WriteString(out, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(out)
	enc.Indent("", "  ")
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "name"}, Value: all.Name},
		{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(all.Tests)},
		{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(all.Failures)},
		{Name: xml.Name{Local: "errors"}, Value: strconv.Itoa(all.Errors)},
		{Name: xml.Name{Local: "skipped"}, Value: strconv.Itoa(all.Skipped)},
		{Name: xml.Name{Local: "time"}, Value: all.Time},
	}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	for si, s := range all.Suites {
		start := xml.StartElement{Name: xml.Name{Local: "testsuite"}, Attr: []xml.Attr{
			{Name: xml.Name{Local: "name"}, Value: s.Name},
			{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(s.Tests)},
			{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(s.Failures)},
			{Name: xml.Name{Local: "errors"}, Value: strconv.Itoa(s.Errors)},
			{Name: xml.Name{Local: "skipped"}, Value: strconv.Itoa(s.Skipped)},
			{Name: xml.Name{Local: "time"}, Value: s.Time},
			{Name: xml.Name{Local: "timestamp"}, Value: s.Timestamp},
		}}
		if err := enc.EncodeToken(start); err != nil {
			return err
		}
		if len(s.Properties) > 0 {
			if err := enc.Encode(junitProperties{Properties: s.Properties}); err != nil {
				return err
			}
		}
		testcase := xml.StartElement{Name: xml.Name{Local: "testcase"}}
		if si < len(catalog) {
			rule := catalog[si]
			for _, i := range placed {
				c, ok, err := junitCaseFor(x, int(i), rule)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				if err := enc.EncodeElement(c, testcase); err != nil {
					return err
				}
			}
		} else {
			for _, e := range scanErrors {
				e := Inert(e, InertSentence)
				c := junitCase{Name: "scan " + e, Classname: "lambdawarden.scan", Time: "0", Error: &junitProblem{Message: e, Type: "incomplete", Body: xmlText(e)}}
				if err := enc.EncodeElement(c, testcase); err != nil {
					return err
				}
			}
		}
		if err := enc.EncodeToken(start.End()); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = io.WriteString(out, "\n")
	return err
}

// junitResult is what a resource's test case for a rule says.
type junitResult int

const (
	junitNone    junitResult = iota // no case: the rule does not look at this kind
	junitPass                       // a plain pass
	junitError                      // the resource could not be assessed
	junitFailure                    // an unsuppressed finding
	junitSkip                       // every finding of the rule is suppressed
)

// junitOutcome judges a resource's case for a rule from the index.
func junitOutcome(it *item, rule *rules.Rule) junitResult {
	hits, open := 0, 0
	for _, h := range it.hits {
		if h.rule == rule.ID {
			hits++
			if !h.suppressed {
				open++
			}
		}
	}
	switch {
	case hits == 0 && !rule.Applies(inventory.Kind(it.Kind)):
		return junitNone
	case it.Status == "unknown":
		return junitError
	case hits == 0:
		return junitPass
	case open == 0:
		return junitSkip
	default:
		return junitFailure
	}
}

// junitCaseFor builds item i's test case for a rule; ok is false when
// there is none.
func junitCaseFor(x *index, i int, rule *rules.Rule) (junitCase, bool, error) {
	it := &x.items[i]
	outcome := junitOutcome(it, rule)
	if outcome == junitNone {
		return junitCase{}, false, nil
	}
	c := junitCase{Name: rule.ID + " " + Inert(it.ARN, InertField), Classname: "lambdawarden." + Inert(it.Account, InertField) + "." + Inert(it.Region, InertField), Time: "0"}
	if outcome == junitPass {
		return c, true, nil
	}
	r, err := x.load(i)
	if err != nil {
		return c, false, err
	}
	if outcome == junitError {
		reason := Inert(r.UnknownReason, InertSentence)
		c.Error = &junitProblem{Message: "could not assess: " + reason, Type: "unknown", Body: xmlText(Inert(r.ARN, InertField) + " could not be read or parsed (" + reason + "); it is not counted as compliant.")}
		return c, true, nil
	}
	var body, why []string
	worst := finding.Info
	var first *finding.Finding
	for j := range r.Findings {
		f := &r.Findings[j]
		if f.RuleID != rule.ID {
			continue
		}
		if first == nil {
			first = f
		}
		if f.Suppressed {
			why = append(why, Inert(f.SuppressedBy, InertSentence))
		} else {
			worst = max(worst, f.Severity)
		}
		body = append(body, junitFindingText(f))
	}
	if outcome == junitSkip {
		c.Skipped = &junitSkipped{Message: "suppressed: " + strings.Join(why, "; ")}
		return c, true, nil
	}
	c.Failure = &junitProblem{Message: Inert(first.Title, InertField), Type: worst.String(), Body: xmlText(strings.Join(body, "\n\n"))}
	return c, true, nil
}

func (a *junitSuites) add(s junitSuite) {
	a.Tests += s.Tests
	a.Failures += s.Failures
	a.Errors += s.Errors
	a.Skipped += s.Skipped
	a.Suites = append(a.Suites, s)
}

// junitFindingText is one finding as a failure body paragraph. CI
// servers print bodies in logs and pages, so every estate string in it is
// inert (one line each, capped), like the text report's.
func junitFindingText(f *finding.Finding) string {
	var b strings.Builder
	if f.Suppressed {
		b.WriteString("[suppressed: " + Inert(f.SuppressedBy, InertSentence) + "] ")
	}
	b.WriteString(strings.ToUpper(f.Severity.String()) + " " + Inert(f.Title, InertField))
	if f.Statement != nil {
		b.WriteString(" (" + statementLabel(f.Statement) + ")")
	}
	b.WriteString("\n" + Inert(f.Explanation, InertSentence))
	if f.Note != "" {
		b.WriteString("\nNote: " + Inert(f.Note, InertSentence))
	}
	b.WriteString("\nFix: " + Inert(f.Remediation.Text, InertSentence))
	for _, c := range f.Remediation.Commands {
		b.WriteString("\n" + Inert(c, InertSentence))
	}
	if ids := f.Compliance.IDs("HIPAA"); len(ids) > 0 {
		b.WriteString("\nHIPAA: " + strings.Join(ids, ", "))
	}
	return b.String()
}
