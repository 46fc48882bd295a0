// Package cli is the command line: cobra commands, flags turned into
// options, the wiring of collector, engine, rules and writers, and the
// one place where errors become exit codes. Nothing imports it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, as the README's "Exit codes" table states them.
const (
	exitOK         = 0
	exitFindings   = 1
	exitUsage      = 2
	exitIncomplete = 3
	// exitInterrupted is the shell's code for a run stopped by Ctrl-C
	// (128 + SIGINT).
	exitInterrupted = 130
)

// usageError is bad input from the user: a wrong flag, a missing or
// malformed file. It becomes exit code 2 and one line on stderr.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode carries a command's verdict (1 or 3) without an error message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// env is what commands share: the streams and how to reach the outside.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// isTerminal reports whether stdout is a terminal (colour, progress,
	// default text output).
	isTerminal bool
	// stderrTerminal reports whether stderr is a terminal (progress).
	stderrTerminal bool
	getenv         func(string) string
	// now is the clock of recorded history (nil: time.Now).
	now func() time.Time
}

// Run executes the command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, isTerminal: isTerminal(stdout), stderrTerminal: isTerminal(stderr), getenv: os.Getenv}
	return e.run(args)
}

func (e *env) run(args []string) int {
	root := e.rootCommand()
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(e.ctx)
	if err == nil {
		return exitOK
	}
	var intr *errInterrupted
	if errors.As(err, &intr) || e.ctx.Err() != nil {
		// Whatever failed after Ctrl-C failed because of it: say so,
		// not "context canceled" or an SDK's wording of it.
		if intr == nil {
			intr = &errInterrupted{what: "the run was stopped before it finished"}
		}
		fmt.Fprintf(e.stderr, "lambdawarden: %s\n", intr.Error())
		return exitInterrupted
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "lambdawarden: %s\n", ue.msg)
		return exitUsage
	}
	if isCobraUsage(err) {
		fmt.Fprintf(e.stderr, "lambdawarden: %s (see 'lambdawarden --help')\n", oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "lambdawarden: %s\n", err)
	return exitIncomplete
}

// isCobraUsage recognises cobra's and pflag's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly", "bad flag syntax", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (e *env) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "lambdawarden",
		Short: "Who, outside your trust boundary, can reach your AWS Lambda functions?",
		Long: `lambdawarden judges AWS Lambda resource-based policies the way IAM does and tells
you, for every function, alias, version, function URL and layer version, who
outside your accounts and organization can invoke, read or change it.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage or input error; 3 incomplete (some resources could not be assessed).`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(e.scanCommand(), e.analyzeCommand(), e.rulesCommand(), e.emulatorCommand(), e.benchCommand(), e.fixCommand(), e.restoreCommand(), e.guardrailsCommand())
	root.AddCommand(e.iacCommand())
	root.AddCommand(e.historyCommand())
	root.AddCommand(e.diffCommand())
	root.AddCommand(e.evidenceCommand())
	root.AddCommand(e.serveCommand())
	root.AddCommand(e.watchCommand())
	root.AddCommand(e.configRuleCommand())
	root.AddCommand(e.pathsCommand())
	return root
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
