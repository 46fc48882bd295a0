// Package report holds the versioned output document and the writers that
// render it. The document is the contract with scripts and auditors
// (docs/report.schema.json describes it; the README's changelog lists its
// versions); it is separate from the engine's internal types so they can
// change without breaking anyone.
package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// SchemaVersion is the version of the JSON document. Bump it, with a
// changelog line in the README, when a field is changed or removed.
const SchemaVersion = "1"

// Document is everything one scan (or one analyze) found. Its resources
// are either in Resources (analyze, tests, a report read back) or, for a
// scan, in a Spool on disk (UseSpool); writers and other readers go
// through Each (or, inside this package, the index), never Resources
// directly, so both work the same.
type Document struct {
	SchemaVersion string     `json:"schema_version"`
	Tool          Tool       `json:"tool"`
	Scan          *ScanInfo  `json:"scan,omitempty"`
	Resources     []Resource `json:"resources"`
	Summary       Summary    `json:"summary"`
	// FailOn is the --fail-on threshold the run used (for writers that
	// mark pass/fail); not part of the JSON contract.
	FailOn finding.Severity `json:"-"`

	// spool holds a large scan's resources on disk instead of Resources
	// (UseSpool); writers reach both through Each and the index.
	spool *Spool
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ScanInfo describes a live scan.
type ScanInfo struct {
	StartedAt  string   `json:"started_at"`
	FinishedAt string   `json:"finished_at"`
	Accounts   []string `json:"accounts"`
	Regions    []string `json:"regions"`
	APICalls   int      `json:"api_calls"`
	Complete   bool     `json:"complete"`
	// Errors lists what made the scan incomplete beyond single resources
	// (an account that could not be entered, a region that failed).
	Errors []string `json:"errors,omitempty"`
	// Notes say how the scan adapted without losing anything (a Region
	// that switched every policy read to GetPolicy).
	Notes []string `json:"notes,omitempty"`
	// Interrupted says a signal (Ctrl-C, SIGTERM) stopped the scan: what
	// was not read is listed as unknown or not listed, and Complete is
	// false.
	Interrupted bool `json:"interrupted,omitempty"`
	// Incremental is set by scan --since.
	Incremental *Incremental `json:"incremental,omitempty"`
	// Caller is who ran the scan; the history records it (not yet part
	// of the JSON contract).
	Caller string `json:"-"`
}

// Resource is one judged resource.
type Resource struct {
	ARN           string       `json:"arn"`
	Kind          string       `json:"kind"`
	Account       string       `json:"account"`
	Region        string       `json:"region"`
	Status        string       `json:"status"` // evaluated | unknown
	UnknownReason string       `json:"unknown_reason,omitempty"`
	Exposure      string       `json:"exposure"`
	FunctionURL   *FunctionURL `json:"function_url,omitempty"`
	// Grants is the verdict on every Allow statement that reaches the
	// resource, exposed or not.
	Grants []Grant  `json:"grants,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// Unchecked names the checks that could not run on an evaluated
	// resource and why (its execution role or URL configuration could
	// not be read): its verdict stands, but a finding may be missing.
	Unchecked []string          `json:"unchecked,omitempty"`
	Findings  []finding.Finding `json:"findings"`
	// RulesNotJudged are the rules that gave no verdict on this resource:
	// not run (their input was not collected) or unknown (it could not be
	// read). Writers never report them as passed.
	RulesNotJudged []RuleGap `json:"rules_not_judged,omitempty"`
	// Policy is the resource's own policy text, for writers that show the
	// offending statement; FunctionPolicy likewise for aliases/versions.
	Policy         string `json:"policy,omitempty"`
	FunctionPolicy string `json:"function_policy,omitempty"`
	// RevisionID is the policy's revision when it was read.
	RevisionID string `json:"revision_id,omitempty"`
	// Source is where infrastructure code declares the resource (for
	// an unknown one, what could not be read); nil for live resources.
	Source *finding.Location `json:"source,omitempty"`
	// CarriedForward: an incremental scan (scan --since) did not read the
	// resource again, no event having changed it; its verdict is the one
	// CarriedFrom (a history scan id) read.
	CarriedForward bool  `json:"carried_forward,omitempty"`
	CarriedFrom    int64 `json:"carried_from_scan,omitempty"`
}

// RuleGap is a rule that could not judge a resource.
type RuleGap struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// Unknown is true when the input could not be read (an error, not a
	// skip).
	Unknown bool `json:"unknown,omitempty"`
}

// gap returns the resource's gap for a rule, if any.
func (r *Resource) gap(rule string) *RuleGap {
	for i := range r.RulesNotJudged {
		if r.RulesNotJudged[i].Rule == rule {
			return &r.RulesNotJudged[i]
		}
	}
	return nil
}

// FunctionURL is a function URL on the resource.
type FunctionURL struct {
	AuthType string `json:"auth_type"`
	URL      string `json:"url"`
}

// Grant is the verdict on one Allow statement.
type Grant struct {
	Statement   finding.StatementRef `json:"statement"`
	Exposure    string               `json:"exposure"`
	Actions     []string             `json:"actions,omitempty"`
	Groups      []string             `json:"action_groups,omitempty"`
	Explanation string               `json:"explanation"`
}

// Summary counts what a person needs at a glance.
type Summary struct {
	Resources  int            `json:"resources"`
	ByExposure map[string]int `json:"by_exposure"`
	BySeverity map[string]int `json:"by_severity"`
	Unknown    int            `json:"unknown"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed"`
	// Unchecked counts evaluated resources some of whose checks could
	// not run (Resource.Unchecked).
	Unchecked int `json:"unchecked,omitempty"`
	// NotListed are the listings (per account and Region) that did not
	// finish: what they would have found is in no other count.
	NotListed []NotListed `json:"not_listed,omitempty"`
}

// NotListed is a listing of one account and Region that did not finish
// (ListFunctions or ListLayers refused, a Region not enabled, a later
// page that failed, the scan's time limit).
type NotListed struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// What was not (fully) listed: "functions", "layers", or "functions
	// and layers".
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// Summarize recomputes the summary from the resources; a spooled
// document takes the counts the spool kept while resources were added.
// The listings that did not finish are not resources: they are kept.
func (d *Document) Summarize() {
	notListed := d.Summary.NotListed
	if d.spool != nil {
		d.Summary = d.spool.sum.clone()
	} else {
		s := newSummary()
		for i := range d.Resources {
			s.add(&d.Resources[i])
		}
		d.Summary = s
	}
	d.Summary.NotListed = notListed
}

func newSummary() Summary {
	return Summary{
		ByExposure: map[string]int{"public": 0, "cross-account": 0, "service-unscoped": 0, "org": 0, "private": 0, "unknown": 0},
		BySeverity: map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0},
	}
}

