package fixdoc

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
)

// textCap bounds one rendered value: a policy can be 20 KB, and the JSON
// output holds it whole.
const textCap = 4000

// inert makes a string from AWS or a file safe to print on a terminal:
// control characters (escape sequences, carriage returns) are shown
// escaped, and a long value is cut.
func inert(s string) string {
	if len(s) > textCap {
		cut := textCap
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("… (%d more bytes; see -o json)", len(s)-cut)
	}
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WritePlan renders the plan for a person: one block per resource, each
// statement's change, why, what stops working, the exact calls, and the
// exposure before and after; then what it cannot close.
func WritePlan(w io.Writer, d *Document, backupDir string) {
	if d.Mode == ModeDryRun {
		fmt.Fprintln(w, "lambdawarden fix: dry run, nothing has been changed.")
	} else {
		fmt.Fprintln(w, "lambdawarden fix: the plan to apply.")
	}
	var notChanged []string
	for _, a := range d.Actions {
		for _, s := range a.NotChanged {
			if s.Index >= 0 && unresolvedIndex(a, s.Index) {
				continue // listed under "Could not be closed"
			}
			what := ""
			if s.Sid != "" {
				what = fmt.Sprintf(" statement %q:", s.Sid)
			}
			notChanged = append(notChanged, fmt.Sprintf("  %s:%s %s", inert(s.Resource), inert(what), inert(s.Reason)))
		}
		if len(a.Calls) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s, %s)\n", inert(a.Resource), a.Kind, inert(a.Region))
		for _, c := range a.Changes {
			fmt.Fprintf(w, "  %-8s %s\n", c.Kind, inert(stmtLabel(c.Sid, c.Index)))
			seen := map[string]bool{}
			for _, f := range c.Findings {
				line := fmt.Sprintf("%s (%s, %s)", f.RuleID, f.Severity, f.Exposure)
				if f.Resource != a.Resource {
					line += " on " + f.Resource
				}
				if seen[line] {
					continue
				}
				seen[line] = true
				fmt.Fprintf(w, "           why: %s: %s\n", inert(line), inert(f.Explanation))
			}
			if c.Kind == remediate.Narrow {
				if c.How != "" {
					fmt.Fprintf(w, "           how: %s\n", inert(c.How))
				}
				fmt.Fprintf(w, "           becomes: %s\n", inert(string(c.Replacement)))
			}
			if c.Impact != "" {
				fmt.Fprintf(w, "           impact: %s\n", inert(c.Impact))
			}
			if c.Note != "" {
				fmt.Fprintf(w, "           note: %s\n", inert(c.Note))
			}
		}
		if a.URL != nil {
			fmt.Fprintf(w, "  %-8s function URL %sauth type %s → %s\n", "switch", inert(urlPrefix(a.URL.URL)), a.URL.From, a.URL.To)
			fmt.Fprintf(w, "           impact: %s\n", inert(a.URL.Impact))
		}
		if len(a.Changes) > 0 {
			fmt.Fprintf(w, "  %-8s %d other statement(s), unchanged byte for byte\n", "keep", a.StatementsKept)
		}
		for _, s := range a.Calls {
			fmt.Fprintf(w, "  %-8s %s\n", "run", inert(s.CLI))
		}
		for _, ef := range a.Exposure {
			who := ""
			if ef.Resource != a.Resource {
				who = " " + inert(ef.Resource) + " (" + string(ef.Kind) + "):"
			}
			fmt.Fprintf(w, "  %-8s%s %s → %s\n", "exposure", who, ef.Before, ef.After)
		}
		for _, n := range a.Notes {
			fmt.Fprintf(w, "  %-8s %s\n", "note", inert(n))
		}
	}
	if len(notChanged) > 0 {
		fmt.Fprintln(w, "\nReported, not changed:")
		for _, l := range notChanged {
			fmt.Fprintln(w, l)
		}
	}
	if len(d.Unresolved) > 0 {
		fmt.Fprintln(w, "\nCould not be closed (fix exits 1):")
		for _, u := range d.Unresolved {
			fmt.Fprintf(w, "  %s: %s (%s) %s: %s\n", inert(u.Resource), u.RuleID, u.Exposure, inert(stmtLabel(u.Sid, u.Index)), inert(u.Reason))
		}
	}
	if len(d.Unknown) > 0 || len(d.ScanErrors) > 0 {
		fmt.Fprintln(w, "\nCould not be assessed, never touched:")
		for _, u := range d.Unknown {
			fmt.Fprintf(w, "  %s: %s\n", inert(u.ARN), inert(u.Reason))
		}
		for _, s := range d.ScanErrors {
			fmt.Fprintf(w, "  %s\n", inert(s))
		}
	}
	s := d.Summary
	fmt.Fprintf(w, "\nPlan: %d statement(s) to remove, %d to narrow, %d function URL(s) to switch, in %d call(s) on %d resource(s).\n",
		s.Removed, s.Narrowed, s.URLs, s.Calls, s.Resources)
	switch {
	case s.Calls == 0:
		fmt.Fprintln(w, "Nothing to change.")
	case d.Mode == ModeDryRun:
		fmt.Fprintln(w, "Run again with --apply to carry it out; each resource is backed up (--backup-dir) before it is changed.")
	default:
		fmt.Fprintf(w, "Backups go to %s before each resource is changed.\n", inert(backupDir))
	}
	if s.Unresolved > 0 {
		fmt.Fprintf(w, "%d reported exposure(s) cannot be closed by this plan; see above.\n", s.Unresolved)
	}
	if !d.Complete {
		fmt.Fprintln(w, "The scan was incomplete: what could not be assessed was left alone.")
	}
}

