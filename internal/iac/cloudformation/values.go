package cloudformation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/yamldoc"
)

// unknown is a value the template does not fix before deployment.
// prefix is the text a string value is known to start with (Fn::Sub and
// Fn::Join written before the first part only a deployment fixes).
type unknown struct {
	why    string
	prefix string
}

// omap is a mapping that keeps the template's key order (policy
// documents are rendered back to JSON in it).
type omap struct {
	keys []string
	m    map[string]any
}

func (o *omap) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.m[k]
	return v, ok
}

func (o *omap) set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

func newMap() *omap { return &omap{m: map[string]any{}} }

// noValue is what AWS::NoValue leaves: the property is removed.
type noValue struct{}

// firstUnknown finds an unknown anywhere in a value.
func firstUnknown(v any) (string, bool) {
	switch x := v.(type) {
	case unknown:
		return x.why, true
	case []any:
		for _, e := range x {
			if w, ok := firstUnknown(e); ok {
				return w, true
			}
		}
	case *omap:
		for _, k := range x.keys {
			if w, ok := firstUnknown(x.m[k]); ok {
				return w, true
			}
		}
	}
	return "", false
}

// str renders a scalar as CloudFormation passes it to the service.
func str(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// toJSON renders a resolved value (a PolicyDocument object) as JSON.
func toJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(x.String())
	case []any:
		b.WriteByte('[')
		n := 0
		for _, e := range x {
			if _, skip := e.(noValue); skip {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *omap:
		b.WriteByte('{')
		n := 0
		for _, k := range x.keys {
			if _, skip := x.m[k].(noValue); skip {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := writeJSON(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, x.m[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case unknown:
		return fmt.Errorf("%s", x.why)
	default:
		return fmt.Errorf("unexpected value %T", v)
	}
	return nil
}

// scalar reads a YAML scalar with its type: JSON templates and YAML
// policies keep booleans and numbers as they were written.
func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int", "!!float":
		return json.Number(n.Value)
	case "!!null":
		return nil
	}
	return n.Value
}

// mapping returns a mapping node's keys and values in order.
func mapping(n *yaml.Node) ([]*yaml.Node, []*yaml.Node) {
	n = yamldoc.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	var ks, vs []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		ks = append(ks, n.Content[i])
		vs = append(vs, yamldoc.Resolve(n.Content[i+1]))
	}
	return ks, vs
}

// child is the value node of key k in a mapping.
func child(n *yaml.Node, k string) (*yaml.Node, *yaml.Node) {
	ks, vs := mapping(n)
	for i, kn := range ks {
		if kn.Value == k {
			return kn, vs[i]
		}
	}
	return nil, nil
}

// shortTags maps YAML short-form intrinsics to their long names.
var shortTags = map[string]string{
	"!Ref": "Ref", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!If": "Fn::If",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64",
	"!ImportValue": "Fn::ImportValue", "!GetAZs": "Fn::GetAZs", "!Equals": "Fn::Equals", "!Not": "Fn::Not",
	"!And": "Fn::And", "!Or": "Fn::Or", "!Condition": "Condition", "!Cidr": "Fn::Cidr",
	"!ToJsonString": "Fn::ToJsonString", "!Length": "Fn::Length", "!Transform": "Fn::Transform",
}

// describe quotes a node briefly for messages.
func describe(n *yaml.Node) string {
	var b strings.Builder
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		b.WriteString(n.Tag + " ")
	}
	switch n.Kind {
	case yaml.ScalarNode:
		b.WriteString(n.Value)
	case yaml.SequenceNode:
		b.WriteString("[")
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(describe(c))
		}
		b.WriteString("]")
	case yaml.MappingNode:
		b.WriteString("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n.Content[i].Value + ": " + describe(n.Content[i+1]))
		}
		b.WriteString("}")
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}
