package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/spf13/cobra"
)

// outputFlags are the flags every reporting command shares.
type outputFlags struct {
	outputs []string
	failOn  string
}

func (o *outputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&o.outputs, "output", "o", nil,
		"output FORMAT[=FILE], repeatable; formats: "+strings.Join(report.Names(), ", ")+" (default: text on a terminal, json otherwise)")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical, high, medium, low, info, none")
}

type outputTarget struct {
	writer report.Writer
	file   string // "" = stdout
}

// parse checks the flags before any work is done, so a typo costs
// nothing.
func (o *outputFlags) parse(e *env) ([]outputTarget, finding.Severity, error) {
	failOn, err := finding.ParseSeverity(o.failOn)
	if err != nil {
		return nil, 0, usagef("--fail-on: %s", err)
	}
	specs := o.outputs
	if len(specs) == 0 {
		if e.isTerminal {
			specs = []string{"text"}
		} else {
			specs = []string{"json"}
		}
	}
	var out []outputTarget
	toStdout := 0
	for _, s := range specs {
		name, file, _ := strings.Cut(s, "=")
		w, err := report.Lookup(strings.ToLower(strings.TrimSpace(name)))
		if err != nil {
			return nil, 0, usagef("-o %s: %s", s, err)
		}
		if strings.Contains(s, "=") && file == "" {
			return nil, 0, usagef("-o %s: missing file name after '='", s)
		}
		if file == "" {
			toStdout++
		}
		out = append(out, outputTarget{writer: w, file: file})
	}
	if toStdout > 1 {
		return nil, 0, usagef("only one -o format can go to standard output; give the others a file (-o json=report.json)")
	}
	return out, failOn, nil
}

// write renders the document to every target, streaming: a writer's
// output goes through a buffer to standard output or to the file, never
// whole into memory. Files are written whole or not at all (temp file in
// the same directory, fsync, rename), so a failed run never leaves half
// a report behind.
func (e *env) write(targets []outputTarget, d *report.Document, base report.Options) error {
	for _, t := range targets {
		opt := base
		if t.file == "" {
			opt.Color = e.isTerminal && e.getenv("NO_COLOR") == "" && t.writer.Name() == "text"
			w := bufio.NewWriterSize(e.stdout, outputBuffer)
			err := t.writer.Write(w, d, opt)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", t.writer.Name(), err)
			}
			continue
		}
		// An asff report that one BatchImportFindings call cannot take
		// becomes one file per account, Region and 100 findings.
		files, err := report.WriteFiles(t.writer, t.file, d, opt, writeFileAtomic)
		if len(files) > 1 {
			fmt.Fprintf(e.stderr, "%s: %d files (%s, ...): Security Hub imports at most %d findings of one account and Region a call\n",
				t.writer.Name(), len(files), files[0], report.ASFFBatchSize)
		}
		var fe *fileError
		if errors.As(err, &fe) {
			return usagef("cannot write %s: %s", t.file, fe.err)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", t.writer.Name(), err)
		}
	}
	return nil
}

// outputBuffer is the write buffer of each output: large enough that a
// report of hundreds of megabytes goes out in few system calls.
const outputBuffer = 256 << 10

// fileError is a failure of the output file itself (create, write, sync,
// rename), as opposed to one of the writer.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// fileWriter remembers the first error of the file under the buffer, so
// a failed render can be told apart from a full disk.
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// writeFileAtomic streams render's output to a temporary file in path's
// directory through a buffer, syncs it and renames it over path. On any
// error the temporary file is removed and path is left as it was.
// Failures of the file come back as *fileError.
func writeFileAtomic(path string, render func(io.Writer) error) error {
	tmp, err := os.CreateTemp(dirOf(path), ".lambdawarden-*")
	if err != nil {
		return &fileError{err}
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	fw := &fileWriter{f: tmp}
	w := bufio.NewWriterSize(fw, outputBuffer)
	err = render(w)
	if err == nil {
		err = w.Flush()
	}
	if fw.err != nil {
		tmp.Close()
		return &fileError{fw.err}
	}
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &fileError{err}
	}
	if err := tmp.Close(); err != nil {
		return &fileError{err}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return &fileError{err}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &fileError{err}
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		if i == 0 {
			return "/"
		}
		return path[:i]
	}
	return "."
}

// verdict turns a finished document into the exit code.
func verdict(d *report.Document, failOn finding.Severity) error {
	if code := d.ExitCode(failOn); code != exitOK {
		return exitCode(code)
	}
	return nil
}
