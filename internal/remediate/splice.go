package remediate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The policy is rewritten by cutting and pasting the raw bytes of its
// statements rather than by decoding and re-encoding it: a re-marshalled
// document would reorder keys, change escaping and whitespace, and a
// reviewer could no longer see at a glance that every statement the fix
// did not name is exactly as it was.

// span is a half-open byte range [start, end).
type span struct{ start, end int }

// memberSpan is one member of a JSON object: its key and where its value
// lies.
type memberSpan struct {
	key string
	val span
}

// objectMembers lists the members of the JSON object in data, in order,
// with the value spans relative to data, and the offset of the closing
// brace.
func objectMembers(data []byte) ([]memberSpan, int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, 0, fmt.Errorf("not a JSON object")
	}
	var out []memberSpan
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, 0, err
		}
		key, _ := tok.(string)
		start := skipSeparators(data, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, err
		}
		out = append(out, memberSpan{key: key, val: span{start, int(dec.InputOffset())}})
	}
	if _, err := dec.Token(); err != nil {
		return nil, 0, err
	}
	closing := int(dec.InputOffset()) - 1
	if closing < 0 || closing >= len(data) || data[closing] != '}' {
		return nil, 0, fmt.Errorf("cannot find the end of the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, 0, fmt.Errorf("unexpected data after the JSON object")
	}
	return out, closing, nil
}

// skipSeparators moves past whitespace, ':' and ',' from i: where the
// next JSON value starts after a decoder token.
func skipSeparators(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
		default:
			return i
		}
	}
	return i
}

// docLayout is where a policy document's statements lie.
type docLayout struct {
	doc []byte
	// single is true when Statement is one object rather than an array.
	single bool
	elems  []span
}

// layoutOf finds the statements of a policy document.
func layoutOf(doc []byte) (*docLayout, error) {
	members, _, err := objectMembers(doc)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	for _, m := range members {
		if !strings.EqualFold(m.key, "Statement") {
			continue
		}
		val := doc[m.val.start:m.val.end]
		l := &docLayout{doc: doc}
		switch firstByte(val) {
		case '{':
			l.single = true
			l.elems = []span{m.val}
			return l, nil
		case '[':
		default:
			return nil, fmt.Errorf("policy: Statement is neither an object nor an array")
		}
		dec := json.NewDecoder(bytes.NewReader(val))
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		for dec.More() {
			start := skipSeparators(val, int(dec.InputOffset()))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			l.elems = append(l.elems, span{m.val.start + start, m.val.start + int(dec.InputOffset())})
		}
		return l, nil
	}
	return nil, fmt.Errorf("policy: missing Statement")
}

// raw returns statement i's bytes as they appear in the document.
func (l *docLayout) raw(i int) []byte { return l.doc[l.elems[i].start:l.elems[i].end] }

// rewrite returns the document without the statements in remove and with
// those in replace swapped for new text; every other byte is kept. empty
// is true when no statement is left (the policy must then be deleted:
// Lambda refuses a policy without statements).
func (l *docLayout) rewrite(remove map[int]bool, replace map[int][]byte) (out []byte, empty bool) {
	var kept [][]byte
	for i := range l.elems {
		switch {
		case remove[i]:
		case replace[i] != nil:
			kept = append(kept, replace[i])
		default:
			kept = append(kept, l.raw(i))
		}
	}
	if len(kept) == 0 {
		return nil, true
	}
	first, last := l.elems[0], l.elems[len(l.elems)-1]
	sep := []byte(",")
	if len(l.elems) > 1 {
		sep = l.doc[l.elems[0].end:l.elems[1].start]
	}
	var b bytes.Buffer
	b.Write(l.doc[:first.start])
	b.Write(bytes.Join(kept, sep))
	b.Write(l.doc[last.end:])
	return b.Bytes(), false
}

