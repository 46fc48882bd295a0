// Package watch is the event loop of `lambdawarden watch`: CloudTrail
// records in (package trail), for each exposure-changing event the
// resource it changed read again — only that resource, a few calls — and
// judged with the same engine and rules as a scan, alerts out (package
// sink), each naming the finding and who made the change, when, from
// where and how.
//
// What cannot be judged is an alert too (status "unknown"): a denied
// re-read, an unreadable policy, an event whose effect --offline cannot
// tell. A watch never turns "could not read" into silence.
package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// Reader reads one resource again (awscollect.Reader).
type Reader interface {
	Read(ctx context.Context, arn string) (awscollect.Read, error)
}

// Options configure a Watcher.
type Options struct {
	// Reader re-reads changed resources; nil requires Offline.
	Reader Reader
	// Offline judges each event's own statement or policy, with no AWS
	// call, and says so on every alert.
	Offline bool
	Trust   rules.Trust
	// MinSeverity drops findings below it (unknown alerts are always
	// sent).
	MinSeverity finding.Severity
	// Dedupe is the window within which the same finding is alerted once;
	// zero alerts every time.
	Dedupe time.Duration
	// StatePath, when set, keeps handled event ids and the dedupe window
	// across restarts.
	StatePath string
	Sinks     []sink.Sink
	// Logf receives human-readable lines (stderr).
	Logf func(format string, args ...any)
	Now  func() time.Time
}

// Stats count what a watch did.
type Stats struct {
	Events   int // exposure-changing events handled
	Repeats  int // events already handled (same event id)
	Failed   int // exposure-changing calls that failed (errorCode): not changes
	Ignored  int // records of other events
	Problems int // records or inputs that could not be read
	Reads    int // resources read again
	Gone     int // resources that no longer exist
	Alerts   int // alerts sent
	Unknown  int // of which status unknown
	Deduped  int // alerts not sent again within the dedupe window
	// SinkErrors counts alerts a sink did not accept.
	SinkErrors int
	// Worst is the highest severity alerted (-1 when none).
	Worst finding.Severity
}

// Watcher handles parsed CloudTrail input. Handle may be called from
// several goroutines; batches are handled one at a time.
type Watcher struct {
	opt Options
	mem *memory

	mu    sync.Mutex
	stats Stats
}

