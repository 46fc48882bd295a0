package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// The html writer renders one self-contained page: all CSS and script
// inline, no URL fetched, a Content-Security-Policy that allows only the
// page's own script and style (by hash) and no network at all. Everything
// from the estate (ARNs, Sids, policy text, reasons) goes through
// html/template's contextual escaping and into text or attributes only,
// never into the script, so a Sid like <script>alert(1)</script> renders
// as text.
//
// The page has a summary by severity and exposure, then one table entry
// (a <tbody class="lw-item">) per finding, per unknown resource and per
// resource without findings. Each entry carries data-account,
// data-region, data-rule, data-exposure (the finding's class, else the
// resource's) and data-severity ("unknown" for unknown resources, "none"
// for resources without findings); the filters hide entries with the
// hidden attribute. The initial filter comes from the location hash,
// e.g. report.html#rule=lambda-public-access&account=111122223333 (keys:
// account, region, rule, exposure, severity), and changing a filter
// writes it back, so a filtered view can be shared as a link. After the
// script has run, <html> has data-lw-ready="1" and #lw-visible holds the
// number of entries shown.
//
// A page lists at most htmlMaxResources resources (1000): past that it
// shows the ones htmlPriority puts first (exposed and unknown ones, worst
// first) and a paragraph, #lw-omitted, that says how many resources and
// findings it leaves out and that the json report has them all. The
// summary's counts are always the whole scan's.
type htmlWriter struct{}

func (htmlWriter) Name() string { return "html" }
func (htmlWriter) Description() string {
	return "one self-contained HTML page: summary, filterable findings, highlighted statements, fix commands with copy buttons; lists at most 1000 resources (exposed and unknown first, worst first) and counts the rest"
}

//go:embed html.tmpl
var htmlTemplateText string

//go:embed html.js
var htmlScript string

//go:embed html.css
var htmlStyle string

var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// HTMLFilterKeys are the location-hash keys the page's filters read.
var HTMLFilterKeys = []string{"account", "region", "rule", "exposure", "severity"}

type htmlCount struct {
	Name  string
	Count int
}

type htmlFilter struct {
	Key, Label string
	Values     []string
}

type htmlSegment struct {
	Text      string
	Highlight bool
}

type htmlRow struct {
	ID            string
	Type          string // finding | unknown | clean
	Account       string
	Region        string
	ARN           string
	Kind          string
	Exposure      string
	Severity      string
	RuleID        string
	Title         string
	Statement     string
	Explanation   string
	Note          string
	Remediation   string
	Commands      []string
	HIPAA         []string
	Compliance    finding.Compliance
	Suppressed    bool
	SuppressedBy  string
	UnknownReason string
	PolicyLabel   string
	Policy        []htmlSegment
	PolicyNote    string
	Notes         []string
}

type htmlView struct {
	CSP        string
	Style      template.CSS
	Script     template.JS
	Tool       string
	Version    string
	Generated  string
	Scan       *ScanInfo
	Result     string
	ResultKind string
	Severities []htmlCount
	Exposures  []htmlCount
	Summary    Summary
	Filters    []htmlFilter
	Rows       []htmlRow
	// Omitted says what the page leaves out, nil when it shows all.
	Omitted *htmlOmitted
}

// htmlOmitted counts the resources past htmlMaxResources.
type htmlOmitted struct {
	Shown, Total, Resources, Findings int
}

// htmlMaxResources is how many resources the page shows in full. A page
// of 100,000 resources helps no one and would not open; the page shows
// the ones that matter most (htmlPriority) and says how many more there
// are and which formats have them all.
var htmlMaxResources = 1000