// insert returns the document with stmt placed at position i of the
// Statement list (appended when i is past the end), for a restore into a
// policy that changed since the fix.
func (l *docLayout) insert(i int, stmt []byte) []byte {
	if l.single {
		el := l.elems[0]
		var b bytes.Buffer
		b.Write(l.doc[:el.start])
		b.WriteByte('[')
		if i <= 0 {
			b.Write(stmt)
			b.WriteByte(',')
			b.Write(l.raw(0))
		} else {
			b.Write(l.raw(0))
			b.WriteByte(',')
			b.Write(stmt)
		}
		b.WriteByte(']')
		b.Write(l.doc[el.end:])
		return b.Bytes()
	}
	if len(l.elems) == 0 {
		// An empty array: put the statement right after '['.
		members, _, _ := objectMembers(l.doc)
		for _, m := range members {
			if strings.EqualFold(m.key, "Statement") {
				at := m.val.start + 1
				return concat(l.doc[:at], stmt, l.doc[at:])
			}
		}
		return l.doc
	}
	sep := []byte(",")
	if len(l.elems) > 1 {
		sep = l.doc[l.elems[0].end:l.elems[1].start]
	}
	if i >= len(l.elems) {
		at := l.elems[len(l.elems)-1].end
		return concat(l.doc[:at], sep, stmt, l.doc[at:])
	}
	if i < 0 {
		i = 0
	}
	at := l.elems[i].start
	return concat(l.doc[:at], stmt, sep, l.doc[at:])
}

func concat(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.Write(p)
	}
	return b.Bytes()
}

// addCondition returns the statement with "op": {"key": values} added to
// its Condition block (one value as a string, several as an array),
// creating the block or the operator as needed and leaving every other
// byte as it was. It fails when any operator already tests the key
// (case-insensitively): adding a second value would change the meaning
// of what is there rather than narrow it.
func addCondition(stmt []byte, op, key string, values []string) ([]byte, error) {
	members, closing, err := objectMembers(stmt)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("no value for %s", key)
	}
	value := quote(values[0])
	if len(values) > 1 {
		q := make([]string, len(values))
		for i, v := range values {
			q[i] = quote(v)
		}
		value = "[" + strings.Join(q, ",") + "]"
	}
	pair := `{` + quote(key) + `:` + value + `}`
	for _, m := range members {
		if !strings.EqualFold(m.key, "Condition") {
			continue
		}
		cond := stmt[m.val.start:m.val.end]
		ops, condClose, err := objectMembers(cond)
		if err != nil {
			return nil, fmt.Errorf("Condition: %w", err)
		}
		for _, o := range ops {
			keys, _, err := objectMembers(cond[o.val.start:o.val.end])
			if err != nil {
				return nil, fmt.Errorf("Condition %s: %w", o.key, err)
			}
			for _, k := range keys {
				if strings.EqualFold(k.key, key) {
					return nil, fmt.Errorf("the statement already tests %s (%s)", k.key, o.key)
				}
			}
		}
		for _, o := range ops {
			if o.key != op {
				continue
			}
			block := cond[o.val.start:o.val.end]
			keys, blockClose, _ := objectMembers(block)
			at := m.val.start + o.val.start + blockClose
			ins := quote(key) + `:` + value
			if len(keys) > 0 {
				ins = "," + ins
			}
			return concat(stmt[:at], []byte(ins), stmt[at:]), nil
		}
		at := m.val.start + condClose
		ins := quote(op) + `:` + pair
		if len(ops) > 0 {
			ins = "," + ins
		}
		return concat(stmt[:at], []byte(ins), stmt[at:]), nil
	}
	ins := quote("Condition") + `:{` + quote(op) + `:` + pair + `}`
	if len(members) > 0 {
		ins = "," + ins
	}
	return concat(stmt[:closing], []byte(ins), stmt[closing:]), nil
}

// replaceMember returns the object with the value of its member key
// (matched case-insensitively) replaced by value, a JSON text; every other
// byte stays.
func replaceMember(obj []byte, key, value string) ([]byte, error) {
	members, _, err := objectMembers(obj)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if strings.EqualFold(m.key, key) {
			return concat(obj[:m.val.start], []byte(value), obj[m.val.end:]), nil
		}
	}
	return nil, fmt.Errorf("no %s member", key)
}

// quote writes a JSON string without HTML escaping, as AWS does.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimRight(b.String(), "\n")
}

// compact returns raw JSON without insignificant whitespace, for
// comparing statements whose formatting may differ between reads.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}
