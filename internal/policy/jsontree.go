package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// A document is read by a strict reader: a name repeated in one object,
// invalid UTF-8 or data after the document is an error, because two JSON
// readers could read such a document differently and the lenient reading
// could be the weaker policy.
//
// jsontext (the encoding/json/v2 tokenizer, maintained by the Go team as
// go-json-experiment) validates the whole value first, in one pass: syntax,
// UTF-8, repeated names, nothing after it; encoding/json cannot see
// duplicates at all. The tree is then built by a walk over bytes already
// known to be valid JSON, which needs no error paths.
//
// The tree is flat and holds no pointers (offsets into the input), so it
// is reused from document to document and building it costs the garbage
// collector nothing: parsing policies by the thousand (a scan, a CloudTrail
// stream, a monorepo) is dominated by the judging, not the reading.

// tree is one document's values.
type tree struct {
	data    []byte
	src     string   // data as one string: unescaped strings are slices of it
	nodes   []node   // every value and member name, in document order
	kids    []int32  // children of each object (name, value, ...) or array
	escaped []string // strings that had escapes, unescaped
}

// node is one JSON value; text and children are spans of the tree's
// storage.
type node struct {
	start, end int32 // byte span of the value in the input
	textStart  int32 // a scalar's text in src; negative: escaped[-textStart-1]
	textEnd    int32
	kid0, kids int32 // its children in tree.kids
	kind       jsontext.Kind
}

// val is one value of a tree. It is passed by value and never stored in
// the heap, so reading a policy writes no pointers.
type val struct {
	t *tree
	i int32
}

func (v val) n() *node            { return &v.t.nodes[v.i] }
func (v val) kind() jsontext.Kind { return v.n().kind }

// text is a string's value, or a number or boolean as written.
func (v val) text() string {
	n := v.n()
	if n.textStart < 0 {
		return v.t.escaped[-n.textStart-1]
	}
	return v.t.src[n.textStart:n.textEnd]
}

// len is the number of an object's members or an array's items.
func (v val) len() int {
	n := v.n()
	if n.kind == '{' {
		return int(n.kids / 2)
	}
	return int(n.kids)
}

// name is the name of an object's i-th member.
func (v val) name(i int) string {
	return val{v.t, v.t.kids[int(v.n().kid0)+2*i]}.text()
}

// elem is an object's i-th member value or an array's i-th item.
func (v val) elem(i int) val {
	n := v.n()
	if n.kind == '{' {
		return val{v.t, v.t.kids[int(n.kid0)+2*i+1]}
	}
	return val{v.t, v.t.kids[int(n.kid0)+i]}
}

// member returns the value of the object member named exactly name.
func (v val) member(name string) (val, bool) {
	for i := range v.len() {
		if v.name(i) == name {
			return v.elem(i), true
		}
	}
	return val{}, false
}

// raw returns the value's text exactly as it appeared.
func (v val) raw() []byte {
	n := v.n()
	return v.t.data[n.start:n.end]
}

func (v val) describe() string { return describeKind(v.kind()) }

