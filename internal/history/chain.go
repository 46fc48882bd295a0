package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// The hash chain: every scan row holds the SHA-256 of its own content
// (the scan's fields and every resource and finding row it recorded, in
// a canonical order) and the chain hash of the scan before it; its own
// chain hash covers both. Editing a scan changes its content hash;
// deleting or inserting one breaks the next scan's link. What no chain
// inside the database can show is the newest scans removed together
// with nothing after them: Verify prints the head so it can be kept
// elsewhere and compared.

// canonVersion is the version of the canonical form; bump it (keeping
// the old form for old rows) if the form ever changes.
const canonVersion = 1

// scanRow is a scan's columns as stored (JSON columns as their text), so
// the content hash is computed from exactly what is in the table.
type scanRow struct {
	ID             int64  `json:"id"`
	RecordedAt     string `json:"recorded_at"`
	StartedAt      string `json:"started_at"`
	FinishedAt     string `json:"finished_at"`
	Caller         string `json:"caller"`
	Accounts       string `json:"accounts"`
	Regions        string `json:"regions"`
	Scope          string `json:"scope"`
	Complete       int    `json:"complete"`
	Covered        int    `json:"covered"`
	Errors         string `json:"errors"`
	ToolVersion    string `json:"tool_version"`
	CatalogVersion string `json:"catalog_version"`
	APICalls       int64  `json:"api_calls"`
	Summary        string `json:"summary"`
	SkippedRules   string `json:"skipped_rules"`
	// Not part of the content.
	ContentHash string `json:"-"`
	PrevHash    string `json:"-"`
	ChainHash   string `json:"-"`
}

const scanColumns = `id, recorded_at, started_at, finished_at, caller, accounts, regions, scope, complete, covered, errors, tool_version, catalog_version, api_calls, summary, skipped_rules, content_hash, prev_hash, chain_hash`

func (r *scanRow) dest() []any {
	return []any{&r.ID, &r.RecordedAt, &r.StartedAt, &r.FinishedAt, &r.Caller, &r.Accounts, &r.Regions, &r.Scope, &r.Complete, &r.Covered,
		&r.Errors, &r.ToolVersion, &r.CatalogVersion, &r.APICalls, &r.Summary, &r.SkippedRules, &r.ContentHash, &r.PrevHash, &r.ChainHash}
}

func (r *scanRow) values() []any {
	return []any{r.ID, r.RecordedAt, r.StartedAt, r.FinishedAt, r.Caller, r.Accounts, r.Regions, r.Scope, r.Complete, r.Covered,
		r.Errors, r.ToolVersion, r.CatalogVersion, r.APICalls, r.Summary, r.SkippedRules, r.ContentHash, r.PrevHash, r.ChainHash}
}

// scan turns the stored row into the public value.
func (r *scanRow) scan() Scan {
	s := Scan{ID: r.ID, At: parseTime(r.RecordedAt), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Caller: r.Caller,
		Complete: r.Complete != 0, Covered: r.Covered != 0, ToolVersion: r.ToolVersion, CatalogVersion: r.CatalogVersion,
		APICalls: r.APICalls, Hash: r.ChainHash, PrevHash: r.PrevHash}
	_ = json.Unmarshal([]byte(r.Accounts), &s.Accounts)
	_ = json.Unmarshal([]byte(r.Regions), &s.Regions)
	_ = json.Unmarshal([]byte(r.Errors), &s.Errors)
	_ = json.Unmarshal([]byte(r.Summary), &s.Summary)
	_ = json.Unmarshal([]byte(r.SkippedRules), &s.SkippedRules)
	return s
}

// resRow is one resource as one scan saw it.
type resRow struct {
	ARN           string `json:"arn"`
	Kind          string `json:"kind"`
	Account       string `json:"account"`
	Region        string `json:"region"`
	Status        string `json:"status"`
	UnknownReason string `json:"unknown_reason"`
	Exposure      string `json:"exposure"`
	URLAuth       string `json:"url_auth"`
	URL           string `json:"url"`
	PolicySHA     string `json:"policy_sha256"`
	FunctionSHA   string `json:"function_policy_sha256"`
	RevisionID    string `json:"revision_id"`
}

