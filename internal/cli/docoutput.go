package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// docOutput is -o for the commands that print one document as text or
// JSON (rules, guardrails, fix, restore): the same choice as the report
// commands, text on a terminal and json otherwise, and for rules and
// guardrails the same FORMAT=FILE.
type docOutput struct {
	spec    string
	fileOK  bool // FORMAT=FILE allowed
	format  string
	file    string
	cmdName string
}

func (o *docOutput) register(cmd *cobra.Command, fileOK bool) {
	o.fileOK, o.cmdName = fileOK, cmd.Name()
	help := "text or json (default: text on a terminal, json otherwise)"
	if fileOK {
		help = "text or json, optionally =FILE (default: text on a terminal, json otherwise)"
	}
	cmd.Flags().StringVarP(&o.spec, "output", "o", "", help)
}

// parse reads the flag; the file, if any, is checked like -o of scan.
func (o *docOutput) parse(e *env) error {
	name, file, hasFile := strings.Cut(o.spec, "=")
	format := strings.ToLower(strings.TrimSpace(name))
	if format == "" {
		format = "json"
		if e.isTerminal {
			format = "text"
		}
	}
	if format != "text" && format != "json" {
		return usagef("%s -o %q: want text or json", o.cmdName, o.spec)
	}
	if hasFile {
		if !o.fileOK {
			return usagef("%s -o %s: %s writes to standard output; redirect it instead (> %s)", o.cmdName, o.spec, o.cmdName, file)
		}
		switch file {
		case "":
			return usagef("%s -o %s: missing file name after '=' (use - for standard output)", o.cmdName, o.spec)
		case "-", "/dev/stdout":
			file = ""
		}
		if file != "" {
			if err := checkOutputFile(file); err != nil {
				return usagef("-o %s: cannot write %s: %s", o.spec, file, err)
			}
		}
	}
	o.format, o.file = format, file
	return nil
}

// write sends render's output to standard output or the file.
func (o *docOutput) write(e *env, render func(io.Writer) error) error {
	if o.file == "" {
		return render(e.stdout)
	}
	err := writeOutputFile(o.file, render)
	if fe, ok := err.(*fileError); ok {
		return usagef("-o %s: cannot write %s: %s", o.spec, o.file, unwrapPathError(fe.err))
	}
	return err
}
