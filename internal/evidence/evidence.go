// Package evidence builds the auditor's evidence pack for a period from
// the history: the scans run, what they covered, every finding's open
// interval (grouped by the HIPAA sections its rule maps to), every
// suppression with its reason, approver and expiry, a chart of open
// findings per day by severity, and the history's integrity check. It
// renders as JSON and as one self-contained HTML file.
package evidence

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// SchemaVersion is the version of the JSON pack.
const SchemaVersion = "1"

// Pack is the evidence for one period.
type Pack struct {
	SchemaVersion string      `json:"schema_version"`
	Tool          report.Tool `json:"tool"`
	GeneratedAt   time.Time   `json:"generated_at"`
	// From is inclusive, To exclusive.
	From         time.Time             `json:"from"`
	To           time.Time             `json:"to"`
	Integrity    history.VerifyResult  `json:"integrity"`
	Scans        []history.Scan        `json:"scans"`
	Coverage     Coverage              `json:"coverage"`
	Sections     []Section             `json:"hipaa_sections"`
	Findings     []Exposure            `json:"findings"`
	Suppressions []history.Suppression `json:"suppressions"`
	// Chart counts open, unsuppressed findings per bucket (a day, or a
	// week for periods over two years) by severity.
	Bucket string   `json:"chart_bucket"`
	Chart  []Bucket `json:"chart"`
}

// Coverage is what the period's scans read, per account and Region.
type Coverage struct {
	Accounts    []string `json:"accounts"`
	Regions     []string `json:"regions"`
	Cells       []Cell   `json:"cells"`
	Days        int      `json:"days"`         // days in the period (up to now)
	DaysScanned int      `json:"days_scanned"` // days with at least one scan
	// DaysCovered are days with a covered scan (every account and Region
	// in its scope read).
	DaysCovered int `json:"days_covered"`
}

// Cell is one account × Region over the period.
type Cell struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Scans   int    `json:"scans"`
	// Resources and Unknown are as the latest scan of the cell saw them;
	// MaxUnknown is the most any scan of the period could not read.
	LastScan   int64 `json:"last_scan"`
	Resources  int   `json:"resources"`
	Unknown    int   `json:"unknown"`
	MaxUnknown int   `json:"max_unknown"`
}

// Section is one HIPAA requirement and the findings of rules mapped to it.
type Section struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Rules    []string `json:"rules"`
	Findings []string `json:"findings"` // keys into Pack.Findings
	Open     int      `json:"open_at_end"`
}