// describeKind names a JSON type, for error messages.
func describeKind(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// readTree reads exactly one JSON value from data. The tree lives in the
// reader's reused storage: it is valid until release, so callers copy out
// what they keep (strings stay valid: they are slices of their own copy
// of the input).
func readTree(data []byte) (*treeReader, val, error) {
	if len(data) > maxDocument {
		return nil, val{}, fmt.Errorf("the document is %d bytes; no IAM policy is larger than %d (Lambda's own limit is 20 KB)", len(data), maxDocument)
	}
	r := readers.Get().(*treeReader)
	r.buf.Reset(data)
	r.dec.Reset(&r.buf)
	if _, err := r.dec.ReadValue(); err != nil {
		err = r.explain(err)
		r.release()
		return nil, val{}, err
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		err = fmt.Errorf("unexpected data after the JSON object at byte %d", r.dec.InputOffset())
		r.release()
		return nil, val{}, err
	}
	r.t.data, r.t.src = data, string(data)
	r.pos = 0
	i, err := r.value(0)
	if err != nil {
		r.release()
		return nil, val{}, err
	}
	return r, val{&r.t, i}, nil
}

// readers reuses decoders and tree storage: a scan or a CloudTrail stream
// parses policies by the thousand.
var readers = sync.Pool{New: func() any { return &treeReader{dec: jsontext.NewDecoder(emptyReader)} }}

type treeReader struct {
	dec   *jsontext.Decoder
	buf   bytes.Reader
	t     tree
	pos   int     // the walk's position in the input
	stack []int32 // children gathered until their parent closes
}

// maxStored bounds the storage a pooled reader keeps: a rare large
// document is not kept alive in the pool.
const maxStored = 4096

func (r *treeReader) release() {
	t := &r.t
	t.data, t.src = nil, ""
	clear(t.escaped)
	t.nodes, t.kids, t.escaped, r.stack = t.nodes[:0], t.kids[:0], t.escaped[:0], r.stack[:0]
	if cap(t.nodes) > maxStored || cap(t.kids) > maxStored {
		t.nodes, t.kids, r.stack = nil, nil, nil
	}
	r.buf.Reset(nil)
	r.dec.Reset(emptyReader)
	readers.Put(r)
}

var emptyReader = bytes.NewReader(nil)

// maxDocument bounds what is read at all, far above any policy AWS
// stores; offsets fit in 32 bits because of it.
const maxDocument = 8 << 20

// maxDepth bounds nesting far below jsontext's own limit: no valid policy
// nests deeper than Statement → Condition → operator → key → values.
const maxDepth = 16

// skipSpace moves past whitespace and the separators between values (the
// input is valid, so where they may stand is already checked).
func (r *treeReader) skipSpace() {
	for r.pos < len(r.t.data) {
		switch r.t.data[r.pos] {
		case ' ', '\t', '\r', '\n', ',', ':':
			r.pos++
			continue
		}
		return
	}
}

// add appends a node and returns its index.
func (r *treeReader) add(n node) int32 {
	r.t.nodes = append(r.t.nodes, n)
	return int32(len(r.t.nodes) - 1)
}

// str reads the string at pos (its opening quote) into n's text. One
// without escapes (the common case) is a slice of the input.
func (r *treeReader) str(n *node) {
	data := r.t.data
	start := r.pos
	escaped := false
	i := start + 1
	for ; data[i] != '"'; i++ {
		if data[i] == '\\' {
			escaped = true
			i++ // the escaped byte, which may be a quote
		}
	}
	r.pos = i + 1
	if !escaped {
		n.textStart, n.textEnd = int32(start+1), int32(i)
		return
	}
	// Valid by the check above; jsontext does the unescaping.
	b, _ := jsontext.AppendUnquote(nil, data[start:r.pos])
	r.t.escaped = append(r.t.escaped, string(b))
	n.textStart = int32(-len(r.t.escaped))
}

// value adds the node for the value at pos and returns its index. The
// input is valid JSON, so only the depth can fail.
func (r *treeReader) value(depth int) (int32, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("the document nests deeper than any policy can (%d levels)", maxDepth)
	}
	r.skipSpace()
	data := r.t.data
	n := node{start: int32(r.pos), kind: jsonKind(data[r.pos])}
	switch n.kind {
	case '{', '[':
		closing := byte('}')
		if n.kind == '[' {
			closing = ']'
		}
		r.pos++
		self := r.add(n)
		from := len(r.stack)
		for {
			r.skipSpace()
			if r.t.data[r.pos] == closing {
				r.pos++
				break
			}
			if n.kind == '{' {
				var name node
				name.start, name.kind = int32(r.pos), '"'
				r.str(&name)
				name.end = int32(r.pos)
				r.stack = append(r.stack, r.add(name))
			}
			child, err := r.value(depth + 1)
			if err != nil {
				return 0, err
			}
			r.stack = append(r.stack, child)
		}
		p := &r.t.nodes[self]
		p.kid0, p.kids = int32(len(r.t.kids)), int32(len(r.stack)-from)
		p.end = int32(r.pos)
		r.t.kids = append(r.t.kids, r.stack[from:]...)
		r.stack = r.stack[:from]
		return self, nil
	case 't':
		n.textStart, n.textEnd = int32(r.pos), int32(r.pos+4)
		r.pos += 4
	case 'f':
		n.textStart, n.textEnd = int32(r.pos), int32(r.pos+5)
		r.pos += 5
	case 'n':
		r.pos += 4
	case '"':
		r.str(&n)
	default:
		i := r.pos
		for i < len(data) && isNumberByte(data[i]) {
			i++
		}
		n.textStart, n.textEnd = int32(r.pos), int32(i)
		r.pos = i
	}
	n.end = int32(r.pos)
	return r.add(n), nil
}

func isNumberByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}

// explain turns a jsontext error into one sentence a person can act on.
func (r *treeReader) explain(err error) error {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("the JSON document ends early")
		}
		return err
	}
	where := readablePointer(se.JSONPointer)
	if errors.Is(se.Err, jsontext.ErrDuplicateName) {
		name := se.JSONPointer.LastToken()
		parent := readablePointer(se.JSONPointer.Parent())
		return &duplicateError{name: name, path: parent, pointer: se.JSONPointer.Parent()}
	}
	msg := se.Err.Error()
	if se.Err == io.ErrUnexpectedEOF {
		msg = "the document ends early"
	}
	msg = strings.TrimPrefix(msg, "jsontext: ")
	if where != "" {
		return fmt.Errorf("invalid JSON at byte %d (in %s): %s", se.ByteOffset, where, msg)
	}
	return fmt.Errorf("invalid JSON at byte %d: %s", se.ByteOffset, msg)
}

// duplicateError is a name repeated in one JSON object.
type duplicateError struct {
	name    string
	path    string // readable path of the object holding it
	pointer jsontext.Pointer
}

func (e *duplicateError) Error() string {
	return fmt.Sprintf("key %q appears twice in %s; IAM rejects such a policy, and JSON readers disagree on which copy counts", e.name, e.path)
}

// statementIndex returns the statement the duplicate is in, or -1.
func (e *duplicateError) statementIndex() int {
	toks := pointerTokens(e.pointer)
	if len(toks) < 2 || !strings.EqualFold(toks[0], "Statement") {
		return -1
	}
	i, err := strconv.Atoi(toks[1])
	if err != nil {
		return 0 // a single statement object
	}
	return i
}

func pointerTokens(p jsontext.Pointer) []string {
	var toks []string
	for t := range p.Tokens() {
		toks = append(toks, t)
	}
	return toks
}

// readablePointer renders a JSON pointer like Statement[0].Condition.
func readablePointer(p jsontext.Pointer) string {
	toks := pointerTokens(p)
	if len(toks) == 0 {
		return "the top-level object"
	}
	var b strings.Builder
	for i, t := range toks {
		if _, err := strconv.Atoi(t); err == nil && i > 0 {
			b.WriteString("[" + t + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// CheckJSON reports whether data is one JSON value that every reader
// reads alike: no name repeated in an object, valid UTF-8, nothing after
// it. Callers that unwrap an envelope before Parse (the {"Policy": "..."}
// the AWS CLI prints) check it first, so the envelope is not ambiguous
// either.
func CheckJSON(data []byte) error {
	r, _, err := readTree(bytes.TrimSpace(data))
	if err == nil {
		r.release()
	}
	return err
}
