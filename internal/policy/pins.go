package policy

import (
	"net/netip"
	"strings"
)

// pinKind is what a condition key can pin a caller to: an account, an
// organization, a source resource or a network. Only a pin makes a grant
// to everyone or to a service less than public.
type pinKind int

const (
	pinNone    pinKind = iota
	pinAccount         // aws:SourceAccount, aws:SourceOwner, aws:PrincipalAccount
	pinARN             // aws:SourceArn, aws:PrincipalArn: the ARN's account field
	pinOrg             // aws:PrincipalOrgID, aws:SourceOrgID
	pinOrgPath         // aws:PrincipalOrgPaths, aws:SourceOrgPaths: the path's organization
	pinToken           // lambda:EventSourceToken: one Alexa skill
	pinUserID          // aws:userid: specific principals, account unreadable
	pinIP              // aws:SourceIp: a network, when every range is private
	pinVPCIP           // aws:VpcSourceIp: present only through a VPC endpoint
	pinNetwork         // aws:SourceVpc, aws:SourceVpce and friends
)

var pinKeys = map[string]pinKind{
	"aws:sourceaccount":       pinAccount,
	"aws:sourceowner":         pinAccount,
	"aws:principalaccount":    pinAccount,
	"aws:sourcearn":           pinARN,
	"aws:principalarn":        pinARN,
	"aws:principalorgid":      pinOrg,
	"aws:sourceorgid":         pinOrg,
	"aws:principalorgpaths":   pinOrgPath,
	"aws:sourceorgpaths":      pinOrgPath,
	"lambda:eventsourcetoken": pinToken,
	"aws:userid":              pinUserID,
	"aws:sourceip":            pinIP,
	"aws:vpcsourceip":         pinVPCIP,
	"aws:sourcevpc":           pinNetwork,
	"aws:sourcevpce":          pinNetwork,
	"aws:sourcevpcarn":        pinNetwork,
	"aws:vpceaccount":         pinNetwork,
	"aws:vpceorgid":           pinNetwork,
	"aws:vpceorgpaths":        pinNetwork,
}

// pinKeyNames lists pinKeys' names, for lowerKey.
var pinKeyNames = func() []string {
	out := make([]string, 0, len(pinKeys))
	for k := range pinKeys {
		out = append(out, k)
	}
	return out
}()

// audience is who a pinning condition (or a Deny's exemption) lets
// through, as an exposure class. Its description is built only when an
// explanation needs it.
type audience struct {
	class   Class
	network bool // the limit is a network, not an identity
	unfixed bool // a value is a wildcard or variable: it pins nothing
	cond    *Condition
}

var positivePinOps = map[string]bool{"StringEquals": true, "StringEqualsIgnoreCase": true, "StringLike": true, "ArnEquals": true, "ArnLike": true}
var negatedPinOps = map[string]bool{"StringNotEquals": true, "StringNotEqualsIgnoreCase": true, "StringNotLike": true, "ArnNotEquals": true, "ArnNotLike": true}

// pinOf reports the audience a condition restricts callers to. positive
// selects Allow reading (the condition must hold for the call to be
// allowed, so only positive operators pin); otherwise it reads a Deny
// condition, where a negated operator exempts the callers its values
// describe. nullFalse lists keys that the same block requires to be
// present (Null key "false"), which makes IfExists and ForAllValues pin.
//
// ok is false when the condition does not have the shape of a pin. A pin
// whose value is a wildcard or variable comes back unfixed, class Public.
func (a *analyzer) pinOf(c *Condition, positive bool, nullFalse map[string]bool) (aud audience, ok bool) {
	kind := c.pin
	if kind == pinNone {
		return audience{}, false
	}
	op := c.Op
	if positive {
		switch kind {
		case pinIP, pinVPCIP:
			if op.Base != "IpAddress" {
				return audience{}, false
			}
		default:
			if !positivePinOps[op.Base] {
				return audience{}, false
			}
		}
		if (op.IfExists || op.Set == ForAllValues) && !nullFalse[c.key] {
			return audience{}, false
		}
	} else {
		switch kind {
		case pinIP, pinVPCIP:
			if op.Base != "NotIpAddress" {
				return audience{}, false
			}
		default:
			if !negatedPinOps[op.Base] {
				return audience{}, false
			}
		}
		// ForAnyValue with a negated operator is false on a missing key,
		// so callers without the key are not denied: no exemption bound.
		if op.Set == ForAnyValue {
			return audience{}, false
		}
	}
	aud = audience{class: ClassNone, cond: c, network: kind == pinIP || kind == pinVPCIP || kind == pinNetwork}
	for i, v := range c.Values {
		cl, fixed := a.valueClass(kind, c, v, i)
		if !fixed {
			return audience{class: Public, unfixed: true, cond: c}, true
		}
		aud.class = maxClass(aud.class, cl)
	}
	return aud, true
}

// describe names who an audience lets through, for explanations.
func (a *analyzer) describe(aud audience) string {
	c := aud.cond
	if aud.unfixed {
		return c.String() + " (a wildcard or variable value pins nothing)"
	}
	descs := make([]string, 0, len(c.Values))
	for i, v := range c.Values {
		descs = append(descs, a.valueDesc(c.pin, c, v, i))
	}
	return joinLimited(dedupe(descs), 3)
}

