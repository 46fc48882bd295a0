package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// Terraform's JSON syntax (*.tf.json) is read with hcl/v2's json package
// and rewritten into the native syntax the rest of the reader evaluates,
// one line per block and attribute, with a map from each native line to
// the line of the JSON file it comes from, so locations point at what
// the user wrote.
// JSON does not say which properties are nested blocks: Terraform takes
// that from the provider schema, and so does the reader, for the blocks
// that matter to Lambda exposure (nestedBlocks). Any other object value
// is read as an attribute (an object or a map), which is what it is for
// every property the reader looks at.
//
// Values follow the JSON syntax rules: in expression positions a string
// is a template ("${var.x}"), object keys too; variable defaults and
// module source/version are literal; type is a type expression; provider
// is a reference written as a string.

// nestedBlocks are the nested block types, by the resource, data source,
// provider or block type they are written in.
var nestedBlocks = map[string][]string{
	"aws_lambda_function":        {"vpc_config", "environment", "dead_letter_config", "tracing_config", "file_system_config", "image_config", "ephemeral_storage", "snap_start", "logging_config", "timeouts"},
	"aws_lambda_function_url":    {"cors", "timeouts"},
	"aws_lambda_alias":           {"routing_config"},
	"aws_lambda_permission":      {"timeouts"},
	"aws_lambda_layer_version":   {"timeouts"},
	"aws_lambda_resource_policy": {"timeouts"},
	"aws_iam_policy_document":    {"statement"},
	"statement":                  {"principals", "not_principals", "condition"},
	"provider:aws":               {"assume_role", "assume_role_with_web_identity", "default_tags", "endpoints", "ignore_tags"},
}

// rootSchema are the top-level blocks; the reader keeps resource, data,
// variable, locals, module and provider.
var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "terraform"},
	{Type: "moved"},
	{Type: "import"},
	{Type: "removed"},
	{Type: "check", LabelNames: []string{"name"}},
}}

// tfJSONToNative converts a .tf.json file; lines[i] is the JSON line of
// native line i+1. A syntax or shape error comes back as diagnostics
// with the line in the JSON file.
func tfJSONToNative(src []byte, filename string) (native []byte, lines []int, _ hcl.Diagnostics) {
	f, diags := hcljson.Parse(src, filename)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	content, diags := f.Body.Content(rootSchema)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	e := &emitter{src: src}
	for _, b := range content.Blocks {
		switch b.Type {
		case "resource", "data":
			nested := nestedBlocks[b.Labels[0]]
			e.block(b, header(b), nested, exprMode, map[string]valueMode{"provider": referenceMode, "depends_on": skipMode})
		case "variable":
			e.block(b, header(b), []string{"validation"}, literalMode, map[string]valueMode{"type": typeMode})
		case "locals":
			e.block(b, "locals", nil, exprMode, nil)
		case "module":
			e.block(b, header(b), nil, exprMode, map[string]valueMode{"source": literalMode, "version": literalMode, "providers": skipMode, "depends_on": skipMode})
		case "output":
			e.block(b, header(b), nil, exprMode, map[string]valueMode{"description": literalMode, "depends_on": skipMode})
		case "provider":
			e.block(b, header(b), nestedBlocks["provider:"+b.Labels[0]], exprMode, map[string]valueMode{"alias": literalMode})
		}
		if e.err != nil {
			return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid JSON configuration", Detail: e.err.Error(), Subject: b.DefRange.Ptr()}}
		}
	}
	return e.b.Bytes(), e.lines, nil
}

func header(b *hcl.Block) string {
	s := b.Type
	for _, l := range b.Labels {
		s += " " + strconv.Quote(l)
	}
	return s
}

type valueMode int

const (
	exprMode valueMode = iota
	literalMode
	typeMode
	referenceMode
	skipMode
)

type emitter struct {
	src   []byte
	b     bytes.Buffer
	lines []int
	err   error
}

// at writes one line of native syntax that comes from line l of the
// JSON file (0: the line of what was written last).
func (e *emitter) at(l int, s string) {
	if l == 0 && len(e.lines) > 0 {
		l = e.lines[len(e.lines)-1]
	}
	e.b.WriteString(s)
	e.b.WriteByte('\n')
	e.lines = append(e.lines, l)
}

// block writes a block and its body. nested names the properties that
// are blocks; modes overrides how named attributes are read.
func (e *emitter) block(b *hcl.Block, head string, nested []string, mode valueMode, modes map[string]valueMode) {
	e.at(b.DefRange.Start.Line, head+" {")
	e.body(b.Body, b.Type, nested, mode, modes)
	e.at(0, "}")
}

