package bench

import (
	"context"
	"testing"
)

// TestCallsMatchTheNecessaryCallFormula runs a small multi-account,
// multi-Region estate without quotas and checks that the scan makes
// exactly the calls the plan needs: one ListFunctions page per 50 entries
// ($LATEST and versions), one ListAliases per function, one policy read
// per function, alias and version, one ListLayers per lane, and nothing
// else (no ListVersionsByFunction, no URL configs, no repeats).
func TestCallsMatchTheNecessaryCallFormula(t *testing.T) {
	shape := Shape{Accounts: 3, Regions: 2, Functions: 30, Aliases: 2, Versions: 1, Skewed: true}
	res, err := Run(context.Background(), Config{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resources != shape.Policies() || res.Unknown != 0 || len(res.Errors) != 0 {
		t.Fatalf("judged %d resources (%d unknown, errors %v), want %d", res.Resources, res.Unknown, res.Errors, shape.Policies())
	}
	var pages, aliases, reads int64
	for a := 0; a < shape.Accounts; a++ {
		n := int64(shape.functionsIn(a))
		for r := 0; r < shape.Regions; r++ {
			pages += (n*int64(1+shape.Versions) + 49) / 50
			if n == 0 {
				pages++
			}
			aliases += n
			reads += n * int64(1+shape.Aliases+shape.Versions)
		}
	}
	lanes := int64(shape.Accounts * shape.Regions)
	c := res.CallsPerOp
	if c["ListFunctions"] != pages || c["ListAliases"] != aliases || c["ListLayers"] != lanes {
		t.Errorf("listing calls %v; want ListFunctions %d, ListAliases %d, ListLayers %d", c, pages, aliases, lanes)
	}
	if got := c["GetPolicy"] + c["GetResourcePolicy"]; got != reads {
		t.Errorf("%d policy reads, want %d", got, reads)
	}
	for op := range c {
		switch op {
		case "ListFunctions", "ListAliases", "ListLayers", "GetPolicy", "GetResourcePolicy":
		default:
			t.Errorf("unnecessary call %s (%d times)", op, c[op])
		}
	}
}

// TestPacedRunMeetsNoThrottle runs a paced scan against AWS's quotas.
func TestPacedRunMeetsNoThrottle(t *testing.T) {
	if testing.Short() {
		t.Skip("a paced run takes a few seconds")
	}
	res, err := Run(context.Background(), Config{Shape: Shape{Accounts: 2, Regions: 2, Functions: 12, Aliases: 1, Versions: 1}, Quotas: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Throttled != 0 {
		t.Errorf("met %d 429s", res.Throttled)
	}
	if res.Bound <= 0 || res.Ratio <= 0 {
		t.Errorf("bound %v, ratio %v: nothing measured", res.Bound, res.Ratio)
	}
	if res.Unknown != 0 || len(res.Errors) > 0 {
		t.Errorf("%d unknown, errors %v", res.Unknown, res.Errors)
	}
}
