// Package sink delivers alerts: JSON lines on a writer (standard output),
// and durable sinks — a webhook, an SNS topic — that put every message in
// a bounded on-disk queue before trying to deliver it, retry with capped,
// jittered backoff while the receiver is down, and pick up where they left
// off after a restart, so an outage loses nothing.
//
// A sink knows nothing of what an alert means: a Message is an id, a
// one-line subject and a JSON body.
package sink

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Message is one alert to deliver.
type Message struct {
	// ID identifies the alert; receivers use it to drop a repeat
	// delivery (a message sent just before a crash is sent again).
	ID string `json:"id"`
	// Subject is a one-line summary (SNS subject, logs).
	Subject string `json:"subject"`
	// Body is the alert as JSON.
	Body []byte `json:"body"`
}

// Sink delivers messages. Send returns once the message is delivered or,
// for a durable sink, safely queued on disk; an error means the message
// was not accepted, and the caller must say so.
type Sink interface {
	Name() string
	Send(ctx context.Context, m Message) error
	// Close delivers what it can until ctx ends; a durable sink leaves
	// the rest on disk for the next run.
	Close(ctx context.Context) error
}

// Lines writes each message body as one line: JSON lines on standard
// output.
type Lines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLines returns a sink writing to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// Name implements Sink.
func (l *Lines) Name() string { return "stdout" }

// Send writes the body and a newline, in one write so lines never mix.
func (l *Lines) Send(_ context.Context, m Message) error {
	line := make([]byte, 0, len(m.Body)+1)
	line = append(append(line, m.Body...), '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(line)
	return err
}

// Close implements Sink.
func (l *Lines) Close(context.Context) error { return nil }

// Transport makes one delivery attempt. It returns nil when the receiver
// has the message, a *Permanent error when trying again cannot help (the
// receiver refuses it), and any other error for a failure worth retrying
// (optionally a *RetryAfter).
type Transport interface {
	Name() string
	Deliver(ctx context.Context, m Message) error
}

// Permanent is a refusal that retrying cannot fix (HTTP 400, 401, 403,
// 404, ...). The message is set aside in the queue's dead folder, never
// dropped.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// RetryAfter is a retryable failure where the receiver said when to come
// back.
type RetryAfter struct {
	Err   error
	After time.Duration
}

func (r *RetryAfter) Error() string { return r.Err.Error() }
func (r *RetryAfter) Unwrap() error { return r.Err }

// Backoff bounds the waits between attempts: the n-th consecutive failure
// waits a random time in [0, min(Max, Base·2ⁿ)] ("full jitter"), so many
// watchers recovering at once do not hit the receiver together.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// DefaultBackoff is used when a Durable's Backoff is zero.
var DefaultBackoff = Backoff{Base: 500 * time.Millisecond, Max: time.Minute}

func (b Backoff) wait(failures int, rnd func(int64) int64) time.Duration {
	ceiling := b.Base
	for i := 1; i < failures && ceiling < b.Max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, b.Max)
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rnd(int64(ceiling) + 1))
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("the sink is closed")