// New returns a watcher.
func New(opt Options) (*Watcher, error) {
	if opt.Reader == nil && !opt.Offline {
		return nil, fmt.Errorf("watch: a Reader is needed unless Offline")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	mem, err := newMemory(opt.Dedupe, opt.StatePath)
	if err != nil {
		return nil, err
	}
	return &Watcher{opt: opt, mem: mem, stats: Stats{Worst: -1}}, nil
}

// Stats returns the counts so far.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// Handle judges one batch of parsed input and sends its alerts.
func (w *Watcher) Handle(ctx context.Context, res trail.Result) {
	w.mu.Lock()
	w.stats.Failed += len(res.Failed)
	w.stats.Ignored += res.Ignored
	w.stats.Problems += len(res.Problems)
	w.mu.Unlock()
	for _, p := range res.Problems {
		w.opt.Logf("skipped %s: %s", inert(p.Where), inert(p.Err))
	}
	for _, ev := range res.Failed {
		w.opt.Logf("%s by %s failed (%s): not a change", inert(ev.Name), inert(actorName(ev.Actor)), inert(ev.ErrorCode))
	}
	// Events on the same resource in one batch share one read: the state
	// after the last of them is what is exposed now.
	byTarget := map[string][]*trail.Event{}
	var order []string
	inBatch := map[string]bool{}
	for i := range res.Events {
		ev := &res.Events[i]
		if w.mem.seen(ev.ID) || (ev.ID != "" && inBatch[ev.ID]) {
			w.count(func(s *Stats) { s.Repeats++ })
			continue
		}
		inBatch[ev.ID] = true
		w.count(func(s *Stats) { s.Events++ })
		for _, t := range ev.Targets {
			if _, ok := byTarget[t.ARN]; !ok {
				order = append(order, t.ARN)
			}
			byTarget[t.ARN] = append(byTarget[t.ARN], ev)
		}
	}
	for _, arn := range order {
		if ctx.Err() != nil {
			break
		}
		evs := byTarget[arn]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		var alerts []Alert
		if w.opt.Offline {
			alerts = w.judgeOffline(arn, evs)
		} else {
			alerts = w.judgeLive(ctx, arn, evs)
		}
		w.send(ctx, alerts)
		// Only now is the event handled: one interrupted before its
		// alerts were out is handled again on the next run.
		for _, ev := range evs {
			w.mem.handled(ev.ID)
		}
	}
	if err := w.mem.save(w.opt.Now()); err != nil {
		w.opt.Logf("%v", err)
	}
}

func targetOf(ev *trail.Event, arn string) trail.Target {
	for _, t := range ev.Targets {
		if t.ARN == arn {
			return t
		}
	}
	return trail.Target{ARN: arn}
}

// judgeLive reads the resource again and judges it whole.
func (w *Watcher) judgeLive(ctx context.Context, arn string, evs []*trail.Event) []Alert {
	latest := evs[len(evs)-1]
	read, err := w.opt.Reader.Read(ctx, arn)
	w.count(func(s *Stats) { s.Reads++ })
	if err != nil {
		alerts := []Alert{w.unknownAlert(latest, resourceFromTarget(targetOf(latest, arn)), "the resource could not be read: "+err.Error(), BasisResource, "")}
		return append(alerts, w.statementsOfUnread(arn, evs)...)
	}
	if read.Gone {
		w.count(func(s *Stats) { s.Gone++ })
		w.opt.Logf("%s no longer exists (after %s by %s): nothing to judge", inert(arn), inert(latest.Name), inert(actorName(latest.Actor)))
		return w.removedGrants(arn, evs, nil, nil)
	}
	judged := scan.Assess(read.Resource, scan.Options{Trust: w.opt.Trust, OmitPolicyText: true})
	alerts := w.alertsFor(&judged, evs, BasisResource, "")
	if judged.Status == "unknown" {
		return append(alerts, w.statementsOfUnread(arn, evs)...)
	}
	return append(alerts, w.removedGrants(arn, evs, read.Resource.Policy, judged.Findings)...)
}

// unreadNote explains an alert judged on an event's statement because the
// resource itself could not be read again.
const unreadNote = "the resource could not be read again (see the unknown alert of the same event): the verdict is the statement's this event added, " +
	"not the resource's; other statements may widen it."

// statementsOfUnread judges, as --offline does, what the events on a
// resource that cannot be read again carry: a backdoor statement is a
// finding with its severity, not only an unknown — a receiver routing on
// severity must see it.
func (w *Watcher) statementsOfUnread(arn string, evs []*trail.Event) []Alert {
	var out []Alert
	for _, ev := range evs {
		view := offline(ev, targetOf(ev, arn))
		if view.res == nil {
			continue
		}
		judged := scan.Assess(view.res, scan.Options{Trust: w.opt.Trust, OmitPolicyText: true})
		for _, a := range w.alertsFor(&judged, []*trail.Event{ev}, BasisStatement, unreadNote) {
			if a.Status == StatusFail {
				out = append(out, a)
			}
		}
	}
	return out
}

// removedNote explains an alert on a grant that was gone by the re-read.
const removedNote = "the statement this event added is no longer in the resource's policy when it was read again (removed, or the resource deleted): " +
	"the verdict is the statement's, for the time between the event and its removal; check who called the resource meanwhile."

// removedGrants judges, as --offline does, each statement an event added
// (AddPermission, AddLayerVersionPermission) that the re-read no longer
// finds, and each policy a PutResourcePolicy put that is no longer the
// resource's: a backdoor added and removed before its record is read —
// within CloudTrail's delivery delay — exposed the resource all the same,
// and must not pass in silence. Findings the re-read made itself (same
// rule and statement) are not repeated.
func (w *Watcher) removedGrants(arn string, evs []*trail.Event, live *inventory.Policy, liveFindings []finding.Finding) []Alert {
	var sids map[string]bool
	var out []Alert
	for _, ev := range evs {
		if ev.Op == trail.PutResourcePolicy {
			doc, _ := decode(ev.Request)["policy"].(string)
			if doc == "" || (live != nil && sameJSON(doc, live.Document)) {
				continue // still the resource's policy: its own verdict covers it
			}
			view := offline(ev, targetOf(ev, arn))
			if view.res == nil {
				continue
			}
			judged := scan.Assess(view.res, scan.Options{Trust: w.opt.Trust, OmitPolicyText: true})
			for _, a := range w.alertsFor(&judged, []*trail.Event{ev}, BasisStatement, removedPolicyNote) {
				if a.Status == StatusFail && !coveredBy(a.Finding, liveFindings) {
					out = append(out, a)
				}
			}
			continue
		}
		if ev.Op != trail.AddPermission && ev.Op != trail.AddLayerVersionPermission {
			continue
		}
		sid := str(decode(ev.Request), "statementId")
		if sid == "" {
			continue
		}
		if sids == nil {
			sids = policySids(live)
		}
		if sids[sid] {
			continue // still there: the resource's own verdict covers it
		}
		view := offline(ev, targetOf(ev, arn))
		if view.res == nil {
			continue
		}
		judged := scan.Assess(view.res, scan.Options{Trust: w.opt.Trust, OmitPolicyText: true})
		for _, a := range w.alertsFor(&judged, []*trail.Event{ev}, BasisStatement, removedNote) {
			if a.Status == StatusFail {
				out = append(out, a)
			}
		}
	}
	return out
}

// removedPolicyNote explains an alert on a policy replaced or deleted by
// the re-read.
const removedPolicyNote = "the policy this event put is no longer the resource's when it was read again (replaced or deleted, or the resource deleted): " +
	"the verdict is that policy's, for the time between the event and its replacement; check who called the resource meanwhile."

// coveredBy reports whether the re-read found the same finding (rule and
// statement) itself.
func coveredBy(f *finding.Finding, live []finding.Finding) bool {
	if f == nil {
		return false
	}
	for i := range live {
		l := &live[i]
		if l.RuleID != f.RuleID {
			continue
		}
		if (l.Statement == nil) != (f.Statement == nil) {
			continue
		}
		if l.Statement == nil || (l.Statement.Sid == f.Statement.Sid && (f.Statement.Sid != "" || l.Statement.Index == f.Statement.Index)) {
			return true
		}
	}
	return false
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// policySids lists the Sids of a policy's statements (none for no
// policy or one that does not parse: the resource's verdict says so).
func policySids(p *inventory.Policy) map[string]bool {
	out := map[string]bool{}
	if p == nil {
		return out
	}
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(p.Document), &doc) != nil {
		return out
	}
	var list []struct{ Sid any }
	if json.Unmarshal(doc.Statement, &list) != nil {
		var one struct{ Sid any }
		if json.Unmarshal(doc.Statement, &one) != nil {
			return out
		}
		list = append(list, one)
	}
	for _, st := range list {
		if s, ok := st.Sid.(string); ok {
			out[s] = true
		}
	}
	return out
}

// judgeOffline judges what each event itself carries.
func (w *Watcher) judgeOffline(arn string, evs []*trail.Event) []Alert {
	var out []Alert
	for _, ev := range evs {
		view := offline(ev, targetOf(ev, arn))
		if view.res != nil {
			judged := scan.Assess(view.res, scan.Options{Trust: w.opt.Trust, OmitPolicyText: true})
			out = append(out, w.alertsFor(&judged, []*trail.Event{ev}, BasisStatement, view.note)...)
		}
		if view.unknown != "" {
			out = append(out, w.unknownAlert(ev, resourceFromTarget(targetOf(ev, arn)), view.unknown, BasisStatement, view.note))
		}
	}
	return out
}

func resourceFromTarget(t trail.Target) report.Resource {
	return report.Resource{ARN: t.ARN, Kind: string(t.Kind), Account: t.Account, Region: t.Region, Status: "unknown", Exposure: "unknown"}
}

// alertsFor turns a judged resource into alerts: one per unsuppressed
// finding at or above MinSeverity, or one unknown alert.
func (w *Watcher) alertsFor(r *report.Resource, evs []*trail.Event, basis, note string) []Alert {
	latest := evs[len(evs)-1]
	if r.Status == "unknown" {
		return []Alert{w.unknownAlert(latest, *r, r.UnknownReason, basis, note)}
	}
	var out []Alert
	for i := range r.Findings {
		f := r.Findings[i]
		if f.Suppressed || f.Severity < w.opt.MinSeverity {
			continue
		}
		ev := attribute(&f, evs)
		f = capFinding(f)
		a := w.newAlert(ev, *r, basis, note)
		a.Status, a.Severity, a.RuleID, a.Title, a.Finding = StatusFail, f.Severity.String(), f.RuleID, f.Title, &f
		out = append(out, a)
	}
	return out
}

// attribute picks the event a finding comes from: the one that added the
// statement it names, else the latest.
func attribute(f *finding.Finding, evs []*trail.Event) *trail.Event {
	if f.Statement != nil && f.Statement.Sid != "" {
		for i := len(evs) - 1; i >= 0; i-- {
			if sid := str(decode(evs[i].Request), "statementId"); sid == f.Statement.Sid {
				return evs[i]
			}
		}
	}
	return evs[len(evs)-1]
}

func (w *Watcher) newAlert(ev *trail.Event, r report.Resource, basis, note string) Alert {
	e, actor := eventOf(ev)
	return Alert{SchemaVersion: SchemaVersion, Basis: basis, BasisNote: note, Resource: resourceOf(&r), Event: e, Actor: actor,
		DetectedAt: w.opt.Now().UTC().Format(time.RFC3339)}
}

func (w *Watcher) unknownAlert(ev *trail.Event, r report.Resource, reason, basis, note string) Alert {
	a := w.newAlert(ev, r, basis, note)
	a.Status, a.Severity, a.Reason = StatusUnknown, StatusUnknown, inert(reason)
	a.Title = "A change to a Lambda resource could not be judged"
	return a
}

// send deduplicates and delivers alerts to every sink.
func (w *Watcher) send(ctx context.Context, alerts []Alert) {
	now := w.opt.Now()
	for i := range alerts {
		a := &alerts[i]
		if w.mem.repeat(a.dedupeKey(), now) {
			w.count(func(s *Stats) { s.Deduped++ })
			continue
		}
		a.seal()
		m, err := a.message()
		if err != nil {
			w.opt.Logf("cannot encode alert %s: %v", a.ID, err)
			w.count(func(s *Stats) { s.SinkErrors++ })
			continue
		}
		w.count(func(s *Stats) {
			s.Alerts++
			if a.Status == StatusUnknown {
				s.Unknown++
			} else if a.Finding != nil && a.Finding.Severity > s.Worst {
				s.Worst = a.Finding.Severity
			}
		})
		for _, sk := range w.opt.Sinks {
			if err := sk.Send(ctx, m); err != nil {
				w.count(func(s *Stats) { s.SinkErrors++ })
				w.opt.Logf("alert %s was not accepted by %s: %v", a.ID, sk.Name(), err)
			}
		}
	}
}

func actorName(a trail.Actor) string {
	switch {
	case a.ARN != "":
		return a.ARN
	case a.InvokedBy != "":
		return a.InvokedBy
	case a.AccessKeyID != "":
		return a.AccessKeyID
	}
	return "an unknown caller"
}
