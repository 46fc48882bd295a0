package report

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

type textWriter struct{}

func (textWriter) Name() string { return "text" }
func (textWriter) Description() string {
	return "human-readable findings grouped by severity, with a summary (default on a terminal); prints at most 100 findings per severity and 100 unknown resources, and counts the rest"
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;31m",
	finding.High:     "\x1b[31m",
	finding.Medium:   "\x1b[33m",
	finding.Low:      "\x1b[36m",
	finding.Info:     "\x1b[2m",
}

// textMaxFindings is how many findings of one severity, and how many
// unknown resources, the text report prints in full; the rest are
// counted in one line that points to the complete formats. A person
// reads the first hundred, and the cap keeps the report's memory bounded
// on estates of 100,000 functions.
var textMaxFindings = 100

// textMore is the line that stands for what the text report leaves out.
func textMore(n int, what string) string {
	return fmt.Sprintf("… and %d more %s (all of them are in -o json/csv/sarif)", n, what)
}

type located struct {
	res *Resource
	f   *finding.Finding
}

// findingRef names one finding in the index: item i, finding j.
type findingRef struct{ i, j int32 }

// firstFindings keeps the first n findings in the text report's order
// (rule, then ARN, then document order) out of any number: a max-heap
// of at most n.
type firstFindings struct {
	x    *index
	n    int
	refs []findingRef
}

func (h *firstFindings) less(a, b findingRef) bool {
	ia, ib := &h.x.items[a.i], &h.x.items[b.i]
	if ra, rb := ia.hits[a.j].rule, ib.hits[b.j].rule; ra != rb {
		return ra < rb
	}
	if ia.ARN != ib.ARN {
		return ia.ARN < ib.ARN
	}
	if a.i != b.i {
		return a.i < b.i
	}
	return a.j < b.j
}

func (h *firstFindings) Len() int           { return len(h.refs) }
func (h *firstFindings) Less(i, j int) bool { return h.less(h.refs[j], h.refs[i]) }
func (h *firstFindings) Swap(i, j int)      { h.refs[i], h.refs[j] = h.refs[j], h.refs[i] }
func (h *firstFindings) Push(v any)         { h.refs = append(h.refs, v.(findingRef)) }
func (h *firstFindings) Pop() any {
	v := h.refs[len(h.refs)-1]
	h.refs = h.refs[:len(h.refs)-1]
	return v
}

func (h *firstFindings) offer(r findingRef) {
	if len(h.refs) < h.n {
		heap.Push(h, r)
		return
	}
	if h.n > 0 && h.less(r, h.refs[0]) {
		h.refs[0] = r
		heap.Fix(h, 0)
	}
}

// sorted returns the kept findings in order.
func (h *firstFindings) sorted() []findingRef {
	out := append([]findingRef(nil), h.refs...)
	sort.Slice(out, func(a, b int) bool { return h.less(out[a], out[b]) })
	return out
}

