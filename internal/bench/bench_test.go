package bench

import (
	"context"
	"testing"
	"time"
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
	// Each lane also confirms its first three "no policy" answers of
	// GetResourcePolicy with GetPolicy (fewer if it met fewer).
	if got := c["GetPolicy"] + c["GetResourcePolicy"]; got < reads || got > reads+3*lanes {
		t.Errorf("%d policy reads, want %d and at most %d confirmations", got, reads, 3*lanes)
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

// TestBoundCountsTheInitialBurst: each emulated budget starts full with
// one second's worth of requests, which arrive at once; the bound must
// allow for them, so a run never beats it (a small estate measured 0.93
// before).
func TestBoundCountsTheInitialBurst(t *testing.T) {
	for _, c := range []struct {
		calls int64
		rates []float64
		want  time.Duration
	}{
		{10, []float64{15}, 0},               // within the burst
		{45, []float64{15}, 2 * time.Second}, // 15 at once, 30 more at 15/s
		{60, []float64{15, 15}, time.Second}, // 30 at once, 30 more at 30/s
		{3, []float64{0.5}, 4 * time.Second}, // a slow budget still holds one
		{100, nil, 0},                        // no quota, no bound
	} {
		if got := quotaTime(c.calls, c.rates...); got != c.want {
			t.Errorf("quotaTime(%d, %v) = %s, want %s", c.calls, c.rates, got, c.want)
		}
	}
	if testing.Short() {
		return
	}
	res, err := Run(context.Background(), Config{Shape: Shape{Accounts: 1, Regions: 1, Functions: 12, Aliases: 1, Versions: 1}, Quotas: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Wall < res.Bound {
		t.Errorf("wall %s beat the lower bound %s", res.Wall, res.Bound)
	}
}

// TestFaultScenarioEndsWithEverythingAccountedFor injects 20% throttles
// and 10% 500s into every call: the scan finishes and every resource is
// judged or unknown with a reason, none lost.
func TestFaultScenarioEndsWithEverythingAccountedFor(t *testing.T) {
	shape := Shape{Accounts: 2, Regions: 1, Functions: 20, Aliases: 1, Versions: 1}
	res, err := Run(context.Background(), Config{Shape: shape, Faults: "throttle=0.2,500=0.1", FaultSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Throttled == 0 {
		t.Fatal("no 429 met: the faults were not injected")
	}
	if res.Resources < shape.Policies() && len(res.Errors) == 0 {
		t.Errorf("judged %d of %d resources and reported no error", res.Resources, shape.Policies())
	}
	if res.Unknown > res.Resources/10 {
		t.Errorf("%d of %d unknown: retries should absorb most faults", res.Unknown, res.Resources)
	}
}
