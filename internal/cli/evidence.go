package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/evidence"
)

func (e *env) evidenceCommand() *cobra.Command {
	var (
		hf       historyFlags
		from, to string
		outputs  []string
	)
	cmd := &cobra.Command{
		Use:   "evidence --from DATE --to DATE -o html=FILE -o json=FILE",
		Short: "The auditor's evidence pack for a period, from the history",
		Long: `For a period (both dates included, UTC): the scans run (when, by whom, scope,
completeness), coverage per account and Region, every finding open at some
time with its open interval and the scan that confirmed its fix, grouped by
the HIPAA Security Rule sections its rule maps to, every suppression with its
reason, approver and expiry, a chart of open findings per day by severity, and
the history's integrity check. html is one self-contained file (no script, no
external resource) that prints; json has everything, uncapped.`,
		Example: `  lambdawarden evidence --from 2025-01-01 --to 2025-12-31 -o html=evidence-2025.html -o json=evidence-2025.json`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usagef("evidence needs the period: --from DATE --to DATE (YYYY-MM-DD)")
			}
			start, err := parseDate(from)
			if err != nil {
				return usagef("--from: %s", err)
			}
			last, err := parseDate(to)
			if err != nil {
				return usagef("--to: %s", err)
			}
			end := last.Add(24 * time.Hour) // --to is included
			if !start.Before(end) {
				return usagef("--from %s is after --to %s", from, to)
			}
			if end.Sub(start) > 11*366*24*time.Hour {
				return usagef("the period is longer than eleven years; split it")
			}
			targets, err := evidenceTargets(outputs)
			if err != nil {
				return err
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			p, err := evidence.Build(e.ctx, s, start, end, e.clock()(), toolInfo())
			if err != nil {
				return err
			}
			for _, t := range targets {
				render := func(w io.Writer) error {
					if t.format == "html" {
						return evidence.WriteHTML(w, p)
					}
					return evidence.WriteJSON(w, p)
				}
				if t.file == "" {
					w := bufio.NewWriterSize(e.stdout, outputBuffer)
					if err := render(w); err != nil {
						return err
					}
					if err := w.Flush(); err != nil {
						return err
					}
					continue
				}
				if err := writeOutputFile(t.file, render); err != nil {
					return usagef("cannot write %s: %s", t.file, err)
				}
			}
			if len(p.Integrity.Problems) > 0 {
				fmt.Fprintf(e.stderr, "lambdawarden: the history failed its integrity check (%s); the evidence says so\n", p.Integrity.Problems[0])
				return exitCode(exitFindings)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&hf.dsn, "history", "", "the history: a SQLite file or postgres://… (default: the config file's history, else "+defaultHistory+")")
	fl.StringVar(&hf.config, "config", "", "configuration file, for its history setting")
	fl.StringVar(&from, "from", "", "first day of the period (YYYY-MM-DD, UTC)")
	fl.StringVar(&to, "to", "", "last day of the period, included (YYYY-MM-DD, UTC)")
	fl.StringArrayVarP(&outputs, "output", "o", nil, "html[=FILE] or json[=FILE], repeatable (default: json on standard output)")
	return cmd
}

type evidenceTarget struct{ format, file string }

func evidenceTargets(specs []string) ([]evidenceTarget, error) {
	if len(specs) == 0 {
		specs = []string{"json"}
	}
	var out []evidenceTarget
	stdout := 0
	for _, s := range specs {
		format, file, hasFile := strings.Cut(s, "=")
		format = strings.ToLower(strings.TrimSpace(format))
		if format != "html" && format != "json" {
			return nil, usagef("-o %s: want html[=FILE] or json[=FILE]", s)
		}
		if hasFile && file == "" {
			return nil, usagef("-o %s: missing file name after '='", s)
		}
		if file == "" {
			stdout++
		}
		out = append(out, evidenceTarget{format, file})
	}
	if stdout > 1 {
		return nil, usagef("only one -o format can go to standard output; give the others a file (-o json=evidence.json)")
	}
	return out, nil
}
