package suppress

import (
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

// FuzzParse: the suppressions parser never panics, and what it accepts
// can be applied to a report.
func FuzzParse(f *testing.F) {
	f.Add([]byte("suppressions:\n  - rule: lambda-public-access\n    resource: \"arn:*\"\n    reason: r\n    expires: 2030-01-01\n    approved_by: me\n"))
	f.Add([]byte("suppressions: []\n"))
	f.Add([]byte("suppressions:\n  - {rule: x}\n"))
	f.Add([]byte(":\n\t- ["))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		d := &report.Document{Resources: []report.Resource{{ARN: "arn:aws:lambda:us-east-1:111122223333:function:f", Account: "111122223333"}}}
		set.Apply(d, time.Unix(0, 0))
	})
}
