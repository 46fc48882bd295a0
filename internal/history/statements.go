package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
)

// Statement is one statement of a stored policy, in canonical JSON (keys
// sorted, no whitespace) so that the same statement written two ways is
// the same statement.
type Statement struct {
	Sid   string `json:"sid"`
	Index int    `json:"index"`
	Text  string `json:"text"`
	// Hash is the canonical text's SHA-256, shortened: a statement's
	// identity when it has no Sid.
	Hash string `json:"hash"`
}

// ID is how a statement is matched across policy versions: its Sid, or
// its hash when it has none.
func (s Statement) ID() string {
	if s.Sid != "" {
		return "sid:" + s.Sid
	}
	return "stmt:" + s.Hash
}

// maxPolicyBytes caps what is parsed: Lambda's policy limit is 20 KB, so
// anything far larger is not a Lambda policy.
const maxPolicyBytes = 1 << 20

// Statements splits a policy into its statements. Statement may be an
// object or a list, as IAM allows.
func Statements(policy string) ([]Statement, error) {
	if policy == "" {
		return nil, nil
	}
	if len(policy) > maxPolicyBytes {
		return nil, errors.New("policy too large")
	}
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return nil, err
	}
	raw := bytes.TrimSpace(doc.Statement)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []json.RawMessage
	if raw[0] == '{' {
		list = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("Statement is neither an object nor a list")
	}
	out := make([]Statement, 0, len(list))
	for i, r := range list {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, err
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("a statement is not an object")
		}
		canon, err := json.Marshal(obj) // encoding/json sorts map keys
		if err != nil {
			return nil, err
		}
		sid, _ := obj["Sid"].(string)
		sum := sha256.Sum256(canon)
		out = append(out, Statement{Sid: sid, Index: i, Text: string(canon), Hash: hex.EncodeToString(sum[:8])})
	}
	return out, nil
}

// StatementChange is one statement that differs between two versions
// of a policy: Before is nil when added, After nil when removed.
type StatementChange struct {
	Kind   string     `json:"change"` // added | removed | changed
	ID     string     `json:"id"`
	Before *Statement `json:"before,omitempty"`
	After  *Statement `json:"after,omitempty"`
}

// DiffStatements compares two policy texts statement by statement:
// statements with a Sid are matched by Sid (same Sid, other text is
// "changed"); those without by their text. A text that does not parse
// counts as one opaque statement, so a change to it still shows.
func DiffStatements(before, after string) []StatementChange {
	a, b := statementsOrOpaque(before), statementsOrOpaque(after)
	byID := func(list []Statement) map[string][]Statement {
		m := map[string][]Statement{}
		for _, s := range list {
			m[s.ID()] = append(m[s.ID()], s)
		}
		return m
	}
	am, bm := byID(a), byID(b)
	var out []StatementChange
	ids := map[string]bool{}
	for id := range am {
		ids[id] = true
	}
	for id := range bm {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		as, bs := am[id], bm[id]
		n := max(len(as), len(bs))
		for i := range n {
			switch {
			case i >= len(as):
				out = append(out, StatementChange{Kind: "added", ID: id, After: &bs[i]})
			case i >= len(bs):
				out = append(out, StatementChange{Kind: "removed", ID: id, Before: &as[i]})
			case as[i].Text != bs[i].Text:
				out = append(out, StatementChange{Kind: "changed", ID: id, Before: &as[i], After: &bs[i]})
			}
		}
	}
	return out
}

func statementsOrOpaque(policy string) []Statement {
	st, err := Statements(policy)
	if err == nil {
		return st
	}
	capped := policy
	if len(capped) > 4096 {
		capped = capped[:4096]
	}
	sum := sha256.Sum256([]byte(policy))
	return []Statement{{Index: 0, Text: capped, Hash: hex.EncodeToString(sum[:8])}}
}
