package awscollect

import (
	"context"
	"errors"
	"fmt"
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
	mu        sync.Mutex
	perLane   map[LaneOp]int64
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
// reported unknown.
type RetryPolicy struct {
	MaxThrottles int           // 429s honoured (with Retry-After) before giving up
	MaxErrors    int           // 5xx and network errors before giving up
	BaseBackoff  time.Duration // first backoff after a 5xx or network error, doubling
	CallTimeout  time.Duration // one attempt
}

// DefaultRetry is used when Options.Retry is zero.
var DefaultRetry = RetryPolicy{MaxThrottles: 8, MaxErrors: 3, BaseBackoff: 250 * time.Millisecond, CallTimeout: 20 * time.Second}

// pacedCaller is what paces and counts calls: a Lambda lane, or an
// account's IAM reader.
type pacedCaller interface {
	bucketFor(op string) *bucket
	countCall(op string)
	retryPolicy() RetryPolicy
	throttled()
}

func (l *lane) bucketFor(op string) *bucket { return l.pacer.bucket(BudgetOf(op)) }
func (l *lane) countCall(op string)         { l.stats.count(l.account, l.region, op) }
func (l *lane) retryPolicy() RetryPolicy    { return l.retry }
func (l *lane) throttled()                  { l.stats.throttled.Add(1) }

// call runs one API call under the caller's pacing and retry rules. The
// SDK's own retryer is off: it does not read Lambda's Retry-After header
// and would hammer a budget the pacer is protecting.
func call[T any](ctx context.Context, l pacedCaller, op string, fn func(context.Context) (T, error)) (T, error) {
	bk := l.bucketFor(op)
	retry := l.retryPolicy()
	throttles, failures := 0, 0
	for {
		var zero T
		if bk != nil {
			if err := bk.take(ctx); err != nil {
				return zero, err
			}
		}
		l.countCall(op)
		cctx, cancel := context.WithTimeout(ctx, retry.CallTimeout)
		out, err := fn(cctx)
		cancel()
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		switch kind, after := classify(err); kind {
		case errThrottled:
			l.throttled()
			throttles++
			if throttles > retry.MaxThrottles {
				return zero, fmt.Errorf("%s: still throttled after %d attempts: %w", op, throttles, err)
			}
			if after <= 0 {
				after = time.Second
			}
			if bk != nil {
				bk.pause(after)
			} else if err := sleep(ctx, after); err != nil {
				return zero, err
			}
		case errTransient:
			failures++
			if failures > retry.MaxErrors {
				return zero, fmt.Errorf("%s: failed %d times: %w", op, failures, err)
			}
			backoff := retry.BaseBackoff << (failures - 1)
			backoff += time.Duration(rand.Int64N(int64(backoff)/2 + 1))
			if err := sleep(ctx, backoff); err != nil {
				return zero, err
			}
		default:
			return zero, err
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
