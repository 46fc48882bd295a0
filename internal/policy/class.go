package policy

import "fmt"

// Class is an exposure class, ordered so that a larger value is more
// exposed. ClassNone means nothing is granted.
type Class int

// Exposure classes, least exposed first (the README lists them worst
// first, with what each means).
const (
	ClassNone Class = iota
	Private
	Org
	ServiceUnscoped
	CrossAccount
	Public
)

var classNames = map[Class]string{
	ClassNone:       "none",
	Private:         "private",
	Org:             "org",
	ServiceUnscoped: "service-unscoped",
	CrossAccount:    "cross-account",
	Public:          "public",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// ParseClass reads a class name as printed by String.
func ParseClass(s string) (Class, error) {
	for c, n := range classNames {
		if n == s && c != ClassNone {
			return c, nil
		}
	}
	return ClassNone, fmt.Errorf("unknown exposure class %q (want public, cross-account, service-unscoped, org or private)", s)
}

// Exposed reports whether the class is outside the owner's trust boundary
// in a way that is a finding (org and private are passes).
func (c Class) Exposed() bool { return c >= ServiceUnscoped }

func maxClass(a, b Class) Class {
	if a > b {
		return a
	}
	return b
}

func minClass(a, b Class) Class {
	if a < b {
		return a
	}
	return b
}
