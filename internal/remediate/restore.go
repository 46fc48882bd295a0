package remediate

import (
	"context"
	"errors"
	"fmt"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// RestoreStatus is what happened to one backed-up item.
type RestoreStatus string

// Restore outcomes.
const (
	Restored      RestoreStatus = "restored"
	AlreadyThere  RestoreStatus = "already-exists"
	NotRestorable RestoreStatus = "could-not-restore"
)

// RestoreItem is the outcome for one statement or function URL.
type RestoreItem struct {
	// What names the item: `statement "Sid"` or "function URL".
	What   string        `json:"what"`
	Status RestoreStatus `json:"status"`
	Detail string        `json:"detail,omitempty"`
}

// RestoreResult is the outcome for one backup.
type RestoreResult struct {
	Resource Ref           `json:"resource"`
	Items    []RestoreItem `json:"items"`
	// Calls are the write calls made, as AWS CLI commands.
	Calls []string `json:"calls"`
	Notes []string `json:"notes,omitempty"`
}

// Failed reports whether any item could not be restored.
func (r *RestoreResult) Failed() bool {
	for _, it := range r.Items {
		if it.Status == NotRestorable {
			return true
		}
	}
	return false
}

// restoreAttempts bounds re-reads after a 412 during a restore.
const restoreAttempts = 3

// Restore puts back what a fix changed on one resource. It works from the
// resource's current state, never blindly: a statement still (or again)
// present counts as already there; one whose Sid another statement now
// uses is reported, not overwritten. When nothing else changed since the
// fix, the saved document comes back byte for byte (with AddPermission
// when appending the statements reproduces it, else PutResourcePolicy of
// the saved document guarded by the current RevisionId); when the policy
// changed since, the missing statements are added to it.
func Restore(ctx context.Context, exec Executor, b *Backup) *RestoreResult {
	res := &RestoreResult{Resource: b.Resource, Items: []RestoreItem{}, Calls: []string{}}
	ref := b.Resource
	if b.URLChange != nil {
		res.Items = append(res.Items, restoreURL(ctx, exec, ref, b.URLChange, res))
	}
	if len(b.Changes) == 0 {
		return res
	}
	var items []RestoreItem
	var err error
	for attempt := 1; attempt <= restoreAttempts; attempt++ {
		items, err = restoreStatements(ctx, exec, b, res)
		if !errors.Is(err, ErrPreconditionFailed) {
			break
		}
		res.Notes = append(res.Notes, "the policy changed while it was being restored (412 PreconditionFailed); re-read it and tried again")
	}
	if err != nil {
		for _, c := range b.Changes {
			items = append(items, RestoreItem{What: stmtWhat(c.Sid, c.Index), Status: NotRestorable, Detail: err.Error()})
		}
	}
	res.Items = append(res.Items, items...)
	return res
}

func restoreURL(ctx context.Context, exec Executor, ref Ref, ch *BackupURLChange, res *RestoreResult) RestoreItem {
	it := RestoreItem{What: "function URL auth type " + ch.From}
	st, err := exec.Read(ctx, ref)
	switch {
	case err != nil:
		it.Status, it.Detail = NotRestorable, "cannot read the function URL: "+err.Error()
	case st.URL == nil:
		it.Status, it.Detail = NotRestorable, "the function URL no longer exists"
	case st.URL.AuthType == ch.From:
		it.Status = AlreadyThere
	case st.URL.AuthType != ch.To:
		it.Status, it.Detail = NotRestorable, "the function URL's auth type is now "+st.URL.AuthType+", set by someone else; left alone"
	default:
		res.Calls = append(res.Calls, cliUpdateURL(ref, ch.From))
		if err := exec.UpdateFunctionURLAuthType(ctx, ref, ch.From); err != nil {
			it.Status, it.Detail = NotRestorable, err.Error()
		} else {
			it.Status = Restored
		}
	}
	return it
}

func stmtWhat(sid string, index int) string {
	if sid == "" {
		return fmt.Sprintf("statement %d (no Sid)", index)
	}
	return fmt.Sprintf("statement %q", sid)
}

// statementList is a policy's statements as compacted text, with Sids.
type statementList struct {
	raws []string
	sids []string
}

func listOf(p *inventory.Policy) (statementList, *docLayout, error) {
	var l statementList
	if p == nil {
		return l, nil, nil
	}
	doc, err := policy.Parse([]byte(p.Document))
	if err != nil {
		return l, nil, err
	}
	lay, err := layoutOf([]byte(p.Document))
	if err != nil {
		return l, nil, err
	}
	for i, st := range doc.Statements {
		l.raws = append(l.raws, compact(lay.raw(i)))
		l.sids = append(l.sids, st.Sid)
	}
	return l, lay, nil
}

func (l statementList) index(raw string) int {
	for i, r := range l.raws {
		if r == raw {
			return i
		}
	}
	return -1
}

func (l statementList) equal(raws []string) bool {
	if len(l.raws) != len(raws) {
		return false
	}
	for i := range raws {
		if l.raws[i] != raws[i] {
			return false
		}
	}
	return true
}

type pending struct {
	ch     BackupChange
	revert bool // the narrowed statement is there: swap it back
	curIdx int  // where the narrowed statement is
}

// restoreStatements does one read-decide-write round; it returns
// ErrPreconditionFailed (wrapped) when the policy changed under it.
func restoreStatements(ctx context.Context, exec Executor, b *Backup, res *RestoreResult) ([]RestoreItem, error) {
	ref := b.Resource
	st, err := exec.Read(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("cannot read the current policy: %w", err)
	}
	cur, curLay, err := listOf(st.Policy)
	if err != nil {
		return nil, fmt.Errorf("the current policy cannot be read as JSON: %w", err)
	}
	saved := &inventory.Policy{Document: b.Policy.Document}
	before, beforeLay, err := listOf(saved)
	if err != nil {
		return nil, fmt.Errorf("the saved policy does not parse: %w", err)
	}
	var items []RestoreItem
	var todo []pending
	changed := map[int]pending{}
	for _, c := range b.Changes {
		what := stmtWhat(c.Sid, c.Index)
		if c.Index < 0 || c.Index >= len(before.raws) || before.raws[c.Index] != compact([]byte(c.Statement)) {
			items = append(items, RestoreItem{What: what, Status: NotRestorable, Detail: "the backup is inconsistent: the statement is not at its index in the saved policy"})
			continue
		}
		orig := before.raws[c.Index]
		if cur.index(orig) >= 0 {
			items = append(items, RestoreItem{What: what, Status: AlreadyThere})
			continue
		}
		p := pending{ch: c, curIdx: -1}
		if c.Change == Narrow {
			p.curIdx = findNarrowed(cur, c, ref)
			p.revert = p.curIdx >= 0
		}
		if !p.revert && c.Sid != "" {
			if i := indexOf(cur.sids, c.Sid); i >= 0 {
				items = append(items, RestoreItem{What: what, Status: NotRestorable, Detail: "another statement now uses Sid " + c.Sid + "; it is left alone"})
				continue
			}
		}
		todo = append(todo, p)
		changed[c.Index] = p
	}
	if len(todo) == 0 {
		return items, nil
	}

	// A statement narrowed with remove-permission + add-permission is put
	// back the same way: Lambda cannot edit it in place.
	var rest []pending
	swapped := 0
	for _, p := range todo {
		if !p.revert || p.ch.Via != OpAddPermission || p.ch.Permission == nil || !p.ch.Exact {
			rest = append(rest, p)
			continue
		}
		rev := ""
		if swapped == 0 && st.Policy != nil {
			rev = st.Policy.RevisionID
		} else if s, err := exec.Read(ctx, ref); err != nil {
			return items, fmt.Errorf("cannot re-read the policy: %w", err)
		} else if s.Policy != nil {
			rev = s.Policy.RevisionID
		}
		it, err := swapBack(ctx, exec, ref, p, cur.sids[p.curIdx], rev, res)
		if err != nil {
			return items, err
		}
		items = append(items, it)
		swapped++
	}
	if swapped > 0 {
		if len(rest) == 0 {
			return items, nil
		}
		left := *b
		left.Changes = nil
		for _, p := range rest {
			left.Changes = append(left.Changes, p.ch)
		}
		more, err := restoreStatements(ctx, exec, &left, res)
		return append(items, more...), err
	}

	// Is the current policy exactly the saved one minus (or with narrowed)
	// the statements to restore? Then the saved document can come back as
	// it was.
	var expect []string
	for i, raw := range before.raws {
		p, ok := changed[i]
		switch {
		case !ok:
			expect = append(expect, raw)
		case p.revert:
			expect = append(expect, compact([]byte(p.ch.Replacement)))
		}
	}
	exact := cur.equal(expect)
	rev := ""
	if st.Policy != nil {
		rev = st.Policy.RevisionID
	}

	byAdd := true
	tail := true
	for _, p := range todo {
		if p.revert || p.ch.Permission == nil || !p.ch.Exact || (p.ch.Via != OpRemovePermission && p.ch.Via != OpRemoveLayerVersionPermission && p.ch.Via != OpAddPermission) {
			byAdd = false
		}
		if p.ch.Index < len(before.raws)-len(todo) {
			tail = false
		}
	}
	// Appending reproduces the saved order only when the missing
	// statements were the last ones; otherwise the saved document is put
	// back whole. Layer versions have no such call, so they are appended.
	if exact && !tail && ref.Kind != inventory.KindLayerVersion {
		byAdd = false
	}
	if ref.Kind == inventory.KindLayerVersion && !byAdd {
		for _, p := range todo {
			items = append(items, RestoreItem{What: stmtWhat(p.ch.Sid, p.ch.Index), Status: NotRestorable,
				Detail: "a layer version statement can only be added back with add-layer-version-permission, and its parameters could not be recovered from the backup"})
		}
		return items, nil
	}

	switch {
	case byAdd:
		for i, p := range todo {
			if i > 0 {
				s, err := exec.Read(ctx, ref)
				if err != nil {
					return items, fmt.Errorf("cannot re-read the policy: %w", err)
				}
				rev = ""
				if s.Policy != nil {
					rev = s.Policy.RevisionID
				}
			}
			var err error
			res.Calls = append(res.Calls, cliAddPermission(ref, *p.ch.Permission, rev))
			if ref.Kind == inventory.KindLayerVersion {
				err = exec.AddLayerVersionPermission(ctx, ref, *p.ch.Permission, rev)
			} else {
				_, err = exec.AddPermission(ctx, ref, *p.ch.Permission, rev)
			}
			if err != nil {
				if errors.Is(err, ErrPreconditionFailed) {
					return items, err
				}
				items = append(items, RestoreItem{What: stmtWhat(p.ch.Sid, p.ch.Index), Status: NotRestorable, Detail: err.Error()})
				continue
			}
			detail := ""
			switch {
			case !exact:
				detail = "added back at the end of the policy, which has changed since the fix"
			case !tail:
				detail = "added back at the end of the policy (its position cannot be chosen)"
			}
			items = append(items, RestoreItem{What: stmtWhat(p.ch.Sid, p.ch.Index), Status: Restored, Detail: detail})
		}
		return items, nil
	case exact:
		res.Calls = append(res.Calls, cliPutResourcePolicy(ref, b.Policy.Document, rev))
		if _, err := exec.PutResourcePolicy(ctx, ref, b.Policy.Document, rev); err != nil {
			if errors.Is(err, ErrPreconditionFailed) {
				return items, err
			}
			return statusAll(items, todo, NotRestorable, err.Error()), nil
		}
		return statusAll(items, todo, Restored, ""), nil
	}

	// The policy changed since the fix: put the statements back into it,
	// each at its old position where it still exists.
	if st.Policy == nil {
		// Someone deleted the whole policy since: bring back only the
		// statements the fix took, nothing they removed themselves.
		keep := map[int]bool{}
		for _, p := range todo {
			keep[p.ch.Index] = true
		}
		drop := map[int]bool{}
		for i := range before.raws {
			if !keep[i] {
				drop[i] = true
			}
		}
		doc, _ := beforeLay.rewrite(drop, nil)
		res.Calls = append(res.Calls, cliPutResourcePolicy(ref, string(doc), ""))
		if _, err := exec.PutResourcePolicy(ctx, ref, string(doc), ""); err != nil {
			return statusAll(items, todo, NotRestorable, err.Error()), nil
		}
		return statusAll(items, todo, Restored, "the policy had been deleted since the fix; only the fixed statements were put back"), nil
	}
	doc := []byte(st.Policy.Document)
	replace := map[int][]byte{}
	for _, p := range todo {
		if p.revert {
			replace[p.curIdx] = []byte(p.ch.Statement)
		}
	}
	if len(replace) > 0 {
		doc, _ = curLay.rewrite(nil, replace)
	}
	for _, p := range todo {
		if p.revert {
			continue
		}
		lay, err := layoutOf(doc)
		if err != nil {
			return items, err
		}
		doc = lay.insert(p.ch.Index, []byte(p.ch.Statement))
	}
	if _, err := policy.Parse(doc); err != nil {
		return statusAll(items, todo, NotRestorable, "the merged policy does not parse: "+err.Error()), nil
	}
	res.Calls = append(res.Calls, cliPutResourcePolicy(ref, string(doc), rev))
	if _, err := exec.PutResourcePolicy(ctx, ref, string(doc), rev); err != nil {
		if errors.Is(err, ErrPreconditionFailed) {
			return items, err
		}
		return statusAll(items, todo, NotRestorable, err.Error()), nil
	}
	return statusAll(items, todo, Restored, "merged into the policy, which has changed since the fix"), nil
}

// findNarrowed returns where the narrowed form of a change is in the
// current policy, or -1: by its exact text, or, for one written by
// add-permission, by its Sid and the same add-permission parameters (the
// service may format the statement its own way).
func findNarrowed(cur statementList, c BackupChange, ref Ref) int {
	if i := cur.index(compact([]byte(c.Replacement))); i >= 0 {
		return i
	}
	if c.Via != OpAddPermission || c.Sid == "" {
		return -1
	}
	i := indexOf(cur.sids, c.Sid)
	if i < 0 {
		return -1
	}
	want, err1 := permissionOfText(c.Replacement, ref)
	got, err2 := permissionOfText(cur.raws[i], ref)
	if err1 != nil || err2 != nil || want != got {
		return -1
	}
	return i
}

// permissionOfText reads one statement's add-permission parameters.
func permissionOfText(stmt string, ref Ref) (Permission, error) {
	d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`))
	if err != nil {
		return Permission{}, err
	}
	p, _, err := permissionOf(d.Statements[0], []byte(stmt), ref)
	return p, err
}

// swapBack puts back a statement narrowed by remove-permission +
// add-permission: the narrowed statement is removed, guarded by rev, and
// the original added back. A 412 on the removal is returned (nothing
// changed, the caller re-reads); once the removal is made, the addition
// is retried on fresh reads so the trigger is not left out.
func swapBack(ctx context.Context, exec Executor, ref Ref, p pending, sid, rev string, res *RestoreResult) (RestoreItem, error) {
	it := RestoreItem{What: stmtWhat(p.ch.Sid, p.ch.Index)}
	res.Calls = append(res.Calls, cliRemovePermission(ref, sid, rev))
	if err := exec.RemovePermission(ctx, ref, sid, rev); err != nil {
		if errors.Is(err, ErrPreconditionFailed) {
			return it, err
		}
		it.Status, it.Detail = NotRestorable, "the narrowed statement could not be removed: "+err.Error()
		return it, nil
	}
	var err error
	for attempt := 0; attempt < restoreAttempts; attempt++ {
		var s State
		if s, err = exec.Read(ctx, ref); err != nil {
			break
		}
		rev = ""
		if s.Policy != nil {
			rev = s.Policy.RevisionID
		}
		res.Calls = append(res.Calls, cliAddPermission(ref, *p.ch.Permission, rev))
		if _, err = exec.AddPermission(ctx, ref, *p.ch.Permission, rev); !errors.Is(err, ErrPreconditionFailed) {
			break
		}
	}
	if err != nil {
		it.Status, it.Detail = NotRestorable, "the narrowed statement was removed but the original could not be added back ("+err.Error()+"); run restore again"
		return it, nil
	}
	it.Status, it.Detail = Restored, "the narrowed statement was replaced by the original (add-permission puts it at the end of the policy)"
	return it, nil
}

func statusAll(items []RestoreItem, todo []pending, s RestoreStatus, detail string) []RestoreItem {
	for _, p := range todo {
		items = append(items, RestoreItem{What: stmtWhat(p.ch.Sid, p.ch.Index), Status: s, Detail: detail})
	}
	return items
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