// add counts one resource.
func (s *Summary) add(r *Resource) {
	s.Resources++
	s.ByExposure[r.Exposure]++
	if r.Status == "unknown" {
		s.Unknown++
	}
	if len(r.Unchecked) > 0 {
		s.Unchecked++
	}
	for _, f := range r.Findings {
		if f.Suppressed {
			s.Suppressed++
			continue
		}
		s.Findings++
		s.BySeverity[f.Severity.String()]++
	}
}

// clone copies the counts, maps included, so a document's summary never
// aliases the spool's running one.
func (s Summary) clone() Summary {
	c := s
	c.ByExposure = maps.Clone(s.ByExposure)
	c.BySeverity = maps.Clone(s.BySeverity)
	c.NotListed = slices.Clone(s.NotListed)
	return c
}

// counts is the running summary: the spool's for a spooled document.
func (d *Document) counts() *Summary {
	if d.spool != nil {
		return &d.spool.sum
	}
	return &d.Summary
}

// Incomplete reports whether something was not read or not judged: a
// resource is unknown, some checks could not run, a listing did not
// finish, or the scan says it is incomplete. The text result line, the
// exit code and SARIF's executionSuccessful all follow it.
func (d *Document) Incomplete() bool {
	c := d.counts()
	return c.Unknown > 0 || c.Unchecked > 0 || len(d.Summary.NotListed) > 0 || (d.Scan != nil && !d.Scan.Complete)
}

// Shortfall words what made the document incomplete, from the same
// counts the summary shows, so the result line never contradicts it.
func (d *Document) Shortfall() string {
	c := d.counts()
	var parts []string
	if c.Unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d resource(s) unknown", c.Unknown))
	}
	if c.Unchecked > 0 {
		parts = append(parts, fmt.Sprintf("%d resource(s) partly checked", c.Unchecked))
	}
	if n := len(d.Summary.NotListed); n > 0 {
		places := map[string]bool{}
		for _, nl := range d.Summary.NotListed {
			places[nl.Account+" "+nl.Region] = true
		}
		parts = append(parts, fmt.Sprintf("listing incomplete in %d account/Region pair(s)", len(places)))
	}
	if len(parts) == 0 && d.Scan != nil && !d.Scan.Complete {
		parts = append(parts, fmt.Sprintf("%d scan error(s)", len(d.Scan.Errors)))
	}
	return strings.Join(parts, ", ")
}

// ExitCode is the exit status the README documents: 1 when an unsuppressed finding is at or
// above failOn, else 3 when something could not be read, else 0.
func (d *Document) ExitCode(failOn finding.Severity) int {
	if d.spool != nil {
		// The spool's index has every finding's severity: no need to
		// read a resource back.
		for i := range d.spool.idx.items {
			for _, h := range d.spool.idx.items[i].hits {
				if !h.suppressed && h.severity >= failOn {
					return 1
				}
			}
		}
		if d.Incomplete() {
			return 3
		}
		return 0
	}
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if !f.Suppressed && f.Severity >= failOn {
				return 1
			}
		}
	}
	if d.Incomplete() {
		return 3
	}
	return 0
}

// Len is the number of resources, in memory or spooled.
func (d *Document) Len() int {
	if d.spool != nil {
		return len(d.spool.idx.items)
	}
	return len(d.Resources)
}

// Each calls fn for every resource in document order: the Resources
// slice as it is, or a spooled scan's resources in ARN order. It stops at
// the first error fn returns. It may be called any number of times. On a
// document in memory fn gets a pointer into Resources, so changes stick;
// a spooled resource is read afresh on every call and changes to it are
// lost.
func (d *Document) Each(fn func(*Resource) error) error {
	if d.spool == nil {
		for i := range d.Resources {
			if err := fn(&d.Resources[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return d.spool.idx.each(nil, func(_ int, r *Resource) error { return fn(r) })
}

// Close releases a spooled document's spool (the temporary file is
// removed); a document in memory has nothing to release. It is safe to
// call more than once.
func (d *Document) Close() error {
	if d.spool == nil {
		return nil
	}
	return d.spool.Close()
}

// Incremental is what an incremental rescan did, against what a full scan
// would have cost.
type Incremental struct {
	Since          string `json:"since"`
	BaseScan       int64  `json:"base_scan"`
	Events         int    `json:"events"`
	Rescanned      int    `json:"rescanned"`
	CarriedForward int    `json:"carried_forward"`
	// FullLanes are the account/Region pairs scanned in full because
	// their events could not be read (never carried forward silently).
	FullLanes        []string `json:"full_lanes,omitempty"`
	APICalls         int      `json:"api_calls"`
	FullScanEstimate int      `json:"full_scan_estimate"`
}
