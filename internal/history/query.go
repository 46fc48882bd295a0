package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ResourceState is a resource as one scan saw it.
type ResourceState struct {
	ARN           string `json:"arn"`
	Kind          string `json:"kind"`
	Account       string `json:"account"`
	Region        string `json:"region"`
	Status        string `json:"status"`
	UnknownReason string `json:"unknown_reason,omitempty"`
	Exposure      string `json:"exposure"`
	URLAuth       string `json:"url_auth_type,omitempty"`
	URL           string `json:"url,omitempty"`
	PolicySHA     string `json:"policy_sha256,omitempty"`
	FunctionSHA   string `json:"function_policy_sha256,omitempty"`
	RevisionID    string `json:"revision_id,omitempty"`
}

func (r resRow) state() ResourceState { return ResourceState(r) }

// Snapshot is one scan's resources (ARN order) and findings (key order).
type Snapshot struct {
	Scan      Scan              `json:"scan"`
	Resources []ResourceState   `json:"resources"`
	Findings  []SnapshotFinding `json:"findings"`
}

// SnapshotFinding is a finding as one scan had it.
type SnapshotFinding struct {
	Key          string `json:"key"`
	ARN          string `json:"resource"`
	RuleID       string `json:"rule_id"`
	Title        string `json:"title"`
	Severity     string `json:"severity"`
	Exposure     string `json:"exposure,omitempty"`
	Sid          string `json:"sid"`
	StatementRef string `json:"statement_ref,omitempty"`
	Explanation  string `json:"explanation"`
	Suppressed   bool   `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by,omitempty"`
}

func (s *sqlStore) Scans(ctx context.Context, f ScanFilter) ([]Scan, error) {
	q := `SELECT ` + scanColumns + ` FROM scans WHERE 1 = 1`
	var args []any
	if !f.Since.IsZero() {
		q += ` AND recorded_at >= ?`
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND recorded_at < ?`
		args = append(args, formatTime(f.Until))
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		var r scanRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		out = append(out, r.scan())
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slicesReverse(out)
	return out, nil
}

func slicesReverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func (s *sqlStore) Scan(ctx context.Context, id int64) (Scan, error) {
	var r scanRow
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+scanColumns+` FROM scans WHERE id = ?`), id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, fmt.Errorf("scan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Scan{}, err
	}
	return r.scan(), nil
}

func (s *sqlStore) Snapshot(ctx context.Context, id int64) (*Snapshot, error) {
	sc, err := s.Scan(ctx, id)
	if err != nil {
		return nil, err
	}
	res, err := s.resourceRows(ctx, id)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Scan: sc, Resources: make([]ResourceState, len(res)), Findings: []SnapshotFinding{}}
	for i, r := range res {
		snap.Resources[i] = r.state()
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT f.key, r.arn, f.rule_id, f.title, sf.severity, sf.exposure, f.sid, f.statement_ref, f.explanation, sf.suppressed, sf.suppressed_by
		FROM scan_findings sf JOIN findings f ON f.id = sf.finding_id JOIN resources r ON r.id = f.resource_id WHERE sf.scan_id = ?`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f SnapshotFinding
		var sup int
		if err := rows.Scan(&f.Key, &f.ARN, &f.RuleID, &f.Title, &f.Severity, &f.Exposure, &f.Sid, &f.StatementRef, &f.Explanation, &sup, &f.SuppressedBy); err != nil {
			return nil, err
		}
		f.Suppressed = sup != 0
		snap.Findings = append(snap.Findings, f)
	}
	sort.Slice(snap.Findings, func(i, j int) bool { return snap.Findings[i].Key < snap.Findings[j].Key })
	return snap, rows.Err()
}

