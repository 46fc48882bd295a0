// Package history keeps every recorded scan so exposure can be followed
// over time: which resources a scan saw, their policies (each distinct
// text stored once), their findings and each finding's lifecycle (first
// seen, resolved, reopened). Scans are chained by hash so an edited,
// deleted or inserted scan is detected by Verify.
//
// One Store interface, two backends behind it: an embedded SQLite file
// (the default) and PostgreSQL for a team sharing one history. Both run
// the same SQL (dialect differences are confined to sql.go and the
// migrations), and one conformance suite tests both.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

// Store is what the history commands need; not an ORM.
type Store interface {
	// RecordScan stores a finished scan in one transaction and advances
	// the findings' lifecycle. The scan's time is the store's clock.
	RecordScan(ctx context.Context, d *report.Document, meta Meta) (Scan, error)
	// Scans lists recorded scans, oldest first.
	Scans(ctx context.Context, f ScanFilter) ([]Scan, error)
	// Scan returns one scan by id.
	Scan(ctx context.Context, id int64) (Scan, error)
	// Snapshot is a scan's resources and findings: the input of Diff.
	Snapshot(ctx context.Context, id int64) (*Snapshot, error)
	// Findings lists findings with their lifecycle.
	Findings(ctx context.Context, f FindingFilter) ([]Finding, error)
	// Intervals lists the open intervals of findings that overlap
	// [from, to): the input of the evidence pack.
	Intervals(ctx context.Context, from, to time.Time) ([]Interval, error)
	// Coverage counts resources and unknowns per scan, account and
	// Region for the scans recorded in [from, to).
	Coverage(ctx context.Context, from, to time.Time) ([]CoverageRow, error)
	// Suppressions lists the suppressed findings of the scans recorded in
	// [from, to), with each suppression's reason, approver and expiry.
	Suppressions(ctx context.Context, from, to time.Time) ([]Suppression, error)
	// ResourceHistory lists a resource's state in every scan that saw it.
	ResourceHistory(ctx context.Context, arn string) ([]ResourceVersion, error)
	// Policy returns a stored policy text by its SHA-256 (hex).
	Policy(ctx context.Context, sha string) (string, error)
	// Incremental says how a scan was incremental: nil (and no error)
	// for a full scan.
	Incremental(ctx context.Context, scanID int64) (*Incremental, error)
	// Verify checks the hash chain and every scan's content.
	Verify(ctx context.Context) (VerifyResult, error)
	// Prune deletes scans recorded before the cutoff and what only they
	// used, keeping the chain verifiable.
	Prune(ctx context.Context, before time.Time) (PruneResult, error)
	Close() error
}

// Options configure a store.
type Options struct {
	// Now is the clock that dates recorded scans and lifecycle events;
	// nil means time.Now.
	Now func() time.Time
	// MustExist refuses to create a SQLite file that is not there (the
	// read-only commands: a typo must not start an empty history).
	MustExist bool
}

// Meta is what a scan's document does not carry itself.
type Meta struct {
	// Caller is the identity that ran the scan (sts:GetCallerIdentity).
	Caller string
	// CatalogVersion identifies the rule catalog that judged it.
	CatalogVersion string
	// SkippedRules are rules this scan did not run (scan --no-roles):
	// their findings are not re-checked by it, so never resolved by it.
	SkippedRules []string
	// Incremental is set for a scan that carried resources forward from
	// an earlier one (scan --since); nil for a full scan.
	Incremental *Incremental
}

