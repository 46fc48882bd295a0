package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// findingRow is one finding of the scan being recorded.
type findingRow struct {
	scanFindingRow
	ARN          string
	RuleID       string
	Title        string
	Sid          string
	StatementRef string
	Explanation  string
	HIPAA        string // JSON array
}

// FindingKey is a finding's identity across scans: the resource's ARN,
// the rule, and the statement it rests on — its Sid, or its canonical
// hash when it has none, so reordering a policy keeps identities; a
// statement in the function's policy that counts for an alias or
// version is marked "function/".
func FindingKey(r *report.Resource, f *finding.Finding) string {
	return r.ARN + "|" + f.RuleID + "|" + statementRef(r, f)
}

func statementRef(r *report.Resource, f *finding.Finding) string {
	st := f.Statement
	if st == nil {
		return ""
	}
	prefix, text := "", r.Policy
	if st.Policy == "function" {
		prefix, text = "function/", r.FunctionPolicy
	}
	if st.Sid != "" {
		return prefix + "sid:" + st.Sid
	}
	if list, err := Statements(text); err == nil && st.Index >= 0 && st.Index < len(list) {
		return prefix + list[st.Index].ID()
	}
	return prefix + "index:" + strconv.Itoa(st.Index)
}

// collected is a scan's rows, gathered before the transaction.
type collected struct {
	res      []resRow
	finds    []findingRow
	policies map[string]string // SHA-256 → text
}

func collect(d *report.Document) (*collected, error) {
	c := &collected{policies: map[string]string{}}
	keep := func(text string) string {
		if text == "" {
			return ""
		}
		sha := policySHA(text)
		c.policies[sha] = text
		return sha
	}
	err := d.Each(func(r *report.Resource) error {
		row := resRow{ARN: r.ARN, Kind: r.Kind, Account: r.Account, Region: r.Region, Status: r.Status, UnknownReason: r.UnknownReason,
			Exposure: r.Exposure, PolicySHA: keep(r.Policy), FunctionSHA: keep(r.FunctionPolicy), RevisionID: r.RevisionID}
		if r.FunctionURL != nil {
			row.URLAuth, row.URL = r.FunctionURL.AuthType, r.FunctionURL.URL
		}
		c.res = append(c.res, row)
		seen := map[string]int{}
		for i := range r.Findings {
			f := &r.Findings[i]
			key := FindingKey(r, f)
			// Two findings of one rule on one statement (or with no
			// statement) stay apart by their order.
			if n := seen[key]; n > 0 {
				seen[key]++
				key += "#" + strconv.Itoa(n+1)
			} else {
				seen[key] = 1
			}
			hipaa, _ := json.Marshal(nonNil(f.Compliance.IDs("HIPAA")))
			fr := findingRow{
				scanFindingRow: scanFindingRow{Key: key, Severity: f.Severity.String(), Exposure: f.Exposure, Suppressed: boolInt(f.Suppressed), SuppressedBy: f.SuppressedBy},
				ARN:            r.ARN, RuleID: f.RuleID, Title: f.Title, StatementRef: statementRef(r, f), Explanation: f.Explanation, HIPAA: string(hipaa),
			}
			if f.Statement != nil {
				fr.Sid = f.Statement.Sid
			}
			c.finds = append(c.finds, fr)
		}
		return nil
	})
	return c, err
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// RecordScan stores a finished scan: everything in one transaction under
// the writers' lock, so a crash leaves nothing half-written and two
// writers never interleave their links in the chain.
func (s *sqlStore) RecordScan(ctx context.Context, d *report.Document, meta Meta) (Scan, error) {
	if d == nil || d.Scan == nil {
		return Scan{}, errors.New("history: only a scan's report can be recorded")
	}
	c, err := collect(d)
	if err != nil {
		return Scan{}, fmt.Errorf("history: read the report: %w", err)
	}
	sum := d.Summary
	if sum.ByExposure == nil {
		d.Summarize()
		sum = d.Summary
	}
	at := s.now().UTC()
	row := scanRow{
		RecordedAt: formatTime(at), StartedAt: d.Scan.StartedAt, FinishedAt: d.Scan.FinishedAt, Caller: meta.Caller,
		Accounts: jsonText(sortedCopy(d.Scan.Accounts)), Regions: jsonText(sortedCopy(d.Scan.Regions)),
		Scope: scopeKey(d.Scan.Accounts, d.Scan.Regions), Complete: boolInt(d.Scan.Complete), Covered: boolInt(len(d.Scan.Errors) == 0),
		Errors: jsonText(nonNil(d.Scan.Errors)), ToolVersion: d.Tool.Version, CatalogVersion: meta.CatalogVersion,
		APICalls: int64(d.Scan.APICalls), Summary: jsonText(sum), SkippedRules: jsonText(sortedCopy(meta.SkippedRules)),
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var prevID int64
		var prevHash string
		err := tx.QueryRowContext(ctx, `SELECT id, chain_hash FROM scans ORDER BY id DESC LIMIT 1`).Scan(&prevID, &prevHash)
		if errors.Is(err, sql.ErrNoRows) {
			prevHash, prevID, err = anchor(ctx, tx, s.d)
		}
		if err != nil {
			return err
		}
		row.ID = prevID + 1
		finds := make([]scanFindingRow, len(c.finds))
		for i := range c.finds {
			finds[i] = c.finds[i].scanFindingRow
		}
		row.ContentHash = contentHash(&row, c.res, finds, incRowOf(meta.Incremental))
		row.PrevHash = prevHash
		row.ChainHash = chainHash(prevHash, row.ContentHash)
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO scans (`+scanColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`), row.values()...); err != nil {
			return err
		}
		w := &writer{s: s, tx: tx, ctx: ctx, scan: row.ID, at: row.RecordedAt, resIDs: map[string]int64{}, polIDs: map[string]int64{}}
		defer w.close()
		if err := w.resources(c); err != nil {
			return err
		}
		if err := w.lifecycle(c, &row, meta.SkippedRules); err != nil {
			return err
		}
		return w.incremental(meta.Incremental)
	})
	if err != nil {
		return Scan{}, fmt.Errorf("history: record the scan: %w", err)
	}
	return row.scan(), nil
}

