package remediate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Status is the outcome of applying one action.
type Status string

// Apply outcomes.
const (
	Applied Status = "applied"
	Skipped Status = "skipped"
	Failed  Status = "failed"
)

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// Store receives a backup of each resource before its first write.
	Store Store
	// MaxAttempts bounds re-plans after concurrent changes (default 3).
	MaxAttempts int
	// Now is the clock for backup timestamps.
	Now func() time.Time
	// Tool names the producer in backups ("lambdawarden v1.2.3").
	Tool string
	// Progress, when set, is told about each resource as it finishes.
	Progress func(*Result)
}

// Result is what happened to one action.
type Result struct {
	Target Ref    `json:"resource"`
	Status Status `json:"status"`
	// Backups are the files written before writing, one per attempt.
	Backups []string `json:"backups,omitempty"`
	// Calls are the write calls made, as AWS CLI commands.
	Calls []string `json:"calls"`
	// Attempts lists every attempt: a concurrent change (412) makes the
	// fix re-read and re-plan, and each plan is shown with what it did.
	Attempts []Attempt `json:"attempts"`
	// Messages say what happened beyond the plan: re-plans after a
	// concurrent change, what a rollback restored.
	Messages []string `json:"messages,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Action is the plan that was carried out (re-planned when the
	// resource changed since the first plan).
	Action *Action `json:"-"`
}

// Attempt is one read-plan-write round on a resource.
type Attempt struct {
	Attempt int    `json:"attempt"`
	Backup  string `json:"backup,omitempty"`
	// RevisionID is the revision the attempt read and planned from.
	RevisionID string     `json:"revision_id,omitempty"`
	Changes    []Change   `json:"changes"`
	URL        *URLChange `json:"function_url,omitempty"`
	// Planned are the calls the attempt's plan makes; Calls those it
	// made.
	Planned []Step   `json:"planned_calls"`
	Calls   []string `json:"calls"`
	Outcome string   `json:"outcome"`
}

// Summary is the outcome of a whole apply.
type Summary struct {
	Applied int       `json:"applied"`
	Skipped int       `json:"skipped"`
	Failed  int       `json:"failed"`
	Results []*Result `json:"results"`
}

// errConcurrent is a change by someone else noticed during an apply: a
// 412, or a re-read between two removals that does not show what the
// first left.
var errConcurrent = errors.New("the policy was changed by someone else during the fix")

// Apply carries out the plan one resource at a time. A failure stops that
// resource (after undoing what this attempt already did to it) and the
// others go on.
func Apply(ctx context.Context, exec Executor, plan *Plan, opt ApplyOptions) *Summary {
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 3
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	sum := &Summary{Results: []*Result{}}
	for _, a := range plan.Actions {
		if !a.HasWork() {
			continue
		}
		var r *Result
		if err := ctx.Err(); err != nil {
			r = &Result{Target: a.Target, Status: Skipped, Calls: []string{}, Action: a, Error: "not started: " + err.Error()}
		} else {
			r = applyOne(ctx, exec, a, opt)
		}
		switch r.Status {
		case Applied:
			sum.Applied++
		case Skipped:
			sum.Skipped++
		default:
			sum.Failed++
		}
		sum.Results = append(sum.Results, r)
		if opt.Progress != nil {
			opt.Progress(r)
		}
	}
	return sum
}

func applyOne(ctx context.Context, exec Executor, planned *Action, opt ApplyOptions) *Result {
	res := &Result{Target: planned.Target, Calls: []string{}, Attempts: []Attempt{}, Action: planned}
	popt := planned.opt
	keys := planned.Keys()
	if prev := popt.Only; prev != nil {
		popt.Only = func(c Candidate) bool { return prev(c) && keys(c) }
	} else {
		popt.Only = keys
	}
	prevState := planned.state
	announce := true
	for attempt := 1; ; attempt++ {
		st, err := exec.Read(ctx, planned.Target)
		if err != nil {
			res.Status, res.Error = Failed, "cannot read the current policy, nothing changed: "+err.Error()
			return res
		}
		a := PlanTarget(Target{Ref: planned.Target, State: st, Views: planned.views}, popt)
		if moved := stateMoved(prevState, st); announce && moved != "" {
			res.Messages = append(res.Messages, moved+"; re-planned on what is there now"+lost(planned, a))
		} else if !announce {
			if l := lost(planned, a); l != "" {
				res.Messages = append(res.Messages, "re-planned"+l)
			}
		}
		announce = true
		res.Action = a
		at := Attempt{Attempt: attempt, Changes: a.Changes, URL: a.URL, Planned: a.Steps, Calls: []string{}}
		if st.Policy != nil {
			at.RevisionID = st.Policy.RevisionID
		}
		if !a.HasWork() {
			res.Status = Skipped
			if attempt == 1 {
				res.Error = "nothing left to change: the flagged statements are gone or changed since the plan"
			} else {
				res.Error = "nothing left to change after the concurrent change"
			}
			at.Outcome = res.Error
			res.Attempts = append(res.Attempts, at)
			return res
		}
		b := newBackup(a, attempt, opt.Now(), opt.Tool)
		path, err := opt.Store.Save(b)
		if err != nil {
			res.Status, res.Error = Failed, "the backup could not be written, so nothing was changed: "+err.Error()
			at.Outcome = res.Error
			res.Attempts = append(res.Attempts, at)
			return res
		}
		res.Backups = append(res.Backups, path)
		at.Backup = path
		made := len(res.Calls)
		r := run(ctx, exec, a, st, res)
		at.Calls = append(at.Calls, res.Calls[made:]...)
		switch {
		case r.err == nil:
			res.Status = Applied
			verify(ctx, exec, a, r.expect, res)
			at.Outcome = "applied"
			res.Attempts = append(res.Attempts, at)
			return res
		case errors.Is(r.err, errConcurrent):
			if r.open != "" {
				// A narrowing was half made: the statement is removed but
				// its narrowed form not yet added. Put this attempt back
				// before re-planning, so no trigger is lost in between.
				rollback(ctx, exec, b, res)
				at.Calls = append(at.Calls[:0], res.Calls[made:]...)
			}
			if attempt >= opt.MaxAttempts {
				res.Status = Failed
				res.Error = fmt.Sprintf("the policy kept changing under the fix (%d attempts); stopped. Backup: %s", attempt, path)
				at.Outcome = r.err.Error() + "; stopped"
				res.Attempts = append(res.Attempts, at)
				return res
			}
			// What this attempt already did stays: it was planned and
			// backed up; the re-plan, on a fresh read, does the rest.
			msg := r.err.Error() + fmt.Sprintf(" after %d of %d call(s); re-reading and re-planning (never retrying blindly)", r.done, len(a.Steps))
			res.Messages = append(res.Messages, msg)
			at.Outcome = msg
			res.Attempts = append(res.Attempts, at)
			announce = false
			continue
		default:
			res.Status, res.Error = Failed, r.err.Error()
			if r.done > 0 {
				rollback(ctx, exec, b, res)
				at.Calls = append(at.Calls[:0], res.Calls[made:]...)
			}
			at.Outcome = "failed: " + r.err.Error()
			res.Attempts = append(res.Attempts, at)
			return res
		}
	}
}

// stateMoved describes how the resource changed since it was planned, or
// returns "" when it did not.
func stateMoved(prev, cur State) string {
	if prev.Policy == nil && prev.URL == nil && cur.Policy == nil && cur.URL == nil {
		return ""
	}
	var what []string
	switch {
	case (prev.Policy == nil) != (cur.Policy == nil):
		what = append(what, "the policy was created or deleted")
	case prev.Policy != nil && prev.Policy.RevisionID != cur.Policy.RevisionID:
		what = append(what, "the policy changed (RevisionId "+short(prev.Policy.RevisionID)+" → "+short(cur.Policy.RevisionID)+")")
	}
	pu, cu := "", ""
	if prev.URL != nil {
		pu = prev.URL.AuthType
	}
	if cur.URL != nil {
		cu = cur.URL.AuthType
	}
	if pu != cu {
		what = append(what, "the function URL auth type changed")
	}
	if len(what) == 0 {
		return ""
	}
	return strings.Join(what, ", ") + " since it was planned"
}

func short(rev string) string {
	if len(rev) > 8 {
		return rev[:8]
	}
	return rev
}

// lost says which planned changes a re-plan no longer makes.
func lost(planned, now *Action) string {
	have := map[string]bool{}
	for _, c := range now.Changes {
		have[c.Sid+"\x00"+compact(c.Statement)] = true
	}
	var gone []string
	for _, c := range planned.Changes {
		if !have[c.Sid+"\x00"+compact(c.Statement)] {
			gone = append(gone, stmtWhat(c.Sid, c.Index))
		}
	}
	if planned.URL != nil && now.URL == nil {
		gone = append(gone, "the function URL switch")
	}
	if len(gone) == 0 {
		return ""
	}
	return " (no longer changed, being gone or different now: " + strings.Join(gone, ", ") + ")"
}

// ran is what run did.
type ran struct {
	done int
	// expect is the policy's statements as the calls made so far left
	// them, which the next read must show.
	expect statementList
	// open names a narrowing whose removal was made and whose
	// add-permission was not.
	open string
	err  error
}

// run makes the action's calls in order. Its error wraps errConcurrent
// when someone else changed the policy.
func run(ctx context.Context, exec Executor, a *Action, st State, res *Result) ran {
	ref := a.Target
	rev := ""
	var r ran
	if st.Policy != nil {
		rev = st.Policy.RevisionID
		r.expect, _, _ = listOf(st.Policy)
	}
	wrote := false
	for i, s := range a.Steps {
		var err error
		switch s.Op {
		case OpRemovePermission, OpRemoveLayerVersionPermission, OpAddPermission:
			if wrote {
				// These calls answer without a RevisionId: read it again,
				// and check the policy is exactly what the previous call
				// left, or someone else wrote in between.
				cur, rerr := exec.Read(ctx, ref)
				if rerr != nil {
					r.done, r.err = i, fmt.Errorf("cannot re-read the policy between two calls: %w", rerr)
					return r
				}
				got, _, _ := listOf(cur.Policy)
				if !got.equal(r.expect.raws) {
					r.done, r.err = i, fmt.Errorf("%w (noticed on re-reading between two calls)", errConcurrent)
					return r
				}
				rev = ""
				if cur.Policy != nil {
					rev = cur.Policy.RevisionID
				}
			}
			switch s.Op {
			case OpAddPermission:
				res.Calls = append(res.Calls, cliAddPermission(ref, *s.Permission, rev))
				var stored string
				stored, err = exec.AddPermission(ctx, ref, *s.Permission, rev)
				if err == nil {
					if stored == "" {
						stored = canonicalStatement(*s.Permission, ref)
					}
					r.expect.raws = append(r.expect.raws, compact([]byte(stored)))
					r.expect.sids = append(r.expect.sids, s.Sid)
					r.open = ""
				}
			case OpRemoveLayerVersionPermission:
				res.Calls = append(res.Calls, cliRemovePermission(ref, s.Sid, rev))
				err = exec.RemoveLayerVersionPermission(ctx, ref, s.Sid, rev)
			default:
				res.Calls = append(res.Calls, cliRemovePermission(ref, s.Sid, rev))
				err = exec.RemovePermission(ctx, ref, s.Sid, rev)
				if err == nil && i+1 < len(a.Steps) && a.Steps[i+1].Op == OpAddPermission {
					r.open = s.Sid
				}
			}
			if err == nil && s.Op != OpAddPermission {
				if j := indexOf(r.expect.sids, s.Sid); j >= 0 {
					r.expect.raws = append(r.expect.raws[:j:j], r.expect.raws[j+1:]...)
					r.expect.sids = append(r.expect.sids[:j:j], r.expect.sids[j+1:]...)
				}
			}
			wrote = true
		case OpPutResourcePolicy:
			res.Calls = append(res.Calls, cliPutResourcePolicy(ref, s.Document, rev))
			_, err = exec.PutResourcePolicy(ctx, ref, s.Document, rev)
			if err == nil {
				r.expect, _, _ = listOf(&inventory.Policy{Document: s.Document})
			}
		case OpDeleteResourcePolicy:
			res.Calls = append(res.Calls, cliDeleteResourcePolicy(ref, rev))
			err = exec.DeleteResourcePolicy(ctx, ref, rev)
			if err == nil {
				r.expect = statementList{}
			}
		case OpUpdateFunctionURLConfig:
			res.Calls = append(res.Calls, s.CLI)
			err = exec.UpdateFunctionURLAuthType(ctx, ref, s.AuthType)
		default:
			err = fmt.Errorf("unknown call %s", s.Op)
		}
		if err != nil {
			r.done = i
			if errors.Is(err, ErrPreconditionFailed) {
				r.err = fmt.Errorf("%w: %s answered 412 PreconditionFailed", errConcurrent, s.Op)
			} else {
				r.err = fmt.Errorf("%s failed: %w", s.Op, err)
			}
			return r
		}
	}
	r.done = len(a.Steps)
	return r
}

// rollback undoes a failed attempt's earlier calls with Restore, so the
// resource is left as it was rather than half-fixed.
func rollback(ctx context.Context, exec Executor, b *Backup, res *Result) {
	rr := Restore(ctx, exec, b)
	res.Calls = append(res.Calls, rr.Calls...)
	if rr.Failed() {
		var bad []string
		for _, it := range rr.Items {
			if it.Status == NotRestorable {
				bad = append(bad, it.What+": "+it.Detail)
			}
		}
		res.Messages = append(res.Messages, "the resource is partly fixed and the rollback failed ("+strings.Join(bad, "; ")+"); run lambdawarden restore "+res.Backups[len(res.Backups)-1])
		return
	}
	res.Messages = append(res.Messages, "rolled back what this attempt had already changed; the resource is as it was before the fix")
}

// verify reads the resource back and says so if it is not what the
// calls left (someone else wrote right after us).
func verify(ctx context.Context, exec Executor, a *Action, want statementList, res *Result) {
	st, err := exec.Read(ctx, a.Target)
	if err != nil {
		res.Messages = append(res.Messages, "could not read the resource back to check the result: "+err.Error())
		return
	}
	got, _, err := listOf(st.Policy)
	if err != nil || !got.equal(want.raws) {
		res.Messages = append(res.Messages, "read back, the policy is not exactly the planned one: someone else changed it right after the fix")
	}
	if a.URL != nil && (st.URL == nil || st.URL.AuthType != a.URL.To) {
		res.Messages = append(res.Messages, "read back, the function URL auth type is not "+a.URL.To)
	}
}
