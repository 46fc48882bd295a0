package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// object is a JSON object that keeps its members in order, so that policy
// documents and statements come out byte-for-byte in the order AWS writes
// them (and seeded documents in the order their author wrote them).
type object []member

type member struct {
	key string
	val any // anything encoding/json can marshal, including json.RawMessage
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := marshalCompact(m.val)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalCompact is json.Marshal without HTML escaping: policy documents
// carry ARNs and conditions with characters like '&' and '<' that AWS
// returns as they are.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func (o object) get(key string) (any, bool) {
	for _, m := range o {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

func (o *object) set(key string, val any) {
	for i, m := range *o {
		if m.key == key {
			(*o)[i].val = val
			return
		}
	}
	*o = append(*o, member{key, val})
}

// parseObject decodes the top level of a JSON object, keeping member order
// and leaving values raw.
func parseObject(doc []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var o object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("bad object key")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		o = append(o, member{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the JSON object")
	}
	return o, nil
}

// compactJSON compacts a document that is already known to be valid JSON.
func compactJSON(doc []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return append([]byte(nil), doc...)
	}
	return buf.Bytes()
}

// statements returns a policy's Statement list (a single statement object
// counts as a list of one) and the parsed document.
func statements(doc []byte) (object, []json.RawMessage, error) {
	o, err := parseObject(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	raw, ok := o.get("Statement")
	if !ok {
		return o, nil, nil
	}
	b, _ := raw.(json.RawMessage)
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return o, []json.RawMessage{b}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, nil, errors.New("policy Statement is neither an object nor a list")
	}
	return o, list, nil
}

// sidOf reads a statement's Sid ("" when it has none).
func sidOf(stmt json.RawMessage) string {
	var s struct {
		Sid string `json:"Sid"`
	}
	_ = json.Unmarshal(stmt, &s)
	return s.Sid
}

// withStatements returns doc with its Statement list replaced; nil when the
// list is empty (Lambda deletes a policy whose last statement is removed).
func withStatements(o object, list []json.RawMessage) []byte {
	if len(list) == 0 {
		return nil
	}
	o = append(object(nil), o...)
	o.set("Statement", list)
	b, _ := o.MarshalJSON()
	return b
}

// newPolicyDoc is the document Lambda creates for a resource's first
// AddPermission.
func newPolicyDoc(stmt []byte) []byte {
	b, _ := object{
		{"Version", "2012-10-17"},
		{"Id", "default"},
		{"Statement", []json.RawMessage{stmt}},
	}.MarshalJSON()
	return b
}

// isPublicStatement is the emulator's (deliberately narrow) test for what a
// public access block's BlockPublicPolicy refuses: an Allow to Principal
// "*" (or {"AWS":"*"}) with no Condition at all.
func isPublicStatement(stmt json.RawMessage) bool {
	var s struct {
		Effect    string          `json:"Effect"`
		Principal json.RawMessage `json:"Principal"`
		Condition json.RawMessage `json:"Condition"`
	}
	if json.Unmarshal(stmt, &s) != nil || s.Effect != "Allow" || !isNullJSON(s.Condition) {
		return false
	}
	var p any
	if json.Unmarshal(s.Principal, &p) != nil {
		return false
	}
	switch x := p.(type) {
	case string:
		return x == "*"
	case map[string]any:
		switch aws := x["AWS"].(type) {
		case string:
			return aws == "*"
		case []any:
			for _, a := range aws {
				if a == "*" {
					return true
				}
			}
		}
	}
	return false
}