// valueClass classes one condition value; fixed is false when the value
// does not pin.
func (a *analyzer) valueClass(kind pinKind, c *Condition, v string, idx int) (Class, bool) {
	switch kind {
	case pinAccount:
		if hasWildcard(v) || v == "" {
			return Public, false
		}
		return a.accountClass(v), true
	case pinARN:
		acct, ok := arnAccount(c, v)
		if !ok {
			return Public, false
		}
		if acct == "" {
			return ServiceUnscoped, true
		}
		return a.accountClass(acct), true
	case pinOrg:
		if hasWildcard(v) || v == "" {
			return Public, false
		}
		return a.orgClass(v), true
	case pinOrgPath:
		org, _, _ := strings.Cut(v, "/")
		if org == "" || hasWildcard(org) {
			return Public, false
		}
		return a.orgClass(org), true
	case pinToken:
		if hasWildcard(v) || v == "" {
			return Public, false
		}
		return Private, true
	case pinUserID:
		prefix, _, _ := strings.Cut(v, ":")
		if prefix == "" || hasWildcard(prefix) {
			return Public, false
		}
		return CrossAccount, true
	case pinIP:
		if idx < len(c.cidrs) && isPrivatePrefix(c.cidrs[idx]) {
			return CrossAccount, true
		}
		return Public, false
	case pinVPCIP:
		return CrossAccount, true
	case pinNetwork:
		if hasWildcard(v) || v == "" {
			return Public, false
		}
		return CrossAccount, true
	}
	return Public, false
}

// valueDesc describes one fixed condition value.
func (a *analyzer) valueDesc(kind pinKind, c *Condition, v string, idx int) string {
	switch kind {
	case pinAccount:
		return a.accountPhrase(v)
	case pinARN:
		acct, _ := arnAccount(c, v)
		if acct == "" {
			return v + ", which names no account (a resource of that name in another account matches too)"
		}
		return a.accountPhrase(acct) + " (" + v + ")"
	case pinOrg:
		return a.orgPhrase(v)
	case pinOrgPath:
		org, _, _ := strings.Cut(v, "/")
		return a.orgPhrase(org) + " (path " + v + ")"
	case pinToken:
		return "the one Alexa skill holding its event source token"
	case pinUserID:
		prefix, _, _ := strings.Cut(v, ":")
		return "principals with unique ID " + prefix + " (their account cannot be read from the ID)"
	case pinIP:
		return "the network " + v
	case pinVPCIP:
		return "addresses " + v + " inside a VPC"
	case pinNetwork:
		return "the network " + v + " (" + c.Key + ")"
	}
	return v
}

// arnAccount reads the account field of an ARN condition value. Under
// ArnLike/ArnEquals each colon-separated part matches separately, so only
// the account part must be fixed; under String operators a wildcard
// anywhere before the account field can span colons, so nothing before it
// may be a wildcard. An empty account (S3 bucket ARNs) comes back "" with
// ok true only for aws:SourceArn with a fixed resource part.
func arnAccount(c *Condition, v string) (string, bool) {
	var parts [6]string
	rest := v
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return "", false
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	parts[5] = rest
	if parts[0] != "arn" {
		return "", false
	}
	if strings.HasPrefix(c.Op.Base, "Arn") {
		if hasWildcard(parts[4]) {
			return "", false
		}
	} else if hasWildcard(parts[0]) || hasWildcard(parts[1]) || hasWildcard(parts[2]) || hasWildcard(parts[3]) || hasWildcard(parts[4]) {
		return "", false
	}
	if parts[4] == "" {
		if c.key == "aws:sourcearn" && parts[5] != "" && !hasWildcard(parts[5]) {
			return "", true
		}
		return "", false
	}
	return parts[4], true
}

func (a *analyzer) accountClass(acct string) Class {
	if acct == a.ctx.Owner && acct != "" || a.trusted[acct] {
		return Private
	}
	return CrossAccount
}

func (a *analyzer) accountPhrase(acct string) string {
	switch {
	case acct == a.ctx.Owner && acct != "":
		return "account " + acct + " (the owner)"
	case a.trusted[acct]:
		return "account " + acct + " (trusted)"
	}
	return "account " + acct
}

func (a *analyzer) orgClass(org string) Class {
	if a.ctx.OrgID == "" || strings.EqualFold(org, a.ctx.OrgID) {
		return Org
	}
	return CrossAccount
}

func (a *analyzer) orgPhrase(org string) string {
	switch {
	case a.ctx.OrgID == "":
		return "organization " + org
	case strings.EqualFold(org, a.ctx.OrgID):
		return "organization " + org + " (yours)"
	}
	return "organization " + org + " (not yours: " + a.ctx.OrgID + ")"
}

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("::1/128"),
}

// isPrivatePrefix reports whether every address of p is in a private,
// loopback, link-local or shared range.
func isPrivatePrefix(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func dedupe(items []string) []string {
	out := items[:0:0]
	seen := map[string]bool{}
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
