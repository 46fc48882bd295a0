package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Incremental is what an incremental rescan (scan --since) records beside
// its resources: the scan it started from, and for every resource it did
// not read again, the scan whose verdict it carried forward.
type Incremental struct {
	BaseScan int64  `json:"base_scan"`
	Since    string `json:"since"`
	// Info is the report's scan.incremental block, kept as written.
	Info json.RawMessage `json:"info,omitempty"`
	// Carried maps a carried-forward resource's ARN to the scan it was
	// last read in.
	Carried map[string]int64 `json:"carried,omitempty"`
}

// incremental records an incremental scan's base and carried resources;
// nothing for a full scan.
func (w *writer) incremental(inc *Incremental) error {
	if inc == nil {
		return nil
	}
	info := string(inc.Info)
	if info == "" {
		info = "{}"
	}
	if _, err := w.tx.ExecContext(w.ctx, w.s.d.rebind(`INSERT INTO scan_incremental (scan_id, base_scan, since, info) VALUES (?, ?, ?, ?)`),
		w.scan, inc.BaseScan, inc.Since, info); err != nil {
		return err
	}
	ins, err := w.prepare(`INSERT INTO scan_carried (scan_id, resource_id, from_scan) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for arn, from := range inc.Carried {
		id, ok := w.resIDs[arn]
		if !ok {
			return fmt.Errorf("carried-forward resource %s is not in the scan", arn)
		}
		if _, err := ins.ExecContext(w.ctx, w.scan, id, from); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) Incremental(ctx context.Context, scanID int64) (*Incremental, error) {
	inc := &Incremental{}
	var info string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT base_scan, since, info FROM scan_incremental WHERE scan_id = ?`), scanID).Scan(&inc.BaseScan, &inc.Since, &info)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	inc.Info = json.RawMessage(info)
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT r.arn, c.from_scan FROM scan_carried c JOIN resources r ON r.id = c.resource_id WHERE c.scan_id = ?`), scanID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inc.Carried = map[string]int64{}
	for rows.Next() {
		var arn string
		var from int64
		if err := rows.Scan(&arn, &from); err != nil {
			return nil, err
		}
		inc.Carried[arn] = from
	}
	return inc, rows.Err()
}
