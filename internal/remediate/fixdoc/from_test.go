package fixdoc

import (
	"encoding/json"
	"testing"
)

// FuzzNotAReport: the --from classifier never panics, and a document it
// lets through as a report has a resources list.
func FuzzNotAReport(f *testing.F) {
	f.Add([]byte(`{"schema_version":"1","scan":{},"resources":[],"summary":{}}`))
	f.Add([]byte(`{"schema_version":"1","arn":"x","grants":[]}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if NotAReport(data) != "" {
			return
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil {
			return // not JSON: the report decoder says why
		}
		if _, ok := top["resources"]; !ok {
			t.Fatalf("let through as a report: %s", data)
		}
	})
}

func TestNotAReport(t *testing.T) {
	for doc, want := range map[string]string{
		`{"schema_version":"1","tool":{},"scan":{},"resources":[],"summary":{}}`: "",
		`{"schema_version":"1","arn":"a","grants":[],"exposure":"public"}`:       "the verdict on one policy ('lambdawarden analyze -o json')",
		`{"format":"lambdawarden-backup"}`:                                       "a fix backup (give it to 'lambdawarden restore')",
	} {
		if got := NotAReport([]byte(doc)); got != want {
			t.Errorf("%s: %q, want %q", doc, got, want)
		}
	}
}
