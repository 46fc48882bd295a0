package yamldoc

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
)

var lineOf = regexp.MustCompile(`^f\.yaml:(\d+): `)

// FuzzRoot: any input gives a node or one error, and an error's line is
// within the file.
func FuzzRoot(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a: 1\nb\nc: 2\n", "x:\n  - a\n  b: 1\n", "a: [1,\n 2]\nb: c: d\n", "a: *x\n", "---\n---\n", "\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Root(data, "f.yaml")
		if err == nil {
			return
		}
		if m := lineOf.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			if lines := len(splitLines(data)); n < 1 || n > lines+1 {
				t.Errorf("line %d of a %d-line file: %v", n, lines, err)
			}
		}
		if bytes.ContainsRune([]byte(err.Error()), '\n') {
			t.Errorf("a multi-line error: %q", err)
		}
	})
}
