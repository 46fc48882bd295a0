package policy

import "strings"

// Glob matches s against pattern, case-sensitively, where '*' matches any
// run of characters and '?' any single character: how IAM compares
// Resource values and StringLike/ArnLike parts.
func Glob(pattern, s string) bool { return globMatch(pattern, s, false) }

// globMatch matches s against pattern where '*' matches any run of
// characters and '?' any single character. It runs in O(len(s)·len(p))
// worst case without recursion or allocation.
func globMatch(pattern, s string, foldCase bool) bool {
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, str
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[str] || (foldCase && lower(pattern[p]) == lower(s[str]))):
			p++
			str++
		case star >= 0:
			p = star + 1
			mark++
			str = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// arnMatch implements ArnLike/ArnEquals: each of the six colon-separated
// parts is matched separately, so a wildcard never spans a colon of the
// first five parts. A pattern that is not a six-part ARN (such as "*") is
// matched as a plain wildcard string, which can only match more.
func arnMatch(pattern, arn string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	if len(pp) != 6 {
		return globMatch(pattern, arn, false)
	}
	ap := strings.SplitN(arn, ":", 6)
	if len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], ap[i], false) {
			return false
		}
	}
	return true
}

// hasWildcard reports whether a policy value is not a fixed string: it
// holds a wildcard or a policy variable.
func hasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?") || strings.Contains(s, "${")
}
