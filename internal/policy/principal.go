package policy

import (
	"strings"
)

// principalKind is who one entry of a Principal element names.
type principalKind int

const (
	pkEveryone  principalKind = iota // "*", {"AWS":"*"}, wildcard account, NotPrincipal
	pkAccount                        // an account, or a user/role inside one
	pkService                        // an AWS service principal
	pkFederated                      // an identity provider that is not an IAM ARN
	pkOpaque                         // an identity whose account cannot be read (unique ID, canonical user)
)

// term is one principal an Allow statement grants to.
type term struct {
	kind    principalKind
	account string // pkAccount
	name    string // service, provider, or the value as written
	display string // for explanations
}

// terms expands a statement's principals into terms, computed once at
// parse time. NotPrincipal in an Allow grants everyone but those listed:
// one everyone term.
func (s *Statement) terms() []term {
	if s.grantees == nil {
		s.grantees = s.expandTerms()
	}
	return s.grantees
}

// listed expands the principals a statement names, in Principal or
// NotPrincipal alike (what a Deny covers or spares).
func (s *Statement) listed() []term {
	if s.listedTerms == nil {
		p := s.Principal
		switch {
		case p != nil && s.grantees != nil:
			s.listedTerms = s.grantees // the same principals, already expanded
		case p == nil:
			p = s.NotPrincipal
			fallthrough
		default:
			s.listedTerms = (&Statement{Principal: p}).expandTerms()
		}
	}
	return s.listedTerms
}

func (s *Statement) expandTerms() []term {
	if s.NotPrincipal != nil {
		return []term{{kind: pkEveryone, display: "anyone except " + describePrincipals(s.NotPrincipal) + " (NotPrincipal)"}}
	}
	p := s.Principal
	if p.Everyone {
		return []term{{kind: pkEveryone, display: `anyone (Principal "*")`}}
	}
	out := make([]term, 0, len(p.AWS)+len(p.Service)+len(p.Federated)+len(p.CanonicalUser))
	for _, v := range p.AWS {
		out = append(out, awsTerm(v))
	}
	for _, v := range p.Service {
		if hasWildcard(v) {
			// Not valid IAM; read as every service and every caller
			// (our rule, the stricter reading).
			out = append(out, term{kind: pkEveryone, name: v, display: `anyone (Service principal "` + v + `" is a wildcard)`})
			continue
		}
		out = append(out, term{kind: pkService, name: strings.ToLower(v), display: "the service " + v})
	}
	for _, v := range p.Federated {
		if a, err := parseARNParts(v); err == nil && a[4] != "" && !hasWildcard(a[4]) {
			out = append(out, term{kind: pkAccount, account: a[4], name: v, display: v + " (account " + a[4] + ")"})
			continue
		}
		out = append(out, term{kind: pkFederated, name: v, display: "anyone who signs in through " + v + " (Federated principal)"})
	}
	for _, v := range p.CanonicalUser {
		out = append(out, term{kind: pkOpaque, name: v, display: "the canonical user " + v + " (its account cannot be read from the ID)"})
	}
	return out
}

// awsTerm reads one value of an "AWS" principal.
func awsTerm(v string) term {
	switch {
	case v == "*":
		return term{kind: pkEveryone, name: v, display: `anyone (Principal {"AWS": "*"})`}
	case isAccountID(v):
		return term{kind: pkAccount, account: v, name: v, display: "account " + v}
	}
	if a, err := parseARNParts(v); err == nil {
		acct := a[4]
		if acct == "" || hasWildcard(acct) {
			// Partial wildcards are not valid IAM; a wildcard account
			// means every account (our rule).
			return term{kind: pkEveryone, name: v, display: `anyone (Principal "` + v + `" has a wildcard account, read as every account)`}
		}
		if a[5] == "root" {
			return term{kind: pkAccount, account: acct, name: v, display: "account " + acct}
		}
		return term{kind: pkAccount, account: acct, name: v, display: v + " (account " + acct + ")"}
	}
	if hasWildcard(v) {
		return term{kind: pkEveryone, name: v, display: `anyone (Principal "` + v + `" is a wildcard)`}
	}
	// IAM replaces a deleted principal with its unique ID (AIDA..., AROA...).
	return term{kind: pkOpaque, name: v, display: "the principal " + v + " (a unique ID; its account cannot be read)"}
}

// parseARNParts splits an ARN into exactly six parts.
func parseARNParts(s string) ([6]string, error) {
	var out [6]string
	if !strings.HasPrefix(s, "arn:") {
		return out, errNotARN
	}
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return out, errNotARN
		}
		out[i], s = s[:j], s[j+1:]
	}
	out[5] = s
	return out, nil
}

type notARNError struct{}

func (notARNError) Error() string { return "not an ARN" }

var errNotARN error = notARNError{}

// isAccountID reports whether s is a bare account id. Any run of digits
// is read as one, whatever its length, and compared with the owner as a
// string (SEMANTICS.md section 4): IAM unique ids start with letters, so
// nothing else is lost by it.
func isAccountID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// describePrincipals renders a Principal element briefly.
func describePrincipals(p *Principals) string {
	if p.Everyone {
		return `"*"`
	}
	var parts []string
	parts = append(parts, p.AWS...)
	parts = append(parts, p.Service...)
	parts = append(parts, p.Federated...)
	parts = append(parts, p.CanonicalUser...)
	return joinLimited(parts, 3)
}

// joinLimited joins at most n items and says how many were left out.
func joinLimited(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + " and " + itoa(len(items)-n) + " more"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// matchesCaller reports whether a Principal element names the caller
// (used by the concrete evaluator).
func (p *Principals) matchesCaller(c *Caller) bool {
	if p.Everyone {
		return true
	}
	for _, v := range p.AWS {
		t := awsTerm(v)
		switch t.kind {
		case pkEveryone:
			return true
		case pkAccount:
			if c.Kind == CallerIAM && c.Account == t.account {
				if isAccountID(v) || strings.HasSuffix(v, ":root") || c.ARN == v {
					return true
				}
			}
		case pkOpaque:
			if c.Kind == CallerIAM && c.UserID == v {
				return true
			}
		}
	}
	for _, v := range p.Service {
		if hasWildcard(v) || (c.Kind == CallerService && strings.EqualFold(c.Service, v)) {
			return true
		}
	}
	for _, v := range p.Federated {
		if c.Kind == CallerFederated && c.Provider == v {
			return true
		}
	}
	for _, v := range p.CanonicalUser {
		if c.Kind == CallerIAM && c.CanonicalID == v {
			return true
		}
	}
	return false
}
