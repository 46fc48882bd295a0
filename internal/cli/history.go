package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/config"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// defaultHistory is what --history means without a value.
const defaultHistory = "~/.lambdawarden/history.db"

// expandDSN turns "~/" into the home directory.
func expandDSN(dsn string) (string, error) {
	if dsn == defaultHistory {
		return history.DefaultDSN()
	}
	if strings.HasPrefix(dsn, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", usagef("--history %s: no home directory: %v", dsn, err)
		}
		return filepath.Join(home, dsn[2:]), nil
	}
	if strings.Contains(dsn, "://") && !history.IsPostgres(dsn) {
		return "", usagef("--history %q: want a SQLite file path or a postgres:// URL", dsn)
	}
	return dsn, nil
}

func (e *env) clock() func() time.Time {
	if e.now != nil {
		return e.now
	}
	return time.Now
}

// openHistory opens a history; a history that cannot be opened is bad
// input (exit 2), found before any work.
func (e *env) openHistory(dsn string, mustExist bool) (history.Store, error) {
	s, err := history.Open(e.ctx, dsn, history.Options{Now: e.clock(), MustExist: mustExist})
	if err != nil {
		return nil, usagef("--history: %s", squash(err.Error()))
	}
	return s, nil
}

// scanHistoryFlag is scan's --history [DSN]: a value is optional, and
// "--history PATH" (with a space) takes PATH as the value.
type scanHistoryFlag struct{ dsn string }

func (h *scanHistoryFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.dsn, "history", "", "record the scan into a history: a SQLite file or postgres://… (no value: "+defaultHistory+")")
	cmd.Flags().Lookup("history").NoOptDefVal = defaultHistory
}

// args wraps scan's argument check: the one argument after a bare
// --history is its value.
func (h *scanHistoryFlag) args(inner cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if h.dsn == defaultHistory && len(args) == 1 {
			h.dsn = args[0]
			return inner(cmd, nil)
		}
		return inner(cmd, args)
	}
}

// resolve gives the DSN to record into, "" for none: the flag, else the
// configuration file's history setting.
func (h *scanHistoryFlag) resolve(cmd *cobra.Command, st *settings) (string, error) {
	dsn := h.dsn
	if !cmd.Flags().Changed("history") {
		dsn = st.history
	}
	if dsn == "" {
		return "", nil
	}
	return expandDSN(dsn)
}

// recordScan stores the finished scan with who ran it and the catalog.
func (e *env) recordScan(s history.Store, d *report.Document, sf scanFlags, inc *history.Incremental) error {
	if e.ctx.Err() != nil {
		// Half a scan is no evidence: the reports were written, the
		// history is left as it was.
		fmt.Fprintln(e.stderr, "lambdawarden: the scan was interrupted; it is not recorded in the history")
		return nil
	}
	meta := history.Meta{Caller: d.Scan.Caller, CatalogVersion: rules.CatalogVersion(), Incremental: inc}
	if sf.noRoles {
		for _, r := range rules.All() {
			if strings.HasPrefix(r.ID, "lambda-role-") {
				meta.SkippedRules = append(meta.SkippedRules, r.ID)
			}
		}
	}
	sc, err := s.RecordScan(e.ctx, d, meta)
	if err != nil {
		return err
	}
	if !sf.quiet && isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "lambdawarden: recorded as scan %d in the history\n", sc.ID)
	}
	return nil
}

// historyFlags are the read commands' --history, --config and -o.
type historyFlags struct {
	dsn    string
	config string
	output string
}

func (h *historyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&h.dsn, "history", "", "the history: a SQLite file or postgres://… (default: the config file's history, else "+defaultHistory+")")
	fl.StringVar(&h.config, "config", "", "configuration file (default: ./"+config.FileName+" when it exists), for its history setting")
	fl.StringVarP(&h.output, "output", "o", "", "text or json (default: text on a terminal, json otherwise)")
}

// format checks -o before any work.
func (h *historyFlags) format(e *env) (string, error) {
	switch strings.ToLower(h.output) {
	case "":
		if e.isTerminal {
			return "text", nil
		}
		return "json", nil
	case "text", "json":
		return strings.ToLower(h.output), nil
	}
	return "", usagef("-o %q: want text or json", h.output)
}