// Exposure is one open interval of a finding that overlaps the period.
type Exposure struct {
	Key          string     `json:"key"`
	Resource     string     `json:"resource"`
	Account      string     `json:"account"`
	Region       string     `json:"region"`
	RuleID       string     `json:"rule_id"`
	Title        string     `json:"title"`
	Severity     string     `json:"severity"`
	Exposure     string     `json:"exposure,omitempty"`
	StatementRef string     `json:"statement_ref,omitempty"`
	Explanation  string     `json:"explanation"`
	HIPAA        []string   `json:"hipaa"`
	OpenedAt     time.Time  `json:"opened_at"`
	OpenedScan   int64      `json:"opened_scan"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ResolvedScan int64      `json:"resolved_scan,omitempty"`
	// ResolvedBy is who ran the scan that confirmed the fix: the history
	// knows who looked, not who changed the policy (CloudTrail does).
	ResolvedBy   string           `json:"resolved_by,omitempty"`
	OpenFor      history.Duration `json:"open_for"`
	NotRechecked bool             `json:"not_rechecked"`
	Suppressed   bool             `json:"suppressed"`
	SuppressedBy string           `json:"suppressed_by,omitempty"`
}

// Bucket is one bar of the chart.
type Bucket struct {
	Start      time.Time      `json:"start"`
	BySeverity map[string]int `json:"by_severity"`
	Total      int            `json:"total"`
}

// Severities, most severe first, as the chart stacks them.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// Titles of the HIPAA Security Rule sections the catalog maps to, and of
// those the history itself is evidence for.
var sectionTitles = map[string]string{
	"164.308(a)(1)(ii)(B)": "Risk management",
	"164.308(a)(1)(ii)(D)": "Information system activity review",
	"164.308(a)(3)(i)":     "Workforce security",
	"164.308(a)(4)(ii)(A)": "Isolating health care clearinghouse functions",
	"164.308(a)(4)(ii)(B)": "Access authorization",
	"164.308(a)(4)(ii)(C)": "Access establishment and modification",
	"164.308(a)(8)":        "Evaluation",
	"164.312(a)(1)":        "Access control",
	"164.312(b)":           "Audit controls",
	"164.312(d)":           "Person or entity authentication",
	"164.312(e)(1)":        "Transmission security",
	"164.316(b)(2)":        "Documentation: time limit, availability, updates",
}

// Title names a HIPAA section.
func Title(id string) string {
	if t, ok := sectionTitles[id]; ok {
		return t
	}
	return "HIPAA " + id
}

// Build gathers the pack for [from, to); now bounds the chart (no bars
// for days that have not happened).
func Build(ctx context.Context, s history.Store, from, to, now time.Time, tool report.Tool) (*Pack, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("evidence: the period is empty (from %s to %s)", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	p := &Pack{SchemaVersion: SchemaVersion, Tool: tool, GeneratedAt: now.UTC(), From: from.UTC(), To: to.UTC(),
		Findings: []Exposure{}, Sections: []Section{}}
	var err error
	if p.Integrity, err = s.Verify(ctx); err != nil {
		return nil, err
	}
	if p.Integrity.Problems == nil {
		p.Integrity.Problems = []string{}
	}
	if p.Scans, err = s.Scans(ctx, history.ScanFilter{Since: from, Until: to}); err != nil {
		return nil, err
	}
	if p.Scans == nil {
		p.Scans = []history.Scan{}
	}
	rows, err := s.Coverage(ctx, from, to)
	if err != nil {
		return nil, err
	}
	p.Coverage = coverage(p.Scans, rows, from, to, now)
	ivs, err := s.Intervals(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, iv := range ivs {
		p.Findings = append(p.Findings, exposure(iv, from, to, now))
	}
	if p.Suppressions, err = s.Suppressions(ctx, from, to); err != nil {
		return nil, err
	}
	p.Sections = sections(p.Findings)
	p.Bucket, p.Chart = chart(p.Findings, from, to, now)
	return p, nil
}

func exposure(iv history.Interval, from, to, now time.Time) Exposure {
	f := iv.Finding
	x := Exposure{Key: f.Key, Resource: f.ARN, Account: f.Account, Region: f.Region, RuleID: f.RuleID, Title: f.Title, Severity: f.Severity,
		Exposure: f.Exposure, StatementRef: f.StatementRef, Explanation: f.Explanation, HIPAA: f.HIPAA,
		OpenedAt: iv.OpenedAt, OpenedScan: iv.OpenedScan, ResolvedAt: iv.ResolvedAt, ResolvedScan: iv.ResolvedScan, ResolvedBy: iv.ResolvedBy,
		Suppressed: f.Suppressed, SuppressedBy: f.SuppressedBy}
	if x.HIPAA == nil {
		x.HIPAA = []string{}
	}
	if iv.ResolvedAt == nil {
		x.NotRechecked = f.NotRechecked && f.Open()
	}
	// Open within the period: from the later of opening and the start to
	// the earlier of the fix, the end and now.
	start := laterOf(iv.OpenedAt, from)
	end := earlierOf(to, now)
	if iv.ResolvedAt != nil {
		end = earlierOf(end, *iv.ResolvedAt)
	}
	if end.After(start) {
		x.OpenFor = history.Duration(end.Sub(start))
	}
	return x
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func coverage(scans []history.Scan, rows []history.CoverageRow, from, to, now time.Time) Coverage {
	c := Coverage{Accounts: []string{}, Regions: []string{}, Cells: []Cell{}}
	accounts, regions := map[string]bool{}, map[string]bool{}
	cells := map[[2]string]*Cell{}
	for _, sc := range scans {
		for _, a := range sc.Accounts {
			accounts[a] = true
		}
		for _, r := range sc.Regions {
			regions[r] = true
		}
	}
	for _, r := range rows { // in scan order
		key := [2]string{r.Account, r.Region}
		cell := cells[key]
		if cell == nil {
			cell = &Cell{Account: r.Account, Region: r.Region}
			cells[key] = cell
		}
		cell.Scans++
		cell.LastScan, cell.Resources, cell.Unknown = r.Scan, r.Resources, r.Unknown
		cell.MaxUnknown = max(cell.MaxUnknown, r.Unknown)
	}
	for a := range accounts {
		c.Accounts = append(c.Accounts, a)
	}
	for r := range regions {
		c.Regions = append(c.Regions, r)
	}
	sort.Strings(c.Accounts)
	sort.Strings(c.Regions)
	for _, cell := range cells {
		c.Cells = append(c.Cells, *cell)
	}
	sort.Slice(c.Cells, func(i, j int) bool {
		if c.Cells[i].Account != c.Cells[j].Account {
			return c.Cells[i].Account < c.Cells[j].Account
		}
		return c.Cells[i].Region < c.Cells[j].Region
	})
	end := earlierOf(to, now)
	if end.After(from) {
		c.Days = int((end.Sub(from) + 24*time.Hour - 1) / (24 * time.Hour))
	}
	scanned, covered := map[string]bool{}, map[string]bool{}
	for _, sc := range scans {
		day := sc.At.UTC().Format(time.DateOnly)
		scanned[day] = true
		if sc.Covered {
			covered[day] = true
		}
	}
	c.DaysScanned, c.DaysCovered = len(scanned), len(covered)
	return c
}

// sections lists every HIPAA section a rule of the catalog maps to, with
// the findings of those rules; a section without findings is evidence
// too ("nothing open").
func sections(fs []Exposure) []Section {
	byID := map[string]*Section{}
	for _, r := range rules.All() {
		for _, id := range rules.Compliance(r.ID).IDs("HIPAA") {
			s := byID[id]
			if s == nil {
				s = &Section{ID: id, Title: Title(id), Findings: []string{}}
				byID[id] = s
			}
			s.Rules = append(s.Rules, r.ID)
		}
	}
	for _, f := range fs {
		for _, id := range f.HIPAA {
			s := byID[id]
			if s == nil {
				s = &Section{ID: id, Title: Title(id), Rules: []string{f.RuleID}, Findings: []string{}}
				byID[id] = s
			}
			s.Findings = append(s.Findings, f.Key)
			if f.ResolvedAt == nil {
				s.Open++
			}
		}
	}
	out := make([]Section, 0, len(byID))
	for _, s := range byID {
		sort.Strings(s.Rules)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// chart counts, per bucket, the unsuppressed findings open at some time
// in it.
func chart(fs []Exposure, from, to, now time.Time) (string, []Bucket) {
	kind, step := "day", 24*time.Hour
	if to.Sub(from) > 731*24*time.Hour {
		kind, step = "week", 7*24*time.Hour
	}
	start := from.UTC().Truncate(24 * time.Hour)
	end := earlierOf(to, now)
	var out []Bucket
	for t := start; t.Before(end); t = t.Add(step) {
		out = append(out, Bucket{Start: t, BySeverity: map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}})
	}
	for _, f := range fs {
		if f.Suppressed {
			continue
		}
		for i := range out {
			b0, b1 := out[i].Start, out[i].Start.Add(step)
			if f.OpenedAt.Before(b1) && (f.ResolvedAt == nil || f.ResolvedAt.After(b0)) {
				out[i].BySeverity[f.Severity]++
				out[i].Total++
			}
		}
	}
	if out == nil {
		out = []Bucket{}
	}
	return kind, out
}

// Trend is the lighter pack a dashboard needs: the findings open in
// [from, to) and the chart, without the integrity check, coverage or
// suppressions.
func Trend(ctx context.Context, s history.Store, from, to, now time.Time) (*Pack, error) {
	ivs, err := s.Intervals(ctx, from, to)
	if err != nil {
		return nil, err
	}
	p := &Pack{SchemaVersion: SchemaVersion, GeneratedAt: now.UTC(), From: from.UTC(), To: to.UTC(), Findings: []Exposure{}}
	for _, iv := range ivs {
		p.Findings = append(p.Findings, exposure(iv, from, to, now))
	}
	p.Bucket, p.Chart = chart(p.Findings, from, to, now)
	return p, nil
}
