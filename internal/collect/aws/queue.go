package awscollect

import (
	"sync"
	"sync/atomic"
)

// task is one unit of lane work. via is the budget of the worker that
// runs it: a policy read run by a shared-budget worker goes through
// GetResourcePolicy instead of GetPolicy.
type task func(via Budget)

// scheduler holds one lane's work. GetPolicy workers take only policy
// reads; shared-budget workers take shared-only calls first and, when
// there are none, policy reads too. That keeps both budgets busy: with
// GetPolicy and the shared budget each at 15 requests/s, policy reads
// flow at up to 30/s instead of 15.
type scheduler struct {
	mu         sync.Mutex
	cond       *sync.Cond
	sharedHigh []task // calls that unlock more work (listings)
	sharedLow  []task
	policy     []task
	closed     bool
	pending    sync.WaitGroup
	// viaShared is cleared when GetResourcePolicy is refused (an older
	// role may not grant lambda:GetResourcePolicy); policy reads then
	// stay on GetPolicy.
	viaShared atomic.Bool
}

func newScheduler(useResourcePolicy bool) *scheduler {
	s := &scheduler{}
	s.cond = sync.NewCond(&s.mu)
	s.viaShared.Store(useResourcePolicy)
	return s
}

func (s *scheduler) push(list *[]task, t task) {
	s.pending.Add(1)
	s.mu.Lock()
	*list = append(*list, t)
	s.mu.Unlock()
	s.cond.Broadcast()
}

// shared queues a call that only the shared budget can make.
func (s *scheduler) shared(high bool, t func()) {
	list := &s.sharedLow
	if high {
		list = &s.sharedHigh
	}
	s.push(list, func(Budget) { t() })
}

// policyRead queues a policy read, which either budget can make.
func (s *scheduler) policyRead(t task) { s.push(&s.policy, t) }

func popFront(list *[]task) task {
	t := (*list)[0]
	(*list)[0] = nil
	*list = (*list)[1:]
	return t
}

// pop blocks until there is work for a worker of budget b; ok is false
// once the scheduler is closed.
func (s *scheduler) pop(b Budget) (task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case b == BudgetGetPolicy && len(s.policy) > 0:
			return popFront(&s.policy), true
		case b == BudgetShared && len(s.sharedHigh) > 0:
			return popFront(&s.sharedHigh), true
		case b == BudgetShared && len(s.sharedLow) > 0:
			return popFront(&s.sharedLow), true
		case b == BudgetShared && len(s.policy) > 0 && s.viaShared.Load():
			return popFront(&s.policy), true
		case s.closed:
			return nil, false
		}
		s.cond.Wait()
	}
}

func (s *scheduler) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// serve runs n workers for budget b until the scheduler closes.
func (s *scheduler) serve(b Budget, n int, wg *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t, ok := s.pop(b)
				if !ok {
					return
				}
				t(b)
				s.pending.Done()
			}
		}()
	}
}
