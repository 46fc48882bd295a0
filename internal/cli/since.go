package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/incremental"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
	"github.com/lambdawarden/lambdawarden/internal/suppress"
	"github.com/lambdawarden/lambdawarden/internal/trail"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

// sinceFlags are scan's incremental-rescan flags.
type sinceFlags struct {
	since      string
	fullEvery  string
	cloudtrail string

	from  time.Time // zero for "last"
	every time.Duration
}

func (s *sinceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.since, "since", "", "incremental rescan: last (since the last covered scan of the same scope in --history) or a time (2026-12-01T00:00:00Z); only what CloudTrail says changed is read again, the rest is carried forward")
	fl.StringVar(&s.fullEvery, "full-every", "7d", "with --since: scan in full anyway when the last full scan is older than this (days like 7d or a duration like 36h)")
	fl.StringVar(&s.cloudtrail, "cloudtrail", "", "with --since: read the events from CloudTrail log files (a file or folder) instead of cloudtrail:LookupEvents")
}

func (s *sinceFlags) set() bool { return s.since != "" }

// validate checks the flags before any work; dsn is the history ("" for none).
func (s *sinceFlags) validate(changed func(string) bool, sf scanFlags, dsn string) error {
	if !s.set() {
		for _, f := range []string{"full-every", "cloudtrail"} {
			if changed(f) {
				return usagef("--%s only applies to an incremental rescan: add --since last (or --since TIME)", f)
			}
		}
		return nil
	}
	if s.since != "last" {
		t, err := time.Parse(time.RFC3339, s.since)
		if err != nil {
			return usagef("--since %q: want last or an RFC 3339 time such as 2026-12-01T00:00:00Z", s.since)
		}
		s.from = t
	}
	every, err := parseEvery(s.fullEvery)
	if err != nil {
		return usagef("--full-every %q: want days like 7d or a duration like 36h", s.fullEvery)
	}
	s.every = every
	if s.cloudtrail != "" {
		if _, err := os.Stat(s.cloudtrail); err != nil {
			return usagef("--cloudtrail %s: %v (give a CloudTrail log file or folder)", s.cloudtrail, errors.Unwrap(err))
		}
	}
	if sf.demo {
		return usagef("--since cannot be used with --demo: the demo estate is new on every run, so there is nothing to carry forward")
	}
	if dsn == "" && (s.cloudtrail == "" || s.from.IsZero()) {
		return usagef("--since needs --history DSN (the resources not read again are carried forward from the last covered scan recorded there), or --since TIME with --cloudtrail PATH to read only what the events name")
	}
	return nil
}

// sinceRun is an incremental scan's outcome.
type sinceRun struct {
	doc *report.Document
	inc *history.Incremental // nil when it fell back to a full scan
}