// writer inserts one scan's rows inside its transaction.
type writer struct {
	s      *sqlStore
	tx     *sql.Tx
	ctx    context.Context
	scan   int64
	at     string
	resIDs map[string]int64 // ARN → resources.id
	polIDs map[string]int64 // SHA-256 → policies.id
	stmts  []*sql.Stmt
}

func (w *writer) prepare(q string) (*sql.Stmt, error) {
	st, err := w.tx.PrepareContext(w.ctx, w.s.d.rebind(q))
	if err == nil {
		w.stmts = append(w.stmts, st)
	}
	return st, err
}

func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// idOf returns the id of the row whose unique column has value, inserting
// it first when it is new.
func (w *writer) idOf(find, insert *sql.Stmt, value any, insertArgs ...any) (int64, error) {
	var id int64
	err := find.QueryRowContext(w.ctx, value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = insert.QueryRowContext(w.ctx, insertArgs...).Scan(&id)
	}
	return id, err
}

func (w *writer) resources(c *collected) error {
	findPol, err := w.prepare(`SELECT id FROM policies WHERE sha256 = ?`)
	if err != nil {
		return err
	}
	insPol, err := w.prepare(`INSERT INTO policies (sha256, text) VALUES (?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	for sha, text := range c.policies {
		id, err := w.idOf(findPol, insPol, sha, sha, text)
		if err != nil {
			return err
		}
		w.polIDs[sha] = id
	}
	findRes, err := w.prepare(`SELECT id FROM resources WHERE arn = ?`)
	if err != nil {
		return err
	}
	insRes, err := w.prepare(`INSERT INTO resources (arn, kind, account, region) VALUES (?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	insScanRes, err := w.prepare(`INSERT INTO scan_resources (scan_id, resource_id, status, unknown_reason, exposure, url_auth, url, policy_id, function_policy_id, revision_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, r := range c.res {
		id, err := w.idOf(findRes, insRes, r.ARN, r.ARN, r.Kind, r.Account, r.Region)
		if err != nil {
			return err
		}
		if _, dup := w.resIDs[r.ARN]; dup {
			return fmt.Errorf("resource %s listed twice in one scan", r.ARN)
		}
		w.resIDs[r.ARN] = id
		if _, err := insScanRes.ExecContext(w.ctx, w.scan, id, r.Status, r.UnknownReason, r.Exposure, r.URLAuth, r.URL,
			w.policyID(r.PolicySHA), w.policyID(r.FunctionSHA), r.RevisionID); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) policyID(sha string) sql.NullInt64 {
	if sha == "" {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: w.polIDs[sha], Valid: true}
}

// openFinding is a finding open before this scan.
type openFinding struct {
	id                   int64
	key, rule            string
	arn, account, region string
}

// lifecycle moves every finding forward: seen ones are opened, kept or
// reopened; open ones this scan did not see are resolved only when the
// scan covered its scope, read the resource (or found it gone) and ran
// the rule. Otherwise they stay open, marked not re-checked.
func (w *writer) lifecycle(c *collected, sc *scanRow, skipped []string) error {
	open, err := w.openFindings()
	if err != nil {
		return err
	}
	findF, err := w.prepare(`SELECT id, resolved_at FROM findings WHERE key = ?`)
	if err != nil {
		return err
	}
	insF, err := w.prepare(`INSERT INTO findings (key, resource_id, rule_id, title, severity, exposure, sid, statement_ref, explanation, hipaa,
		first_scan, first_seen, last_scan, last_seen, suppressed, suppressed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	updF, err := w.prepare(`UPDATE findings SET title = ?, severity = ?, exposure = ?, explanation = ?, hipaa = ?, last_scan = ?, last_seen = ?,
		not_rechecked = 0, suppressed = ?, suppressed_by = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	reopenF, err := w.prepare(`UPDATE findings SET resolved_scan = NULL, resolved_at = NULL, reopened = reopened + 1, reopened_at = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	insI, err := w.prepare(`INSERT INTO finding_intervals (finding_id, opened_scan, opened_at) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	insSF, err := w.prepare(`INSERT INTO scan_findings (scan_id, finding_id, severity, exposure, suppressed, suppressed_by) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range c.finds {
		seen[f.Key] = true
		var id int64
		var resolved sql.NullString
		err := findF.QueryRowContext(w.ctx, f.Key).Scan(&id, &resolved)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = insF.QueryRowContext(w.ctx, f.Key, w.resIDs[f.ARN], f.RuleID, f.Title, f.Severity, f.Exposure, f.Sid, f.StatementRef, f.Explanation, f.HIPAA,
				w.scan, w.at, w.scan, w.at, f.Suppressed, f.SuppressedBy).Scan(&id)
			if err == nil {
				_, err = insI.ExecContext(w.ctx, id, w.scan, w.at)
			}
		case err == nil:
			_, err = updF.ExecContext(w.ctx, f.Title, f.Severity, f.Exposure, f.Explanation, f.HIPAA, w.scan, w.at, f.Suppressed, f.SuppressedBy, id)
			if err == nil && resolved.Valid {
				if _, err = reopenF.ExecContext(w.ctx, w.at, id); err == nil {
					_, err = insI.ExecContext(w.ctx, id, w.scan, w.at)
				}
			}
		}
		if err != nil {
			return err
		}
		if _, err := insSF.ExecContext(w.ctx, w.scan, id, f.Severity, f.Exposure, f.Suppressed, f.SuppressedBy); err != nil {
			return err
		}
	}

	var accounts, regions []string
	_ = json.Unmarshal([]byte(sc.Accounts), &accounts)
	_ = json.Unmarshal([]byte(sc.Regions), &regions)
	status := make(map[string]string, len(c.res))
	for _, r := range c.res {
		status[r.ARN] = r.Status
	}
	resolve, err := w.prepare(`UPDATE findings SET resolved_scan = ?, resolved_at = ?, not_rechecked = 0 WHERE id = ?`)
	if err != nil {
		return err
	}
	closeI, err := w.prepare(`UPDATE finding_intervals SET resolved_scan = ?, resolved_at = ? WHERE finding_id = ? AND resolved_at IS NULL`)
	if err != nil {
		return err
	}
	unchecked, err := w.prepare(`UPDATE findings SET not_rechecked = 1 WHERE id = ?`)
	if err != nil {
		return err
	}
	for _, f := range open {
		if seen[f.key] || !slices.Contains(accounts, f.account) || !inRegions(regions, f.region) {
			continue // still there, or not this scan's business
		}
		st, present := status[f.arn]
		if sc.Covered == 1 && !slices.Contains(skipped, f.rule) && (!present || st == "evaluated") {
			if _, err := resolve.ExecContext(w.ctx, w.scan, w.at, f.id); err != nil {
				return err
			}
			if _, err := closeI.ExecContext(w.ctx, w.scan, w.at, f.id); err != nil {
				return err
			}
			continue
		}
		if _, err := unchecked.ExecContext(w.ctx, f.id); err != nil {
			return err
		}
	}
	return nil
}

// inRegions: layer and function ARNs carry their Region; a resource with
// none (or a wildcard placeholder) is judged by account alone.
func inRegions(regions []string, region string) bool {
	return region == "" || region == "*" || slices.Contains(regions, region)
}

func (w *writer) openFindings() ([]openFinding, error) {
	rows, err := w.tx.QueryContext(w.ctx, `SELECT f.id, f.key, f.rule_id, r.arn, r.account, r.region FROM findings f JOIN resources r ON r.id = f.resource_id WHERE f.resolved_at IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []openFinding
	for rows.Next() {
		var f openFinding
		if err := rows.Scan(&f.id, &f.key, &f.rule, &f.arn, &f.account, &f.region); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
