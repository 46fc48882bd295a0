package emulator

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// FaultKind is a kind of injected failure.
type FaultKind string

// Fault kinds accepted by ParseFaults.
const (
	// FaultThrottle answers 429 TooManyRequestsException (Retry-After: 1).
	FaultThrottle FaultKind = "throttle"
	// Fault500 answers 500 ServiceException.
	Fault500 FaultKind = "500"
	// Fault503 answers 503 ServiceUnavailable.
	Fault503 FaultKind = "503"
	// FaultTimeout never answers: the request hangs until the client gives
	// up (or 30 seconds pass), then the connection is dropped.
	FaultTimeout FaultKind = "timeout"
	// FaultDenied answers 403 AccessDeniedException.
	FaultDenied FaultKind = "denied"
	// Fault404 answers 404 ResourceNotFoundException whatever is there: on
	// GetResourcePolicy it says "no policy" while GetPolicy still returns
	// the policy, the disagreement a scanner must catch.
	Fault404 FaultKind = "404"
)

// Fault injects failures of one kind into requests of one operation ("" =
// every operation, Lambda's and the other services') with a probability
// per request.
type Fault struct {
	Op          string
	Kind        FaultKind
	Probability float64
}

func (f Fault) check() error {
	switch f.Kind {
	case FaultThrottle, Fault500, Fault503, FaultTimeout, FaultDenied, Fault404:
	default:
		return fmt.Errorf("fault %q: unknown kind; use throttle, 500, 503, 404, timeout or denied", f.Kind)
	}
	if f.Op != "" && !slices.Contains(allOps(), f.Op) {
		return fmt.Errorf("fault %s:%s: unknown operation %q", f.Op, f.Kind, f.Op)
	}
	if !(f.Probability >= 0 && f.Probability <= 1) {
		return fmt.Errorf("fault %s: probability %v is not between 0 and 1", f.Kind, f.Probability)
	}
	return nil
}

// ParseFaults parses a --faults spec: comma-separated [OP:]KIND=PROBABILITY
// items, e.g. "GetPolicy:throttle=0.3,ListAliases:500=0.05,timeout=0.01".
// Without OP a fault applies to every operation. When several faults match
// a request they are tried in the order given and the first that fires
// wins. An empty spec means no faults.
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		lhs, prob, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("fault %q: want [OP:]KIND=PROBABILITY, e.g. GetPolicy:throttle=0.3", item)
		}
		var f Fault
		if i := strings.LastIndex(lhs, ":"); i >= 0 {
			f.Op, lhs = lhs[:i], lhs[i+1:]
		}
		f.Kind = FaultKind(lhs)
		p, err := strconv.ParseFloat(prob, 64)
		if err != nil {
			return nil, fmt.Errorf("fault %q: %q is not a probability between 0 and 1", item, prob)
		}
		f.Probability = p
		if err := f.check(); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// faultInjector decides, deterministically, which requests fail: the n-th
// request of an operation draws the same numbers in every run with the same
// seed, whatever the interleaving with other operations.
type faultInjector struct {
	faults []Fault
	seed   uint64
	mu     sync.Mutex
	seq    map[string]uint64
}

func newFaultInjector(faults []Fault, seed int64) *faultInjector {
	return &faultInjector{faults: faults, seed: uint64(seed), seq: map[string]uint64{}}
}

func (fi *faultInjector) draw(op string) (FaultKind, bool) {
	if len(fi.faults) == 0 {
		return "", false
	}
	fi.mu.Lock()
	n := fi.seq[op]
	fi.seq[op] = n + 1
	fi.mu.Unlock()
	h := fnv.New64a()
	h.Write([]byte(op))
	base := fi.seed ^ h.Sum64()
	for i, f := range fi.faults {
		if f.Op != "" && f.Op != op {
			continue
		}
		x := splitmix64(base ^ splitmix64(n*0x9E3779B97F4A7C15+uint64(i)))
		if float64(x>>11)/(1<<53) < f.Probability {
			return f.Kind, true
		}
	}
	return "", false
}

// splitmix64 is a small, well-mixed hash of a 64-bit value.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}
