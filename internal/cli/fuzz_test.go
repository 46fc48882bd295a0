package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzAnalyzeInput: whatever analyze is given, the envelope is unwrapped
// or refused, and input that is not JSON is described in one line.
func FuzzAnalyzeInput(f *testing.F) {
	for _, s := range []string{
		`{"Policy": "{\"Version\":\"2012-10-17\"}", "RevisionId": "1"}`,
		"Version: 2012-10-17\n", "{\"a\":1}\tREV\n", "-----\n| x |\n", "{\"a\": [1 2]}", "[1", "\xff", "text", " \n\t",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := unwrapPolicy(data)
		if err != nil || json.Valid(doc) {
			return
		}
		msg := notJSON(doc)
		if msg == "" || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("notJSON(%q) = %q: want one line", doc, msg)
		}
	})
}

// FuzzParseEvery: --full-every never panics, and what it accepts is a
// positive duration.
func FuzzParseEvery(f *testing.F) {
	for _, s := range []string{"7d", "36h", "0d", "-1h", "1ms", "d", "99999999999999d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseEvery(s); err == nil && d <= 0 {
			t.Errorf("%q accepted as %s", s, d)
		}
	})
}
