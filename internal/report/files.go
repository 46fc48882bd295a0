package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ASFFBatchSize is the most findings one BatchImportFindings call takes.
const ASFFBatchSize = 100

// Part is one file of a report that needs several.
type Part struct {
	// Path is the file's name: the report's path with what tells the
	// parts apart inserted before its extension.
	Path string
	// Account and Region are what every finding in the part shares (asff).
	Account, Region string
	// Batch numbers the parts of one account and Region from 1.
	Batch int
	// Findings is how many findings the part holds.
	Findings int
	write    func(io.Writer) error
}

// Write renders the part.
func (p Part) Write(w io.Writer) error { return p.write(w) }

// Splitter is a writer whose report may need several files. Parts
// returns them for a report meant for path, or nil when one file holds
// it all.
type Splitter interface {
	Parts(path string, d *Document, opt Options) ([]Part, error)
}

// Parts splits the asff report when one BatchImportFindings call cannot
// take it: more than ASFFBatchSize findings, or findings of more than one
// account or Region. Each part holds at most ASFFBatchSize findings of one
// account and one Region, and is named
//
//	STEM.ACCOUNT.REGION.NNN.EXT   (report.111122223333.us-east-1.001.json)
//
// for a path STEM.EXT (.json when path has no extension).
func (asffWriter) Parts(path string, d *Document, opt Options) ([]Part, error) {
	x := d.index()
	placed := x.placed()
	type group struct {
		account, region string
		items           []int32
		findings        int
	}
	var groups []*group
	counts := asffCounter{}
	total := 0
	for k, i := range placed {
		it := &x.items[i]
		if len(groups) == 0 || groups[len(groups)-1].account != it.Account || groups[len(groups)-1].region != it.Region {
			// placed is in account, Region, ARN order: a group is a run.
			groups = append(groups, &group{account: it.Account, region: it.Region, items: placed[k:k]})
		}
		g := groups[len(groups)-1]
		g.items = g.items[:len(g.items)+1]
		c := counts.of(it)
		g.findings += c
		total += c
	}
	if len(groups) <= 1 && total <= ASFFBatchSize {
		return nil, nil
	}
	var parts []Part
	for _, g := range groups {
		for b, from := 1, 0; from < g.findings; b, from = b+1, from+ASFFBatchSize {
			rg := asffRange{items: g.items, from: from, to: min(from+ASFFBatchSize, g.findings)}
			parts = append(parts, Part{
				Path:    partPath(path, g.account, g.region, b),
				Account: g.account, Region: g.region, Batch: b, Findings: rg.to - rg.from,
				write: func(w io.Writer) error { return writeASFF(w, d, x, opt, rg) },
			})
		}
	}
	return parts, nil
}

// partPath names a part: STEM.ACCOUNT.REGION.NNN.EXT. Account and Region
// come from the estate; anything in them that is not a letter, digit or
// '-' becomes '_', so a part stays in path's folder.
func partPath(path, account, region string, batch int) string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if ext == "" {
		ext = ".json"
	}
	return dir + fmt.Sprintf("%s.%s.%s.%03d%s", stem, safeNamePart(account), safeNamePart(region), batch, ext)
}

func safeNamePart(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// partPattern matches the names partPath gives path's parts for real
// AWS accounts (12 digits) and Regions (us-east-1, us-gov-west-1,
// cn-north-1, ...), narrow on purpose: removeParts deletes what it
// matches.
func partPattern(path string) *regexp.Regexp {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if ext == "" {
		ext = ".json"
	}
	return regexp.MustCompile(`^` + regexp.QuoteMeta(stem) + `\.[0-9]{12}\.[a-z]{2}(-[a-z]+)+-[0-9]+\.[0-9]{3,}` + regexp.QuoteMeta(ext) + `$`)
}

// WriteFiles writes w's report meant for path through writeFile (the
// caller's file writer, which writes one file whole or not at all) and
// returns the files written. A Splitter whose report does not fit one file
// writes its parts instead of path, when path is a regular file or does
// not exist yet (a FIFO, a device, /dev/stdout or a symlink gets the whole
// report, as one file). So that a glob over the parts imports this run's
// findings and nothing else:
//   - parts an earlier run left next to path that this run did not write
//     are removed, and so is path itself when the report is split (an
//     earlier report there is stale);
//   - when a part cannot be written, every part is removed and the error
//     says that no part is left.
//
// Only regular files whose names have the parts' pattern are removed.
func WriteFiles(w Writer, path string, d *Document, opt Options, writeFile func(string, func(io.Writer) error) error) ([]string, error) {
	sp, ok := w.(Splitter)
	if !ok || !splittable(path) {
		if err := writeFile(path, func(out io.Writer) error { return w.Write(out, d, opt) }); err != nil {
			return nil, err
		}
		return []string{path}, nil
	}
	parts, err := sp.Parts(path, d, opt)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		if err := writeFile(path, func(out io.Writer) error { return w.Write(out, d, opt) }); err != nil {
			return nil, err
		}
		return []string{path}, removeParts(path, []string{path})
	}
	var written []string
	for _, p := range parts {
		if err := writeFile(p.Path, p.Write); err != nil {
			rmErr := removeParts(path, nil)
			return nil, errors.Join(fmt.Errorf("%s report part %s (%d of %d): %w; no part of it is left", w.Name(), p.Path, len(written)+1, len(parts), err), rmErr)
		}
		written = append(written, p.Path)
	}
	if err := removeParts(path, written); err != nil {
		return written, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		if err := os.Remove(path); err != nil {
			return written, fmt.Errorf("remove the stale single-file report %s: %w", path, err)
		}
	}
	return written, nil
}

// splittable reports whether a report for path may become parts beside
// it: path is a regular file (not a symlink) or does not exist.
func splittable(path string) bool {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && fi.Mode().IsRegular()
}

// removeParts removes the regular files next to path named like its
// parts, except keep.
func removeParts(path string, keep []string) error {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s for stale report parts: %w", dir, err)
	}
	re := partPattern(path)
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !re.MatchString(e.Name()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if slices.ContainsFunc(keep, func(k string) bool { return filepath.Clean(k) == name }) {
			continue
		}
		if err := os.Remove(name); err != nil {
			errs = append(errs, fmt.Errorf("remove stale report part: %w", err))
		}
	}
	return errors.Join(errs...)
}
