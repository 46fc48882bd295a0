package awscollect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// stats counts what a collection did, for the report and the benchmark.
type stats struct {
	calls     atomic.Int64
	throttled atomic.Int64 // 429s met
	// cut counts calls the end of the run (interrupt, --timeout)
	// prevented: something they would have read is missing.
	cut     atomic.Int64
	mu      sync.Mutex
	perLane map[LaneOp]int64
}

// LaneOp names one operation in one account-Region lane.
type LaneOp struct {
	Account, Region, Op string
}

func newStats() *stats {
	return &stats{perLane: map[LaneOp]int64{}}
}

func (s *stats) count(account, region, op string) {
	s.calls.Add(1)
	s.mu.Lock()
	s.perLane[LaneOp{account, region, op}]++
	s.mu.Unlock()
}

// RetryPolicy bounds how long a call keeps trying before its resource is
// reported unknown. A zero field takes DefaultRetry's value.
type RetryPolicy struct {
	MaxThrottles int           // 429s honoured (with Retry-After) before giving up
	MaxErrors    int           // 5xx and network errors before giving up
	BaseBackoff  time.Duration // first backoff after a 5xx or network error, doubling
	CallTimeout  time.Duration // one attempt
	// MaxElapsed bounds one call, every attempt and wait included: a
	// call that cannot finish within it gives up.
	MaxElapsed time.Duration
	// BreakAfter opens a budget's circuit breaker when the budget has
	// answered nothing but 429s and 5xx for this long: every later call
	// on it gives up at once, so a lane under sustained throttling
	// yields instead of retrying each of its resources in turn.
	BreakAfter time.Duration
}

// DefaultRetry is used for the fields Options.Retry leaves zero.
var DefaultRetry = RetryPolicy{MaxThrottles: 8, MaxErrors: 3, BaseBackoff: 250 * time.Millisecond, CallTimeout: 20 * time.Second,
	MaxElapsed: time.Minute, BreakAfter: 30 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetry
	if p.MaxThrottles > 0 {
		d.MaxThrottles = p.MaxThrottles
	}
	if p.MaxErrors > 0 {
		d.MaxErrors = p.MaxErrors
	}
	if p.BaseBackoff > 0 {
		d.BaseBackoff = p.BaseBackoff
	}
	if p.CallTimeout > 0 {
		d.CallTimeout = p.CallTimeout
	}
	if p.MaxElapsed > 0 {
		d.MaxElapsed = p.MaxElapsed
	}
	if p.BreakAfter > 0 {
		d.BreakAfter = p.BreakAfter
	}
	return d
}

// pacedCaller is what paces and counts calls: a Lambda lane, an
// account's IAM reader, or the unpaced caller of the global services.
type pacedCaller interface {
	bucketFor(op string) *bucket
	breakerFor(op string) *breaker
	countCall(op string)
	retryPolicy() RetryPolicy
	throttled()
	stopped()
	clock() time.Time
}

func (l *lane) bucketFor(op string) *bucket   { return l.pacer.bucket(BudgetOf(op)) }
func (l *lane) breakerFor(op string) *breaker { return l.breakers[BudgetOf(op)] }
func (l *lane) countCall(op string)           { l.stats.count(l.account, l.region, op) }
func (l *lane) retryPolicy() RetryPolicy      { return l.retry }
func (l *lane) throttled()                    { l.stats.throttled.Add(1) }
func (l *lane) stopped()                      { l.stats.cut.Add(1) }
func (l *lane) clock() time.Time              { return l.opt.Now() }

// globalCaller makes the calls outside any lane (STS, Organizations, the
// Account API): unpaced, retried like every other call.
type globalCaller struct {
	stats *stats
	retry RetryPolicy
	now   func() time.Time
}

func (g *globalCaller) bucketFor(string) *bucket   { return nil }
func (g *globalCaller) breakerFor(string) *breaker { return nil }
func (g *globalCaller) countCall(string)           { g.stats.calls.Add(1) }
func (g *globalCaller) retryPolicy() RetryPolicy   { return g.retry }
func (g *globalCaller) throttled()                 { g.stats.throttled.Add(1) }
func (g *globalCaller) stopped()                   { g.stats.cut.Add(1) }
func (g *globalCaller) clock() time.Time           { return g.now() }

// gaveUp is a call that ran out of attempts, of time, or of budget (its
// breaker is open), or that the end of the run cut short. Its message is
// the reason its resource is unknown.
type gaveUp struct {
	op   string
	why  string
	last error // the last answer, when there was one
	// stop is set when the run ended (interrupt, --timeout) first.
	stop bool
}

func (e *gaveUp) Error() string {
	s := e.op + ": " + e.why
	if e.last != nil {
		s += " (last answer: " + shortError(e.last) + ")"
	}
	return s
}

func (e *gaveUp) Unwrap() error { return e.last }

// stopError is the error of a call the end of the run prevented.
func stopError(ctx context.Context, l pacedCaller, op string) error {
	l.stopped()
	return &gaveUp{op: op, why: "not read: " + StopCause(ctx), stop: true}
}

