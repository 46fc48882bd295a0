package report

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Strings in a report come from the estate (Sids, principal ARNs,
// condition values, error messages) and from files people wrote
// (suppressions): none of them is ours to trust. An ESC starts a
// terminal escape sequence (colours, an OSC that sets the window title or
// writes the clipboard), a newline can forge a report line such as
// "CRITICAL ..." at column 0, U+202E and its siblings reorder what a
// reader sees, and a 20,000-character Sid makes one line of 40,000. The
// human formats (text, junit, html) and the terminal therefore print
// every such string through Inert, which makes it visible and bounded;
// the JSON formats escape the same characters as \u sequences (same
// value, see escapeInvisibleJSON) and keep the full text.

// Caps on how much of one string the human formats print. A single
// value (an ARN, a Sid, a principal) rarely needs more than
// InertField; our own sentences, which may quote such values, stay under
// InertSentence. Everything is in full in -o json.
const (
	InertField    = 200
	InertSentence = 1000
)

// Inert returns s safe to print: control characters (C0, DEL, C1),
// Unicode format characters (bidirectional overrides and isolates such as
// U+202E, zero-width characters, the BOM), line and paragraph separators
// are written as escapes (\n, \r, \t, \u001b, \u202e), invalid UTF-8 as
// \xff; then, when the result is longer than max runes (max > 0), it is
// cut there and ends with "… (N chars)", N the length of s in runes.
func Inert(s string, max int) string {
	if plain(s) && (max <= 0 || len(s) <= max) {
		return s
	}
	out := make([]byte, 0, min(len(s), 4*max+32))
	runes := 0
	for i := 0; i < len(s); {
		if max > 0 && runes >= max {
			return string(out) + "… (" + strconv.Itoa(utf8.RuneCountInString(s)) + " chars)"
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		before := len(out)
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\x`...)
			out = append(out, hexDigit(s[i]>>4), hexDigit(s[i]&0xf))
		case r == '\n':
			out = append(out, `\n`...)
		case r == '\r':
			out = append(out, `\r`...)
		case r == '\t':
			out = append(out, `\t`...)
		case invisible(r):
			out = appendUnicodeEscape(out, r)
		default:
			out = append(out, s[i:i+size]...)
		}
		i += size
		// An escape counts as the characters it prints.
		runes += utf8.RuneCount(out[before:])
	}
	return string(out)
}

// capRunes cuts s to max runes, marked as Inert marks it, escaping
// nothing: for JSON formats, whose encoder escapes what must be, and
// whose consumers have a size limit (SARIF).
func capRunes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "… (" + strconv.Itoa(utf8.RuneCountInString(s)) + " chars)"
		}
		n++
	}
	return s
}

// plain reports whether s is printable ASCII only, the common case Inert
// returns as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// invisible reports whether r is a character Inert and the JSON writers
// escape: it controls a terminal or the text's direction, or cannot be
// seen.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

func appendUnicodeEscape(out []byte, r rune) []byte {
	if r > 0xffff {
		// Outside the Basic Multilingual Plane (tag characters): a UTF-16
		// surrogate pair, as JSON writes it.
		r1, r2 := utf16Surrogates(r)
		return appendUnicodeEscape(appendUnicodeEscape(out, r1), r2)
	}
	return append(out, '\\', 'u', hexDigit(byte(r>>12)), hexDigit(byte(r>>8&0xf)), hexDigit(byte(r>>4&0xf)), hexDigit(byte(r&0xf)))
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func hexDigit(b byte) byte { return "0123456789abcdef"[b&0xf] }

// escapeInvisibleJSON rewrites the characters invisible() names that
// encoding/json leaves raw (DEL, C1 controls, format characters such as
// U+202E) as \u escapes. In valid JSON they can only occur inside
// strings, where the escape is the same value, so the document means
// exactly what it did; it no longer reorders or drives a terminal that
// shows it. src is returned as it is when there is nothing to escape.
func escapeInvisibleJSON(src []byte) []byte {
	first := -1
	for i := 0; i < len(src); i++ {
		if src[i] >= 0x7f {
			if r, size := utf8.DecodeRune(src[i:]); size > 1 || r == 0x7f {
				if invisible(r) {
					first = i
					break
				}
			}
		}
	}
	if first < 0 {
		return src
	}
	out := make([]byte, 0, len(src)+16)
	out = append(out, src[:first]...)
	for i := first; i < len(src); {
		c := src[i]
		if c < 0x7f {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if (size > 1 || r == 0x7f) && invisible(r) {
			out = appendUnicodeEscape(out, r)
		} else {
			out = append(out, src[i:i+size]...)
		}
		i += size
	}
	return out
}
