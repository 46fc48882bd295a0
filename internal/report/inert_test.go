package report

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInert(t *testing.T) {
	long := strings.Repeat("a", 20000)
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain ascii is kept", "arn:aws:lambda:us-east-1:1:function:f", 200, "arn:aws:lambda:us-east-1:1:function:f"},
		{"printable unicode is kept", "Zürich — ok", 200, "Zürich — ok"},
		{"ESC colour code", "\x1b[31mred", 200, `\u001b[31mred`},
		{"OSC title set", "\x1b]0;pwned\x07x", 200, `\u001b]0;pwned\u0007x`},
		{"newline forging a CRITICAL line", "ok\nCRITICAL lambda-public-access", 200, `ok\nCRITICAL lambda-public-access`},
		{"carriage return and tab", "a\rb\tc", 200, `a\rb\tc`},
		{"right-to-left override", "abc\u202edcba", 200, `abc\u202edcba`},
		{"bidi isolates and marks", "\u2066x\u2069\u200f\u061c", 200, `\u2066x\u2069\u200f\u061c`},
		{"zero width and BOM", "a\u200bb\ufeff", 200, `a\u200bb\ufeff`},
		{"C1 control CSI", "a\u009bb", 200, `a\u009bb`},
		{"DEL", "a\x7fb", 200, `a\u007fb`},
		{"line separator", "a\u2028b", 200, `a\u2028b`},
		{"invalid utf-8", "a\xffb", 200, `a\xffb`},
		{"tag character outside the BMP", "a\U000e0041", 200, `a\udb40\udc41`},
		{"capped with the original length", long, 200, strings.Repeat("a", 200) + "… (20000 chars)"},
		{"exactly max is not capped", strings.Repeat("é", 5), 5, strings.Repeat("é", 5)},
		{"escapes count toward the cap", strings.Repeat("\x1b", 10), 12, `\u001b\u001b` + "… (10 chars)"},
		{"zero max escapes without a cap", long + "\n", 0, long + `\n`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Inert(c.in, c.max)
			if got != c.want {
				t.Errorf("Inert(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f || invisible(r) {
					t.Errorf("output holds %U", r)
				}
			}
			if !utf8.ValidString(got) {
				t.Errorf("output is not valid UTF-8: %q", got)
			}
		})
	}
}

func TestQuoteFieldCapsLongSids(t *testing.T) {
	if got := quoteField("oops"); got != `"oops"` {
		t.Errorf("quoteField = %s", got)
	}
	if got := quoteField("a\u202eb\n"); got != `"a\u202eb\n"` {
		t.Errorf("quoteField does not escape: %s", got)
	}
	got := quoteField(strings.Repeat("x", 20000))
	if want := `"` + strings.Repeat("x", InertField) + `"… (20000 chars)`; got != want {
		t.Errorf("quoteField of a 20,000-character Sid = %d chars: %.80s…", len(got), got)
	}
}

// The JSON pass escapes what encoding/json leaves raw, and the document
// still decodes to the same value.
func TestEscapeInvisibleJSONKeepsTheValue(t *testing.T) {
	values := []string{"plain", "abc\u202edcba", "a\u009bb\x7f", "\u2066\ufeff\u200b", "é — …", "\U000e0041 tag"}
	for _, v := range values {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		esc := escapeInvisibleJSON(raw)
		var back string
		if err := json.Unmarshal(esc, &back); err != nil || back != v {
			t.Errorf("%q: escaped %s decodes to %q, %v", v, esc, back, err)
		}
		for _, r := range string(esc) {
			if r == 0x7f || invisible(r) {
				t.Errorf("%q: escaped JSON %s still holds %U", v, esc, r)
			}
		}
	}
	plainJSON := []byte(`{"a": "é — …"}`)
	if got := escapeInvisibleJSON(plainJSON); &got[0] != &plainJSON[0] {
		t.Error("nothing to escape should return the input as it is")
	}
}

func FuzzInert(f *testing.F) {
	for _, s := range []string{"", "a\x1b]0;t\x07", "\u202e", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s, 200)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 1000
		if max < 0 {
			max = -max
		}
		got := Inert(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || invisible(r) {
				t.Fatalf("Inert(%q) holds %U", s, r)
			}
		}
		if max > 0 {
			// max runes, then at most "… (" + digits + " chars)".
			if n := utf8.RuneCountInString(got); n > max+len("… (9999999999 chars)") {
				t.Fatalf("Inert(_, %d) is %d runes", max, n)
			}
		}
		raw, _ := json.Marshal(s)
		var back string
		if err := json.Unmarshal(escapeInvisibleJSON(raw), &back); err != nil {
			t.Fatalf("escaped JSON of %q does not decode: %v", s, err)
		}
	})
}