// Scan is one recorded scan.
type Scan struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"recorded_at"`
	StartedAt  string    `json:"started_at"`
	FinishedAt string    `json:"finished_at"`
	Caller     string    `json:"caller"`
	Accounts   []string  `json:"accounts"`
	Regions    []string  `json:"regions"`
	Complete   bool      `json:"complete"`
	// Covered: every account and Region in scope was listed and read, no
	// scan-level error (single resources may still be unknown). Only a
	// covered scan can resolve a finding or be a default side of diff.
	Covered        bool           `json:"covered"`
	Errors         []string       `json:"errors,omitempty"`
	ToolVersion    string         `json:"tool_version"`
	CatalogVersion string         `json:"catalog_version"`
	APICalls       int64          `json:"api_calls"`
	SkippedRules   []string       `json:"skipped_rules,omitempty"`
	Summary        report.Summary `json:"summary"`
	Hash           string         `json:"hash"`
	PrevHash       string         `json:"prev_hash"`
}

// Scope is the key of the accounts and Regions a scan covered; diff
// compares scans of one scope by default.
func (s Scan) Scope() string { return scopeKey(s.Accounts, s.Regions) }

// ScanFilter selects scans.
type ScanFilter struct {
	Since, Until time.Time // zero: unbounded; Until is exclusive
	Limit        int       // the most recent Limit; 0: all
}

// FindingFilter selects findings; zero fields match everything.
type FindingFilter struct {
	Account  string
	Rule     string
	Resource string // an ARN
	Open     bool   // only findings open now
	// Since keeps findings open at any time since then: still open, or
	// resolved after it.
	Since time.Time
}

// Finding is one finding's identity and lifecycle.
type Finding struct {
	Key          string     `json:"key"`
	ARN          string     `json:"resource"`
	Account      string     `json:"account"`
	Region       string     `json:"region"`
	RuleID       string     `json:"rule_id"`
	Title        string     `json:"title"`
	Severity     string     `json:"severity"`
	Exposure     string     `json:"exposure,omitempty"`
	Sid          string     `json:"sid"`
	StatementRef string     `json:"statement_ref,omitempty"`
	Explanation  string     `json:"explanation"`
	HIPAA        []string   `json:"hipaa,omitempty"`
	FirstSeen    time.Time  `json:"first_seen"`
	FirstScan    int64      `json:"first_scan"`
	LastSeen     time.Time  `json:"last_seen"`
	LastScan     int64      `json:"last_scan"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ResolvedScan int64      `json:"resolved_scan,omitempty"`
	ResolvedBy   string     `json:"resolved_by,omitempty"` // caller of the resolving scan
	Reopened     int        `json:"reopened"`
	ReopenedAt   *time.Time `json:"reopened_at,omitempty"`
	// NotRechecked: open, and the latest scan of its scope could not read
	// its resource, so nobody knows whether it still holds.
	NotRechecked bool   `json:"not_rechecked"`
	Suppressed   bool   `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by,omitempty"`
	// TimeToFix is resolved minus opened for the latest interval, when
	// resolved.
	TimeToFix *Duration `json:"time_to_fix,omitempty"`
}

// Open reports whether the finding is open now.
func (f Finding) Open() bool { return f.ResolvedAt == nil }

// Interval is one stretch of time a finding was open.
type Interval struct {
	Finding      Finding    `json:"finding"`
	OpenedAt     time.Time  `json:"opened_at"`
	OpenedScan   int64      `json:"opened_scan"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ResolvedScan int64      `json:"resolved_scan,omitempty"`
	ResolvedBy   string     `json:"resolved_by,omitempty"`
}

// ResourceVersion is a resource as one scan saw it.
type ResourceVersion struct {
	Scan     Scan          `json:"scan"`
	Resource ResourceState `json:"resource"`
}

// VerifyResult is the outcome of Verify: Problems empty means intact.
type VerifyResult struct {
	Scans    int      `json:"scans"`
	Head     string   `json:"head"` // the newest scan's chain hash
	HeadScan int64    `json:"head_scan"`
	Problems []string `json:"problems"`
}

// PruneResult counts what Prune removed.
type PruneResult struct {
	Scans    int `json:"scans"`
	Policies int `json:"policies"`
	Findings int `json:"findings"`
}

// Duration marshals as a Go duration string and whole seconds.
type Duration time.Duration

// MarshalJSON writes {"seconds": n, "text": "..."}.
func (d Duration) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"seconds":%d,"text":%q}`, int64(time.Duration(d)/time.Second), HumanDuration(time.Duration(d))), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v struct {
		Seconds int64 `json:"seconds"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = Duration(time.Duration(v.Seconds) * time.Second)
	return nil
}

// HumanDuration writes a duration as days, hours and minutes.
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	m := (d - h*time.Hour) / time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		return fmt.Sprintf("%dm", m)
	}
}

// ErrNotFound is returned for a scan, resource or policy not in the store.
var ErrNotFound = errors.New("not found")

// DefaultDSN is the history used when --history has no value:
// ~/.lambdawarden/history.db.
func DefaultDSN() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the default history (give --history PATH): %w", err)
	}
	return filepath.Join(home, ".lambdawarden", "history.db"), nil
}

// IsPostgres reports whether a DSN names PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens (creating and migrating when needed) the history a DSN
// names: a SQLite file path or a postgres:// URL.
func Open(ctx context.Context, dsn string, opt Options) (Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("empty history DSN")
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, opt)
	}
	return openSQLite(ctx, dsn, opt)
}

// scopeKey is accounts and Regions, sorted, as one string.
func scopeKey(accounts, regions []string) string {
	return strings.Join(sortedCopy(accounts), ",") + "|" + strings.Join(sortedCopy(regions), ",")
}