func (textWriter) Write(out io.Writer, d *Document, opt Options) error {
	w := bufio.NewWriter(out)
	paint := func(code, s string) string {
		if !opt.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	x := d.index()
	// Resources read back for the findings shown, by item; at most
	// textMaxFindings per severity plus as many unknown ones.
	loaded := map[int32]*Resource{}
	load := func(i int32) (*Resource, error) {
		if r, ok := loaded[i]; ok {
			return r, nil
		}
		r, err := x.load(int(i))
		if err != nil {
			return nil, err
		}
		loaded[i] = r
		return r, nil
	}

	if opt.Single && len(x.items) == 1 {
		r, err := load(0)
		if err != nil {
			return err
		}
		writeStatements(w, r, paint)
	}

	count := map[finding.Severity]int{}
	first := map[finding.Severity]*firstFindings{}
	for i := range x.items {
		for j, h := range x.items[i].hits {
			count[h.severity]++
			ff := first[h.severity]
			if ff == nil {
				ff = &firstFindings{x: x, n: textMaxFindings}
				first[h.severity] = ff
			}
			ff.offer(findingRef{int32(i), int32(j)})
		}
	}
	for sev := finding.Critical; sev >= finding.Info; sev-- {
		n := count[sev]
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\n", paint(severityColor[sev], fmt.Sprintf("== %s (%d) ==", strings.ToUpper(sev.String()), n)))
		shown := first[sev].sorted()
		for _, ref := range shown {
			r, err := load(ref.i)
			if err != nil {
				return err
			}
			writeFinding(w, located{r, &r.Findings[ref.j]}, paint)
		}
		if more := n - len(shown); more > 0 {
			fmt.Fprintf(w, "%s\n\n", paint(ansiDim, textMore(more, sev.String()+" findings")))
		}
	}

	unknowns, shownUnknown := 0, 0
	for i := range x.items {
		if x.items[i].Status == "unknown" {
			unknowns++
		}
	}
	if unknowns > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, fmt.Sprintf("== UNKNOWN: could not be assessed (%d) ==", unknowns)))
		for i := range x.items {
			if shownUnknown == textMaxFindings {
				break
			}
			if x.items[i].Status != "unknown" {
				continue
			}
			shownUnknown++
			r, err := load(int32(i))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  %s\n    reason  %s\n", Inert(r.ARN, InertField), Inert(r.UnknownReason, InertSentence))
			if r.Source != nil {
				fmt.Fprintf(w, "    source  %s\n", sourceText(r.Source))
			}
		}
		if more := unknowns - shownUnknown; more > 0 {
			fmt.Fprintf(w, "  %s\n", paint(ansiDim, textMore(more, "unknown resources")))
		}
		fmt.Fprintln(w)
	}
	unchecked, shownUnchecked := 0, 0
	for i := range x.items {
		if x.items[i].unchecked {
			unchecked++
		}
	}
	if unchecked > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, fmt.Sprintf("== PARTLY CHECKED: judged, but some checks could not run (%d) ==", unchecked)))
		for i := range x.items {
			if shownUnchecked == textMaxFindings {
				break
			}
			if !x.items[i].unchecked {
				continue
			}
			shownUnchecked++
			r, err := load(int32(i))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  %s\n", r.ARN)
			for _, u := range r.Unchecked {
				fmt.Fprintf(w, "    not run %s\n", u)
			}
		}
		if more := unchecked - shownUnchecked; more > 0 {
			fmt.Fprintf(w, "  %s\n", paint(ansiDim, textMore(more, "partly checked resources")))
		}
		fmt.Fprintln(w)
	}
	if nl := d.Summary.NotListed; len(nl) > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, fmt.Sprintf("== NOT LISTED: never seen, so in no count above (%d) ==", len(nl))))
		for i, e := range nl {
			if i == textMaxFindings {
				fmt.Fprintf(w, "  %s\n", paint(ansiDim, textMore(len(nl)-i, "listings that did not finish")))
				break
			}
			fmt.Fprintf(w, "  %s in %s %s\n    reason  %s\n", e.What, e.Account, e.Region, e.Reason)
		}
		fmt.Fprintln(w)
	}
	if d.Scan != nil && len(d.Scan.Errors) > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, "== SCAN ERRORS (the scan is incomplete) =="))
		for _, e := range d.Scan.Errors {
			fmt.Fprintf(w, "  %s\n", Inert(e, InertSentence))
		}
		fmt.Fprintln(w)
	}
	if d.Scan != nil && len(d.Scan.Notes) > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, "== NOTES =="))
		for _, n := range d.Scan.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
		fmt.Fprintln(w)
	}
	writeSummary(w, d, paint)
	return w.Flush()
}

// writeStatements prints one resource's verdict statement by statement
// (analyze), at most textMaxFindings statements and notes, each line
// capped; the rest are counted, and all are in -o json.
func writeStatements(w io.Writer, r *Resource, paint func(string, string) string) {
	fmt.Fprintf(w, "%s %s\n", paint(ansiBold, "Resource:"), Inert(r.ARN, InertField))
	if r.Status == "unknown" {
		fmt.Fprintf(w, "Exposure: unknown (%s)\n\n", Inert(r.UnknownReason, InertSentence))
		return
	}
	fmt.Fprintf(w, "Exposure: %s\n", paint(ansiBold, Inert(r.Exposure, InertField)))
	if len(r.Grants) == 0 {
		fmt.Fprintln(w, "No statement grants a Lambda action beyond the owner.")
	}
	for i, g := range r.Grants {
		if i == textMaxFindings {
			fmt.Fprintf(w, "  %s\n", paint(ansiDim, textMore(len(r.Grants)-i, "statements")))
			break
		}
		fmt.Fprintf(w, "  [%s] %s\n", Inert(g.Exposure, InertField), Inert(g.Explanation, InertSentence))
	}
	for i, n := range r.Notes {
		if i == textMaxFindings {
			fmt.Fprintf(w, "  %s\n", paint(ansiDim, textMore(len(r.Notes)-i, "notes")))
			break
		}
		fmt.Fprintf(w, "  note: %s\n", Inert(n, InertSentence))
	}
	fmt.Fprintln(w)
}