// open resolves the DSN (flag, config file, default) and opens the
// history, which must exist when it is a file.
func (h *historyFlags) open(e *env) (history.Store, error) {
	dsn := h.dsn
	if dsn == "" {
		path := h.config
		if path == "" {
			if found, ok := config.Find("."); ok {
				path = found
			}
		}
		if path != "" {
			cfg, err := config.Load(path)
			if err != nil {
				return nil, usagef("%s", err)
			}
			dsn = cfg.History
		}
	}
	if dsn == "" {
		dsn = defaultHistory
	}
	dsn, err := expandDSN(dsn)
	if err != nil {
		return nil, err
	}
	return e.openHistory(dsn, true)
}

func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// inert makes a string from AWS or the store safe for a terminal:
// control and bidirectional-override characters escaped, length capped.
func inert(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range s { // invalid UTF-8 comes out as U+FFFD
		if n >= limit {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

const stamp = "2006-01-02 15:04"

func (e *env) historyCommand() *cobra.Command {
	var (
		hf     historyFlags
		verify bool
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "The recorded scans, and the history's integrity (--verify)",
		Long: `Lists the scans recorded with 'scan --history', oldest first. Each scan row is
chained by hash to the one before it; --verify recomputes every scan's hash
from its rows and exits 1 naming any scan that was edited, deleted or
inserted.

  history findings    findings with their lifecycle (first seen, resolved, time to fix)
  history resource    every policy version of one resource, statement by statement
  history prune       delete scans older than --retain (six years by default)`,
		Example: `  lambdawarden history
  lambdawarden history --verify
  lambdawarden history --history postgres://lw@db/history -o json`,
		Args: exactArgs(0, "no arguments (subcommands: findings, resource, prune)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := hf.format(e)
			if err != nil {
				return err
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			if verify {
				return e.verifyHistory(s, format)
			}
			scans, err := s.Scans(e.ctx, history.ScanFilter{Limit: limit})
			if err != nil {
				return err
			}
			if format == "json" {
				return e.writeJSON(map[string]any{"scans": nonNilScans(scans)})
			}
			return writeScans(e.stdout, scans)
		},
	}
	hf.register(cmd)
	cmd.Flags().BoolVar(&verify, "verify", false, "check the hash chain and every scan's content; exit 1 naming what was tampered with")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the most recent N scans")
	cmd.AddCommand(e.historyFindingsCommand(), e.historyResourceCommand(), e.historyPruneCommand())
	return cmd
}

func nonNilScans(s []history.Scan) []history.Scan {
	if s == nil {
		return []history.Scan{}
	}
	return s
}

func scanState(s history.Scan) string {
	switch {
	case s.Complete:
		return "complete"
	case s.Covered:
		return fmt.Sprintf("covered, %d unknown", s.Summary.Unknown)
	}
	return "incomplete"
}

func writeScans(w io.Writer, scans []history.Scan) error {
	if len(scans) == 0 {
		_, err := fmt.Fprintln(w, "No scans recorded yet (record one with: lambdawarden scan --history).")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCAN\tRECORDED (UTC)\tCALLER\tACCOUNTS\tREGIONS\tRESOURCES\tFINDINGS\tSTATE")
	for _, s := range scans {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, s.At.UTC().Format(stamp), inert(s.Caller, 80),
			inert(listOrCount(s.Accounts, "accounts"), 60), inert(listOrCount(s.Regions, "Regions"), 60), s.Summary.Resources, s.Summary.Findings, scanState(s))
	}
	return tw.Flush()
}

func listOrCount(v []string, what string) string {
	if len(v) <= 2 {
		return strings.Join(v, ",")
	}
	return fmt.Sprintf("%d %s", len(v), what)
}

func (e *env) verifyHistory(s history.Store, format string) error {
	vr, err := s.Verify(e.ctx)
	if err != nil {
		return err
	}
	if vr.Problems == nil {
		vr.Problems = []string{}
	}
	if format == "json" {
		if err := e.writeJSON(vr); err != nil {
			return err
		}
	} else {
		if len(vr.Problems) == 0 {
			fmt.Fprintf(e.stdout, "History intact: %d scans; head is scan %d with hash %s.\n", vr.Scans, vr.HeadScan, vr.Head)
			fmt.Fprintln(e.stdout, "Keep the head hash outside the history: a later --verify whose chain no longer reaches it shows scans were removed from the end.")
		} else {
			fmt.Fprintf(e.stdout, "History TAMPERED: %d problems in %d scans:\n", len(vr.Problems), vr.Scans)
			for _, p := range vr.Problems {
				fmt.Fprintf(e.stdout, "  %s\n", p)
			}
		}
	}
	if len(vr.Problems) > 0 {
		return exitCode(exitFindings)
	}
	return nil
}

func (e *env) historyFindingsCommand() *cobra.Command {
	var (
		hf    historyFlags
		flt   history.FindingFilter
		since string
	)
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "Findings with their lifecycle: first seen, last seen, resolved, reopened, time to fix",
		Long: `A finding is the same finding across scans when its resource, rule and statement
(its Sid, or its content when it has none) are the same. It is resolved by the
first scan that covered its account and Region, read its resource and no
longer found it; a scan that could not read the resource leaves it open,
marked "not re-checked".`,
		Example: `  lambdawarden history findings --open
  lambdawarden history findings --rule lambda-public-access --since 2025-01-01 -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := hf.format(e)
			if err != nil {
				return err
			}
			if since != "" {
				t, err := parseDate(since)
				if err != nil {
					return usagef("--since: %s", err)
				}
				flt.Since = t
			}
			if flt.Account != "" && !isAccountID(flt.Account) {
				return usagef("--account: %q is not a 12-digit account id", flt.Account)
			}
			if flt.Rule != "" {
				if _, err := rules.ByID(flt.Rule); err != nil {
					return usagef("--rule: %s", err)
				}
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			fs, err := s.Findings(e.ctx, flt)
			if err != nil {
				return err
			}
			if format == "json" {
				return e.writeJSON(map[string]any{"findings": fs})
			}
			return writeFindings(e.stdout, fs)
		},
	}
	hf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&flt.Account, "account", "", "only this account's findings")
	fl.StringVar(&flt.Rule, "rule", "", "only this rule's findings")
	fl.StringVar(&flt.Resource, "resource", "", "only this resource's findings (its ARN)")
	fl.BoolVar(&flt.Open, "open", false, "only findings open now")
	fl.StringVar(&since, "since", "", "only findings open at some time since DATE (YYYY-MM-DD or RFC 3339)")
	return cmd
}

// parseDate reads YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD or RFC 3339, e.g. 2025-01-31)", s)
}

func writeFindings(w io.Writer, fs []history.Finding) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "No findings match.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tSEVERITY\tRULE\tRESOURCE\tSTATEMENT\tFIRST SEEN\tRESOLVED\tTIME TO FIX\tREOPENED")
	for _, f := range fs {
		state, resolved, ttf := "open", "-", "-"
		if f.NotRechecked {
			state = "open, not re-checked"
		}
		if f.Suppressed {
			state += ", suppressed"
		}
		if f.ResolvedAt != nil {
			state, resolved = "resolved", f.ResolvedAt.UTC().Format(stamp)+fmt.Sprintf(" (scan %d)", f.ResolvedScan)
			ttf = history.HumanDuration(time.Duration(*f.TimeToFix))
		}
		stmt := f.StatementRef
		if stmt == "" {
			stmt = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", state, f.Severity, f.RuleID, inert(f.ARN, 160), inert(stmt, 60),
			f.FirstSeen.UTC().Format(stamp)+fmt.Sprintf(" (scan %d)", f.FirstScan), resolved, ttf, f.Reopened)
	}
	return tw.Flush()
}

func (e *env) historyResourceCommand() *cobra.Command {
	var hf historyFlags
	cmd := &cobra.Command{
		Use:     "resource ARN",
		Short:   "Every policy version of one resource, with a statement-level diff between them",
		Example: `  lambdawarden history resource arn:aws:lambda:us-east-1:111122223333:function:intake`,
		Args:    exactArgs(1, "the resource's ARN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := hf.format(e)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(args[0], "arn:") {
				return usagef("%q is not an ARN (want arn:aws:lambda:REGION:ACCOUNT:function:NAME)", args[0])
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			versions, err := history.PolicyVersions(e.ctx, s, args[0])
			if errors.Is(err, history.ErrNotFound) {
				return usagef("%s", err)
			}
			if err != nil {
				return err
			}
			if format == "json" {
				return e.writeJSON(map[string]any{"resource": args[0], "versions": versions})
			}
			return writeResourceVersions(e.stdout, args[0], versions)
		},
	}
	hf.register(cmd)
	return cmd
}

func writeResourceVersions(w io.Writer, arn string, versions []history.PolicyVersion) error {
	fmt.Fprintf(w, "Resource %s: %d versions\n", inert(arn, 200), len(versions))
	for i, v := range versions {
		span := fmt.Sprintf("scan %d", v.FirstScan.ID)
		if v.LastScan != v.FirstScan.ID {
			span = fmt.Sprintf("scans %d–%d", v.FirstScan.ID, v.LastScan)
		}
		state := v.Resource.Exposure
		if v.Resource.Status == "unknown" {
			state = "unknown: " + inert(v.Resource.UnknownReason, 200)
		}
		pol := "no policy"
		if v.Resource.PolicySHA != "" {
			pol = "policy sha256:" + v.Resource.PolicySHA[:12]
		}
		fmt.Fprintf(w, "\n%s  from %s  exposure %s  %s\n", span, v.FirstScan.At.UTC().Format(stamp), state, pol)
		if i > 0 && len(v.Statements) == 0 {
			fmt.Fprintln(w, "  policy unchanged")
		}
		for _, c := range v.Statements {
			writeStatementChange(w, "  ", c)
		}
	}
	return nil
}

func writeStatementChange(w io.Writer, indent string, c history.StatementChange) {
	switch c.Kind {
	case "added":
		fmt.Fprintf(w, "%s+ added    %s  %s\n", indent, inert(c.ID, 100), inert(c.After.Text, 400))
	case "removed":
		fmt.Fprintf(w, "%s- removed  %s  %s\n", indent, inert(c.ID, 100), inert(c.Before.Text, 400))
	default:
		fmt.Fprintf(w, "%s~ changed  %s\n%s    before %s\n%s    after  %s\n", indent, inert(c.ID, 100), indent, inert(c.Before.Text, 400), indent, inert(c.After.Text, 400))
	}
}

func (e *env) historyPruneCommand() *cobra.Command {
	var (
		hf     historyFlags
		retain string
	)
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete scans older than --retain, and the policy texts only they used",
		Long: `Deletes scans recorded longer ago than --retain (default 2190d: six years, the
retention HIPAA 164.316(b)(2) asks of documentation) with what only they used.
The hash chain's start moves to the newest deleted scan, so --verify still
checks everything that is left.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := hf.format(e)
			if err != nil {
				return err
			}
			keep, err := parseRetention(retain)
			if err != nil {
				return usagef("--retain: %s", err)
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := s.Prune(e.ctx, e.clock()().Add(-keep))
			if err != nil {
				return err
			}
			if format == "json" {
				return e.writeJSON(res)
			}
			_, err = fmt.Fprintf(e.stdout, "Pruned %d scans, %d policy texts and %d resolved findings older than %s.\n", res.Scans, res.Policies, res.Findings, retain)
			return err
		},
	}
	hf.register(cmd)
	cmd.Flags().StringVar(&retain, "retain", "2190d", "keep scans this recent: days (2190d) or a Go duration (720h)")
	return cmd
}

// parseRetention reads "2190d" or a Go duration; at least one day.
func parseRetention(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("%q: want days like 2190d or a duration like 720h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want days like 2190d or a duration like 720h", s)
		}
	}
	if d < 24*time.Hour {
		return 0, fmt.Errorf("%q: keep at least one day", s)
	}
	return d, nil
}
