// Package fixdoc is the output of `fix` and `restore`: the versioned JSON
// documents scripts read, built from a plan, its apply results and
// restore results, and their text rendering for a person. It holds no
// logic of its own beyond counting: what to change is remediate's.
package fixdoc

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// SchemaVersion is the version of fix's and restore's JSON documents.
// Fields are only ever added within a version.
const SchemaVersion = "1"

// Modes of a fix run.
const (
	ModeDryRun = "dry-run"
	ModeApply  = "apply"
)

// Document is fix's JSON output.
type Document struct {
	SchemaVersion string                      `json:"schema_version"`
	Tool          report.Tool                 `json:"tool"`
	Mode          string                      `json:"mode"`
	Complete      bool                        `json:"complete"`
	ScanErrors    []string                    `json:"scan_errors,omitempty"`
	Actions       []Action                    `json:"actions"`
	Unknown       []remediate.UnknownResource `json:"unknown"`
	// Unresolved lists every reported exposure the plan does not close;
	// fix exits 1 when it is not empty.
	Unresolved []remediate.Unresolved `json:"unresolved"`
	Summary    Summary                `json:"summary"`
}

// Action is one resource's plan and, after an apply, its result.
type Action struct {
	Resource       string                 `json:"resource"`
	Kind           inventory.Kind         `json:"kind"`
	Account        string                 `json:"account"`
	Region         string                 `json:"region"`
	RevisionID     string                 `json:"revision_id,omitempty"`
	Changes        []remediate.Change     `json:"changes"`
	URL            *remediate.URLChange   `json:"function_url,omitempty"`
	Calls          []remediate.Step       `json:"calls"`
	AfterPolicy    string                 `json:"after_policy,omitempty"`
	PolicyDeleted  bool                   `json:"policy_deleted,omitempty"`
	StatementsKept int                    `json:"statements_kept"`
	Exposure       []remediate.Effect     `json:"exposure"`
	NotChanged     []remediate.Skip       `json:"not_changed,omitempty"`
	Unresolved     []remediate.Unresolved `json:"unresolved,omitempty"`
	Notes          []string               `json:"notes,omitempty"`
	Result         *remediate.Result      `json:"result,omitempty"`
	action         *remediate.Action
}

// Summary counts the plan and, after an apply, its outcome.
type Summary struct {
	Resources  int  `json:"resources"`
	Removed    int  `json:"statements_removed"`
	Narrowed   int  `json:"statements_narrowed"`
	URLs       int  `json:"function_urls_switched"`
	Calls      int  `json:"calls"`
	NotChanged int  `json:"not_changed"`
	Unresolved int  `json:"unresolved"`
	Unknown    int  `json:"unknown"`
	Applied    *int `json:"applied,omitempty"`
	Skipped    *int `json:"skipped,omitempty"`
	Failed     *int `json:"failed,omitempty"`
}

// New builds the document of a plan.
func New(p *remediate.Plan, tool report.Tool, scanErrors []string, mode string) *Document {
	d := &Document{SchemaVersion: SchemaVersion, Tool: tool, Mode: mode, ScanErrors: scanErrors,
		Actions: []Action{}, Unknown: p.Unknown}
	if d.Unknown == nil {
		d.Unknown = []remediate.UnknownResource{}
	}
	d.Complete = len(p.Unknown) == 0 && len(scanErrors) == 0
	for _, a := range p.Actions {
		d.Actions = append(d.Actions, actionDoc(a))
	}
	d.count()
	d.Summary.Unknown = len(p.Unknown)
	return d
}

// count sets the plan's counts from the actions (as re-planned, after an
// apply).
func (d *Document) count() {
	s := &d.Summary
	s.Resources, s.Removed, s.Narrowed, s.URLs, s.Calls, s.NotChanged = 0, 0, 0, 0, 0, 0
	d.Unresolved = []remediate.Unresolved{}
	for _, a := range d.Actions {
		if len(a.Calls) > 0 {
			s.Resources++
		}
		for _, c := range a.Changes {
			if c.Kind == remediate.Narrow {
				s.Narrowed++
			} else {
				s.Removed++
			}
		}
		if a.URL != nil {
			s.URLs++
		}
		s.Calls += len(a.Calls)
		s.NotChanged += len(a.NotChanged)
		d.Unresolved = append(d.Unresolved, a.Unresolved...)
	}
	s.Unresolved = len(d.Unresolved)
}

func actionDoc(a *remediate.Action) Action {
	return Action{Resource: a.Target.ARN, Kind: a.Target.Kind, Account: a.Target.Account, Region: a.Target.Region, RevisionID: a.RevisionID,
		Changes: a.Changes, URL: a.URL, Calls: a.Steps, AfterPolicy: a.After, PolicyDeleted: a.Deleted, StatementsKept: a.Kept,
		Exposure: a.Effects, NotChanged: a.Skipped, Unresolved: a.Unresolved, Notes: a.Notes, action: a}
}

// Attach adds the apply results. An action re-planned at apply time (the
// resource changed since the plan) is shown as re-planned; the result
// lists every attempt's plan and calls.
func (d *Document) Attach(sum *remediate.Summary) {
	byARN := map[string]*remediate.Result{}
	for _, r := range sum.Results {
		byARN[r.Target.ARN] = r
	}
	for i := range d.Actions {
		r := byARN[d.Actions[i].Resource]
		if r == nil {
			continue
		}
		if r.Action != nil && r.Action != d.Actions[i].action {
			// The re-plan looks only at what the reviewed plan changed;
			// what that plan could not close is still open.
			prev := d.Actions[i]
			d.Actions[i] = actionDoc(r.Action)
			d.Actions[i].Unresolved = mergeUnresolved(prev.Unresolved, d.Actions[i].Unresolved)
			d.Actions[i].NotChanged = mergeSkips(prev.NotChanged, d.Actions[i].NotChanged)
		}
		d.Actions[i].Result = r
	}
	d.count()
	d.Summary.Applied, d.Summary.Skipped, d.Summary.Failed = &sum.Applied, &sum.Skipped, &sum.Failed
}

func mergeUnresolved(a, b []remediate.Unresolved) []remediate.Unresolved {
	seen := map[string]bool{}
	var out []remediate.Unresolved
	for _, u := range append(append([]remediate.Unresolved(nil), a...), b...) {
		k := fmt.Sprintf("%s\x00%s\x00%d", u.Resource, u.RuleID, u.Index)
		if !seen[k] {
			seen[k] = true
			out = append(out, u)
		}
	}
	return out
}

func mergeSkips(a, b []remediate.Skip) []remediate.Skip {
	seen := map[string]bool{}
	var out []remediate.Skip
	for _, s := range append(append([]remediate.Skip(nil), a...), b...) {
		k := fmt.Sprintf("%s\x00%s\x00%d\x00%s", s.Resource, s.RuleID, s.Index, s.Reason)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// WriteJSON writes v indented, without HTML escaping (policies hold '<'
// and '&' rarely, but they must come out as they are).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
