package history

import (
	"testing"
	"unicode/utf8"
)

// FuzzStatements: any text either parses into statements that each
// re-parse to themselves, or is an error; the diff of a text with
// itself is empty, and it never panics.
func FuzzStatements(f *testing.F) {
	for _, s := range []string{policyWith("a", publicStmt, noSidStmt), `{"Statement":{"Sid":"x"}}`, `{"Statement":null}`, `{"Statement":[1]}`, `[]`, `{`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		st, err := Statements(text)
		if err != nil {
			if st != nil {
				t.Fatalf("statements and an error")
			}
		}
		for _, s := range st {
			again, err := Statements(`{"Statement":[` + s.Text + `]}`)
			if err != nil || len(again) != 1 || again[0].Text != s.Text || again[0].Hash != s.Hash {
				t.Fatalf("statement %q does not re-parse to itself: %+v %v", s.Text, again, err)
			}
		}
		if utf8.ValidString(text) {
			if ch := DiffStatements(text, text); len(ch) != 0 {
				t.Fatalf("a policy differs from itself: %+v", ch)
			}
		}
	})
}
