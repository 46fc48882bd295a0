package policy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// SetQualifier is the ForAllValues:/ForAnyValue: prefix of an operator.
type SetQualifier int

// Set qualifiers.
const (
	SingleValued SetQualifier = iota
	ForAllValues
	ForAnyValue
)

// Operator is a parsed condition operator such as
// "ForAnyValue:StringLikeIfExists".
type Operator struct {
	Text     string // as written
	Base     string // canonical base name, e.g. "StringLike"
	Set      SetQualifier
	IfExists bool
}

// Negated reports whether the operator is a "not" operator, which is true
// on a missing key and must match none of its values.
func (o Operator) Negated() bool { return negatedOps[o.Base] }

// Condition is one key of one operator block: Operator Key Values.
type Condition struct {
	Op     Operator
	Key    string // as written
	key    string // lower-cased, for lookups
	Values []string

	cidrs []netip.Prefix // IpAddress/NotIpAddress values, parsed
	pin   pinKind        // what the key can pin, if anything
}

// KeyLower returns the condition key lower-cased (keys are
// case-insensitive).
func (c Condition) KeyLower() string { return c.key }

var baseOps = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}

var negatedOps = map[string]bool{
	"StringNotEquals": true, "StringNotEqualsIgnoreCase": true, "StringNotLike": true,
	"NumericNotEquals": true, "DateNotEquals": true, "NotIpAddress": true,
	"ArnNotEquals": true, "ArnNotLike": true,
}

// ParseOperator reads an operator name. Names are case-sensitive, as IAM
// reads them: "stringequals" is an invalid condition type, not
// StringEquals.
func ParseOperator(text string) (Operator, error) {
	op := Operator{Text: text}
	rest := text
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		switch q := rest[:i]; {
		case q == "ForAllValues":
			op.Set = ForAllValues
		case q == "ForAnyValue":
			op.Set = ForAnyValue
		default:
			return op, fmt.Errorf("unknown set operator %q in %q (allowed: ForAllValues, ForAnyValue)", q, text)
		}
		rest = rest[i+1:]
	}
	if len(rest) > len("IfExists") && strings.HasSuffix(rest, "IfExists") {
		op.IfExists = true
		rest = rest[:len(rest)-len("IfExists")]
	}
	for _, b := range baseOps {
		if rest == b {
			op.Base = b
		}
	}
	if op.Base == "" {
		if c := canonical(rest, baseOps...); c != "" {
			return op, fmt.Errorf("invalid condition operator %q: operator names are case-sensitive (did you mean %s?)", text, strings.Replace(text, rest, c, 1))
		}
		return op, fmt.Errorf("unknown condition operator %q", text)
	}
	if op.Base == "Null" && (op.IfExists || op.Set != SingleValued) {
		return op, fmt.Errorf("operator %q: Null takes no IfExists or set prefix", text)
	}
	return op, nil
}

