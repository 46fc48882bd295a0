package trail_test

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// FuzzParse feeds arbitrary input to the parser: it must never panic,
// every event it returns names exactly one resource whose ARN reads back,
// and every failed call carries its error code.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"backdoor.json", "mixed.json", "eventbridge.json", "lines.jsonl"} {
		data := fixture(f, name)
		f.Add(data)
		f.Add(gz(f, data))
	}
	f.Add([]byte(`{"Events":[{"CloudTrailEvent":"{\"eventName\":\"AddLayerVersionPermission\",\"eventSource\":\"lambda.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"1\",\"requestParameters\":{\"layerName\":\"l\",\"versionNumber\":\"2\"}}"}]}`))
	f.Add([]byte(`[{"eventName":"CreateAlias20150331","eventSource":"lambda.amazonaws.com","eventTime":"2026-01-01T00:00:00Z","awsRegion":"r","recipientAccountId":"1","requestParameters":{"functionName":"f","name":"a"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := trail.Parse("fuzz", data)
		for _, ev := range res.Events {
			if len(ev.Targets) != 1 {
				t.Fatalf("event %s has %d targets", ev.ID, len(ev.Targets))
			}
			tg := ev.Targets[0]
			la, err := inventory.ParseLambdaARN(tg.ARN)
			if err != nil {
				t.Fatalf("target ARN %q does not read back: %v", tg.ARN, err)
			}
			if la.Account != tg.Account || la.Region != tg.Region || la.Name != tg.Name || tg.Account == "" || tg.Region == "" {
				t.Fatalf("target %+v disagrees with its ARN %+v", tg, la)
			}
			if ev.ErrorCode != "" {
				t.Fatalf("a failed call was returned as a change: %+v", ev)
			}
			if _, ok := trail.ExposureOp(ev.Name); !ok {
				t.Fatalf("event %q is not exposure-changing", ev.Name)
			}
		}
		for _, ev := range res.Failed {
			if ev.ErrorCode == "" {
				t.Fatalf("failed event without an error code: %+v", ev)
			}
		}
		for _, p := range res.Problems {
			if p.Err == "" || !strings.HasPrefix(p.Where, "fuzz") {
				t.Fatalf("problem without a place or a reason: %+v", p)
			}
		}
		if len(res.Problems) > 100 {
			t.Fatalf("%d problems: should be capped", len(res.Problems))
		}
	})
}
