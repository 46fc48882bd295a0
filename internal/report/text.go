package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

type textWriter struct{}

func (textWriter) Name() string { return "text" }
func (textWriter) Description() string {
	return "human-readable findings grouped by severity, with a summary (default on a terminal)"
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

type located struct {
	res *Resource
	f   *finding.Finding
}

func (textWriter) Write(out io.Writer, d *Document, opt Options) error {
	w := bufio.NewWriter(out)
	paint := func(code, s string) string {
		if !opt.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}

	if opt.Single && len(d.Resources) == 1 {
		writeStatements(w, &d.Resources[0], paint)
	}

	bySev := map[finding.Severity][]located{}
	for i := range d.Resources {
		r := &d.Resources[i]
		for j := range r.Findings {
			f := &r.Findings[j]
			bySev[f.Severity] = append(bySev[f.Severity], located{r, f})
		}
	}
	for sev := finding.Critical; sev >= finding.Info; sev-- {
		list := bySev[sev]
		if len(list) == 0 {
			continue
		}
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].f.RuleID != list[j].f.RuleID {
				return list[i].f.RuleID < list[j].f.RuleID
			}
			return list[i].res.ARN < list[j].res.ARN
		})
		fmt.Fprintf(w, "%s\n", paint(severityColor[sev], fmt.Sprintf("== %s (%d) ==", strings.ToUpper(sev.String()), len(list))))
		for _, l := range list {
			writeFinding(w, l, paint)
		}
	}

	var unknowns []*Resource
	for i := range d.Resources {
		if d.Resources[i].Status == "unknown" {
			unknowns = append(unknowns, &d.Resources[i])
		}
	}
	if len(unknowns) > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, fmt.Sprintf("== UNKNOWN: could not be assessed (%d) ==", len(unknowns))))
		for _, r := range unknowns {
			fmt.Fprintf(w, "  %s\n    reason  %s\n", r.ARN, r.UnknownReason)
		}
		fmt.Fprintln(w)
	}
	if d.Scan != nil && len(d.Scan.Errors) > 0 {
		fmt.Fprintf(w, "%s\n", paint(ansiBold, "== SCAN ERRORS (the scan is incomplete) =="))
		for _, e := range d.Scan.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
		fmt.Fprintln(w)
	}
	writeSummary(w, d, paint)
	return w.Flush()
}

func writeStatements(w io.Writer, r *Resource, paint func(string, string) string) {
	fmt.Fprintf(w, "%s %s\n", paint(ansiBold, "Resource:"), r.ARN)
	if r.Status == "unknown" {
		fmt.Fprintf(w, "Exposure: unknown (%s)\n\n", r.UnknownReason)
		return
	}
	fmt.Fprintf(w, "Exposure: %s\n", paint(ansiBold, r.Exposure))
	if len(r.Grants) == 0 {
		fmt.Fprintln(w, "No statement grants a Lambda action beyond the owner.")
	}
	for _, g := range r.Grants {
		fmt.Fprintf(w, "  [%s] %s\n", g.Exposure, g.Explanation)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintln(w)
}

func writeFinding(w io.Writer, l located, paint func(string, string) string) {
	f := l.f
	head := fmt.Sprintf("%-8s %s  %s", strings.ToUpper(f.Severity.String()), f.RuleID, f.Title)
	if f.Suppressed {
		head += "  [SUPPRESSED]"
	}
	fmt.Fprintf(w, "%s\n", paint(severityColor[f.Severity], head))
	where := l.res.Kind
	if l.res.Region != "" {
		where += ", " + l.res.Region
	}
	fmt.Fprintf(w, "  resource  %s (%s)\n", l.res.ARN, where)
	if f.Statement != nil {
		s := fmt.Sprintf("index %d", f.Statement.Index)
		if f.Statement.Sid != "" {
			s = fmt.Sprintf("Sid %q, index %d", f.Statement.Sid, f.Statement.Index)
		}
		if f.Statement.Policy == "function" {
			s += ", in the function's policy"
		}
		fmt.Fprintf(w, "  statement %s\n", s)
	}
	fmt.Fprintf(w, "  why       %s\n", f.Explanation)
	if f.Note != "" {
		fmt.Fprintf(w, "  note      %s\n", f.Note)
	}
	if f.SuppressedBy != "" {
		fmt.Fprintf(w, "  suppressed %s\n", f.SuppressedBy)
	}
	if len(f.Remediation.Commands) > 0 {
		for i, c := range f.Remediation.Commands {
			label := "fix      "
			if i > 0 {
				label = "         "
			}
			fmt.Fprintf(w, "  %s %s\n", label, paint(ansiBold, c))
		}
		fmt.Fprintf(w, "  %s\n", paint(ansiDim, "          "+f.Remediation.Text))
	} else {
		fmt.Fprintf(w, "  fix       %s\n", f.Remediation.Text)
	}
	if ids := f.Compliance.IDs("HIPAA"); len(ids) > 0 {
		fmt.Fprintf(w, "  HIPAA     %s\n", strings.Join(ids, ", "))
	}
	fmt.Fprintln(w)
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
	switch d.ExitCode(d.FailOn) {
	case 1:
		fmt.Fprintln(w, paint(severityColor[finding.Critical], fmt.Sprintf("Result: FAIL (findings at or above %s)", d.FailOn)))
	case 3:
		fmt.Fprintln(w, paint(ansiBold, "Result: INCOMPLETE (some resources could not be assessed; nothing unread is counted as compliant)"))
	default:
		if d.FailOn > finding.Critical {
			fmt.Fprintln(w, paint(ansiBold, "Result: PASS (--fail-on none)"))
		} else {
			fmt.Fprintln(w, paint(ansiBold, fmt.Sprintf("Result: PASS (nothing at or above %s)", d.FailOn)))
		}
	}
}
