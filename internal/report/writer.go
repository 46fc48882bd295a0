package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Options are presentation choices a writer may honour.
type Options struct {
	// Color enables ANSI colour (text only); the CLI turns it on only for
	// a terminal without NO_COLOR.
	Color bool
	// Single renders the document's only resource on its own, as analyze
	// does.
	Single bool
	// OCSFCompliance makes the ocsf writer add one Compliance Finding
	// (class 2003) per framework requirement after the Detection
	// Findings (--ocsf-compliance).
	OCSFCompliance bool
	// Time stamps reports of a document that has no scan times (analyze);
	// zero means now. A scan's finish time always wins, so every format
	// written from one run carries the same time.
	Time time.Time
}

// Writer renders a document in one format. Writers name themselves; the
// list of formats is built from them.
type Writer interface {
	Name() string
	Description() string
	Write(w io.Writer, d *Document, opt Options) error
}

// writers is every format, in the order `--help` lists them.
var writers = []Writer{textWriter{}, jsonWriter{}, csvWriter{}, sarifWriter{}, asffWriter{}, ocsfWriter{}, junitWriter{}, htmlWriter{}}

// Writers returns every available writer.
func Writers() []Writer { return append([]Writer(nil), writers...) }

// Names lists the format names.
func Names() []string {
	out := make([]string, len(writers))
	for i, w := range writers {
		out[i] = w.Name()
	}
	return out
}

// Lookup finds a writer by name; an unknown name is an error that lists
// the known ones.
func Lookup(name string) (Writer, error) {
	for _, w := range writers {
		if w.Name() == name {
			return w, nil
		}
	}
	known := Names()
	sort.Strings(known)
	return nil, fmt.Errorf("unknown output format %q (known: %s)", name, strings.Join(known, ", "))
}

type jsonWriter struct{}

func (jsonWriter) Name() string { return "json" }
func (jsonWriter) Description() string {
	return "the versioned JSON document (CONTRACT.md, schema_version 1)"
}

func (jsonWriter) Write(w io.Writer, d *Document, opt Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if opt.Single && len(d.Resources) == 1 {
		return enc.Encode(struct {
			SchemaVersion string `json:"schema_version"`
			Resource
		}{d.SchemaVersion, d.Resources[0]})
	}
	return enc.Encode(d)
}
