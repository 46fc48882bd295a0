package history

import (
	"context"
	"time"
)

// CoverageRow counts what one scan read in one account and Region.
type CoverageRow struct {
	Scan      int64  `json:"scan"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	Resources int    `json:"resources"`
	Unknown   int    `json:"unknown"`
}

// Suppression is a finding that was suppressed in a scan of a period,
// with the suppression's own words (where, reason, approver, expiry).
type Suppression struct {
	Key          string    `json:"key"`
	ARN          string    `json:"resource"`
	RuleID       string    `json:"rule_id"`
	Severity     string    `json:"severity"`
	SuppressedBy string    `json:"suppressed_by"`
	FirstScan    int64     `json:"first_scan"`
	LastScan     int64     `json:"last_scan"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// Coverage counts resources and unknowns per scan, account and Region
// for the scans recorded in [from, to).
func (s *sqlStore) Coverage(ctx context.Context, from, to time.Time) ([]CoverageRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT sr.scan_id, r.account, r.region, COUNT(*), SUM(CASE WHEN sr.status = 'unknown' THEN 1 ELSE 0 END)
		FROM scans sc JOIN scan_resources sr ON sr.scan_id = sc.id JOIN resources r ON r.id = sr.resource_id
		WHERE sc.recorded_at >= ? AND sc.recorded_at < ?
		GROUP BY sr.scan_id, r.account, r.region ORDER BY sr.scan_id, r.account, r.region`), formatTime(from), formatTime(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CoverageRow{}
	for rows.Next() {
		var c CoverageRow
		if err := rows.Scan(&c.Scan, &c.Account, &c.Region, &c.Resources, &c.Unknown); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Suppressions lists every (finding, suppression) pair of the scans
// recorded in [from, to), with the scans that carried it.
func (s *sqlStore) Suppressions(ctx context.Context, from, to time.Time) ([]Suppression, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT f.key, r.arn, f.rule_id, MAX(sf.severity), sf.suppressed_by, MIN(sc.id), MAX(sc.id), MIN(sc.recorded_at), MAX(sc.recorded_at)
		FROM scans sc JOIN scan_findings sf ON sf.scan_id = sc.id JOIN findings f ON f.id = sf.finding_id JOIN resources r ON r.id = f.resource_id
		WHERE sc.recorded_at >= ? AND sc.recorded_at < ? AND sf.suppressed = 1
		GROUP BY f.key, r.arn, f.rule_id, sf.suppressed_by ORDER BY MIN(sc.id), f.key`), formatTime(from), formatTime(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Suppression{}
	for rows.Next() {
		var x Suppression
		var first, last string
		if err := rows.Scan(&x.Key, &x.ARN, &x.RuleID, &x.Severity, &x.SuppressedBy, &x.FirstScan, &x.LastScan, &first, &last); err != nil {
			return nil, err
		}
		x.FirstSeen, x.LastSeen = parseTime(first), parseTime(last)
		out = append(out, x)
	}
	return out, rows.Err()
}
