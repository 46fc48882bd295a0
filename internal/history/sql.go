package history

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

//go:embed migrations
var migrations embed.FS

// dialect is all that differs between the backends.
type dialect struct {
	name string // migrations directory
	// rebind turns ? placeholders into the backend's.
	rebind func(string) string
	// lock serializes writers inside a transaction: SQLite already holds
	// its write lock (BEGIN IMMEDIATE); PostgreSQL takes an advisory lock
	// held to the end of the transaction.
	lock string
}

var sqliteDialect = dialect{name: "sqlite", rebind: func(q string) string { return q }}

var postgresDialect = dialect{name: "postgres", rebind: dollarParams, lock: "SELECT pg_advisory_xact_lock(7343310012)"}

// dollarParams numbers ? placeholders as $1, $2, … (no query here has a
// literal question mark).
func dollarParams(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sqlStore is the Store on database/sql, for both backends.
type sqlStore struct {
	db  *sql.DB
	d   dialect
	now func() time.Time
}

// busyTimeout bounds how long a SQLite writer waits for another one
// (another process recording a scan) before giving up.
const busyTimeout = 60 * time.Second

func openSQLite(ctx context.Context, path string, opt Options) (Store, error) {
	path = strings.TrimPrefix(path, "sqlite:")
	if st, err := os.Stat(path); err != nil {
		if opt.MustExist || !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("history %s: %w (record one with: lambdawarden scan --history %s)", path, err, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
		// The history holds policy texts: readable by its owner only.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
		if f != nil {
			f.Close()
		}
	} else if st.IsDir() {
		return nil, fmt.Errorf("history %s: is a directory, want a database file", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s := &sqlStore{db: db, d: sqliteDialect, now: opt.Now}
	if err := s.migrate(ctx, len(migrationFiles(sqliteDialect))); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string, opt Options) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", redactDSN(dsn), err)
	}
	db.SetMaxOpenConns(8)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: cannot connect: %w", redactDSN(dsn), err)
	}
	s := &sqlStore{db: db, d: postgresDialect, now: opt.Now}
	if err := s.migrate(ctx, len(migrationFiles(postgresDialect))); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", redactDSN(dsn), err)
	}
	return s, nil
}

// redactDSN hides a password in messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

func (s *sqlStore) Close() error { return s.db.Close() }

// migrationFiles lists a dialect's migrations in version order.
func migrationFiles(d dialect) []string {
	entries, err := fs.ReadDir(migrations, "migrations/"+d.name)
	if err != nil {
		panic(err) // embedded: cannot happen in a built binary
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// migrate brings the schema to version target (the number of migration
// files applied), each migration in its own transaction under the write
// lock so two processes opening a new history at once do it once.
func (s *sqlStore) migrate(ctx context.Context, target int) error {
	files := migrationFiles(s.d)
	for v := 1; v <= target && v <= len(files); v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body, err := migrations.ReadFile("migrations/" + s.d.name + "/" + files[v-1])
			if err != nil {
				return err
			}
			for _, stmt := range splitSQL(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %s: %w", files[v-1], err)
				}
			}
			_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, formatTime(s.now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	var newest int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > len(files) {
		return fmt.Errorf("the history's schema is version %d, newer than this lambdawarden knows (%d): upgrade lambdawarden", newest, len(files))
	}
	return nil
}

// SchemaVersion returns the store's schema version (for tests and
// diagnostics).
func (s *sqlStore) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// splitSQL splits a migration into statements at semicolons ending a
// line, dropping comment lines (migrations hold no semicolons in text).
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// tx runs fn in a transaction holding the writers' lock; it commits when
// fn returns nil and rolls back otherwise.
func (s *sqlStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// timeLayout is fixed width, so times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

func parseTimePtr(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

func sortedCopy(v []string) []string {
	out := append([]string{}, v...)
	sort.Strings(out)
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
