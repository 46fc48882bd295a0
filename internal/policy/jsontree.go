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

// node is one JSON value of a policy document, read by a strict reader:
// a name repeated in one object, invalid UTF-8 or data after the document
// is an error, because two JSON readers could read such a document
// differently and the lenient reading could be the weaker policy.
//
// jsontext (the encoding/json/v2 tokenizer, maintained by the Go team as
// go-json-experiment) does the syntax and the duplicate check in one pass;
// encoding/json cannot see duplicates at all.
type node struct {
	text  string   // a string's value, a number or boolean as written
	names []string // an object's member names, in document order
	elems []*node  // an object's member values, or an array's items
	start int32    // byte span of the value in the input
	end   int32
	kind  jsontext.Kind // '{', '[', '"', '0', 't', 'f', 'n'

}

// member returns the value of the object member named exactly name.
func (n *node) member(name string) *node {
	for i, k := range n.names {
		if k == name {
			return n.elems[i]
		}
	}
	return nil
}

// raw returns the value's text exactly as it appeared.
func (n *node) raw(data []byte) []byte { return data[n.start:n.end] }

// describe names the JSON type of the value, for error messages.
func (n *node) describe() string {
	switch n.kind {
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

// readTree reads exactly one JSON value from data.
func readTree(data []byte) (*node, error) {
	if len(data) > maxDocument {
		return nil, fmt.Errorf("the document is %d bytes; no IAM policy is larger than %d (Lambda's own limit is 20 KB)", len(data), maxDocument)
	}
	r := readers.Get().(*treeReader)
	defer r.release()
	r.dec.Reset(bytes.NewBuffer(data))
	r.data, r.src = data, string(data)
	r.nodeSlab = make([]node, estimateValues(data))
	tok, start, err := r.next()
	if err != nil {
		return nil, r.explain(err)
	}
	n, err := r.value(0, tok, start)
	if err != nil {
		return nil, r.explain(err)
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON object at byte %d", r.dec.InputOffset())
	}
	return n, nil
}

// readers reuses decoders: a scan or a CloudTrail stream parses policies
// by the thousand.
var readers = sync.Pool{New: func() any { return &treeReader{dec: jsontext.NewDecoder(emptyReader)} }}

type treeReader struct {
	dec  *jsontext.Decoder
	data []byte
	src  string // data as one string: unescaped strings are slices of it
	// Children are gathered on these stacks and copied out at the close
	// of their object or array into slabs, so a policy costs a handful of
	// allocations rather than several per value.
	names    []string
	elems    []*node
	nodeSlab []node
	nameSlab []string
	elemSlab []*node
}

func (r *treeReader) release() {
	r.data, r.src = nil, ""
	r.names, r.elems = r.names[:0], r.elems[:0]
	// The slabs belong to the tree just returned.
	r.nodeSlab, r.nameSlab, r.elemSlab = nil, nil, nil
	r.dec.Reset(emptyReader)
	readers.Put(r)
}

var emptyReader = bytes.NewReader(nil)

func (r *treeReader) alloc() *node {
	if len(r.nodeSlab) == 0 {
		r.nodeSlab = make([]node, 64)
	}
	n := &r.nodeSlab[0]
	r.nodeSlab = r.nodeSlab[1:]
	return n
}

func (r *treeReader) takeNames(from int) []string {
	k := len(r.names) - from
	if k == 0 {
		return nil
	}
	if len(r.nameSlab) < k {
		r.nameSlab = make([]string, max(k, 64))
	}
	out := r.nameSlab[:k:k]
	r.nameSlab = r.nameSlab[k:]
	copy(out, r.names[from:])
	r.names = r.names[:from]
	return out
}

func (r *treeReader) takeElems(from int) []*node {
	k := len(r.elems) - from
	if k == 0 {
		return nil
	}
	if len(r.elemSlab) < k {
		r.elemSlab = make([]*node, max(k, 64))
	}
	out := r.elemSlab[:k:k]
	r.elemSlab = r.elemSlab[k:]
	copy(out, r.elems[from:])
	r.elems = r.elems[:from]
	return out
}

// maxDocument bounds what is read at all, far above any policy AWS
// stores; offsets fit in 32 bits because of it.
const maxDocument = 8 << 20

// maxDepth bounds nesting far below jsontext's own limit: no valid policy
// nests deeper than Statement → Condition → operator → key → values.
const maxDepth = 16

// str returns a string token's value without copying when it has no
// escapes (the common case): a slice of the input.
func (r *treeReader) str(tok jsontext.Token, start, end int) string {
	if end-start >= 2 && r.data[start] == '"' {
		inner := r.src[start+1 : end-1]
		if strings.IndexByte(inner, '\\') < 0 {
			return inner
		}
	}
	return tok.String()
}

// next reads one token and where it starts.
func (r *treeReader) next() (jsontext.Token, int, error) {
	before := int(r.dec.InputOffset())
	tok, err := r.dec.ReadToken()
	// InputOffset was after the previous token: skip the separators.
	return tok, before + leadingSeparators(r.data[before:]), err
}

// value builds the node for a value whose first token, starting at
// start, was just read (tok is valid only until the next read).
func (r *treeReader) value(depth int, tok jsontext.Token, start int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("the document nests deeper than any policy can (%d levels)", maxDepth)
	}
	n := r.alloc()
	n.kind = tok.Kind()
	n.start = int32(start)
	switch n.kind {
	case '{':
		names, elems := len(r.names), len(r.elems)
		for {
			tok, at, err := r.next()
			if err != nil {
				return nil, err
			}
			if tok.Kind() == '}' {
				break
			}
			name := r.str(tok, at, int(r.dec.InputOffset()))
			tok, at, err = r.next()
			if err != nil {
				return nil, err
			}
			child, err := r.value(depth+1, tok, at)
			if err != nil {
				return nil, err
			}
			r.names = append(r.names, name)
			r.elems = append(r.elems, child)
		}
		n.names, n.elems = r.takeNames(names), r.takeElems(elems)
	case '[':
		elems := len(r.elems)
		for {
			tok, at, err := r.next()
			if err != nil {
				return nil, err
			}
			if tok.Kind() == ']' {
				break
			}
			child, err := r.value(depth+1, tok, at)
			if err != nil {
				return nil, err
			}
			r.elems = append(r.elems, child)
		}
		n.elems = r.takeElems(elems)
	case 't':
		n.text = "true"
	case 'f':
		n.text = "false"
	case 'n':
	case '"':
		n.text = r.str(tok, start, int(r.dec.InputOffset()))
	default:
		n.text = r.src[start:int(r.dec.InputOffset())]
	}
	n.end = int32(r.dec.InputOffset())
	return n, nil
}

// estimateValues guesses how many values a document holds, so its nodes
// usually come in one allocation: policies run at about one value per 25
// bytes (ARNs and condition keys are long); more are allocated as needed.
func estimateValues(data []byte) int { return len(data)/25 + 8 }

func leadingSeparators(b []byte) int {
	i := 0
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
			continue
		}
		break
	}
	return i
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
	_, err := readTree(bytes.TrimSpace(data))
	return err
}
