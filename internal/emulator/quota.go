package emulator

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AWSQuotas are Lambda's documented control-plane request quotas (requests
// per second, per account and region, not raisable): what `--quota aws`
// expands to.
func AWSQuotas() map[string]float64 {
	return map[string]float64{"GetFunction": 100, "GetPolicy": 15, "shared": 15}
}

// ParseQuotas parses --quota values. Each value is "aws" (Lambda's own
// figures, see AWSQuotas) or a comma-separated list of BUDGET=RPS where
// BUDGET is "shared" or a Lambda operation name and RPS a positive number
// of requests per second. Later values override earlier ones.
func ParseQuotas(specs []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, spec := range specs {
		for item := range strings.SplitSeq(spec, ",") {
			item = strings.TrimSpace(item)
			if item == "aws" {
				for k, v := range AWSQuotas() {
					out[k] = v
				}
				continue
			}
			name, rate, ok := strings.Cut(item, "=")
			if !ok {
				return nil, fmt.Errorf("quota %q: want OP=RPS (e.g. GetPolicy=15) or \"aws\"", item)
			}
			rps, err := strconv.ParseFloat(strings.TrimSpace(rate), 64)
			if err != nil {
				return nil, fmt.Errorf("quota %q: %q is not a number of requests per second", item, rate)
			}
			name = strings.TrimSpace(name)
			if err := checkQuota(name, rps); err != nil {
				return nil, err
			}
			out[name] = rps
		}
	}
	return out, nil
}

// checkQuota validates one budget.
func checkQuota(name string, rps float64) error {
	if name != "shared" && !slices.Contains(lambdaOps(), name) {
		ops := lambdaOps()
		sort.Strings(ops)
		return fmt.Errorf("quota %q: unknown budget; use shared or one of %s", name, strings.Join(ops, ", "))
	}
	if !(rps > 0) || math.IsInf(rps, 0) {
		return fmt.Errorf("quota %s=%v: the rate must be a positive number of requests per second", name, rps)
	}
	return nil
}

// quotas holds one token bucket per account, region and budget. A bucket
// holds at most one second's worth of requests (capacity = rate, but at
// least one token so that rates below 1/s still admit requests), is
// refilled continuously and starts full.
type quotas struct {
	rates   map[string]float64
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct{ account, region, budget string }

type bucket struct {
	tokens float64
	last   time.Time
}

func newQuotas(rates map[string]float64) *quotas {
	return &quotas{rates: rates, buckets: map[bucketKey]*bucket{}}
}

// budget names the bucket an operation draws from: its own when it has a
// quota of its own or is GetFunction or GetPolicy, "shared" otherwise.
func (q *quotas) budget(op string) string {
	if _, ok := q.rates[op]; ok || op == "GetFunction" || op == "GetPolicy" {
		return op
	}
	return "shared"
}

// take spends one token of op's budget. When none is left it reports how
// long until one will be.
func (q *quotas) take(account, region, op string, now time.Time) (time.Duration, bool) {
	if len(q.rates) == 0 {
		return 0, true
	}
	name := q.budget(op)
	rate, ok := q.rates[name]
	if !ok {
		return 0, true
	}
	capacity := max(rate, 1)
	key := bucketKey{account, region, name}
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buckets[key]
	if b == nil {
		b = &bucket{tokens: capacity, last: now}
		q.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(capacity, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}
