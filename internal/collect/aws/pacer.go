package awscollect

import (
	"context"
	"sync"
	"time"
)

// Budget names a Lambda request quota. Quotas are per account and Region
// and cannot be raised: GetFunction 100/s, GetPolicy 15/s, and 15/s for
// every other control-plane call together (AWS Lambda quotas).
type Budget string

// Lambda's control-plane budgets.
const (
	BudgetGetFunction Budget = "GetFunction"
	BudgetGetPolicy   Budget = "GetPolicy"
	BudgetShared      Budget = "shared" // every other control-plane call
	BudgetNone        Budget = ""       // STS, Organizations, IAM: not paced here
)

// AWSQuotas are Lambda's documented request quotas, requests per second.
var AWSQuotas = map[Budget]float64{BudgetGetFunction: 100, BudgetGetPolicy: 15, BudgetShared: 15}

// BudgetOf maps an operation to the budget it draws from.
func BudgetOf(op string) Budget {
	switch op {
	case "GetFunction":
		return BudgetGetFunction
	case "GetPolicy":
		return BudgetGetPolicy
	}
	return BudgetShared
}

// bucket is a token bucket: capacity tokens at most, refilled at rate per
// second, starting full. It mirrors how Lambda meters requests, so a
// client that takes a token before each call is never throttled unless
// something else shares the budget.
type bucket struct {
	mu       sync.Mutex
	rate     float64
	capacity float64
	tokens   float64
	last     time.Time
	now      func() time.Time
}

func newBucket(rate float64, now func() time.Time) *bucket {
	// Keep a little below the quota and hold back half the burst:
	// requests are counted where they arrive, and arrivals bunch up when
	// goroutines are scheduled late (many lanes on few cores), so the
	// server must always have tokens to spare.
	r := rate * safety
	capacity := r * burstShare
	if capacity < 1 {
		capacity = 1
	}
	return &bucket{rate: r, capacity: capacity, tokens: capacity, last: now(), now: now}
}

// safety is the fraction of a quota's rate the pacer uses, burstShare the
// fraction of its one-second burst.
const (
	safety     = 0.98
	burstShare = 0.5
)

// take waits until a token is available or ctx ends.
func (b *bucket) take(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := b.now()
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.capacity {
			b.tokens = b.capacity
		}
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// drain empties the saved-up burst after a 429, so the calls that follow
// are spread out at the budget's rate instead of arriving together.
func (b *bucket) drain() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.After(b.last) {
		b.last = now
	}
	b.tokens = 0
}

// pacer holds one lane's buckets (one account and Region).
type pacer struct {
	buckets map[Budget]*bucket
}

func newPacer(quotas map[Budget]float64, now func() time.Time) *pacer {
	p := &pacer{buckets: map[Budget]*bucket{}}
	for b, rate := range quotas {
		if rate > 0 {
			p.buckets[b] = newBucket(rate, now)
		}
	}
	return p
}

func (p *pacer) bucket(b Budget) *bucket {
	if p == nil {
		return nil
	}
	return p.buckets[b]
}
