// Package policy parses AWS IAM resource-based policies for Lambda functions
// and layers and reasons about them: a concrete evaluator (Evaluate) that
// answers one request the way IAM does, and an exposure analysis (Analyze)
// that answers "who outside the owner's trust boundary can do what" for
// every request at once, with a sentence a person can check. For access
// paths through roles it also reads identity policies, permission
// boundaries and SCPs (PermissionSet) and judges who outside the trust
// boundary may assume a role (JudgeTrust).
//
// The package is pure: no AWS SDK, no network, no database, no processes.
// A test enforces it.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
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
// principals). Element names are matched case-insensitively, values are
// not: Effect is exactly Allow or Deny. Any unknown element, wrong type,
// empty statement list or name repeated in one object is an error, never a
// silent skip or a guess.
func Parse(data []byte) (*Document, error) { return parse(data, false) }

// ParseIdentity reads an identity-based policy (attached to a user or
// role), whose statements name no principal.
func ParseIdentity(data []byte) (*Document, error) { return parse(data, true) }

func parse(data []byte, identity bool) (*Document, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, &ParseError{Statement: -1, Msg: "the document is empty"}
	}
	if data[0] != '{' {
		return nil, &ParseError{Statement: -1, Msg: "not a JSON object: expected a JSON object, found " + describeJSON(data)}
	}
	r, top, err := readTree(data)
	if err == nil {
		defer r.release()
	}
	if err != nil {
		pe := &ParseError{Statement: -1, Msg: err.Error()}
		if d, ok := err.(*duplicateError); ok {
			pe.Statement = d.statementIndex()
		} else {
			pe.Msg = "not a JSON object: " + pe.Msg
		}
		return nil, pe
	}
	doc := &Document{}
	var buf [3]val
	fields, err := canonicalFields(top, "top-level element", buf[:], "Version", "Id", "Statement")
	if err != nil {
		return nil, &ParseError{Statement: -1, Msg: err.Error()}
	}
	if v := fields[0]; v.t != nil {
		if v.kind() != '"' {
			return nil, &ParseError{Statement: -1, Msg: "Version must be a string"}
		}
		doc.Version = v.text()
		// IAM knows two grammar versions and rejects a policy naming
		// any other (MalformedPolicyDocument): never guess at one.
		if doc.Version != "2012-10-17" && doc.Version != "2008-10-17" {
			shown := doc.Version
			if len(shown) > 40 {
				shown = shown[:40] + "..."
			}
			return nil, &ParseError{Statement: -1, Msg: fmt.Sprintf("Version %q is not a policy language version IAM knows (2012-10-17 or 2008-10-17)", shown)}
		}
	}
	if v := fields[1]; v.t != nil {
		if v.kind() != '"' {
			return nil, &ParseError{Statement: -1, Msg: "Id must be a string"}
		}
		doc.ID = v.text()
	}
	stmts := fields[2]
	if stmts.t == nil {
		return nil, &ParseError{Statement: -1, Msg: "missing Statement"}
	}
	count := 1
	switch stmts.kind() {
	case '[':
		count = stmts.len()
	case '{':
	default:
		return nil, &ParseError{Statement: -1, Msg: "Statement must be an object or an array of objects"}
	}
	if count == 0 {
		return nil, &ParseError{Statement: -1, Msg: "Statement is empty: a policy needs at least one statement"}
	}
	// One allocation for every statement of the document.
	all := make([]Statement, count)
	doc.Statements = make([]*Statement, count)
	for i := range count {
		n := stmts
		if stmts.kind() == '[' {
			n = stmts.elem(i)
		}
		if err := parseStatement(&all[i], i, n, identity); err != nil {
			return nil, err
		}
		doc.Statements[i] = &all[i]
	}
	return doc, nil
}

