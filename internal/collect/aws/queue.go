package awscollect

import (
	"context"
	"sync"
)

// queue is an unbounded FIFO of tasks with two priorities, served by a
// fixed set of workers. Tasks may enqueue more tasks; the queue closes when
// every task has finished.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	high    []func()
	low     []func()
	closed  bool
	pending *sync.WaitGroup
}

func newQueue(pending *sync.WaitGroup) *queue {
	q := &queue{pending: pending}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds a task; high-priority tasks run first (they unlock work on
// other budgets).
func (q *queue) push(high bool, task func()) {
	q.pending.Add(1)
	q.mu.Lock()
	if high {
		q.high = append(q.high, task)
	} else {
		q.low = append(q.low, task)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// pop blocks until a task is ready; ok is false once the queue is closed
// and drained.
func (q *queue) pop() (func(), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.high) == 0 && len(q.low) == 0 && !q.closed {
		q.cond.Wait()
	}
	switch {
	case len(q.high) > 0:
		t := q.high[0]
		q.high[0] = nil
		q.high = q.high[1:]
		return t, true
	case len(q.low) > 0:
		t := q.low[0]
		q.low[0] = nil
		q.low = q.low[1:]
		return t, true
	}
	return nil, false
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// serve runs n workers until the queue closes. A cancelled context makes
// the remaining tasks return quickly (their calls fail), so the queue
// still drains.
func (q *queue) serve(ctx context.Context, n int, wg *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				task, ok := q.pop()
				if !ok {
					return
				}
				task()
				q.pending.Done()
			}
		}()
	}
}
