package cli

import (
	"bytes"
	"fmt"
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

// write renders the document to every target. Files are written whole
// or not at all (temp file + rename), so a failed run never leaves half a
// report behind.
func (e *env) write(targets []outputTarget, d *report.Document, base report.Options) error {
	for _, t := range targets {
		opt := base
		if t.file == "" {
			opt.Color = e.isTerminal && e.getenv("NO_COLOR") == "" && t.writer.Name() == "text"
			if err := t.writer.Write(e.stdout, d, opt); err != nil {
				return fmt.Errorf("write %s: %w", t.writer.Name(), err)
			}
			continue
		}
		var buf bytes.Buffer
		if err := t.writer.Write(&buf, d, opt); err != nil {
			return fmt.Errorf("write %s: %w", t.writer.Name(), err)
		}
		if err := writeFileAtomic(t.file, buf.Bytes()); err != nil {
			return usagef("cannot write %s: %s", t.file, err)
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".lambdawarden-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
