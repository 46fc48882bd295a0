package sink

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Durable is a sink that queues every message on disk, then delivers the
// queue in order through a transport, one message at a time, retrying
// failures with Backoff until the receiver takes them. Messages queued by
// an earlier run are delivered first.
type Durable struct {
	q       *Queue
	t       Transport
	backoff Backoff
	logf    func(format string, args ...any)
	rnd     func(int64) int64

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool
	idle    sync.Cond
	mu      sync.Mutex
	busy    bool

	delivered, refused, retries atomic.Int64
}

// DurableOptions tune a Durable.
type DurableOptions struct {
	Backoff Backoff
	// Logf receives one line per outage, recovery and refusal (stderr).
	Logf func(format string, args ...any)
}

// NewDurable starts delivering q through t.
func NewDurable(q *Queue, t Transport, opt DurableOptions) *Durable {
	if opt.Backoff == (Backoff{}) {
		opt.Backoff = DefaultBackoff
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	d := &Durable{q: q, t: t, backoff: opt.Backoff, logf: opt.Logf, rnd: rand.Int64N,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	d.idle.L = &d.mu
	go d.run()
	d.poke()
	return d
}

// Name implements Sink.
func (d *Durable) Name() string { return d.t.Name() }

// Send queues the message; delivery happens in the background.
func (d *Durable) Send(_ context.Context, m Message) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.q.Put(m); err != nil {
		return err
	}
	d.poke()
	return nil
}

// Stats are what a durable sink did so far.
type Stats struct {
	Delivered, Refused, Retries int64
	Queued                      int
}

// Stats returns the counts so far.
func (d *Durable) Stats() Stats {
	return Stats{Delivered: d.delivered.Load(), Refused: d.refused.Load(), Retries: d.retries.Load(), Queued: d.q.Len()}
}

func (d *Durable) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Close stops taking messages and delivers the queue until it is empty or
// ctx ends; whatever is left stays on disk for the next run.
func (d *Durable) Close(ctx context.Context) error {
	if d.closed.Swap(true) {
		return nil
	}
	d.poke()
	drained := make(chan struct{})
	go func() {
		d.mu.Lock()
		for d.busy || d.q.Len() > 0 {
			if d.stoppedNow() {
				break
			}
			d.idle.Wait()
		}
		d.mu.Unlock()
		close(drained)
	}()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
	}
	close(d.stop)
	<-d.stopped
	d.mu.Lock()
	d.idle.Broadcast()
	d.mu.Unlock()
	if n := d.q.Len(); n > 0 {
		d.logf("%s: %d alert(s) not yet delivered stay queued in %s and will be sent on the next run", d.t.Name(), n, d.q.Dir())
		if err == nil {
			err = errors.New("undelivered alerts remain queued")
		}
	}
	return err
}

func (d *Durable) stoppedNow() bool {
	select {
	case <-d.stopped:
		return true
	default:
		return false
	}
}

func (d *Durable) setBusy(b bool) {
	d.mu.Lock()
	d.busy = b
	d.idle.Broadcast()
	d.mu.Unlock()
}

// run is the delivery loop: drain the queue in order, then wait for more.
func (d *Durable) run() {
	defer close(d.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-d.stop
		cancel()
	}()
	failures := 0
	for {
		d.setBusy(true)
		names, err := d.q.pending()
		if err != nil {
			d.logf("%s: cannot list the queue %s: %v", d.t.Name(), d.q.Dir(), err)
		}
		for _, name := range names {
			if ctx.Err() != nil {
				d.setBusy(false)
				return
			}
			failures = d.deliver(ctx, name, failures)
		}
		d.setBusy(false)
		select {
		case <-d.wake:
		case <-ctx.Done():
			return
		}
	}
}

// deliver sends one queued message, retrying until it is taken, refused
// or the sink stops. It returns the count of consecutive failures.
func (d *Durable) deliver(ctx context.Context, name string, failures int) int {
	m, err := d.q.load(name)
	if err != nil {
		d.refused.Add(1)
		d.logf("%s: %v; moved to %s/dead", d.t.Name(), err, d.q.Dir())
		_ = d.q.dead(name, m, err.Error())
		return failures
	}
	for {
		m.Attempts++
		err := d.t.Deliver(ctx, Message{ID: m.ID, Subject: m.Subject, Body: []byte(m.Body)})
		if err == nil {
			if failures > 0 {
				d.logf("%s: delivering again after %d failed attempt(s)", d.t.Name(), failures)
			}
			d.delivered.Add(1)
			if err := d.q.done(name); err != nil {
				d.logf("%s: delivered %s but cannot remove it from the queue: %v", d.t.Name(), m.ID, err)
			}
			return 0
		}
		var perm *Permanent
		if errors.As(err, &perm) {
			d.refused.Add(1)
			d.logf("%s refused alert %s (%v); kept in %s/dead", d.t.Name(), m.ID, err, d.q.Dir())
			_ = d.q.dead(name, m, err.Error())
			return failures
		}
		if ctx.Err() != nil {
			return failures
		}
		failures++
		d.retries.Add(1)
		wait := d.backoff.wait(failures, d.rnd)
		var ra *RetryAfter
		if errors.As(err, &ra) && ra.After > wait {
			wait = min(ra.After, d.backoff.Max)
		}
		if failures == 1 {
			d.logf("%s: %v; retrying with backoff (alerts are queued in %s meanwhile)", d.t.Name(), err, d.q.Dir())
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return failures
		}
	}
}