// runSince rescans incrementally, or in full when the history says it
// must (no covered base, the last full scan too old, another rule
// catalog); the note in the report says which.
func (e *env) runSince(s sinceFlags, sf scanFlags, tr rules.Trust, targets []outputTarget, mark *suppress.Marker, store history.Store) (sinceRun, error) {
	var base, full history.Scan
	var snap *history.Snapshot
	var baseCarried map[string]int64
	var policy incremental.PolicyText
	if store != nil {
		var why string
		var err error
		base, full, why, err = e.sinceBase(s, sf, store)
		if err != nil {
			return sinceRun{}, err
		}
		if why != "" {
			d, err := e.runScan(sf, tr, targets, mark, true)
			if err == nil {
				d.Scan.Notes = append(d.Scan.Notes, "--since: a full scan, because "+why)
			}
			return sinceRun{doc: d}, err
		}
		if snap, err = store.Snapshot(e.ctx, base.ID); err != nil {
			return sinceRun{}, err
		}
		baseInc, err := store.Incremental(e.ctx, base.ID)
		if err != nil {
			return sinceRun{}, err
		}
		if baseInc != nil {
			baseCarried = baseInc.Carried
		}
		policy = store.Policy
	}
	signalCtx := e.ctx // Ctrl-C or SIGTERM, as opposed to --timeout
	if sf.timeout > 0 {
		// --timeout bounds the incremental scan as it bounds a full one.
		ctx, stop := context.WithTimeoutCause(e.ctx, sf.timeout, fmt.Errorf("--timeout %s was reached", sf.timeout))
		defer stop()
		se := *e
		se.ctx = ctx
		e = &se
	}
	var events *trail.Result
	if s.cloudtrail != "" {
		var err error
		if events, err = readTrail(e.ctx, s.cloudtrail); err != nil {
			return sinceRun{}, usagef("--cloudtrail %s: %v", s.cloudtrail, err)
		}
		if snap == nil {
			events = inScope(events, sf.regions, sf.accounts)
		}
	}
	opt := sf.collectOptions()
	if sf.org {
		if err := e.joinOrganization(&opt, &tr); err != nil {
			return sinceRun{}, err
		}
	}
	opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, tr) }
	rd, err := awscollect.NewReader(e.ctx, opt)
	if errors.Is(err, awscollect.ErrNoCredentials) {
		return sinceRun{}, usagef("%s", err)
	}
	if err != nil {
		return sinceRun{}, err
	}
	sopt := scan.Options{Trust: tr}
	sp, err := report.NewSpool("")
	if err != nil {
		return sinceRun{}, err
	}
	var spoolErr error
	add := func(r *report.Resource) {
		if mark != nil {
			mark.Mark(r)
		}
		if err := sp.Add(r); err != nil && spoolErr == nil {
			spoolErr = err
		}
	}
	since := s.from
	if since.IsZero() {
		// From the start of the base scan: a change made while it ran
		// may or may not be in what it read.
		if since, err = time.Parse(time.RFC3339, base.StartedAt); err != nil {
			since = base.At
		}
	}
	var fullCalls int64
	started := time.Now().UTC()
	res, err := incremental.Run(e.ctx, rd, incremental.Options{
		Base: snap, BaseCarried: baseCarried, Policy: policy, Since: since, Until: e.clock()(), Events: events,
		FullLane: func(ctx context.Context, l incremental.Lane, emit func(*inventory.Resource)) ([]string, error) {
			lo := opt
			lo.Accounts, lo.Regions, lo.AllRegions = []string{l.Account}, []string{l.Region}, false
			sum, err := awscollect.Collect(ctx, lo, emit)
			if err != nil {
				return nil, err
			}
			fullCalls += sum.APICalls
			errs := sum.Errors
			for _, nl := range sum.NotListed {
				errs = append(errs, fmt.Sprintf("%s/%s: %s not listed: %s", nl.Account, nl.Region, nl.What, nl.Reason))
			}
			return errs, nil
		},
	}, incremental.Emit{
		Read: func(r *inventory.Resource) {
			out := scan.Assess(r, sopt)
			add(&out)
		},
		Carried: add,
	})
	if err == nil {
		err = spoolErr
	}
	d := &report.Document{SchemaVersion: report.SchemaVersion, Tool: toolInfo()}
	if err == nil {
		err = d.UseSpool(sp)
	}
	if err != nil {
		sp.Close()
		// Nothing is carried forward on half a reading: no report, no
		// record.
		if signalCtx.Err() != nil {
			return sinceRun{}, interrupted("%s", "the incremental scan was stopped before it read everything; nothing was written or recorded")
		}
		if e.ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "lambdawarden: %v before the incremental scan read everything; nothing was written or recorded (run it again, or a full scan)\n", context.Cause(e.ctx))
			return sinceRun{}, exitCode(exitIncomplete)
		}
		return sinceRun{}, err
	}
	calls := int(rd.TotalCalls() + fullCalls)
	accounts, regions := base.Accounts, base.Regions
	note := fmt.Sprintf("incremental: %d resources read again, %d carried forward from scan %d; %d API calls against %d for the last full scan", res.Rescanned, len(res.Carried), base.ID, calls, full.APICalls)
	if snap == nil {
		accounts, regions = lanesOf(events)
		note = fmt.Sprintf("no history: only the %d resources named by the %d exposure-changing events since %s were read; the rest of the estate is not in this report", res.Rescanned, res.Events, since.UTC().Format(time.RFC3339))
	}
	info := &report.Incremental{Since: since.UTC().Format(time.RFC3339), BaseScan: base.ID, Events: res.Events, Rescanned: res.Rescanned,
		CarriedForward: len(res.Carried), FullLanes: res.FullLanes, APICalls: calls, FullScanEstimate: int(full.APICalls)}
	d.Scan = &report.ScanInfo{StartedAt: started.Format(time.RFC3339), FinishedAt: time.Now().UTC().Format(time.RFC3339),
		Accounts: accounts, Regions: regions, APICalls: calls, Errors: res.Errors, Caller: rd.CallerARN(), Incremental: info,
		Notes: []string{note}}
	for _, l := range res.FullLanes {
		d.Scan.Notes = append(d.Scan.Notes, "scanned in full, nothing carried forward: "+l)
	}
	d.Summarize()
	d.Scan.Complete = len(res.Errors) == 0 && d.Summary.Unknown == 0 && d.Summary.Unchecked == 0
	raw, _ := json.Marshal(info)
	return sinceRun{doc: d, inc: &history.Incremental{BaseScan: base.ID, Since: info.Since, Info: raw, Carried: res.Carried}}, nil
}