// htmlPriority orders resources for the page when not all of them fit:
// exposed (public, cross-account, service-unscoped, org) and unknown
// ones first, by exposure class in that order and then by their worst
// open finding; then the other resources with findings, worst first;
// then the clean ones. Ties keep the report order.
func htmlPriority(x *index, placed []int32) []int32 {
	group := func(it *item) int {
		switch {
		case it.Status == "unknown" || it.Exposure != "private" && slices.Contains(exposureOrder, it.Exposure):
			return 0
		case len(it.hits) > 0:
			return 1
		default:
			return 2
		}
	}
	exposure := func(it *item) int {
		if it.Status == "unknown" {
			return slices.Index(exposureOrder, "unknown")
		}
		return slices.Index(exposureOrder, it.Exposure)
	}
	worst := func(it *item) int {
		if sev, ok := it.worstOpen(); ok {
			return int(sev)
		}
		return -1
	}
	order := slices.Clone(placed)
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := &x.items[order[a]], &x.items[order[b]]
		if ga, gb := group(ia), group(ib); ga != gb {
			return ga < gb
		}
		if group(ia) == 0 {
			if ea, eb := exposure(ia), exposure(ib); ea != eb {
				return ea < eb
			}
		}
		return worst(ia) > worst(ib)
	})
	return order
}

var (
	severityOrder = []string{"critical", "high", "medium", "low", "info"}
	exposureOrder = []string{"public", "cross-account", "service-unscoped", "org", "private", "unknown"}
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func (htmlWriter) Write(out io.Writer, d *Document, opt Options) error {
	sum := d.Summary
	if sum.ByExposure == nil || sum.BySeverity == nil {
		c := *d
		c.Summarize()
		sum = c.Summary
	}
	v := htmlView{
		CSP: "default-src 'none'; script-src " + cspHash(htmlScript) + "; style-src " + cspHash(htmlStyle) +
			"; base-uri 'none'; form-action 'none'",
		Style:     template.CSS(htmlStyle),
		Script:    template.JS(htmlScript),
		Tool:      toolName(d),
		Version:   toolVersion(d),
		Generated: reportTime(d, opt).Format(time.RFC3339),
		Scan:      htmlScan(d.Scan),
		Summary:   sum,
	}
	for _, s := range severityOrder {
		v.Severities = append(v.Severities, htmlCount{s, sum.BySeverity[s]})
	}
	for _, e := range exposureOrder {
		v.Exposures = append(v.Exposures, htmlCount{e, sum.ByExposure[e]})
	}
	switch code := d.ExitCode(d.FailOn); {
	case d.Scan != nil && d.Scan.Interrupted:
		v.Result, v.ResultKind = "INTERRUPTED: the scan was stopped before it read everything ("+d.Shortfall()+"); this report is partial", "incomplete"
	case code == 1:
		v.Result, v.ResultKind = "FAIL: findings at or above "+d.FailOn.String(), "fail"
	case code == 3:
		v.Result, v.ResultKind = "INCOMPLETE: "+d.Shortfall()+"; nothing unread is counted as compliant", "incomplete"
	default:
		v.Result, v.ResultKind = "PASS", "pass"
		if d.FailOn <= finding.Critical {
			v.Result = "PASS: nothing at or above " + d.FailOn.String()
		}
	}

	x := d.index()
	shown := x.placed()
	if len(shown) > htmlMaxResources {
		chosen := htmlPriority(x, shown)[:htmlMaxResources]
		keep := make(map[int32]bool, len(chosen))
		for _, i := range chosen {
			keep[i] = true
		}
		o := &htmlOmitted{Shown: len(chosen), Total: len(shown), Resources: len(shown) - len(chosen)}
		for _, i := range shown {
			if !keep[i] {
				o.Findings += len(x.items[i].hits)
			}
		}
		v.Omitted = o
		shown = slices.DeleteFunc(slices.Clone(shown), func(i int32) bool { return !keep[i] })
	}

	var findingRows, unknownRows, cleanRows []htmlRow
	for _, i := range shown {
		r, err := x.load(int(i))
		if err != nil {
			return err
		}
		base := htmlRow{Account: Inert(r.Account, InertField), Region: Inert(r.Region, InertField), ARN: Inert(r.ARN, InertField),
			Kind: Inert(r.Kind, InertField), Exposure: Inert(r.Exposure, InertField), Notes: inertAll(r.Notes, InertSentence)}
		switch {
		case r.Status == "unknown":
			row := base
			row.Type, row.Severity, row.UnknownReason = "unknown", "unknown", Inert(r.UnknownReason, InertSentence)
			if r.Policy != "" {
				row.PolicyLabel = "Policy as read"
				row.Policy, row.PolicyNote = policySegments(r.Policy, -1)
			}
			unknownRows = append(unknownRows, row)
		case len(r.Findings) == 0:
			row := base
			row.Type, row.Severity = "clean", "none"
			cleanRows = append(cleanRows, row)
		}
		for _, f := range r.Findings {
			row := base
			row.Type = "finding"
			row.Severity = f.Severity.String()
			if f.Exposure != "" {
				row.Exposure = Inert(f.Exposure, InertField)
			}
			row.RuleID, row.Title = Inert(f.RuleID, InertField), Inert(f.Title, InertField)
			row.Statement = statementLabel(f.Statement)
			row.Explanation, row.Note = Inert(f.Explanation, InertSentence), Inert(f.Note, InertSentence)
			// Commands are escaped but not cut: the copy button must copy
			// all of one, and a command that needed escaping is visibly
			// not the raw text.
			row.Remediation, row.Commands = Inert(f.Remediation.Text, InertSentence), inertAll(f.Remediation.Commands, 0)
			row.HIPAA, row.Compliance = f.Compliance.IDs("HIPAA"), f.Compliance
			row.Suppressed, row.SuppressedBy = f.Suppressed, Inert(f.SuppressedBy, InertSentence)
			text, label := r.Policy, "Resource policy"
			if f.Statement != nil && f.Statement.Policy == "function" {
				text, label = r.FunctionPolicy, "Function policy (applies to this "+r.Kind+")"
			}
			if text != "" {
				idx := -1
				if f.Statement != nil {
					idx = f.Statement.Index
				}
				row.PolicyLabel = label
				row.Policy, row.PolicyNote = policySegments(text, idx)
			}
			findingRows = append(findingRows, row)
		}
	}
	sort.SliceStable(findingRows, func(i, j int) bool {
		a, b := findingRows[i], findingRows[j]
		if sa, sb := severityRank(a.Severity), severityRank(b.Severity); sa != sb {
			return sa < sb
		}
		return a.RuleID < b.RuleID
	})
	v.Rows = append(append(findingRows, unknownRows...), cleanRows...)
	for i := range v.Rows {
		v.Rows[i].ID = "lw-item-" + strconv.Itoa(i+1)
	}
	v.Filters = htmlFilters(v.Rows)

	w := bufio.NewWriter(out)
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	return w.Flush()
}

// htmlScan is the scan's description with its estate strings inert.
func htmlScan(s *ScanInfo) *ScanInfo {
	if s == nil {
		return nil
	}
	c := *s
	c.Accounts, c.Regions, c.Errors = inertAll(s.Accounts, InertField), inertAll(s.Regions, InertField), inertAll(s.Errors, InertSentence)
	return &c
}

// inertAll applies Inert to every string of list.
func inertAll(list []string, max int) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Inert(s, max)
	}
	return out
}

