package fixdoc

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
)

// NotAReport names what a `fix --from` document is when it is not a scan
// report (scan -o json): a report has a scan section and a resources
// list, and nothing else lambdawarden writes has both.
func NotAReport(data []byte) string {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var list []json.RawMessage
		if json.Unmarshal(data, &list) == nil {
			return "a JSON array (ASFF or OCSF findings?)"
		}
		return "" // not JSON at all: the decoder's own error says more
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("resources", "summary"):
		if _, ok := top["scan"]; ok || has("schema_version") {
			return ""
		}
		return "a JSON document with resources but no schema_version"
	case has("arn", "grants"), has("arn", "exposure"):
		return "the verdict on one policy ('lambdawarden analyze -o json')"
	case has("format") && strings.Contains(string(top["format"]), remediate.BackupFormat):
		return "a fix backup (give it to 'lambdawarden restore')"
	case has("mode", "actions"):
		return "a fix plan ('lambdawarden fix -o json')"
	case has("results", "summary"):
		return "a restore result ('lambdawarden restore -o json')"
	case has("runs"):
		return "a SARIF log ('scan -o sarif')"
	case has("Findings"):
		return "ASFF findings ('scan -o asff')"
	case has("Statement"):
		return "a policy document (check it with 'lambdawarden analyze')"
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 6 {
		keys = append(keys[:6], "...")
	}
	return "a JSON document with keys " + strings.Join(keys, ", ")
}
