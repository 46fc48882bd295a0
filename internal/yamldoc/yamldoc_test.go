package yamldoc

import (
	"strings"
	"testing"
)

// TestSyntaxErrorLines: the line named is where the mistake is, not
// where the YAML library's enclosing construct began.
func TestSyntaxErrorLines(t *testing.T) {
	cases := []struct{ text, want string }{
		{"a: 1\nb\nc: 2\n", "f.yaml:2: YAML syntax: could not find expected ':'"},
		{"a: 1\nb: [1, 2\nc: 2\n", "f.yaml:2: YAML syntax: did not find expected ',' or ']'"},
		{"a: 1\n\tb: 2\n", "f.yaml:2: YAML syntax: found a tab character"},
		{"suppressions:\n  - rule: x\n    reason: y\n   expires: 2020-01-01\n", "f.yaml:4: YAML syntax: did not find expected '-' indicator"},
		{"suppressions:\n  - rule: x\n    reason: \"a\" b\n", "f.yaml:3: YAML syntax: did not find expected key"},
		{"x:\n  - a\n  b: 1\n", "f.yaml:3: YAML syntax: did not find expected '-' indicator"},
		{"a: 1\na: *x\n", "f.yaml:2: YAML syntax: unknown anchor 'x' referenced"},
		{"a: 1\nb: c: d\n", "f.yaml:2: YAML syntax: mapping values are not allowed"},
		// A multi-line flow list that is fine must not be blamed for a
		// later mistake.
		{"r: [a,\n  b]\nc: d: e\n", "f.yaml:3: YAML syntax: mapping values are not allowed"},
		{"a: 1\n---\nb: 2\n", "f.yaml:2: only one YAML document is allowed"},
	}
	for _, c := range cases {
		_, err := Root([]byte(c.text), "f.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Root(%q) = %v\nwant %q...", c.text, err, c.want)
		}
	}
}

func TestEmptyDocuments(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "---\n", "~\n", "null\n"} {
		n, err := Root([]byte(text), "f.yaml")
		if n != nil || err != nil {
			t.Errorf("Root(%q) = %v, %v; want nothing", text, n, err)
		}
	}
}