func severityRank(s string) int {
	for i, x := range severityOrder {
		if x == s {
			return i
		}
	}
	return len(severityOrder)
}

// htmlFilters lists, for each filter, the values the rows carry: severity
// and exposure in their natural order, the rest sorted.
func htmlFilters(rows []htmlRow) []htmlFilter {
	get := map[string]func(htmlRow) string{
		"account":  func(r htmlRow) string { return r.Account },
		"region":   func(r htmlRow) string { return r.Region },
		"rule":     func(r htmlRow) string { return r.RuleID },
		"exposure": func(r htmlRow) string { return r.Exposure },
		"severity": func(r htmlRow) string { return r.Severity },
	}
	labels := map[string]string{"account": "Account", "region": "Region", "rule": "Rule", "exposure": "Exposure class", "severity": "Severity"}
	order := map[string][]string{
		"exposure": exposureOrder,
		"severity": append(append([]string(nil), severityOrder...), "unknown", "none"),
	}
	var out []htmlFilter
	for _, k := range HTMLFilterKeys {
		seen := map[string]bool{}
		for _, r := range rows {
			if val := get[k](r); val != "" {
				seen[val] = true
			}
		}
		var vals []string
		if fixed, ok := order[k]; ok {
			for _, x := range fixed {
				if seen[x] {
					vals = append(vals, x)
					delete(seen, x)
				}
			}
		}
		var rest []string
		for x := range seen {
			rest = append(rest, x)
		}
		sort.Strings(rest)
		out = append(out, htmlFilter{Key: k, Label: labels[k], Values: append(vals, rest...)})
	}
	return out
}

