package awscollect

import (
	"sync"
	"time"
)

// breaker is one budget's circuit breaker: it opens once the budget has
// answered only 429s and 5xx for a while, and stays open for the rest of
// the run, so calls on it give up at once instead of each waiting out
// its own retries.
type breaker struct {
	mu    sync.Mutex
	name  string // "the GetPolicy budget of 111122223333 us-east-1"
	after time.Duration
	now   func() time.Time
	// since is the first failure after the last answer; throttles says
	// whether 429s were among them.
	since     time.Time
	throttles bool
	opened    string // the reason, once open
}

func newBreaker(name string, after time.Duration, now func() time.Time) *breaker {
	return &breaker{name: name, after: after, now: now}
}

// check returns the open breaker's error, or nil.
func (b *breaker) check(op string) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opened == "" {
		return nil
	}
	return &gaveUp{op: op, why: b.opened}
}

func (b *breaker) isOpen() bool { return b.check("") != nil }

// answered records an answer that was not a 429 or a 5xx.
func (b *breaker) answered() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.opened == "" {
		b.since, b.throttles = time.Time{}, false
	}
	b.mu.Unlock()
}

// failed records a 429 (throttle) or a 5xx or network failure.
func (b *breaker) failed(throttle bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opened != "" {
		return
	}
	now := b.now()
	if b.since.IsZero() {
		b.since = now
	}
	b.throttles = b.throttles || throttle
	if d := now.Sub(b.since); d >= b.after {
		what := "failing"
		if b.throttles {
			what = "throttled"
		}
		b.opened = "not read: " + b.name + " was " + what + " for " + seconds(d) + " without one good answer, so its remaining calls were given up"
	}
}
