package watch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// Emit receives each piece of parsed input.
type Emit func(trail.Result)

// Files reads CloudTrail input from a file or a folder (recursively: the
// S3 delivery layout AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ works
// as synced by `aws s3 sync`). Once, or with Follow until ctx ends: new
// files in a folder are read as they appear; a plain file is followed as
// it grows (one record per line).
type Files struct {
	Path   string
	Follow bool
	// Poll is how often a followed folder or file is looked at again
	// (default 5s).
	Poll time.Duration
	Logf func(format string, args ...any)
	// Now is the clock (tests).
	Now func() time.Time
	// Dir is the folder as a file system (tests, for failures root
	// never meets); default os.DirFS(Path). Files are read by path.
	Dir fs.FS

	seen    map[string]bool
	retries map[string]int
}

// trailFile reports whether a folder entry is CloudTrail input.
func trailFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false // hidden, or a file still being written
	}
	for _, ext := range []string{".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".gz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Run reads until the input is done (or, with Follow, ctx ends).
func (f *Files) Run(ctx context.Context, emit Emit) error {
	if f.Poll <= 0 {
		f.Poll = 5 * time.Second
	}
	if f.Logf == nil {
		f.Logf = func(string, ...any) {}
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	st, err := os.Stat(f.Path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		if f.Follow && !isGzipFile(f.Path) {
			return f.tail(ctx, emit)
		}
		data, err := readBounded(f.Path)
		if err != nil {
			return err
		}
		emit(trail.Parse(f.Path, data))
		return nil
	}
	f.seen, f.retries = map[string]bool{}, map[string]int{}
	for {
		if err := f.scan(ctx, emit); err != nil {
			return err
		}
		if !f.Follow {
			return nil
		}
		if err := sleepCtx(ctx, f.Poll); err != nil {
			return nil
		}
	}
}

// scan reads the folder's files not read yet and emits them as one batch,
// events in time order: CloudTrail names the files of one period with a
// random suffix, so path order is not time order, and one batch lets the
// watch read each changed resource once and credit the change to the
// event that made it.
func (f *Files) scan(ctx context.Context, emit Emit) error {
	var paths []string
	var batch trail.Result
	dir := f.Dir
	if dir == nil {
		dir = os.DirFS(f.Path)
	}
	err := fs.WalkDir(dir, ".", func(rel string, d fs.DirEntry, err error) error {
		p := filepath.Join(f.Path, filepath.FromSlash(rel))
		if err != nil {
			if rel == "." {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			// A folder that cannot be listed is input not read: a
			// problem (exit 3), not only a line on stderr; once, not
			// at every poll.
			if !f.seen[p] {
				f.seen[p] = true
				batch.Problems = append(batch.Problems, trail.Problem{Where: p, Err: "cannot read: " + err.Error()})
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && trailFile(d.Name()) && !f.seen[p] {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	defer func() {
		if len(batch.Events)+len(batch.Failed)+len(batch.Problems)+batch.Ignored > 0 {
			sort.SliceStable(batch.Events, func(i, j int) bool { return batch.Events[i].Time.Before(batch.Events[j].Time) })
			emit(batch)
		}
	}()
	for _, p := range paths {
		if ctx.Err() != nil {
			return nil
		}
		data, err := readBounded(p)
		if err != nil {
			f.seen[p] = true
			batch.Problems = append(batch.Problems, trail.Problem{Where: p, Err: err.Error()})
			continue
		}
		res := trail.Parse(p, data)
		// A file another program is still writing (aws s3 sync) reads as
		// cut short: while it is fresh, try it again at the next poll.
		if f.Follow && truncated(res) && f.retries[p] < 3 {
			if fi, err := os.Stat(p); err == nil && f.Now().Sub(fi.ModTime()) < time.Minute {
				f.retries[p]++
				continue
			}
		}
		f.seen[p] = true
		batch.Events = append(batch.Events, res.Events...)
		batch.Failed = append(batch.Failed, res.Failed...)
		batch.Ignored += res.Ignored
		batch.Problems = append(batch.Problems, res.Problems...)
	}
	return nil
}

func truncated(res trail.Result) bool {
	for _, p := range res.Problems {
		if strings.Contains(p.Err, "unexpected EOF") || strings.Contains(p.Err, "unexpected end of JSON") {
			return true
		}
	}
	return false
}

// tail follows a growing file of one record per line.
func (f *Files) tail(ctx context.Context, emit Emit) error {
	var off int64
	var partial []byte
	line := 0
	for {
		fh, err := os.Open(f.Path)
		if err != nil {
			return err
		}
		if st, err := fh.Stat(); err == nil && st.Size() < off {
			off, partial = 0, nil // truncated or replaced: start over
		}
		if _, err := fh.Seek(off, io.SeekStart); err != nil {
			fh.Close()
			return err
		}
		chunk, err := io.ReadAll(io.LimitReader(fh, trail.MaxInput))
		fh.Close()
		if err != nil {
			return err
		}
		off += int64(len(chunk))
		buf := append(partial, chunk...)
		end := bytes.LastIndexByte(buf, '\n')
		if end >= 0 {
			for _, l := range bytes.Split(buf[:end], []byte{'\n'}) {
				line++
				if len(bytes.TrimSpace(l)) > 0 {
					emit(trail.ParseFrom(f.Path, line, l))
				}
			}
			partial = append([]byte(nil), buf[end+1:]...)
		} else {
			partial = buf
		}
		if len(partial) > trail.MaxInput {
			emit(trail.Result{Problems: []trail.Problem{{Where: fmt.Sprintf("%s line %d", f.Path, line+1), Err: "a line longer than the input limit; skipped"}}})
			partial = nil
		}
		if err := sleepCtx(ctx, f.Poll); err != nil {
			return nil
		}
	}
}

// Stream reads standard input: all of it (any format trail.Parse
// reads), or with Follow one record per line as lines arrive.
type Stream struct {
	R      io.Reader
	Name   string
	Follow bool
}

// Run reads until the input ends.
func (s *Stream) Run(ctx context.Context, emit Emit) error {
	if !s.Follow {
		data, err := io.ReadAll(io.LimitReader(s.R, trail.MaxInput+1))
		if err != nil {
			return err
		}
		if len(data) > trail.MaxInput {
			return fmt.Errorf("%s is larger than %d MiB", s.Name, trail.MaxInput>>20)
		}
		emit(trail.Parse(s.Name, data))
		return nil
	}
	br := bufio.NewReaderSize(s.R, 1<<20)
	for n := 1; ctx.Err() == nil; n++ {
		l, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(l)) > 0 {
			emit(trail.ParseFrom(s.Name, n, l))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, trail.MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > trail.MaxInput {
		return nil, fmt.Errorf("larger than %d MiB; not read", trail.MaxInput>>20)
	}
	return data, nil
}

func isGzipFile(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var magic [2]byte
	n, _ := io.ReadFull(fh, magic[:])
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
