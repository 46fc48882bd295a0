package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/history"
)

func (e *env) diffCommand() *cobra.Command {
	var hf historyFlags
	cmd := &cobra.Command{
		Use:   "diff [SCAN_A SCAN_B]",
		Short: "What changed between two recorded scans; exit 1 when anything got worse",
		Long: `Compares two scans of the history (default: the latest two that read every
account and Region of one scope): new exposures, resolved ones, changed
policies statement by statement (added, removed, changed), resources that
appeared or vanished, and resources that became unknown. Exits 1 when
anything got worse (a new unsuppressed finding, a wider exposure, a new
unknown), for a nightly job.`,
		Example: `  lambdawarden diff
  lambdawarden diff 41 42 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return usagef("diff needs two scan ids or none (got %d arguments); see 'lambdawarden history' for the ids", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := hf.format(e)
			if err != nil {
				return err
			}
			var from, to int64
			if len(args) == 2 {
				for i, a := range args {
					n, err := strconv.ParseInt(a, 10, 64)
					if err != nil || n <= 0 {
						return usagef("%q is not a scan id (a positive number; see 'lambdawarden history')", a)
					}
					if i == 0 {
						from = n
					} else {
						to = n
					}
				}
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			if len(args) == 0 {
				from, to, err = history.DefaultPair(e.ctx, s)
				if errors.Is(err, history.ErrNoPair) {
					return usagef("the history has %s; name two scans: lambdawarden diff A B", err)
				}
				if err != nil {
					return err
				}
			}
			d, err := history.Diff(e.ctx, s, from, to)
			if errors.Is(err, history.ErrNotFound) {
				return usagef("%s (see 'lambdawarden history')", err)
			}
			if err != nil {
				return err
			}
			if format == "json" {
				err = e.writeJSON(d)
			} else {
				err = writeDiff(e.stdout, d)
			}
			if err != nil {
				return err
			}
			if d.Worse {
				return exitCode(exitFindings)
			}
			return nil
		},
	}
	hf.register(cmd)
	return cmd
}

func writeDiff(w io.Writer, d *history.DiffResult) error {
	fmt.Fprintf(w, "Scan %d (%s) → scan %d (%s)\n", d.From.ID, d.From.At.UTC().Format(stamp), d.To.ID, d.To.At.UTC().Format(stamp))
	verdict := "nothing got worse"
	if d.Worse {
		verdict = "WORSE"
	}
	fmt.Fprintf(w, "Verdict: %s\n", verdict)
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(w, "\n%s (%d)\n", title, n)
		return true
	}
	finding := func(mark string, f history.SnapshotFinding) {
		sup := ""
		if f.Suppressed {
			sup = "  [suppressed]"
		}
		stmt := ""
		if f.StatementRef != "" {
			stmt = "  statement " + inert(f.StatementRef, 100)
		}
		fmt.Fprintf(w, "  %s %-8s %s  %s%s%s\n", mark, f.Severity, f.RuleID, inert(f.ARN, 200), stmt, sup)
	}
	if section("New findings", len(d.NewFindings)) {
		for _, f := range d.NewFindings {
			finding("+", f)
		}
	}
	if section("Resolved findings", len(d.Resolved)) {
		for _, f := range d.Resolved {
			finding("-", f)
		}
	}
	if section("Not re-checked (the resource could not be read)", len(d.NotRechecked)) {
		for _, f := range d.NotRechecked {
			finding("?", f)
		}
	}
	if section("Exposure changes", len(d.ExposureChanges)) {
		for _, c := range d.ExposureChanges {
			mark := "better"
			if c.Worse {
				mark = "WORSE"
			}
			fmt.Fprintf(w, "  %s: %s → %s (%s)\n", inert(c.ARN, 200), c.Before, c.After, mark)
		}
	}
	if section("Changed policies", len(d.ChangedPolicies)) {
		for _, p := range d.ChangedPolicies {
			fmt.Fprintf(w, "  %s\n", inert(p.ARN, 200))
			for _, c := range p.Statements {
				writeStatementChange(w, "    ", c)
			}
		}
	}
	if section("New unknowns", len(d.NewUnknowns)) {
		for _, r := range d.NewUnknowns {
			fmt.Fprintf(w, "  %s: %s\n", inert(r.ARN, 200), inert(r.UnknownReason, 300))
		}
	}
	if section("Appeared", len(d.Appeared)) {
		for _, r := range d.Appeared {
			fmt.Fprintf(w, "  + %s (%s, %s)\n", inert(r.ARN, 200), r.Kind, r.Exposure)
		}
	}
	if section("Vanished", len(d.Vanished)) {
		for _, r := range d.Vanished {
			fmt.Fprintf(w, "  - %s (%s)\n", inert(r.ARN, 200), r.Kind)
		}
	}
	if len(d.NewFindings)+len(d.Resolved)+len(d.NotRechecked)+len(d.ExposureChanges)+len(d.ChangedPolicies)+len(d.NewUnknowns)+len(d.Appeared)+len(d.Vanished) == 0 {
		fmt.Fprintln(w, "\nNo changes.")
	}
	return nil
}
