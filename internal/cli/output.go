package cli

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/spf13/cobra"
)

// outputFlags are the flags every reporting command shares.
type outputFlags struct {
	outputs []string
	failOn  string
	// origin says where outputs came from when not the command line
	// ("outputs: in lambdawarden.yaml").
	origin string
}

func (o *outputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&o.outputs, "output", "o", nil,
		"output FORMAT[=FILE], repeatable; formats: "+strings.Join(report.Names(), ", ")+" (default: text on a terminal, json otherwise)")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical, high, medium, low, info, none")
}

type outputTarget struct {
	writer report.Writer
	spec   string // as given, for messages ("json=report.json")
	origin string // where it was given: "-o", or "outputs: in FILE"
	file   string // "" = standard output (or standard error, with toStderr)
	// toStderr sends the report to standard error (-o text=/dev/stderr).
	toStderr bool
}

// label names the target in messages: "-o json=report.json".
func (t outputTarget) label() string {
	if t.origin == "-o" {
		return "-o " + t.spec
	}
	return t.spec + " (" + t.origin + ")"
}

// parse checks the flags before any work is done, so a typo costs
// nothing: formats, and that every file can be written.
func (o *outputFlags) parse(e *env) ([]outputTarget, finding.Severity, error) {
	failOn, err := finding.ParseSeverity(o.failOn)
	if err != nil {
		return nil, 0, usagef("--fail-on: %s", err)
	}
	specs := o.outputs
	origin := "-o"
	if o.origin != "" {
		origin = o.origin
	}
	if len(specs) == 0 {
		origin = "-o"
		if e.isTerminal {
			specs = []string{"text"}
		} else {
			specs = []string{"json"}
		}
	}
	var out []outputTarget
	toStdout := 0
	files := map[string]string{}
	for _, s := range specs {
		name, file, hasFile := strings.Cut(s, "=")
		t := outputTarget{spec: s, origin: origin}
		w, err := report.Lookup(strings.ToLower(strings.TrimSpace(name)))
		if err != nil {
			return nil, 0, usagef("%s: %s", t.label(), err)
		}
		t.writer = w
		if hasFile && file == "" {
			return nil, 0, usagef("%s: missing file name after '=' (use - for standard output)", t.label())
		}
		switch filepath.Clean(file) {
		case "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
			file = ""
		case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2":
			file, t.toStderr = "", true
		}
		t.file = file
		if file == "" && !t.toStderr {
			toStdout++
		}
		if file != "" {
			key := file
			if real, err := followLinks(file); err == nil {
				key, _ = filepath.Abs(real)
			}
			if prev, ok := files[key]; ok {
				return nil, 0, usagef("%s and -o %s write the same file; give each report its own", t.label(), prev)
			}
			files[key] = s
			if err := checkOutputFile(file); err != nil {
				return nil, 0, usagef("%s: cannot write %s: %s", t.label(), file, err)
			}
		}
		out = append(out, t)
	}
	if toStdout > 1 {
		return nil, 0, usagef("only one -o format can go to standard output; give the others a file (-o json=report.json)")
	}
	return out, failOn, nil
}

// write renders the document to every target, streaming: a writer's
// output goes through a buffer to standard output or to the file, never
// whole into memory. A file is written whole or not at all (see
// writeOutputFile). When a target fails the others are still written,
// and each failure is named: never a silent partial set.
func (e *env) write(targets []outputTarget, d *report.Document, base report.Options) error {
	return e.writeViews(targets, func(report.Writer) *report.Document { return d }, base)
}

// writeViews is write with a document per writer (analyze's text output
// is capped; the other formats have everything).
func (e *env) writeViews(targets []outputTarget, view func(report.Writer) *report.Document, base report.Options) error {
	var failed []string
	var last error
	for _, t := range targets {
		err := e.writeTarget(t, view(t.writer), base)
		if err == nil {
			continue
		}
		if len(targets) == 1 {
			return err
		}
		fmt.Fprintf(e.stderr, "lambdawarden: not written: %s\n", err)
		failed = append(failed, t.label())
		last = err
	}
	if len(failed) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d reports were not written (%s); the others were", len(failed), len(targets), strings.Join(failed, ", "))
	var ue *usageError
	if errors.As(last, &ue) {
		return usagef("%s", msg)
	}
	return errors.New(msg)
}

func (e *env) writeTarget(t outputTarget, d *report.Document, base report.Options) error {
	opt := base
	if t.file == "" {
		out, term := e.stdout, e.isTerminal
		if t.toStderr {
			out, term = e.stderr, e.stderrTerminal
		}
		opt.Color = term && e.colour() && t.writer.Name() == "text"
		w := bufio.NewWriterSize(out, outputBuffer)
		err := t.writer.Write(w, d, opt)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.label(), err)
		}
		return nil
	}
	// An asff report that one BatchImportFindings call cannot take
	// becomes one file per account, Region and 100 findings.
	files, err := report.WriteFiles(t.writer, t.file, d, opt, writeOutputFile)
	if len(files) > 1 {
		fmt.Fprintf(e.stderr, "%s: %d files (%s, ...): Security Hub imports at most %d findings of one account and Region a call\n",
			t.writer.Name(), len(files), files[0], report.ASFFBatchSize)
	}
	var fe *fileError
	if errors.As(err, &fe) {
		return usagef("%s: cannot write %s: %s", t.label(), t.file, unwrapPathError(fe.err))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t.label(), err)
	}
	return nil
}

// colour tells whether colour is wanted at all: NO_COLOR and TERM=dumb
// turn it off.
func (e *env) colour() bool {
	return e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// outputBuffer is the write buffer of each output: large enough that a
// report of hundreds of megabytes goes out in few system calls.
const outputBuffer = 256 << 10

// verdict turns a finished document into the exit code.
func verdict(d *report.Document, failOn finding.Severity) error {
	if code := d.ExitCode(failOn); code != exitOK {
		return exitCode(code)
	}
	return nil
}
