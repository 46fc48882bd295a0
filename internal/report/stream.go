package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// The JSON formats are written element by element, so a report of
// 100,000 resources never exists in memory whole, yet the bytes are those
// json.Encoder (SetIndent("", "  "), SetEscapeHTML(false)) gives for the
// whole value: golden files and consumers see no difference.
//
// A document's fixed part (the skeleton) is encoded as usual, with a
// spliceMark where a long array goes; writeSpliced writes the skeleton
// and streams each array in the mark's place.

// jsonArray writes one JSON array an element at a time. indent is the
// indentation of the line that opens the array (its key's line).
type jsonArray struct {
	w      io.Writer
	indent string
	n      int
	// compact holds an element as the encoder writes it, buf the same
	// indented, with what goes before it.
	compact bytes.Buffer
	buf     bytes.Buffer
	enc     *json.Encoder
}

func newJSONArray(w io.Writer, indent string) *jsonArray {
	a := &jsonArray{w: w, indent: indent}
	a.enc = json.NewEncoder(&a.compact)
	a.enc.SetEscapeHTML(false)
	return a
}

// open writes what goes before the next element.
func (a *jsonArray) open() {
	a.buf.Reset()
	if a.n == 0 {
		a.buf.WriteString("[\n")
	} else {
		a.buf.WriteString(",\n")
	}
	a.buf.WriteString(a.indent + "  ")
	a.n++
}

// add writes one element.
func (a *jsonArray) add(v any) error {
	a.compact.Reset()
	if err := a.enc.Encode(v); err != nil {
		return err
	}
	return a.addRaw(bytes.TrimSuffix(a.compact.Bytes(), []byte("\n")))
}

// addRaw writes one element given as compact JSON, as encoding/json
// writes it.
func (a *jsonArray) addRaw(raw []byte) error {
	raw = escapeInvisibleJSON(raw)
	a.open()
	a.buf.Write(appendIndented(a.buf.AvailableBuffer(), raw, a.indent+"  ", "  "))
	_, err := a.w.Write(a.buf.Bytes())
	return err
}

// addSpliced writes one element that has long arrays of its own: v is
// its skeleton with spliceMarks, fills stream the arrays.
func (a *jsonArray) addSpliced(v any, fills ...func(*jsonArray) error) error {
	a.compact.Reset()
	if err := a.enc.Encode(v); err != nil {
		return err
	}
	a.open()
	text := appendIndented(bytes.Clone(a.buf.Bytes()), bytes.TrimSuffix(a.compact.Bytes(), []byte("\n")), a.indent+"  ", "  ")
	return splice(a.w, text, fills)
}

// close ends the array: [] when it had no element.
func (a *jsonArray) close() error {
	end := "\n" + a.indent + "]"
	if a.n == 0 {
		end = "[]"
	}
	_, err := io.WriteString(a.w, end)
	return err
}

// spliceMark stands in a skeleton for the array of the same number.
// encoding/json never writes a plain letter as a \u escape, so no string
// from the estate can encode to a mark; splice also checks that each mark
// occurs exactly once.
type spliceMark int

func (m spliceMark) MarshalJSON() ([]byte, error) { return m.text(), nil }

func (m spliceMark) text() []byte { return []byte(`"lw\u0041splice` + strconv.Itoa(int(m)) + `"`) }

// writeSpliced writes v as an indented JSON document with a final
// newline, streaming fills[i] where v holds spliceMark(i).
func writeSpliced(w io.Writer, v any, fills ...func(*jsonArray) error) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return splice(w, buf.Bytes(), fills)
}

// splice writes encoded text, replacing mark i by the array fills[i]
// streams.
func splice(w io.Writer, text []byte, fills []func(*jsonArray) error) error {
	text = escapeInvisibleJSON(text)
	for i, fill := range fills {
		mark := spliceMark(i).text()
		at := bytes.Index(text, mark)
		if at < 0 || bytes.Count(text, mark) != 1 {
			return fmt.Errorf("report: splice mark %d found %d times", i, bytes.Count(text, mark))
		}
		head := text[:at]
		if _, err := w.Write(head); err != nil {
			return err
		}
		line := head[bytes.LastIndexByte(head, '\n')+1:]
		indent := line[:len(line)-len(bytes.TrimLeft(line, " "))]
		a := newJSONArray(w, string(indent))
		if err := fill(a); err != nil {
			return err
		}
		if err := a.close(); err != nil {
			return err
		}
		text = text[at+len(mark):]
	}
	_, err := w.Write(text)
	return err
}

// appendIndented appends src, compact JSON as encoding/json writes it
// (no whitespace outside strings), indented exactly as json.Indent(dst,
// src, prefix, indent) would: each element of an object or array on its
// own line, a space after each colon, empty objects and arrays kept as {}
// and []. It trusts src to be valid, which lets it skip json.Indent's
// byte-by-byte scanner, the larger part of the time the big formats
// (asff, ocsf) spend encoding.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	newline := func(dst []byte, depth int) []byte {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
		return dst
	}
	depth := 0
	open := false // after { or [: the newline waits, in case it is empty
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = newline(dst, depth)
		}
		switch c {
		case '"':
			// Copy the string whole, escapes included.
			j := i + 1
			for j < len(src) {
				k := bytes.IndexAny(src[j:], `"\`)
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				if src[j] == '\\' {
					j += 2
					continue
				}
				break
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			open = true
		case ',':
			dst = append(dst, c)
			dst = newline(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = newline(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