// canonicalFields maps an object's members onto names (matched
// case-insensitively, as IAM matches element names), in the order of
// names. Two members that name the same element in different case are an
// error like an exact repeat.
func canonicalFields(obj val, what string, out []val, names ...string) ([]val, error) {
	out = out[:len(names)]
	for i := range obj.len() {
		k := obj.name(i)
		j := canonicalIndex(k, names)
		if j < 0 {
			return nil, fmt.Errorf("unknown %s %q (allowed: %s)", what, k, strings.Join(names, ", "))
		}
		if out[j].t != nil {
			return nil, fmt.Errorf("element %s appears twice", names[j])
		}
		out[j] = obj.elem(i)
	}
	return out, nil
}

// Statement element positions in statementNames.
const (
	fSid = iota
	fEffect
	fPrincipal
	fNotPrincipal
	fAction
	fNotAction
	fResource
	fNotResource
	fCondition
)

var statementNames = [...]string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func parseStatement(st *Statement, i int, n val, identity bool) error {
	st.Index = i
	fail := func(format string, args ...any) error {
		return &ParseError{Statement: i, Sid: st.Sid, Msg: fmt.Sprintf(format, args...)}
	}
	if n.kind() != '{' {
		return fail("a statement must be a JSON object")
	}
	st.Raw = json.RawMessage(n.raw())
	var buf [len(statementNames)]val
	fields, err := canonicalFields(n, "element", buf[:], statementNames[:]...)
	if err != nil {
		return fail("%s", err)
	}
	if v := fields[fSid]; v.t != nil {
		if v.kind() != '"' {
			return fail("Sid must be a string")
		}
		st.Sid = v.text()
	}
	switch v := fields[fEffect]; {
	case v.t == nil:
		return fail("missing Effect (Allow or Deny)")
	case v.kind() != '"':
		return fail("Effect must be the string Allow or Deny")
	case v.text() == "Allow":
		st.Effect = Allow
	case v.text() == "Deny":
		st.Effect = Deny
	default:
		// IAM compares Effect exactly: "allow" is not Allow.
		return fail("Effect is %q; it must be exactly Allow or Deny (IAM compares it case-sensitively)", v.text())
	}

	p, np := fields[fPrincipal], fields[fNotPrincipal]
	switch {
	case identity && (p.t != nil || np.t != nil):
		return fail("an identity-based policy names no Principal; it applies to whoever it is attached to")
	case identity:
	case p.t != nil && np.t != nil:
		return fail("has both Principal and NotPrincipal; use one")
	case p.t == nil && np.t == nil:
		return fail("missing Principal: a resource-based policy statement must name who it applies to")
	case p.t != nil:
		pr, err := parsePrincipals(p)
		if err != nil {
			return fail("Principal: %s", err)
		}
		st.Principal = pr
	default:
		pr, err := parsePrincipals(np)
		if err != nil {
			return fail("NotPrincipal: %s", err)
		}
		st.NotPrincipal = pr
	}

	a, na := fields[fAction], fields[fNotAction]
	switch {
	case a.t != nil && na.t != nil:
		return fail("has both Action and NotAction; use one")
	case a.t == nil && na.t == nil:
		return fail("missing Action")
	case a.t != nil:
		list, err := stringList(a)
		if err != nil {
			return fail("Action: %s", err)
		}
		st.Action, st.HasAction = list, true
		st.actions = matchActions(list)
	default:
		list, err := stringList(na)
		if err != nil {
			return fail("NotAction: %s", err)
		}
		st.NotAction = list
		st.actions = allActions.minus(matchActions(list))
	}

	r, nr := fields[fResource], fields[fNotResource]
	switch {
	case r.t != nil && nr.t != nil:
		return fail("has both Resource and NotResource; use one")
	case identity && r.t == nil && nr.t == nil:
		// IAM and Organizations reject it; reading it as "every resource"
		// would let a Deny in a mistyped SCP file remove paths.
		return fail("missing Resource: an identity-based policy or SCP statement must name its Resource or NotResource")
	case r.t != nil:
		list, err := stringList(r)
		if err != nil {
			return fail("Resource: %s", err)
		}
		st.Resource, st.HasResource = list, true
	case nr.t != nil:
		list, err := stringList(nr)
		if err != nil {
			return fail("NotResource: %s", err)
		}
		st.NotResource, st.HasResource = list, true
	}

	if c := fields[fCondition]; c.t != nil {
		conds, err := parseConditions(c)
		if err != nil {
			return fail("Condition: %s", err)
		}
		st.Conditions = conds
	}
	if !identity {
		st.terms()
		st.listed()
	}
	return nil
}

