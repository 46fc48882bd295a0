package estate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// member is one key of a JSON object written in a fixed order, the order
// Lambda itself writes statements in.
type member struct {
	key   string
	value any
}

type object []member

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal writes a value without HTML escaping, so ARNs and conditions
// read the way AWS prints them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// principalValue is the form AddPermission stores a principal in
// (SEMANTICS.md section 1): "*" stays a bare string, an account id (or
// the owner placeholder) becomes its root ARN, an IAM ARN stays under
// "AWS", a service name goes under "Service".
func principalValue(p, partition string) any {
	p = strings.TrimSpace(p)
	switch {
	case p == "*":
		return "*"
	case isAccount(p):
		return object{{"AWS", "arn:" + partition + ":iam::" + p + ":root"}}
	case strings.HasPrefix(p, "arn:"):
		return object{{"AWS", p}}
	case strings.Contains(p, "."):
		return object{{"Service", p}}
	}
	return object{{"AWS", p}}
}

func isAccount(s string) bool {
	if s == OwnerPlaceholder {
		return true
	}
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// PermissionStatement is the statement AddPermission stores for p on
// resource: keys in Lambda's order, conditions StringEquals (source
// account, organization, event source token, URL auth type), ArnLike
// (source ARN), Bool (invoked via function URL).
func PermissionStatement(p Permission, resource, partition string) json.RawMessage {
	stmt := object{
		{"Sid", p.StatementID},
		{"Effect", "Allow"},
		{"Principal", principalValue(p.Principal, partition)},
		{"Action", p.Action},
		{"Resource", resource},
	}
	var cond, eq object
	if p.SourceAccount != "" {
		eq = append(eq, member{"AWS:SourceAccount", p.SourceAccount})
	}
	if p.PrincipalOrgID != "" {
		eq = append(eq, member{"aws:PrincipalOrgID", p.PrincipalOrgID})
	}
	if p.EventSourceToken != "" {
		eq = append(eq, member{"lambda:EventSourceToken", p.EventSourceToken})
	}
	if p.FunctionURLAuthType != "" {
		eq = append(eq, member{"lambda:FunctionUrlAuthType", p.FunctionURLAuthType})
	}
	if len(eq) > 0 {
		cond = append(cond, member{"StringEquals", eq})
	}
	if p.SourceArn != "" {
		cond = append(cond, member{"ArnLike", object{{"AWS:SourceArn", p.SourceArn}}})
	}
	if p.InvokedViaFunctionURL {
		cond = append(cond, member{"Bool", object{{"lambda:InvokedViaFunctionUrl", "true"}}})
	}
	if len(cond) > 0 {
		stmt = append(stmt, member{"Condition", cond})
	}
	b, _ := stmt.MarshalJSON()
	return b
}

// LayerStatement is the statement AddLayerVersionPermission stores: the
// action is always lambda:GetLayerVersion, an organization id becomes a
// StringEquals aws:PrincipalOrgID condition.
func LayerStatement(p LayerPermission, resource, partition string) json.RawMessage {
	stmt := object{
		{"Sid", p.StatementID},
		{"Effect", "Allow"},
		{"Principal", principalValue(p.Principal, partition)},
		{"Action", "lambda:GetLayerVersion"},
		{"Resource", resource},
	}
	if p.OrganizationID != "" {
		stmt = append(stmt, member{"Condition", object{{"StringEquals", object{{"aws:PrincipalOrgID", p.OrganizationID}}}}})
	}
	b, _ := stmt.MarshalJSON()
	return b
}

// policyText assembles statements into a policy document.
func policyText(version json.RawMessage, stmts []json.RawMessage) string {
	if len(version) == 0 {
		version = json.RawMessage(`"2012-10-17"`)
	}
	var b bytes.Buffer
	b.WriteString(`{"Version":`)
	b.Write(version)
	b.WriteString(`,"Statement":[`)
	for i, s := range stmts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(s)
	}
	b.WriteString(`]}`)
	return b.String()
}

// splitPolicy returns a full policy's Version and statements, each kept
// as written. It refuses what it cannot split without losing something:
// invalid JSON, a key other than Version, Id and Statement, or a key
// repeated in any case (which copy IAM keeps is ambiguous; the engine's
// strict reader reports it when it sees the document whole).
func splitPolicy(doc string) (version json.RawMessage, stmts []json.RawMessage, err error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("a policy is a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("not valid JSON: %w", err)
		}
		key, _ := tok.(string)
		if seen[strings.ToLower(key)] {
			return nil, nil, fmt.Errorf("the key %q is repeated", key)
		}
		seen[strings.ToLower(key)] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("not valid JSON: %w", err)
		}
		switch key {
		case "Version":
			version = raw
		case "Id":
		case "Statement":
			raw = bytes.TrimSpace(raw)
			if len(raw) > 0 && raw[0] == '{' {
				stmts = append(stmts, raw)
				continue
			}
			if err := json.Unmarshal(raw, &stmts); err != nil {
				return nil, nil, fmt.Errorf("Statement is neither an object nor a list of objects")
			}
		default:
			return nil, nil, fmt.Errorf("unknown key %q", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("not valid JSON: text after the policy object")
	}
	return version, stmts, nil
}

// statementFacts is what filtering needs from one statement.
type statementFacts struct {
	allow bool
	// resources are the Resource values; notResource is true for
	// NotResource statements; neither set means the statement names no
	// resource and applies wherever the policy is attached.
	resources   []string
	notResource bool
}

func readFacts(raw json.RawMessage) (statementFacts, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return statementFacts{}, false
	}
	var f statementFacts
	var effect string
	_ = json.Unmarshal(m["Effect"], &effect)
	f.allow = effect == "Allow"
	res, ok := m["Resource"]
	if nr, has := m["NotResource"]; has {
		res, ok, f.notResource = nr, true, true
	}
	if ok {
		var one string
		if json.Unmarshal(res, &one) == nil {
			f.resources = []string{one}
		} else if json.Unmarshal(res, &f.resources) != nil {
			return statementFacts{}, false
		}
	}
	return f, true
}

// appliesTo reports whether a statement of a policy attached to this
// function counts for the resource whose ARN resource part is part
// ("function:NAME" or "function:NAME:QUALIFIER"). Only the resource part
// is compared: the code may not fix the Region and account, and a policy
// is attached to one function anyway. When in doubt an Allow counts and a
// Deny does not (the stricter reading).
func (f statementFacts) appliesTo(part string) bool {
	if len(f.resources) == 0 {
		return true
	}
	matched := false
	for _, r := range f.resources {
		if resourcePartMatch(r, part) {
			matched = true
		}
	}
	if f.notResource {
		// NotResource: applies unless it lists this resource. An Allow
		// counts in doubt.
		return f.allow || !matched
	}
	return matched
}

// resourcePartMatch matches a Resource value against a resource part,
// with * and ? wildcards, ignoring the partition, Region and account.
func resourcePartMatch(pattern, part string) bool {
	if pattern == "*" {
		return true
	}
	fields := strings.SplitN(pattern, ":", 6)
	if len(fields) != 6 {
		return policy.Glob(pattern, part)
	}
	return policy.Glob(fields[5], part)
}