func writeFinding(w io.Writer, l located, paint func(string, string) string) {
	f := l.f
	head := fmt.Sprintf("%-8s %s  %s", strings.ToUpper(f.Severity.String()), Inert(f.RuleID, InertField), Inert(f.Title, InertField))
	if f.Suppressed {
		head += "  [SUPPRESSED]"
	}
	fmt.Fprintf(w, "%s\n", paint(severityColor[f.Severity], head))
	where := Inert(l.res.Kind, InertField)
	if l.res.Region != "" {
		where += ", " + Inert(l.res.Region, InertField)
	}
	fmt.Fprintf(w, "  resource  %s (%s)\n", Inert(l.res.ARN, InertField), where)
	if src := l.f.Source; src != nil {
		fmt.Fprintf(w, "  source    %s\n", sourceText(src))
	}
	if f.Statement != nil {
		fmt.Fprintf(w, "  statement %s\n", statementLabel(f.Statement))
	}
	fmt.Fprintf(w, "  why       %s\n", Inert(f.Explanation, InertSentence))
	if f.Note != "" {
		fmt.Fprintf(w, "  note      %s\n", Inert(f.Note, InertSentence))
	}
	if f.SuppressedBy != "" {
		fmt.Fprintf(w, "  suppressed %s\n", Inert(f.SuppressedBy, InertSentence))
	}
	if len(f.Remediation.Commands) > 0 {
		for i, c := range f.Remediation.Commands {
			label := "fix      "
			if i > 0 {
				label = "         "
			}
			fmt.Fprintf(w, "  %s %s\n", label, paint(ansiBold, textCommand(c)))
		}
		fmt.Fprintf(w, "  %s\n", paint(ansiDim, "          "+Inert(f.Remediation.Text, InertSentence)))
	} else {
		fmt.Fprintf(w, "  fix       %s\n", Inert(f.Remediation.Text, InertSentence))
	}
	if ids := f.Compliance.IDs("HIPAA"); len(ids) > 0 {
		fmt.Fprintf(w, "  HIPAA     %s\n", strings.Join(ids, ", "))
	}
	fmt.Fprintln(w)
}

// textCommand is a fix command as the text report prints it: as it is
// when it can be copied and run, else a pointer to -o json, where it is
// whole. A command that holds control or invisible characters would run
// differently once escaped, and one longer than InertSentence (a full
// policy rewrite) is no line to copy from a terminal.
func textCommand(c string) string {
	if Inert(c, 0) != c {
		return "(the command holds control or invisible characters; copy it from -o json: " + Inert(c, InertField) + ")"
	}
	if n := utf8.RuneCountInString(c); n > InertSentence {
		return fmt.Sprintf("(a %d-character command: copy it from -o json)", n)
	}
	return c
}

func writeSummary(w io.Writer, d *Document, paint func(string, string) string) {
	s := d.Summary
	scope := ""
	if d.Scan != nil {
		scope = fmt.Sprintf(" in %d account(s), %d region(s)", len(d.Scan.Accounts), len(d.Scan.Regions))
	}
	var exp []string
	for _, k := range []string{"public", "cross-account", "service-unscoped", "org", "private", "unknown"} {
		exp = append(exp, fmt.Sprintf("%d %s", s.ByExposure[k], k))
	}
	fmt.Fprintf(w, "%s %d resource(s)%s: %s\n", paint(ansiBold, "Summary:"), s.Resources, scope, strings.Join(exp, ", "))
	var sev []string
	for _, k := range []string{"critical", "high", "medium", "low", "info"} {
		sev = append(sev, fmt.Sprintf("%d %s", s.BySeverity[k], k))
	}
	line := fmt.Sprintf("Findings: %s", strings.Join(sev, ", "))
	if s.Suppressed > 0 {
		line += fmt.Sprintf(" (%d suppressed)", s.Suppressed)
	}
	fmt.Fprintln(w, line)
	if s.Unchecked > 0 || len(s.NotListed) > 0 {
		var more []string
		if s.Unchecked > 0 {
			more = append(more, fmt.Sprintf("%d partly checked", s.Unchecked))
		}
		if len(s.NotListed) > 0 {
			more = append(more, fmt.Sprintf("%d listing(s) did not finish, what they would have found is not counted", len(s.NotListed)))
		}
		fmt.Fprintf(w, "Also: %s\n", strings.Join(more, "; "))
	}
	if d.Scan != nil && d.Scan.Interrupted {
		fmt.Fprintln(w, paint(ansiBold, "Result: INTERRUPTED (the scan was stopped before it read everything: "+d.Shortfall()+"; this report is partial, nothing unread is counted as compliant)"))
		return
	}
	switch d.ExitCode(d.FailOn) {
	case 1:
		line := fmt.Sprintf("Result: FAIL (findings at or above %s)", d.FailOn)
		if d.Incomplete() {
			line = fmt.Sprintf("Result: FAIL (findings at or above %s; also incomplete: %s)", d.FailOn, d.Shortfall())
		}
		fmt.Fprintln(w, paint(severityColor[finding.Critical], line))
	case 3:
		fmt.Fprintln(w, paint(ansiBold, "Result: INCOMPLETE ("+d.Shortfall()+"; nothing unread is counted as compliant)"))
	default:
		if d.FailOn > finding.Critical {
			fmt.Fprintln(w, paint(ansiBold, "Result: PASS (--fail-on none)"))
		} else {
			fmt.Fprintln(w, paint(ansiBold, fmt.Sprintf("Result: PASS (nothing at or above %s)", d.FailOn)))
		}
	}
}

// sourceText renders a code location as file:line (address), the form
// editors and terminals turn into a link.
func sourceText(l *finding.Location) string {
	s := l.File
	if l.Line > 0 {
		s += ":" + strconv.Itoa(l.Line)
	}
	if l.Address != "" {
		s += " (" + l.Address + ")"
	}
	return Inert(s, InertField) // file names and addresses come from the repository
}