var principalNames = []string{"AWS", "Service", "Federated", "CanonicalUser"}

func parsePrincipals(n val) (*Principals, error) {
	switch n.kind() {
	case '"':
		s := n.text()
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
	if n.len() == 0 {
		return nil, fmt.Errorf("is an empty object")
	}
	p := &Principals{}
	seen := [4]bool{}
	var ibuf [4]int
	for _, i := range sortedMembers(n, ibuf[:0]) {
		k := n.name(i)
		list, err := stringList(n.elem(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %s", k, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s is empty", k)
		}
		j := canonicalIndex(k, principalNames)
		if j < 0 {
			return nil, fmt.Errorf("unknown principal type %q (allowed: AWS, Service, Federated, CanonicalUser)", k)
		}
		if seen[j] {
			return nil, fmt.Errorf("principal type %s appears twice", principalNames[j])
		}
		seen[j] = true
		switch j {
		case 0:
			p.AWS = list
		case 1:
			p.Service = list
		case 2:
			p.Federated = list
		case 3:
			p.CanonicalUser = list
		}
	}
	return p, nil
}

// stringList reads a string or an array of strings.
func stringList(n val) ([]string, error) {
	switch n.kind() {
	case '"':
		return []string{n.text()}, nil
	case '[':
		if n.len() == 0 {
			return nil, fmt.Errorf("is an empty array")
		}
		out := make([]string, 0, n.len())
		for i := range n.len() {
			it := n.elem(i)
			if it.kind() != '"' {
				return nil, fmt.Errorf("must be a string or an array of strings; found %s", it.describe())
			}
			out = append(out, it.text())
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a string or an array of strings; found %s", n.describe())
}

// scalarList reads condition values: strings, numbers or booleans, alone or
// in an array. IAM compares them as strings.
func scalarList(n val) ([]string, error) {
	one := func(it val) (string, error) {
		switch it.kind() {
		case '"', '0', 't', 'f':
			return it.text(), nil
		}
		return "", fmt.Errorf("values must be strings, numbers or booleans; found %s", it.describe())
	}
	if n.kind() == '[' {
		if n.len() == 0 {
			return nil, fmt.Errorf("is an empty array")
		}
		out := make([]string, 0, n.len())
		for i := range n.len() {
			s, err := one(n.elem(i))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := one(n)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// canonical returns the name from names that k equals case-insensitively.
func canonical(k string, names ...string) string {
	if i := canonicalIndex(k, names); i >= 0 {
		return names[i]
	}
	return ""
}

func canonicalIndex(k string, names []string) int {
	for i, n := range names {
		if k == n {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(k, n) {
			return i
		}
	}
	return -1
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func describeJSON(raw []byte) string {
	if b := firstByte(raw); b != 0 {
		return describeKind(jsonKind(b))
	}
	return "nothing"
}

// jsonKind is the kind of the value a byte starts (a digit or '-' is a
// number).
func jsonKind(b byte) jsontext.Kind {
	switch b {
	case '{', '[', '"', 't', 'f', 'n':
		return jsontext.Kind(b)
	}
	return '0'
}

// sortedMembers returns the positions of an object's members in the
// order of their names, so conditions and principals are listed the same
// way whatever order the document wrote them in.
// buf is the caller's backing store (a small array, usually enough).
func sortedMembers(obj val, buf []int) []int {
	idx := buf[:0]
	for i := range obj.len() {
		idx = append(idx, i)
	}
	// Insertion sort: a handful of names, no allocation.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && obj.name(idx[j]) < obj.name(idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}