func unresolvedIndex(a Action, index int) bool {
	for _, u := range a.Unresolved {
		if u.Index == index {
			return true
		}
	}
	return false
}

func urlPrefix(u string) string {
	if u == "" {
		return ""
	}
	return u + " "
}

func stmtLabel(sid string, index int) string {
	if sid == "" {
		return fmt.Sprintf("statement %d (no Sid)", index)
	}
	return fmt.Sprintf("statement %q (index %d)", sid, index)
}

// WriteResult renders one resource's apply result as it finishes.
func WriteResult(w io.Writer, r *remediate.Result) {
	fmt.Fprintf(w, "  %-8s %s\n", r.Status, inert(r.Target.ARN))
	if r.Error != "" {
		fmt.Fprintf(w, "           %s\n", inert(r.Error))
	}
	if len(r.Attempts) > 1 {
		for _, at := range r.Attempts {
			fmt.Fprintf(w, "           attempt %d: %d change(s), %d call(s) made: %s\n", at.Attempt, len(at.Changes), len(at.Calls), inert(at.Outcome))
		}
	}
	for _, m := range r.Messages {
		fmt.Fprintf(w, "           %s\n", inert(m))
	}
	for _, b := range r.Backups {
		fmt.Fprintf(w, "           backup %s\n", inert(b))
	}
}

// WriteApplied ends an apply: the counts and how to undo it. restoreHint
// is false when the backups cannot be restored with `lambdawarden restore`
// (the --demo estate lived only for the run; restore would act on real
// AWS).
func WriteApplied(w io.Writer, d *Document, sum *remediate.Summary, backupDir string, restoreHint bool) {
	fmt.Fprintf(w, "\nSummary: %d applied, %d skipped, %d failed", sum.Applied, sum.Skipped, sum.Failed)
	if sum.Applied+sum.Failed > 0 {
		if restoreHint {
			fmt.Fprintf(w, "; restore with: lambdawarden restore %s", inert(backupDir))
		} else {
			fmt.Fprintf(w, "; backups in %s (the demo estate lived only for this run, so there is nothing to restore)", inert(backupDir))
		}
	}
	fmt.Fprintln(w)
	if n := d.Summary.Unresolved; n > 0 {
		fmt.Fprintf(w, "%d reported exposure(s) could not be closed:\n", n)
		for _, u := range d.Unresolved {
			fmt.Fprintf(w, "  %s: %s (%s): %s\n", inert(u.Resource), u.RuleID, u.Exposure, inert(u.Reason))
		}
	}
	if len(d.Unknown) > 0 {
		fmt.Fprintf(w, "The scan was incomplete: %d resource(s) could not be assessed and were left alone.\n", len(d.Unknown))
	}
}
