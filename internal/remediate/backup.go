package remediate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// The backup format. A fix writes one file per resource and attempt,
// named NNN-<resource>.json in the run's backup directory, before its
// first write call; the sequence number orders them, and restore walks a
// directory newest first. A file is self-contained: the full policy as
// read, with its RevisionId, the function URL auth type, and each change
// with the statement's exact text and, when it can be recovered, the
// add-permission parameters that write it back.
//
// Version 2 added Via "AddPermission" (a narrowing made with
// remove-permission + add-permission); version 1 files read the same.
const (
	BackupFormat  = "lambdawarden-backup"
	BackupVersion = 2
)

// Backup is the state of one resource just before a fix changed it, and
// what the fix was about to do.
type Backup struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	CreatedAt string `json:"created_at"`
	Tool      string `json:"tool,omitempty"`
	Resource  Ref    `json:"resource"`
	// Attempt counts re-plans after a concurrent change (1 = first).
	Attempt int `json:"attempt"`
	// Policy is the whole policy as read; nil when the resource had none.
	Policy *BackupPolicy `json:"policy"`
	// FunctionURL is the URL configuration as read, when there is one.
	FunctionURL *BackupURL       `json:"function_url,omitempty"`
	Changes     []BackupChange   `json:"changes"`
	URLChange   *BackupURLChange `json:"url_change,omitempty"`
	// Calls are the write calls the fix was about to make, in order.
	Calls []string `json:"calls"`
}

// BackupPolicy is a policy document exactly as read.
type BackupPolicy struct {
	Document   string `json:"document"`
	RevisionID string `json:"revision_id"`
}

// BackupURL is a function URL's configuration as read.
type BackupURL struct {
	URL      string `json:"url,omitempty"`
	AuthType string `json:"auth_type"`
}

// BackupURLChange is a planned auth type switch.
type BackupURLChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// BackupChange is one statement the fix removes or narrows. Statement and
// Replacement are JSON text kept as strings so their bytes survive
// exactly.
type BackupChange struct {
	Change      ChangeKind `json:"change"`
	Sid         string     `json:"sid"`
	Index       int        `json:"index"`
	Statement   string     `json:"statement"`
	Replacement string     `json:"replacement,omitempty"`
	// Via is the call that makes the change: RemovePermission (or the
	// layer call), PutResourcePolicy or DeleteResourcePolicy for the whole
	// policy, or AddPermission for a narrowing made by removing the
	// statement and adding its narrowed form under the same Sid.
	Via Op `json:"via"`
	// Permission holds the add-permission parameters that write the
	// statement back; Exact is true when they reproduce its very text.
	Permission *Permission `json:"permission,omitempty"`
	Exact      bool        `json:"exact,omitempty"`
}

// newBackup records the state an action was planned from.
func newBackup(a *Action, attempt int, now time.Time, tool string) *Backup {
	b := &Backup{Format: BackupFormat, Version: BackupVersion, CreatedAt: now.UTC().Format(time.RFC3339Nano), Tool: tool, Resource: a.Target, Attempt: attempt, Changes: []BackupChange{}, Calls: []string{}}
	if p := a.state.Policy; p != nil {
		b.Policy = &BackupPolicy{Document: p.Document, RevisionID: p.RevisionID}
	}
	if u := a.state.URL; u != nil {
		b.FunctionURL = &BackupURL{URL: u.URL, AuthType: u.AuthType}
	}
	whole := Op("")
	for _, s := range a.Steps {
		if s.Op == OpPutResourcePolicy || s.Op == OpDeleteResourcePolicy {
			whole = s.Op
		}
		b.Calls = append(b.Calls, s.CLI)
	}
	for _, ch := range a.Changes {
		via := whole
		switch {
		case via != "":
		case ch.Kind == Narrow:
			via = OpAddPermission
		case a.Target.Kind == inventory.KindLayerVersion:
			via = OpRemoveLayerVersionPermission
		default:
			via = OpRemovePermission
		}
		bc := BackupChange{Change: ch.Kind, Sid: ch.Sid, Index: ch.Index, Statement: string(ch.Statement), Replacement: string(ch.Replacement), Via: via}
		if p, exact, err := permissionOf(a.doc.Statements[ch.Index], ch.Statement, a.Target); err == nil {
			bc.Permission, bc.Exact = &p, exact
		}
		b.Changes = append(b.Changes, bc)
	}
	if a.URL != nil {
		b.URLChange = &BackupURLChange{From: a.URL.From, To: a.URL.To}
	}
	return b
}

// Store keeps backups. Save must not return until the backup is durable.
type Store interface {
	Save(b *Backup) (string, error)
}

// DirStore writes backups as files in one directory, created on the first
// save (a dry run leaves nothing behind).
type DirStore struct {
	Dir string

	mu  sync.Mutex
	seq int
}

// Save writes the backup to a temporary file, fsyncs it, renames it into
// place and fsyncs the directory, so that once Save returns the backup
// survives a crash of this process or of the machine.
func (s *DirStore) Save(b *Backup) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := mkdirDurable(s.Dir); err != nil {
		return "", fmt.Errorf("backup directory %s: %w", s.Dir, err)
	}
	var path string
	for {
		// Never overwrite a backup, even one of another run that chose
		// the same directory.
		s.seq++
		name := fmt.Sprintf("%03d-%s.json", s.seq, fileSafe(b.Resource))
		if b.Attempt > 1 {
			name = fmt.Sprintf("%03d-%s-attempt%d.json", s.seq, fileSafe(b.Resource), b.Attempt)
		}
		path = filepath.Join(s.Dir, name)
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			break
		}
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return "", err
	}
	data = append(data, '\n')
	if err := writeDurable(path, data); err != nil {
		return "", fmt.Errorf("write backup %s: %w", path, err)
	}
	return path, nil
}

func fileSafe(r Ref) string {
	s := r.Account + "-" + r.Region + "-" + r.Name
	if r.Qualifier != "" {
		s += "-" + r.Qualifier
	}
	if r.Kind == inventory.KindLayerVersion {
		s = r.Account + "-" + r.Region + "-layer-" + r.Name + "-" + r.Qualifier
	}
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, s)
}

func mkdirDurable(dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

func writeDurable(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadBackups reads a backup file, or every backup file of a directory,
// newest first (the order to restore them in).
func LoadBackups(path string) ([]*Backup, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, nil, err
		}
		files = nil
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(files)))
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%s holds no backup files", path)
		}
	}
	var out []*Backup
	for _, f := range files {
		b, err := readBackup(f)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, b)
	}
	return out, files, nil
}

func readBackup(path string) (*Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseBackup(path, data)
}

// parseBackup reads a backup file's content; path only names it in
// errors.
func parseBackup(path string, data []byte) (*Backup, error) {
	var b Backup
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s is not a lambdawarden backup: %v", path, err)
	}
	if b.Format != BackupFormat {
		return nil, fmt.Errorf("%s is not a lambdawarden backup (format %q)", path, b.Format)
	}
	if b.Version < 1 || b.Version > BackupVersion {
		return nil, fmt.Errorf("%s: backup version %d is not supported (this build reads version %d)", path, b.Version, BackupVersion)
	}
	if _, err := ParseRef(b.Resource.ARN); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, c := range b.Changes {
		if b.Policy == nil {
			return nil, fmt.Errorf("%s: a statement change without the policy it was made to", path)
		}
		if !json.Valid([]byte(c.Statement)) {
			return nil, fmt.Errorf("%s: statement %q is not valid JSON", path, c.Sid)
		}
	}
	return &b, nil
}