// StopCause words why a run's context ended: its cause when one was
// given (--timeout gives one), else an interruption.
func StopCause(ctx context.Context) string {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return "the scan ended"
	case errors.Is(cause, context.Canceled) && cause.Error() == context.Canceled.Error():
		return "the scan was interrupted"
	case errors.Is(cause, context.DeadlineExceeded) && cause.Error() == context.DeadlineExceeded.Error():
		return "the scan's time limit was reached"
	case strings.HasSuffix(cause.Error(), "signal received"):
		// signal.NotifyContext's cause, e.g. "terminated signal received".
		return "the scan was interrupted (" + cause.Error() + ")"
	}
	return cause.Error()
}

// seconds renders a duration as whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds()))) + " s"
}

// call runs one API call under the caller's pacing and retry rules. The
// SDK's own retryer is off: it does not read Lambda's Retry-After header
// and would hammer a budget the pacer is protecting. Every wait is
// bounded: by the attempt's timeout, by the call's MaxElapsed, by the
// budget's breaker and by ctx.
func call[T any](ctx context.Context, l pacedCaller, op string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	bk, br := l.bucketFor(op), l.breakerFor(op)
	retry := l.retryPolicy()
	start := l.clock()
	throttles, failures := 0, 0
	var last error
	for {
		if err := br.check(op); err != nil {
			return zero, err
		}
		if bk != nil {
			if err := bk.take(ctx); err != nil {
				return zero, stopError(ctx, l, op)
			}
			// The breaker may have opened while this call waited.
			if err := br.check(op); err != nil {
				return zero, err
			}
		}
		if ctx.Err() != nil {
			return zero, stopError(ctx, l, op)
		}
		attempt := min(retry.CallTimeout, retry.MaxElapsed-l.clock().Sub(start))
		if attempt <= 0 {
			return zero, &gaveUp{op: op, why: "gave up after " + seconds(l.clock().Sub(start)), last: last}
		}
		l.countCall(op)
		cctx, cancel := context.WithTimeout(ctx, attempt)
		out, err := fn(cctx)
		cancel()
		if err == nil {
			br.answered()
			return out, nil
		}
		if ctx.Err() != nil {
			return zero, stopError(ctx, l, op)
		}
		last = err
		var wait time.Duration
		kind, after := classify(err)
		switch kind {
		case errThrottled:
			l.throttled()
			br.failed(true)
			throttles++
			if throttles > retry.MaxThrottles {
				return zero, &gaveUp{op: op, why: fmt.Sprintf("still throttled after %d attempts in %s", throttles, seconds(l.clock().Sub(start))), last: err}
			}
			if after <= 0 {
				after = time.Second
			}
			// Only this call waits out Retry-After; the budget loses its
			// saved-up burst so the calls that follow are spread out.
			wait = after + time.Duration(rand.Int64N(int64(after)/10+1))
			if bk != nil {
				bk.drain()
			}
		case errTransient:
			br.failed(false)
			failures++
			if failures > retry.MaxErrors {
				return zero, &gaveUp{op: op, why: fmt.Sprintf("failed %d times in %s", failures, seconds(l.clock().Sub(start))), last: err}
			}
			wait = retry.BaseBackoff << (failures - 1)
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
		default:
			// An answer, even a refusal: the budget is not throttled.
			br.answered()
			return zero, err
		}
		if elapsed := l.clock().Sub(start); elapsed+wait > retry.MaxElapsed {
			return zero, &gaveUp{op: op, why: fmt.Sprintf("gave up after %d attempts in %s (the limit per call is %s)", throttles+failures, seconds(elapsed), seconds(retry.MaxElapsed)), last: err}
		}
		if err := sleep(ctx, wait); err != nil {
			return zero, stopError(ctx, l, op)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type errKind int

const (
	errFinal errKind = iota
	errThrottled
	errTransient
)

// classify decides whether an error is worth another attempt, and reads
// Lambda's Retry-After (seconds) from a throttled response.
func classify(err error) (errKind, time.Duration) {
	var after time.Duration
	var re *smithyhttp.ResponseError
	status := 0
	if errors.As(err, &re) && re.Response != nil {
		status = re.Response.StatusCode
		after = retryAfter(re.Response.Header)
	}
	if isCredentialError(err) {
		return errFinal, 0
	}
	code := errorCode(err)
	switch {
	case status == http.StatusTooManyRequests, code == "TooManyRequestsException", code == "ThrottlingException", code == "Throttling", code == "RequestLimitExceeded":
		return errThrottled, after
	case status >= 500, code == "ServiceException", code == "ServiceUnavailableException", code == "InternalFailure":
		return errTransient, 0
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF") {
		return errTransient, 0
	}
	return errFinal, 0
}

func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			return time.Duration(n * float64(time.Second))
		}
	}
	if v := h.Get("X-Amz-Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Millisecond
		}
	}
	return 0
}

// errorCode returns the AWS error code ("AccessDeniedException"), or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports a 404 ResourceNotFoundException: for a policy read,
// the only error that means "no grants".
func isNotFound(err error) bool {
	return errorCode(err) == "ResourceNotFoundException"
}

// reason renders an error for a resource's unknown_reason: the AWS code
// first, then the message, without SDK noise.
func reason(op string, err error) string {
	var g *gaveUp
	if errors.As(err, &g) {
		return g.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" {
			return op + ": " + ae.ErrorCode()
		}
		return op + ": " + ae.ErrorCode() + ": " + msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return op + ": timed out"
	}
	return op + ": " + err.Error()
}
