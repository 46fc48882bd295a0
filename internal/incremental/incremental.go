// Package incremental rescans only what changed: from a base scan in the
// history and the exposure-changing CloudTrail events since it, it reads
// again the functions and layer versions the events name (and the
// functions created since, which no exposure-changing event names), and
// carries every other resource forward from the base scan, marked as
// such. An account and Region whose events or functions cannot be read is
// scanned in full instead: nothing is carried forward on a guess.
package incremental

import (
	"context"
	"fmt"
	"sort"
	"time"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// Reader is the targeted reader's part used here (awscollect.Reader).
type Reader interface {
	LookupEventsIn(ctx context.Context, account, region string, start, end time.Time) ([]string, error)
	ListFunctionARNs(ctx context.Context, account, region string) ([]string, error)
	ReadFunction(ctx context.Context, functionARN string) ([]awscollect.Read, error)
	Read(ctx context.Context, arn string) (awscollect.Read, error)
}

// PolicyText returns a stored policy text by its SHA-256.
type PolicyText func(ctx context.Context, sha string) (string, error)

// Lane is one account and Region.
type Lane struct{ Account, Region string }

func (l Lane) String() string { return l.Account + "/" + l.Region }

// Options say where the rescan starts and how to read.
type Options struct {
	// Base is the scan carried forward from. Nil (no history): only the
	// resources the events name are read, in the lanes they name, and
	// nothing is listed or carried.
	Base *history.Snapshot
	// BaseCarried is what the base scan itself carried forward (ARN →
	// the scan it was read in), when it was incremental: a resource keeps
	// naming the scan that last read it.
	BaseCarried map[string]int64
	// Policy reads the base scan's policy texts.
	Policy PolicyText
	// Since and Until bound the events read.
	Since, Until time.Time
	// Events, when not nil, are the events to use (CloudTrail files)
	// instead of LookupEvents in each lane. Problems in them that cannot
	// be tied to one lane make every lane scan in full.
	Events *trail.Result
	// FullLane scans one lane in full, emitting what it reads; it returns
	// what made that lane incomplete.
	FullLane func(ctx context.Context, l Lane, emit func(*inventory.Resource)) ([]string, error)
}

// Emit receives what the rescan produced: a resource read now (to be
// judged), or a carried-forward one (already judged).
type Emit struct {
	Read    func(*inventory.Resource)
	Carried func(*report.Resource)
}

// Result is what the rescan did.
type Result struct {
	Events    int
	Rescanned int
	// Carried maps each carried-forward ARN to the scan it came from.
	Carried map[string]int64
	// FullLanes are the lanes scanned in full, with why.
	FullLanes []string
	// Errors made a lane incomplete (from its full scan).
	Errors []string
}

// laneState is what one lane's base and events say.
type laneState struct {
	base      []history.ResourceState
	functions map[string]bool // unqualified function ARNs in the base
	changed   map[string]bool // function ARNs events name
	layers    map[string]bool // layer version ARNs events name
	events    int
	fail      string // why the lane must be scanned in full
}

// Run rescans incrementally. It returns an error only when the rescan
// cannot go on at all (the base's policies cannot be read, a context
// ended); everything else is in the resources or Result.Errors.
func Run(ctx context.Context, rd Reader, opt Options, emit Emit) (Result, error) {
	res := Result{Carried: map[string]int64{}}
	lanes := map[Lane]*laneState{}
	var order []Lane
	if opt.Base == nil {
		if opt.Events == nil {
			return res, fmt.Errorf("an incremental rescan without a base scan needs its events")
		}
		opt.Base = &history.Snapshot{}
		seen := map[Lane]bool{}
		for _, ev := range opt.Events.Events {
			for _, t := range ev.Targets {
				if l := (Lane{t.Account, t.Region}); !seen[l] {
					seen[l] = true
					opt.Base.Scan.Accounts, opt.Base.Scan.Regions = append(opt.Base.Scan.Accounts, l.Account), append(opt.Base.Scan.Regions, l.Region)
				}
			}
		}
		return runWithoutBase(ctx, rd, opt, emit, res)
	}
	for _, a := range opt.Base.Scan.Accounts {
		for _, r := range opt.Base.Scan.Regions {
			l := Lane{a, r}
			lanes[l] = &laneState{functions: map[string]bool{}, changed: map[string]bool{}, layers: map[string]bool{}}
			order = append(order, l)
		}
	}
	findings := map[string][]history.SnapshotFinding{}
	for _, f := range opt.Base.Findings {
		findings[f.ARN] = append(findings[f.ARN], f)
	}
	for _, st := range opt.Base.Resources {
		ls := lanes[Lane{st.Account, st.Region}]
		if ls == nil {
			continue // outside the scope (cannot happen for a scan's own resources)
		}
		ls.base = append(ls.base, st)
		if fn := functionOf(st.ARN); fn != "" {
			ls.functions[fn] = true
			if st.Status != "evaluated" {
				ls.changed[fn] = true // an unknown is read again, never carried
			}
		} else if st.Kind == string(inventory.KindLayerVersion) && st.Status != "evaluated" {
			ls.layers[st.ARN] = true
		}
	}
	if opt.Events != nil {
		spread(opt.Events, lanes, opt.Since)
	}
	for _, l := range order {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := runLane(ctx, rd, opt, emit, l, lanes[l], findings, &res); err != nil {
			return res, err
		}
	}
	sort.Strings(res.FullLanes)
	return res, nil
}

// spread hands file events to their lanes; a problem no lane can own
// sends every lane to a full scan.
func spread(evs *trail.Result, lanes map[Lane]*laneState, since time.Time) {
	for i := range evs.Events {
		ev := &evs.Events[i]
		if ev.Time.Before(since) {
			continue
		}
		for _, t := range ev.Targets {
			ls := lanes[Lane{t.Account, t.Region}]
			if ls == nil {
				continue // another scope's event
			}
			ls.events++
			mark(ls, t)
		}
		if len(ev.Targets) == 0 {
			if ls := lanes[Lane{ev.Account, ev.Region}]; ls != nil {
				ls.fail = "an event (" + ev.Where + ") does not say which resource it changed"
			}
		}
	}
	if len(evs.Problems) > 0 {
		for _, ls := range lanes {
			ls.fail = "the CloudTrail input could not all be read: " + evs.Problems[0].String()
		}
	}
}

func mark(ls *laneState, t trail.Target) {
	if t.Kind == inventory.KindLayerVersion {
		ls.layers[t.ARN] = true
		return
	}
	if fn := functionOf(t.ARN); fn != "" {
		ls.changed[fn] = true
	}
}

// functionOf is the unqualified function ARN of a function, alias or
// version ARN ("" for anything else).
func functionOf(arn string) string {
	la, err := inventory.ParseLambdaARN(arn)
	if err != nil || la.Kind == inventory.KindLayerVersion {
		return ""
	}
	return la.Unqualified()
}

func runLane(ctx context.Context, rd Reader, opt Options, emit Emit, l Lane, ls *laneState, findings map[string][]history.SnapshotFinding, res *Result) error {
	if opt.Events == nil && ls.fail == "" {
		records, err := rd.LookupEventsIn(ctx, l.Account, l.Region, opt.Since, opt.Until)
		if err != nil {
			ls.fail = "its CloudTrail events could not be read: " + err.Error()
		}
		for i, rec := range records {
			got := trail.ParseRecord(fmt.Sprintf("LookupEvents %s event %d", l, i+1), []byte(rec))
			for _, ev := range got.Events {
				ls.events++
				if len(ev.Targets) == 0 {
					ls.fail = "an event (" + ev.Where + ") does not say which resource it changed"
				}
				for _, t := range ev.Targets {
					mark(ls, t)
				}
			}
			if len(got.Problems) > 0 && ls.fail == "" {
				ls.fail = "a CloudTrail event could not be read: " + got.Problems[0].String()
			}
		}
	}
	res.Events += ls.events
	var listed []string
	if ls.fail == "" {
		var err error
		if listed, err = rd.ListFunctionARNs(ctx, l.Account, l.Region); err != nil {
			ls.fail = "its functions could not be listed: " + err.Error()
		}
	}
	if ls.fail != "" {
		res.FullLanes = append(res.FullLanes, l.String()+": "+ls.fail)
		errs, err := opt.FullLane(ctx, l, func(r *inventory.Resource) {
			res.Rescanned++
			emit.Read(r)
		})
		res.Errors = append(res.Errors, errs...)
		return err
	}
	now := map[string]bool{}
	for _, arn := range listed {
		if fn := functionOf(arn); fn != "" {
			now[fn] = true
		}
	}
	var reread []string
	for fn := range now {
		if ls.changed[fn] || !ls.functions[fn] {
			reread = append(reread, fn) // changed, unknown before, or created since
		}
	}
	sort.Strings(reread)
	for _, fn := range reread {
		reads, err := rd.ReadFunction(ctx, fn)
		if err != nil {
			return err
		}
		for _, r := range reads {
			if !r.Gone && r.Resource != nil {
				res.Rescanned++
				emit.Read(r.Resource)
			}
		}
	}
	layers := make([]string, 0, len(ls.layers))
	for arn := range ls.layers {
		layers = append(layers, arn)
	}
	sort.Strings(layers)
	for _, arn := range layers {
		r, err := rd.Read(ctx, arn)
		if err != nil {
			return err
		}
		if !r.Gone && r.Resource != nil {
			res.Rescanned++
			emit.Read(r.Resource)
		}
	}
	for _, st := range ls.base {
		fn := functionOf(st.ARN)
		switch {
		case fn != "" && (!now[fn] || ls.changed[fn]):
			continue // gone (no longer listed), or read again above
		case fn == "" && ls.layers[st.ARN]:
			continue
		}
		from := opt.Base.Scan.ID
		if n, ok := opt.BaseCarried[st.ARN]; ok {
			from = n
		}
		r, err := carry(ctx, st, findings[st.ARN], from, opt.Policy)
		if err != nil {
			return fmt.Errorf("read the base scan's policy for %s: %w", st.ARN, err)
		}
		res.Carried[st.ARN] = from
		emit.Carried(&r)
	}
	return nil
}

// runWithoutBase reads what the events name, and nothing else.
func runWithoutBase(ctx context.Context, rd Reader, opt Options, emit Emit, res Result) (Result, error) {
	if len(opt.Events.Problems) > 0 {
		res.Errors = append(res.Errors, "the CloudTrail input could not all be read: "+opt.Events.Problems[0].String())
	}
	ls := &laneState{changed: map[string]bool{}, layers: map[string]bool{}}
	for i := range opt.Events.Events {
		ev := &opt.Events.Events[i]
		if ev.Time.Before(opt.Since) {
			continue
		}
		res.Events++
		if len(ev.Targets) == 0 {
			res.Errors = append(res.Errors, "an event ("+ev.Where+") does not say which resource it changed")
		}
		for _, t := range ev.Targets {
			mark(ls, t)
		}
	}
	for _, set := range []map[string]bool{ls.changed, ls.layers} {
		arns := make([]string, 0, len(set))
		for arn := range set {
			arns = append(arns, arn)
		}
		sort.Strings(arns)
		for _, arn := range arns {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			var reads []awscollect.Read
			var err error
			if set[arn] && functionOf(arn) == arn {
				reads, err = rd.ReadFunction(ctx, arn)
			} else {
				var r awscollect.Read
				r, err = rd.Read(ctx, arn)
				reads = []awscollect.Read{r}
			}
			if err != nil {
				return res, err
			}
			for _, r := range reads {
				if !r.Gone && r.Resource != nil {
					res.Rescanned++
					emit.Read(r.Resource)
				}
			}
		}
	}
	return res, nil
}
