package report

import (
	"bytes"
	"encoding/json"
	"errors"
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
// list of formats is built from them. A writer streams: it reads the
// document's resources one at a time (a scan's are spooled on disk) and
// writes as it goes, so its memory does not grow with the estate; the
// text and html writers print a bounded selection and count the rest.
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
	return "the versioned JSON document (schema_version " + SchemaVersion + ", described by docs/report.schema.json)"
}

func (jsonWriter) Write(w io.Writer, d *Document, opt Options) error {
	if opt.Single && d.Len() == 1 {
		r, err := d.index().load(0)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			SchemaVersion string `json:"schema_version"`
			Resource
		}{d.SchemaVersion, *r})
	}
	// The document without its resources is the skeleton; they are
	// streamed into it one by one. A document with none keeps the
	// encoder's own rendering (null for a nil slice, as before).
	c := *d
	c.spool = nil
	if d.Len() == 0 {
		c.Resources = d.Resources
		return writeSpliced(w, &c)
	}
	c.Resources = []Resource{}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return err
	}
	empty := []byte("\n  \"resources\": []")
	if bytes.Count(buf.Bytes(), empty) != 1 {
		return errors.New("json: the document skeleton has no single resources list")
	}
	text := bytes.Replace(buf.Bytes(), empty, append([]byte("\n  \"resources\": "), spliceMark(0).text()...), 1)
	return splice(w, text, []func(*jsonArray) error{func(a *jsonArray) error {
		if d.spool != nil {
			// The spool holds each resource as the encoder writes it:
			// indenting the line is all the json format needs.
			return d.spool.idx.eachRaw(a.addRaw)
		}
		return d.Each(func(r *Resource) error { return a.add(r) })
	}})
}