func parseConditions(n val) ([]Condition, error) {
	if n.kind() != '{' {
		return nil, fmt.Errorf("must be an object of operators; found %s", n.describe())
	}
	total := 0
	for i := range n.len() {
		if block := n.elem(i); block.kind() == '{' {
			total += block.len()
		}
	}
	out := make([]Condition, 0, total)
	var obuf, kbuf [8]int
	for _, i := range sortedMembers(n, obuf[:0]) {
		opText, block := n.name(i), n.elem(i)
		op, err := ParseOperator(opText)
		if err != nil {
			return nil, err
		}
		if block.kind() != '{' {
			return nil, fmt.Errorf("%s must be an object of condition keys; found %s", opText, block.describe())
		}
		if block.len() == 0 {
			return nil, fmt.Errorf("%s has no condition keys", opText)
		}
		first := len(out)
		for _, j := range sortedMembers(block, kbuf[:0]) {
			k := block.name(j)
			vals, err := scalarList(block.elem(j))
			if err != nil {
				return nil, fmt.Errorf("%s %s: %s", opText, k, err)
			}
			c := Condition{Op: op, Key: k, key: lowerKey(k), Values: vals}
			// Keys are case-insensitive: aws:SourceAccount and
			// AWS:SourceAccount in one block are the same key twice.
			for _, prev := range out[first:] {
				if prev.key == c.key {
					return nil, fmt.Errorf("%s names the condition key %s twice (%q and %q; keys are case-insensitive)", opText, k, prev.Key, k)
				}
			}
			c.pin = pinKeys[c.key]
			if err := c.validate(); err != nil {
				return nil, fmt.Errorf("%s %s: %s", opText, k, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// lowerKey is k in lower case. The keys that pin (nearly every key a
// Lambda policy uses) come from one table instead of a new string each.
func lowerKey(k string) string {
	if n := len(k); n >= len("aws:userid") && n <= len("lambda:eventsourcetoken") {
		for _, known := range pinKeyNames {
			if len(known) == n && strings.EqualFold(k, known) {
				return known
			}
		}
	}
	return strings.ToLower(k)
}

// validate checks values that IAM would reject and parses CIDRs once.
func (c *Condition) validate() error {
	switch c.Op.Base {
	case "IpAddress", "NotIpAddress":
		for _, v := range c.Values {
			p, err := parseCIDR(v)
			if err != nil {
				return err
			}
			c.cidrs = append(c.cidrs, p)
		}
	case "Bool", "Null":
		for _, v := range c.Values {
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return fmt.Errorf("value %q must be true or false", v)
			}
		}
	}
	return nil
}

func parseCIDR(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, fmt.Errorf("%q is not an IP address or CIDR block", v)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", v)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// matchValue reports whether one request value satisfies one policy value
// under the operator's base comparison (ignoring negation).
func (c *Condition) matchValue(req, pol string, idx int) bool {
	switch c.Op.Base {
	case "StringEquals", "StringNotEquals":
		return req == pol
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return strings.EqualFold(req, pol)
	case "StringLike", "StringNotLike":
		return globMatch(pol, req, false)
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		return arnMatch(pol, req)
	case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		r, err1 := strconv.ParseFloat(req, 64)
		p, err2 := strconv.ParseFloat(pol, 64)
		if err1 != nil || err2 != nil || math.IsNaN(r) || math.IsNaN(p) {
			return false
		}
		return compareOrdered(c.Op.Base, r, p)
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		r, ok1 := parseDate(req)
		p, ok2 := parseDate(pol)
		if !ok1 || !ok2 {
			return false
		}
		return compareOrdered(c.Op.Base, float64(r.UnixNano()), float64(p.UnixNano()))
	case "Bool":
		return strings.EqualFold(req, pol)
	case "BinaryEquals":
		a, err1 := base64.StdEncoding.DecodeString(req)
		b, err2 := base64.StdEncoding.DecodeString(pol)
		return err1 == nil && err2 == nil && string(a) == string(b)
	case "IpAddress", "NotIpAddress":
		addr, err := netip.ParseAddr(req)
		if err != nil || idx >= len(c.cidrs) {
			return false
		}
		return c.cidrs[idx].Contains(addr.Unmap())
	}
	return false
}

func compareOrdered(base string, r, p float64) bool {
	switch {
	case strings.HasSuffix(base, "NotEquals"), strings.HasSuffix(base, "Equals") && !strings.Contains(base, "Than"):
		return r == p
	case strings.HasSuffix(base, "LessThan"):
		return r < p
	case strings.HasSuffix(base, "LessThanEquals"):
		return r <= p
	case strings.HasSuffix(base, "GreaterThan"):
		return r > p
	case strings.HasSuffix(base, "GreaterThanEquals"):
		return r >= p
	}
	return false
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z", "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// anyMatch reports whether req satisfies any of the policy values.
func (c *Condition) anyMatch(req string) bool {
	for i, v := range c.Values {
		if c.matchValue(req, v, i) {
			return true
		}
	}
	return false
}

// Holds evaluates the condition against a request context, following the
// IAM rules for missing keys, negation, IfExists and set operators.
// ctx maps lower-cased keys to their values; a key absent from ctx is
// missing from the request.
func (c *Condition) Holds(ctx map[string][]string) bool {
	vals, present := ctx[c.key]
	if c.Op.Base == "Null" {
		absent := !present || len(vals) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return false
	}
	neg := c.Op.Negated()
	switch c.Op.Set {
	case ForAllValues:
		if !present || len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			m := c.anyMatch(v)
			if neg == m {
				return false
			}
		}
		return true
	case ForAnyValue:
		if !present || len(vals) == 0 {
			return c.Op.IfExists
		}
		for _, v := range vals {
			if neg != c.anyMatch(v) {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		return neg || c.Op.IfExists
	}
	// A single-valued operator on a multi-valued key: IAM treats the
	// request as matching when any value matches (positive) or when no
	// value matches (negated).
	m := false
	for _, v := range vals {
		if c.anyMatch(v) {
			m = true
			break
		}
	}
	return m != neg
}

// String renders the condition the way a person writes it:
// StringEquals aws:SourceAccount "111122223333".
func (c Condition) String() string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		vals[i] = strconv.Quote(v)
	}
	v := strings.Join(vals, ", ")
	if len(vals) > 1 {
		v = "[" + v + "]"
	}
	return c.Op.Text + " " + c.Key + " " + v
}