// policySegments pretty-prints a policy document, keeping its key order,
// and splits the text so the statement at index idx (of the Statement
// list, or the lone Statement object when idx is 0) can be highlighted. A
// policy that does not parse is shown as it is, with a note.
func policySegments(text string, idx int) ([]htmlSegment, string) {
	p := &prettyPrinter{highlight: idx, start: -1, end: -1}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := p.value(dec, 0, true, ""); err != nil {
		return []htmlSegment{{Text: inertLines(text)}}, "The policy text does not parse as JSON (" + Inert(err.Error(), InertSentence) + "); shown as read."
	}
	if _, err := dec.Token(); err != io.EOF {
		return []htmlSegment{{Text: inertLines(text)}}, "The policy text has data after the document; shown as read."
	}
	s := p.buf.String()
	if p.start < 0 || p.end < p.start {
		note := ""
		if idx >= 0 {
			note = "Statement index " + strconv.Itoa(idx) + " was not found in this policy."
		}
		return []htmlSegment{{Text: s}}, note
	}
	// Start the highlight at the beginning of the line, so the
	// statement's first line is marked like the rest.
	start := strings.LastIndexByte(s[:p.start], '\n') + 1
	return []htmlSegment{{Text: s[:start]}, {Text: s[start:p.end], Highlight: true}, {Text: s[p.end:]}}, ""
}

type prettyPrinter struct {
	buf        bytes.Buffer
	highlight  int
	start, end int
}

// value writes one JSON value from the token stream. top says the value
// is the document; key is the key it sits under when its parent is the
// document, so the Statement list can be found.
func (p *prettyPrinter) value(dec *json.Decoder, depth int, top bool, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	ind := strings.Repeat("  ", depth)
	begin := p.buf.Len()
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			if key == "Statement" && p.highlight == 0 {
				// A lone Statement object (not a list) is statement 0.
				defer func() { p.start, p.end = begin, p.buf.Len() }()
			}
			if !dec.More() {
				_, err := dec.Token()
				p.buf.WriteString("{}")
				return err
			}
			p.buf.WriteString("{\n")
			first := true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if !first {
					p.buf.WriteString(",\n")
				}
				first = false
				p.buf.WriteString(ind + "  ")
				p.str(k)
				p.buf.WriteString(": ")
				childKey := ""
				if top && k == "Statement" {
					childKey = "Statement"
				}
				if err := p.value(dec, depth+1, false, childKey); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			p.buf.WriteString("\n" + ind + "}")
		case '[':
			if !dec.More() {
				_, err := dec.Token()
				p.buf.WriteString("[]")
				return err
			}
			p.buf.WriteString("[\n")
			for i := 0; dec.More(); i++ {
				if i > 0 {
					p.buf.WriteString(",\n")
				}
				p.buf.WriteString(ind + "  ")
				if key == "Statement" && i == p.highlight {
					p.start = p.buf.Len()
				}
				if err := p.value(dec, depth+1, false, ""); err != nil {
					return err
				}
				if key == "Statement" && i == p.highlight {
					p.end = p.buf.Len()
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			p.buf.WriteString("\n" + ind + "]")
		}
	case string:
		p.str(t)
	case json.Number:
		p.buf.WriteString(t.String())
	case bool:
		p.buf.WriteString(strconv.FormatBool(t))
	case nil:
		p.buf.WriteString("null")
	}
	return nil
}

func (p *prettyPrinter) str(s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	// Invisible characters become \u escapes: the same JSON string, but
	// U+202E cannot reorder the page's text.
	p.buf.Write(escapeInvisibleJSON(bytes.TrimRight(b.Bytes(), "\n")))
}

// inertLines is text that is shown as read (a policy that does not
// parse), line breaks and tabs kept, every other control or invisible
// character escaped as Inert does.
func inertLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, part := range parts {
			parts[j] = Inert(part, 0)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}
