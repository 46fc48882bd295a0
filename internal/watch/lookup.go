package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// FetchFunc returns the CloudTrail records (LookupEvents' CloudTrailEvent
// strings) of Lambda's event source between start and end in a Region.
type FetchFunc func(ctx context.Context, region string, start, end time.Time) ([]string, error)

// Lookup polls cloudtrail:LookupEvents. LookupEvents shows an event some
// minutes after the call, so each poll looks back Overlap past the end of
// the previous one; events seen twice are handled once (by event id). A
// failed poll is a problem (the watch is incomplete) and its window is
// asked for again next time.
type Lookup struct {
	Regions []string
	Fetch   FetchFunc
	Follow  bool
	// Poll is the time between polls (default 30s); Since how far back the
	// first one looks (default 15m); Overlap how far each poll reaches
	// back into the previous one (default 10m).
	Poll, Since, Overlap time.Duration
	Now                  func() time.Time
	Logf                 func(format string, args ...any)
}

// Run polls once, or with Follow until ctx ends.
func (l *Lookup) Run(ctx context.Context, emit Emit) error {
	if l.Poll <= 0 {
		l.Poll = 30 * time.Second
	}
	if l.Since <= 0 {
		l.Since = 15 * time.Minute
	}
	if l.Overlap <= 0 {
		l.Overlap = 10 * time.Minute
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	first := l.Now().Add(-l.Since)
	last := map[string]time.Time{}
	for {
		for _, region := range l.Regions {
			if ctx.Err() != nil {
				return nil
			}
			start := first
			if t, ok := last[region]; ok && t.Add(-l.Overlap).After(first) {
				start = t.Add(-l.Overlap)
			}
			end := l.Now()
			records, err := l.Fetch(ctx, region, start, end)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				emit(trail.Result{Problems: []trail.Problem{{Where: "LookupEvents " + region,
					Err: fmt.Sprintf("events from %s on were not read (asked again at the next poll): %v", start.UTC().Format(time.RFC3339), err)}}})
				continue
			}
			var res trail.Result
			for i, r := range records {
				one := trail.ParseRecord(fmt.Sprintf("LookupEvents %s event %d", region, i+1), []byte(r))
				res.Events = append(res.Events, one.Events...)
				res.Failed = append(res.Failed, one.Failed...)
				res.Ignored += one.Ignored
				res.Problems = append(res.Problems, one.Problems...)
			}
			emit(res)
			last[region] = end
		}
		if !l.Follow {
			return nil
		}
		if err := sleepCtx(ctx, l.Poll); err != nil {
			return nil
		}
	}
}
