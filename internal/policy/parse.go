// Package policy parses AWS IAM resource-based policies for Lambda functions
// and layers and reasons about them: a concrete evaluator (Evaluate) that
// answers one request the way IAM does, and an exposure analysis (Analyze)
// that answers "who outside the owner's trust boundary can do what" for
// every request at once, with a sentence a person can check.
//
// The package is pure: no AWS SDK, no network, no database, no processes.
// A test enforces it.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Effect is Allow or Deny.
type Effect string

// Statement effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy.
type Document struct {
	Version    string
	ID         string
	Statements []*Statement
}

// Statement is one parsed statement. Exactly one of Principal/NotPrincipal,
// one of Action/NotAction, and at most one of Resource/NotResource are set.
type Statement struct {
	Index  int // 0-based position in the Statement list
	Sid    string
	Effect Effect

	Principal    *Principals // nil when absent
	NotPrincipal *Principals

	Action    []string
	NotAction []string
	HasAction bool // Action (true) or NotAction (false)

	Resource    []string
	NotResource []string
	HasResource bool // Resource or NotResource present

	Conditions []Condition

	// Raw is the statement's JSON exactly as it appeared, for display.
	Raw json.RawMessage

	actions     actionSet // the known Lambda actions it names (after NotAction)
	grantees    []term    // who an Allow grants to
	listedTerms []term    // the principals named in Principal/NotPrincipal
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	Everyone      bool // the bare string "*"
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// ParseError is a policy that cannot be read. Statement is the 0-based
// statement index, or -1 for a document-level problem.
type ParseError struct {
	Statement int
	Sid       string
	Msg       string
}

func (e *ParseError) Error() string {
	if e.Statement < 0 {
		return "policy: " + e.Msg
	}
	if e.Sid != "" {
		return fmt.Sprintf("policy statement %d (Sid %q): %s", e.Statement, e.Sid, e.Msg)
	}
	return fmt.Sprintf("policy statement %d: %s", e.Statement, e.Msg)
}

// Parse reads a resource-based policy document (every statement names its
// principals). Element names are matched case-insensitively; any unknown
// element, wrong type or empty statement list is an error, never a silent
// skip.
func Parse(data []byte) (*Document, error) { return parse(data, false) }

// ParseIdentity reads an identity-based policy (attached to a user or
// role), whose statements name no principal.
func ParseIdentity(data []byte) (*Document, error) { return parse(data, true) }

func parse(data []byte, identity bool) (*Document, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, &ParseError{Statement: -1, Msg: "the document is empty"}
	}
	var top map[string]json.RawMessage
	if err := unmarshalStrict(data, &top); err != nil {
		return nil, &ParseError{Statement: -1, Msg: "not a JSON object: " + jsonErr(err)}
	}
	doc := &Document{}
	var stmts json.RawMessage
	seen := map[string]bool{}
	for _, k := range sortedKeys(top) {
		name := canonical(k, "Version", "Id", "Statement")
		if name == "" {
			return nil, &ParseError{Statement: -1, Msg: fmt.Sprintf("unknown top-level element %q (allowed: Version, Id, Statement)", k)}
		}
		if seen[name] {
			return nil, &ParseError{Statement: -1, Msg: fmt.Sprintf("element %s appears twice", name)}
		}
		seen[name] = true
		v := top[k]
		switch name {
		case "Version":
			if err := json.Unmarshal(v, &doc.Version); err != nil {
				return nil, &ParseError{Statement: -1, Msg: "Version must be a string"}
			}
		case "Id":
			if err := json.Unmarshal(v, &doc.ID); err != nil {
				return nil, &ParseError{Statement: -1, Msg: "Id must be a string"}
			}
		case "Statement":
			stmts = v
		}
	}
	if stmts == nil {
		return nil, &ParseError{Statement: -1, Msg: "missing Statement"}
	}
	var list []json.RawMessage
	switch firstByte(stmts) {
	case '[':
		if err := json.Unmarshal(stmts, &list); err != nil {
			return nil, &ParseError{Statement: -1, Msg: "Statement must be an object or an array of objects"}
		}
	case '{':
		list = []json.RawMessage{stmts}
	default:
		return nil, &ParseError{Statement: -1, Msg: "Statement must be an object or an array of objects"}
	}
	if len(list) == 0 {
		return nil, &ParseError{Statement: -1, Msg: "Statement is empty: a policy needs at least one statement"}
	}
	for i, raw := range list {
		st, err := parseStatement(i, raw, identity)
		if err != nil {
			return nil, err
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc, nil
}

func parseStatement(i int, raw json.RawMessage, identity bool) (*Statement, error) {
	st := &Statement{Index: i, Raw: raw}
	fail := func(format string, args ...any) error {
		return &ParseError{Statement: i, Sid: st.Sid, Msg: fmt.Sprintf(format, args...)}
	}
	if firstByte(raw) != '{' {
		return nil, fail("a statement must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := unmarshalStrict(raw, &m); err != nil {
		return nil, fail("%s", jsonErr(err))
	}
	fields := map[string]json.RawMessage{}
	for _, k := range sortedKeys(m) {
		name := canonical(k, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
		if name == "" {
			return nil, fail("unknown element %q (allowed: Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)", k)
		}
		if _, dup := fields[name]; dup {
			return nil, fail("element %s appears twice", name)
		}
		fields[name] = m[k]
	}
	if v, ok := fields["Sid"]; ok {
		if err := json.Unmarshal(v, &st.Sid); err != nil {
			return nil, fail("Sid must be a string")
		}
	}
	var effect string
	if v, ok := fields["Effect"]; !ok {
		return nil, fail("missing Effect (Allow or Deny)")
	} else if err := json.Unmarshal(v, &effect); err != nil {
		return nil, fail("Effect must be the string Allow or Deny")
	}
	switch {
	case strings.EqualFold(effect, "Allow"):
		st.Effect = Allow
	case strings.EqualFold(effect, "Deny"):
		st.Effect = Deny
	default:
		return nil, fail("Effect is %q; it must be Allow or Deny", effect)
	}

	p, hasP := fields["Principal"]
	np, hasNP := fields["NotPrincipal"]
	switch {
	case identity && (hasP || hasNP):
		return nil, fail("an identity-based policy names no Principal; it applies to whoever it is attached to")
	case identity:
	case hasP && hasNP:
		return nil, fail("has both Principal and NotPrincipal; use one")
	case !hasP && !hasNP:
		return nil, fail("missing Principal: a resource-based policy statement must name who it applies to")
	case hasP:
		pr, err := parsePrincipals(p)
		if err != nil {
			return nil, fail("Principal: %s", err)
		}
		st.Principal = pr
	default:
		pr, err := parsePrincipals(np)
		if err != nil {
			return nil, fail("NotPrincipal: %s", err)
		}
		st.NotPrincipal = pr
	}

	a, hasA := fields["Action"]
	na, hasNA := fields["NotAction"]
	switch {
	case hasA && hasNA:
		return nil, fail("has both Action and NotAction; use one")
	case !hasA && !hasNA:
		return nil, fail("missing Action")
	case hasA:
		list, err := stringList(a)
		if err != nil {
			return nil, fail("Action: %s", err)
		}
		st.Action, st.HasAction = list, true
		st.actions = matchActions(list)
	default:
		list, err := stringList(na)
		if err != nil {
			return nil, fail("NotAction: %s", err)
		}
		st.NotAction = list
		st.actions = allActions.minus(matchActions(list))
	}

	r, hasR := fields["Resource"]
	nr, hasNR := fields["NotResource"]
	switch {
	case hasR && hasNR:
		return nil, fail("has both Resource and NotResource; use one")
	case hasR:
		list, err := stringList(r)
		if err != nil {
			return nil, fail("Resource: %s", err)
		}
		st.Resource, st.HasResource = list, true
	case hasNR:
		list, err := stringList(nr)
		if err != nil {
			return nil, fail("NotResource: %s", err)
		}
		st.NotResource, st.HasResource = list, true
	}

	if c, ok := fields["Condition"]; ok {
		conds, err := parseConditions(c)
		if err != nil {
			return nil, fail("Condition: %s", err)
		}
		st.Conditions = conds
	}
	if !identity {
		st.terms()
		st.listed()
	}
	return st, nil
}

func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			kind := "AWS"
			if strings.Contains(s, ".") && !strings.HasPrefix(s, "arn:") {
				kind = "Service"
			}
			return nil, fmt.Errorf("the only string value allowed is \"*\"; got %q (write {%q: %q})", s, kind, s)
		}
		return &Principals{Everyone: true}, nil
	case '{':
	default:
		return nil, fmt.Errorf("must be \"*\" or an object like {\"AWS\": ...}")
	}
	var m map[string]json.RawMessage
	if err := unmarshalStrict(raw, &m); err != nil {
		return nil, fmt.Errorf("%s", jsonErr(err))
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("is an empty object")
	}
	p := &Principals{}
	for _, k := range sortedKeys(m) {
		list, err := stringList(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %s", k, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s is empty", k)
		}
		switch canonical(k, "AWS", "Service", "Federated", "CanonicalUser") {
		case "AWS":
			p.AWS = append(p.AWS, list...)
		case "Service":
			p.Service = append(p.Service, list...)
		case "Federated":
			p.Federated = append(p.Federated, list...)
		case "CanonicalUser":
			p.CanonicalUser = append(p.CanonicalUser, list...)
		default:
			return nil, fmt.Errorf("unknown principal type %q (allowed: AWS, Service, Federated, CanonicalUser)", k)
		}
	}
	return p, nil
}