// scanFindingRow is one finding as one scan recorded it.
type scanFindingRow struct {
	Key          string `json:"key"`
	Severity     string `json:"severity"`
	Exposure     string `json:"exposure"`
	Suppressed   int    `json:"suppressed"`
	SuppressedBy string `json:"suppressed_by"`
}

// incRow is an incremental scan's own record (nil for a full scan): the
// scan it started from and, per carried-forward resource, the scan whose
// verdict it carries. The chain covers it, so an edited base or origin
// is found like an edited verdict.
type incRow struct {
	BaseScan int64        `json:"base_scan"`
	Since    string       `json:"since"`
	Info     string       `json:"info"`
	Carried  []carriedRow `json:"-"`
}

type carriedRow struct {
	ARN  string `json:"carried_arn"`
	From int64  `json:"from_scan"`
}

// incRowOf is the record as it is stored.
func incRowOf(inc *Incremental) *incRow {
	if inc == nil {
		return nil
	}
	r := &incRow{BaseScan: inc.BaseScan, Since: inc.Since, Info: string(inc.Info)}
	if r.Info == "" {
		r.Info = "{}"
	}
	for arn, from := range inc.Carried {
		r.Carried = append(r.Carried, carriedRow{arn, from})
	}
	return r
}

// contentHash is the SHA-256 of the canonical form: one JSON line for
// the scan, then one per resource in ARN order, then one per finding in
// key order, then, for an incremental scan, one for its base and one per
// carried resource in ARN order (a full scan's form has none of these).
func contentHash(sc *scanRow, res []resRow, finds []scanFindingRow, inc *incRow) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		V int `json:"v"`
		*scanRow
	}{canonVersion, sc})
	res = append([]resRow(nil), res...)
	sort.Slice(res, func(i, j int) bool { return res[i].ARN < res[j].ARN })
	for i := range res {
		_ = enc.Encode(&res[i])
	}
	finds = append([]scanFindingRow(nil), finds...)
	sort.Slice(finds, func(i, j int) bool { return finds[i].Key < finds[j].Key })
	for i := range finds {
		_ = enc.Encode(&finds[i])
	}
	if inc != nil {
		_ = enc.Encode(inc)
		carried := append([]carriedRow(nil), inc.Carried...)
		sort.Slice(carried, func(i, j int) bool { return carried[i].ARN < carried[j].ARN })
		for i := range carried {
			_ = enc.Encode(&carried[i])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func chainHash(prev, content string) string {
	sum := sha256.Sum256([]byte("lambdawarden-history-chain-v1\n" + prev + "\n" + content))
	return hex.EncodeToString(sum[:])
}

// Meta keys of the chain's start once old scans are pruned.
const (
	metaAnchorHash = "chain_anchor_hash"
	metaAnchorScan = "chain_anchor_scan"
)

// anchor is where the chain starts: "" and 0 for a history never pruned.
func anchor(ctx context.Context, q queryer, d dialect) (string, int64, error) {
	var hash, scan sql.NullString
	if err := q.QueryRowContext(ctx, d.rebind(`SELECT value FROM meta WHERE key = ?`), metaAnchorHash).Scan(&hash); err != nil && err != sql.ErrNoRows {
		return "", 0, err
	}
	if err := q.QueryRowContext(ctx, d.rebind(`SELECT value FROM meta WHERE key = ?`), metaAnchorScan).Scan(&scan); err != nil && err != sql.ErrNoRows {
		return "", 0, err
	}
	var id int64
	if scan.Valid {
		fmt.Sscan(scan.String, &id)
	}
	return hash.String, id, nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Verify recomputes every scan's content hash from its rows and follows
// the chain from the anchor. Each problem names the scan.
func (s *sqlStore) Verify(ctx context.Context) (VerifyResult, error) {
	var out VerifyResult
	prev, prevID, err := anchor(ctx, s.db, s.d)
	if err != nil {
		return out, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+scanColumns+` FROM scans ORDER BY id`)
	if err != nil {
		return out, err
	}
	var scans []scanRow
	for rows.Next() {
		var r scanRow
		if err := rows.Scan(r.dest()...); err != nil {
			rows.Close()
			return out, err
		}
		scans = append(scans, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	for i := range scans {
		sc := &scans[i]
		res, err := s.resourceRows(ctx, sc.ID)
		if err != nil {
			return out, err
		}
		finds, err := s.scanFindingRows(ctx, sc.ID)
		if err != nil {
			return out, err
		}
		inc, err := s.Incremental(ctx, sc.ID)
		if err != nil {
			return out, err
		}
		if got := contentHash(sc, res, finds, incRowOf(inc)); got != sc.ContentHash {
			out.Problems = append(out.Problems, fmt.Sprintf("scan %d: its content (the scan row, its resources, its findings or what it carried forward) changed after it was recorded", sc.ID))
		}
		if sc.PrevHash != prev {
			what := fmt.Sprintf("scan %d", prevID)
			if prevID == 0 {
				what = "the start of the history"
			}
			out.Problems = append(out.Problems, fmt.Sprintf("scan %d: does not follow %s: a scan was deleted or inserted before it, or its link was edited", sc.ID, what))
		}
		if chainHash(sc.PrevHash, sc.ContentHash) != sc.ChainHash {
			out.Problems = append(out.Problems, fmt.Sprintf("scan %d: its chain hash was edited", sc.ID))
		}
		prev, prevID = sc.ChainHash, sc.ID
		out.Scans++
	}
	out.Head, out.HeadScan = prev, prevID
	bad, err := s.editedPolicies(ctx)
	if err != nil {
		return out, err
	}
	out.Problems = append(out.Problems, bad...)
	return out, nil
}

// editedPolicies finds stored policy texts that no longer match the
// SHA-256 they are filed under (scans refer to policies by hash).
func (s *sqlStore) editedPolicies(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256, text FROM policies ORDER BY sha256`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sha, text string
		if err := rows.Scan(&sha, &text); err != nil {
			return nil, err
		}
		if policySHA(text) != sha {
			out = append(out, fmt.Sprintf("policy %s: its text was edited after it was recorded", sha))
		}
	}
	return out, rows.Err()
}

func policySHA(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Prune deletes scans recorded before the cutoff, the rows only they
// used, and findings resolved before it. The chain's anchor moves to the
// newest pruned scan so Verify still checks what is left.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (PruneResult, error) {
	var out PruneResult
	cut := formatTime(before)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q := func(query string, args ...any) (int64, error) {
			r, err := tx.ExecContext(ctx, s.d.rebind(query), args...)
			if err != nil {
				return 0, err
			}
			return r.RowsAffected()
		}
		var last sql.NullInt64
		var lastHash sql.NullString
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT id, chain_hash FROM scans WHERE recorded_at < ? ORDER BY id DESC LIMIT 1`), cut).Scan(&last, &lastHash)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		for _, kv := range [][2]string{{metaAnchorHash, lastHash.String}, {metaAnchorScan, fmt.Sprint(last.Int64)}} {
			if _, err := q(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kv[0], kv[1]); err != nil {
				return err
			}
		}
		// Only scans before the newest pruned one go, so the chain stays
		// one unbroken run from the anchor.
		for _, table := range []string{"scan_carried", "scan_incremental"} {
			if _, err := q(`DELETE FROM `+table+` WHERE scan_id <= ?`, last.Int64); err != nil {
				return err
			}
		}
		if _, err := q(`DELETE FROM scan_findings WHERE scan_id <= ?`, last.Int64); err != nil {
			return err
		}
		if _, err := q(`DELETE FROM scan_resources WHERE scan_id <= ?`, last.Int64); err != nil {
			return err
		}
		n, err := q(`DELETE FROM scans WHERE id <= ?`, last.Int64)
		if err != nil {
			return err
		}
		out.Scans = int(n)
		if _, err := q(`DELETE FROM finding_intervals WHERE finding_id IN (SELECT id FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?)`, cut); err != nil {
			return err
		}
		n, err = q(`DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ? AND id NOT IN (SELECT finding_id FROM scan_findings)`, cut)
		if err != nil {
			return err
		}
		out.Findings = int(n)
		n, err = q(`DELETE FROM policies WHERE id NOT IN (SELECT policy_id FROM scan_resources WHERE policy_id IS NOT NULL)
			AND id NOT IN (SELECT function_policy_id FROM scan_resources WHERE function_policy_id IS NOT NULL)`)
		if err != nil {
			return err
		}
		out.Policies = int(n)
		_, err = q(`DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM scan_resources) AND id NOT IN (SELECT resource_id FROM findings)`)
		return err
	})
	return out, err
}