// lookupRetention is how far back cloudtrail:LookupEvents reaches (90
// days), less a day so that the oldest events are not at the edge.
const lookupRetention = 89 * 24 * time.Hour

// sinceBase finds the scan to carry forward from and the last full scan
// of the same scope; why is set when a full scan must be made instead.
func (e *env) sinceBase(s sinceFlags, sf scanFlags, store history.Store) (base, full history.Scan, why string, err error) {
	scans, err := store.Scans(e.ctx, history.ScanFilter{})
	if err != nil {
		return base, full, "", err
	}
	var haveBase bool
	slices.Reverse(scans) // newest first
	for _, sc := range scans {
		if !sc.Covered || !sameScope(sc, sf) {
			continue
		}
		if !haveBase {
			if !s.from.IsZero() && sc.At.After(s.from) {
				continue // recorded after the time asked for: events before it would be missed
			}
			base, haveBase = sc, true
		}
		inc, err := store.Incremental(e.ctx, sc.ID)
		if err != nil {
			return base, full, "", err
		}
		if inc == nil {
			full = sc
			break
		}
	}
	switch {
	case !haveBase:
		return base, full, "the history holds no covered scan of this scope to start from", nil
	case full.ID == 0:
		return base, full, "the history holds no full scan of this scope", nil
	case e.clock()().Sub(full.At) >= s.every:
		return base, full, fmt.Sprintf("the last full scan (scan %d) is older than --full-every %s", full.ID, s.fullEvery), nil
	case s.cloudtrail == "" && e.clock()().Sub(base.At) > lookupRetention:
		return base, full, fmt.Sprintf("scan %d is older than the 90 days of events cloudtrail:LookupEvents keeps", base.ID), nil
	case base.CatalogVersion != rules.CatalogVersion():
		return base, full, fmt.Sprintf("scan %d was judged by another rule catalog (%s)", base.ID, base.CatalogVersion), nil
	case len(base.SkippedRules) > 0 != sf.noRoles:
		return base, full, fmt.Sprintf("scan %d and this one differ in --no-roles", base.ID), nil
	}
	return base, full, "", nil
}

// sameScope: a scan covers the scope asked for when the Regions (and the
// accounts, when given) are the ones asked for.
func sameScope(sc history.Scan, sf scanFlags) bool {
	if len(sf.regions) > 0 && !sameSet(sc.Regions, sf.regions) {
		return false
	}
	if len(sf.accounts) > 0 && !sameSet(sc.Accounts, sf.accounts) {
		return false
	}
	return true
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range y {
		y[i] = strings.TrimSpace(y[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// readTrail reads CloudTrail files (a file or a folder) into one result;
// a file that cannot be read is a problem, so no lane is carried forward
// on a partial record of its events.
func readTrail(ctx context.Context, path string) (*trail.Result, error) {
	all := &trail.Result{}
	f := &watch.Files{Path: path, Logf: func(format string, args ...any) {
		all.Problems = append(all.Problems, trail.Problem{Where: path, Err: fmt.Sprintf(format, args...)})
	}}
	err := f.Run(ctx, func(r trail.Result) {
		all.Events = append(all.Events, r.Events...)
		all.Failed = append(all.Failed, r.Failed...)
		all.Ignored += r.Ignored
		all.Problems = append(all.Problems, r.Problems...)
	})
	return all, err
}

// parseEvery reads "7d" or a Go duration; it must be positive.
func parseEvery(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		// At most 100 years: more would overflow a duration.
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days || n < 1 || n > 36500 {
			return 0, fmt.Errorf("bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("not positive")
	}
	return d, err
}

// inScope keeps the events whose targets are in the Regions and accounts
// asked for (none asked: all).
func inScope(evs *trail.Result, regions, accounts []string) *trail.Result {
	out := *evs
	out.Events = nil
	for _, ev := range evs.Events {
		keep := ev.Targets[:0:0]
		for _, t := range ev.Targets {
			if (len(regions) == 0 || slices.Contains(regions, t.Region)) && (len(accounts) == 0 || slices.Contains(accounts, t.Account)) {
				keep = append(keep, t)
			}
		}
		if len(keep) > 0 || len(ev.Targets) == 0 {
			ev.Targets = keep
			out.Events = append(out.Events, ev)
		}
	}
	return &out
}

// lanesOf lists the accounts and Regions the events name.
func lanesOf(evs *trail.Result) (accounts, regions []string) {
	for _, ev := range evs.Events {
		for _, t := range ev.Targets {
			if !slices.Contains(accounts, t.Account) {
				accounts = append(accounts, t.Account)
			}
			if !slices.Contains(regions, t.Region) {
				regions = append(regions, t.Region)
			}
		}
	}
	slices.Sort(accounts)
	slices.Sort(regions)
	return accounts, regions
}