// resourceRows are a scan's resource rows in ARN order.
func (s *sqlStore) resourceRows(ctx context.Context, scanID int64) ([]resRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT r.arn, r.kind, r.account, r.region, sr.status, sr.unknown_reason, sr.exposure, sr.url_auth, sr.url,
		COALESCE(p.sha256, ''), COALESCE(fp.sha256, ''), sr.revision_id
		FROM scan_resources sr JOIN resources r ON r.id = sr.resource_id
		LEFT JOIN policies p ON p.id = sr.policy_id LEFT JOIN policies fp ON fp.id = sr.function_policy_id
		WHERE sr.scan_id = ?`), scanID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []resRow
	for rows.Next() {
		var r resRow
		if err := rows.Scan(&r.ARN, &r.Kind, &r.Account, &r.Region, &r.Status, &r.UnknownReason, &r.Exposure, &r.URLAuth, &r.URL, &r.PolicySHA, &r.FunctionSHA, &r.RevisionID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, rows.Err()
}

func (s *sqlStore) scanFindingRows(ctx context.Context, scanID int64) ([]scanFindingRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT f.key, sf.severity, sf.exposure, sf.suppressed, sf.suppressed_by
		FROM scan_findings sf JOIN findings f ON f.id = sf.finding_id WHERE sf.scan_id = ?`), scanID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scanFindingRow
	for rows.Next() {
		var r scanFindingRow
		if err := rows.Scan(&r.Key, &r.Severity, &r.Exposure, &r.Suppressed, &r.SuppressedBy); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const findingColumns = `f.key, r.arn, r.account, r.region, f.rule_id, f.title, f.severity, f.exposure, f.sid, f.statement_ref, f.explanation, f.hipaa,
	f.first_scan, f.first_seen, f.last_scan, f.last_seen, f.resolved_scan, f.resolved_at, COALESCE(rs.caller, ''), f.reopened, f.reopened_at,
	f.not_rechecked, f.suppressed, f.suppressed_by`

const findingJoins = ` FROM findings f JOIN resources r ON r.id = f.resource_id LEFT JOIN scans rs ON rs.id = f.resolved_scan`

func scanFinding(rows interface{ Scan(...any) error }, extra ...any) (Finding, error) {
	var f Finding
	var hipaa, first, last string
	var resolvedScan sql.NullInt64
	var resolvedAt, reopenedAt sql.NullString
	var notRechecked, suppressed int
	dest := []any{&f.Key, &f.ARN, &f.Account, &f.Region, &f.RuleID, &f.Title, &f.Severity, &f.Exposure, &f.Sid, &f.StatementRef, &f.Explanation, &hipaa,
		&f.FirstScan, &first, &f.LastScan, &last, &resolvedScan, &resolvedAt, &f.ResolvedBy, &f.Reopened, &reopenedAt, &notRechecked, &suppressed, &f.SuppressedBy}
	if err := rows.Scan(append(dest, extra...)...); err != nil {
		return f, err
	}
	_ = json.Unmarshal([]byte(hipaa), &f.HIPAA)
	f.FirstSeen, f.LastSeen = parseTime(first), parseTime(last)
	f.ResolvedScan = resolvedScan.Int64
	f.ResolvedAt, f.ReopenedAt = parseTimePtr(resolvedAt), parseTimePtr(reopenedAt)
	f.NotRechecked, f.Suppressed = notRechecked != 0, suppressed != 0
	if f.ResolvedAt != nil {
		opened := f.FirstSeen
		if f.ReopenedAt != nil {
			opened = *f.ReopenedAt
		}
		d := Duration(f.ResolvedAt.Sub(opened))
		f.TimeToFix = &d
	}
	return f, nil
}

func (s *sqlStore) Findings(ctx context.Context, flt FindingFilter) ([]Finding, error) {
	var where []string
	var args []any
	if flt.Account != "" {
		where, args = append(where, `r.account = ?`), append(args, flt.Account)
	}
	if flt.Rule != "" {
		where, args = append(where, `f.rule_id = ?`), append(args, flt.Rule)
	}
	if flt.Resource != "" {
		where, args = append(where, `r.arn = ?`), append(args, flt.Resource)
	}
	if flt.Open {
		where = append(where, `f.resolved_at IS NULL`)
	}
	if !flt.Since.IsZero() {
		where, args = append(where, `(f.resolved_at IS NULL OR f.resolved_at >= ?)`), append(args, formatTime(flt.Since))
	}
	q := `SELECT ` + findingColumns + findingJoins
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY f.first_seen, f.key`
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *sqlStore) Intervals(ctx context.Context, from, to time.Time) ([]Interval, error) {
	q := `SELECT ` + findingColumns + `, i.opened_scan, i.opened_at, i.resolved_scan, i.resolved_at, COALESCE(ic.caller, '')` + findingJoins +
		` JOIN finding_intervals i ON i.finding_id = f.id LEFT JOIN scans ic ON ic.id = i.resolved_scan
		WHERE i.opened_at < ? AND (i.resolved_at IS NULL OR i.resolved_at >= ?) ORDER BY i.opened_at, f.key`
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), formatTime(to), formatTime(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Interval{}
	for rows.Next() {
		var iv Interval
		var opened string
		var resolvedScan sql.NullInt64
		var resolvedAt sql.NullString
		f, err := scanFinding(rows, &iv.OpenedScan, &opened, &resolvedScan, &resolvedAt, &iv.ResolvedBy)
		if err != nil {
			return nil, err
		}
		iv.Finding, iv.OpenedAt = f, parseTime(opened)
		iv.ResolvedScan, iv.ResolvedAt = resolvedScan.Int64, parseTimePtr(resolvedAt)
		out = append(out, iv)
	}
	return out, rows.Err()
}

func (s *sqlStore) ResourceHistory(ctx context.Context, arn string) ([]ResourceVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT sr.scan_id FROM scan_resources sr JOIN resources r ON r.id = sr.resource_id WHERE r.arn = ? ORDER BY sr.scan_id`), arn)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("resource %s: %w in any recorded scan", arn, ErrNotFound)
	}
	out := make([]ResourceVersion, 0, len(ids))
	for _, id := range ids {
		sc, err := s.Scan(ctx, id)
		if err != nil {
			return nil, err
		}
		var r resRow
		err = s.db.QueryRowContext(ctx, s.d.rebind(`SELECT r.arn, r.kind, r.account, r.region, sr.status, sr.unknown_reason, sr.exposure, sr.url_auth, sr.url,
			COALESCE(p.sha256, ''), COALESCE(fp.sha256, ''), sr.revision_id
			FROM scan_resources sr JOIN resources r ON r.id = sr.resource_id
			LEFT JOIN policies p ON p.id = sr.policy_id LEFT JOIN policies fp ON fp.id = sr.function_policy_id
			WHERE sr.scan_id = ? AND r.arn = ?`), id, arn).Scan(&r.ARN, &r.Kind, &r.Account, &r.Region, &r.Status, &r.UnknownReason, &r.Exposure, &r.URLAuth, &r.URL, &r.PolicySHA, &r.FunctionSHA, &r.RevisionID)
		if err != nil {
			return nil, err
		}
		out = append(out, ResourceVersion{Scan: sc, Resource: r.state()})
	}
	return out, nil
}

func (s *sqlStore) Policy(ctx context.Context, sha string) (string, error) {
	var text string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT text FROM policies WHERE sha256 = ?`), sha).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("policy %s: %w", sha, ErrNotFound)
	}
	return text, err
}
