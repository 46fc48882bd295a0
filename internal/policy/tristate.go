package policy

import "strings"

// tri is a verdict that may not be decidable at scan time: a condition on
// a key whose value only the live request carries, or a Resource with a
// policy variable that cannot be resolved.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func triAnd(a, b tri) tri {
	switch {
	case a == triFalse || b == triFalse:
		return triFalse
	case a == triTrue && b == triTrue:
		return triTrue
	}
	return triUnknown
}

// Known is the part of a request's context that is known before the
// request is made: condition keys (lower-cased) with their values. A key
// present with no values is known to be absent; a key not in the map is
// unknown, and a condition on it can go either way.
type Known map[string][]string

// RoleSessionContext is what is known of any request a session of role
// roleARN (in account owner, of organization orgID when not empty) makes
// directly to a resource of its own account: who the principal is, and
// that no service makes the call on a resource's behalf.
func RoleSessionContext(owner, roleARN, orgID string) Known {
	k := Known{
		"aws:principalaccount":      {owner},
		"aws:principalarn":          {roleARN},
		"aws:principaltype":         {"AssumedRole"},
		"aws:principalisawsservice": {"false"},
		"aws:resourceaccount":       {owner},
		// Present only when a service calls on behalf of a resource.
		"aws:sourceaccount": nil,
		"aws:sourcearn":     nil,
		"aws:sourceowner":   nil,
	}
	if orgID != "" {
		k["aws:principalorgid"] = []string{orgID}
	}
	return k
}

// conditionState evaluates the statement's conditions with what is known.
// unknown lists the conditions that could not be decided.
func (s *Statement) conditionState(known Known) (state tri, unknown []*Condition) {
	state = triTrue
	for i := range s.Conditions {
		c := &s.Conditions[i]
		vals, ok := known[c.key]
		if !ok || hasVariable(c.Values) {
			unknown = append(unknown, c)
			continue
		}
		ctx := map[string][]string{}
		if vals != nil {
			ctx[c.key] = vals
		}
		if !c.Holds(ctx) {
			return triFalse, nil
		}
	}
	if len(unknown) > 0 {
		state = triUnknown
	}
	return state, unknown
}

func hasVariable(values []string) bool {
	for _, v := range values {
		if strings.Contains(v, "${") {
			return true
		}
	}
	return false
}

// resourceState says whether the statement's Resource or NotResource
// covers arn. Policy variables are replaced by the known values of their
// keys; one that stays unresolved could stand for anything, so the answer
// is unknown unless the pattern decides either way without it.
func (s *Statement) resourceState(arn string, known Known) tri {
	if !s.HasResource || arn == "" {
		return triTrue
	}
	list := s.Resource
	if list == nil {
		list = s.NotResource
	}
	must, may := false, false
	for _, p := range list {
		lo, hi := resolveVariables(p, known)
		if resourceGlob(hi, arn) {
			may = true
		}
		if lo != "" && resourceGlob(lo, arn) {
			must = true
		}
	}
	if s.Resource == nil {
		// NotResource: the statement covers arn when no pattern does.
		must, may = !may, !must
	}
	switch {
	case must:
		return triTrue
	case may:
		return triUnknown
	}
	return triFalse
}

// resolveVariables substitutes ${key} with the key's single known value.
// hi replaces each unresolved variable with "*" (matches at least what the
// policy could mean); lo is "" when a variable stays unresolved (matches
// nothing for certain).
func resolveVariables(p string, known Known) (lo, hi string) {
	if !strings.Contains(p, "${") {
		return p, p
	}
	var b strings.Builder
	resolved := true
	rest := p
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		key := strings.ToLower(rest[i+2 : i+j])
		switch key {
		case "$":
			b.WriteString("$")
		case "*", "?":
			// IAM's escapes for a literal * or ?, which the glob would
			// read as a wildcard: certain only in hi.
			resolved = false
			b.WriteString(key)
		default:
			if v, ok := known[key]; ok && len(v) == 1 {
				b.WriteString(v[0])
			} else {
				resolved = false
				b.WriteString("*")
			}
		}
		rest = rest[i+j+1:]
	}
	hi = b.String()
	if resolved {
		return hi, hi
	}
	return "", hi
}