// stringList reads a string or an array of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("must be a string or an array of strings")
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("is an empty array")
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			if firstByte(it) != '"' {
				return nil, fmt.Errorf("must be a string or an array of strings; found %s", describeJSON(it))
			}
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a string or an array of strings; found %s", describeJSON(raw))
}

// scalarList reads condition values: strings, numbers or booleans, alone or
// in an array. IAM compares them as strings.
func scalarList(raw json.RawMessage) ([]string, error) {
	one := func(it json.RawMessage) (string, error) {
		switch b := firstByte(it); {
		case b == '"':
			var s string
			err := json.Unmarshal(it, &s)
			return s, err
		case b == 't' || b == 'f':
			var v bool
			if err := json.Unmarshal(it, &v); err != nil {
				return "", err
			}
			return strconv.FormatBool(v), nil
		case b == '-' || (b >= '0' && b <= '9'):
			var n json.Number
			if err := json.Unmarshal(it, &n); err != nil {
				return "", err
			}
			return n.String(), nil
		}
		return "", fmt.Errorf("values must be strings, numbers or booleans; found %s", describeJSON(it))
	}
	if firstByte(raw) == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("is an empty array")
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := one(it)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := one(raw)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// canonical returns the name from names that k equals case-insensitively.
func canonical(k string, names ...string) string {
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return n
		}
	}
	return ""
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func describeJSON(raw []byte) string {
	switch firstByte(raw) {
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
	case 0:
		return "nothing"
	}
	return "a number"
}

// unmarshalStrict decodes a JSON object; json.Unmarshal already rejects
// trailing data after it.
func unmarshalStrict(data []byte, v *map[string]json.RawMessage) error {
	if firstByte(data) != '{' {
		return fmt.Errorf("expected a JSON object, found %s", describeJSON(data))
	}
	if err := json.Unmarshal(data, v); err != nil {
		var se *json.SyntaxError
		if asSyntax(err, &se) && strings.Contains(se.Error(), "after top-level value") {
			return fmt.Errorf("unexpected data after the JSON object")
		}
		return err
	}
	return nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if ok := asSyntax(err, &se); ok {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return err.Error()
}

func asSyntax(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