func (e *emitter) body(body hcl.Body, blockType string, nested []string, mode valueMode, modes map[string]valueMode) {
	schema := &hcl.BodySchema{}
	if blockType == "resource" || blockType == "data" {
		for _, t := range []string{"lifecycle", "provisioner", "connection"} {
			schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: t})
		}
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: "dynamic", LabelNames: []string{"type"}})
	}
	if strings.HasPrefix(blockType, "dynamic:") {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: "content"})
	}
	for _, n := range nested {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: n})
	}
	content, rest, diags := body.PartialContent(schema)
	if diags.HasErrors() {
		e.fail(diags)
		return
	}
	attrs, diags := rest.JustAttributes()
	if diags.HasErrors() {
		e.fail(diags)
		return
	}
	// Attributes and blocks in the order they are written.
	type item struct {
		at    int
		attr  *hcl.Attribute
		block *hcl.Block
	}
	var items []item
	for _, a := range attrs {
		items = append(items, item{at: a.NameRange.Start.Byte, attr: a})
	}
	for _, nb := range content.Blocks {
		items = append(items, item{at: nb.DefRange.Start.Byte, block: nb})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at < items[j].at })
	for _, it := range items {
		if it.block != nil {
			e.nested(it.block, blockType)
			continue
		}
		a, n := it.attr, it.attr.Name
		m := mode
		if o, ok := modes[n]; ok {
			m = o
		}
		if m == skipMode {
			continue
		}
		v, err := e.value(a.Expr.Range(), m)
		if err != nil {
			e.err = fmt.Errorf("%s (line %d): %v", n, a.NameRange.Start.Line, err)
			return
		}
		e.at(a.NameRange.Start.Line, n+" = "+v)
		if e.err != nil {
			return
		}
	}
}

// nested writes a nested block of a block of type blockType.
func (e *emitter) nested(nb *hcl.Block, blockType string) {
	{
		switch nb.Type {
		case "lifecycle", "provisioner", "connection":
			return
		case "dynamic":
			// The content takes the blocks of the block it generates.
			e.at(nb.DefRange.Start.Line, header(nb)+" {")
			e.body(nb.Body, "dynamic:"+nb.Labels[0], nil, exprMode, map[string]valueMode{"iterator": referenceMode})
			e.at(0, "}")
		case "content":
			e.at(nb.DefRange.Start.Line, "content {")
			e.body(nb.Body, "content", nestedBlocks[strings.TrimPrefix(blockType, "dynamic:")], exprMode, nil)
			e.at(0, "}")
		default:
			e.at(nb.DefRange.Start.Line, nb.Type+" {")
			e.body(nb.Body, nb.Type, nestedBlocks[nb.Type], exprMode, nil)
			e.at(0, "}")
		}
	}
}

func (e *emitter) fail(diags hcl.Diagnostics) {
	if e.err == nil {
		d := diags[0]
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		e.err = fmt.Errorf("line %d: %s: %s", line, d.Summary, d.Detail)
	}
}

// value converts the JSON value at rng into a native expression.
func (e *emitter) value(rng hcl.Range, mode valueMode) (string, error) {
	if rng.Start.Byte < 0 || rng.End.Byte > len(e.src) || rng.Start.Byte > rng.End.Byte {
		return "", fmt.Errorf("the value cannot be read")
	}
	dec := json.NewDecoder(bytes.NewReader(e.src[rng.Start.Byte:rng.End.Byte]))
	dec.UseNumber()
	var b strings.Builder
	if err := convertJSON(dec, &b, mode); err != nil {
		return "", err
	}
	return b.String(), nil
}

func convertJSON(dec *json.Decoder, b *strings.Builder, mode valueMode) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return convertToken(dec, tok, b, mode)
}

func convertToken(dec *json.Decoder, tok json.Token, b *strings.Builder, mode valueMode) error {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := convertJSON(dec, b, mode); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			b.WriteByte(']')
			return err
		case '{':
			b.WriteByte('{')
			for i := 0; dec.More(); i++ {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteTemplate(k, mode != exprMode))
				b.WriteString(" = ")
				if err := convertJSON(dec, b, mode); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			b.WriteByte('}')
			return err
		}
		return fmt.Errorf("unexpected %v", t)
	case string:
		switch mode {
		case typeMode, referenceMode:
			if !isBareExpr(t) {
				return fmt.Errorf("%q is not a reference or a type", t)
			}
			b.WriteString(t)
			return nil
		}
		b.WriteString(quoteTemplate(t, mode == literalMode))
		return nil
	case json.Number:
		b.WriteString(t.String())
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(t))
		return nil
	case nil:
		b.WriteString("null")
		return nil
	}
	if tok == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("unexpected %v", tok)
}

// quoteTemplate writes s as a native quoted string. In expression mode
// ${ and %{ stay template sequences, as the JSON syntax reads them; in
// literal mode they are escaped.
func quoteTemplate(s string, literal bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		case literal && (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case !literal && (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == c && i+2 < len(s) && s[i+2] == '{':
			// $${ and %%{ are the escapes of both syntaxes.
			b.WriteString(s[i : i+3])
			i += 2
		case !literal && (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			// An interpolation or directive is expression syntax:
			// copied as written, up to its closing brace.
			end := interpolationEnd(s, i+2)
			b.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(s[i:end]))
			i = end - 1
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// interpolationEnd is the index just past the } closing the
// interpolation whose body starts at i, skipping braces inside quoted
// strings; len(s) when it is not closed (the parser then reports it).
func interpolationEnd(s string, i int) int {
	depth := 1
	inStr := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// isBareExpr accepts what a type or a reference is written with
// (list(string), aws.west, object({a=string})), nothing that could end
// the line or the block.
func isBareExpr(s string) bool {
	if s == "" || strings.ContainsAny(s, "\n\r\"#") {
		return false
	}
	depth := 0
	for _, c := range s {
		switch c {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}
