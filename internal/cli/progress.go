package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress tells a person or a CI log that a long scan is moving, on
// standard error:
//
//   - on a terminal, one line as each account × Region ends (each named
//     once), under a status line redrawn in place (not with TERM=dumb);
//   - off a terminal, one short line every progressEvery, so a CI log
//     is never silent for long; a scan shorter than that prints nothing;
//   - with --quiet, nothing.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	redraw    bool // a terminal that understands \r and erase-line
	perLane   bool // a line per account × Region
	start     time.Time
	resources int
	byLane    map[string]int // resources read per "account region"
	ended     int
	lanes     int
	status    bool // a status line is on screen
	stop      chan struct{}
	done      chan struct{}
}

// progressEvery is the pace of progress lines off a terminal (and on a
// dumb one).
var progressEvery = 15 * time.Second

// startProgress returns the reporter for a scan, or nil for --quiet.
func (e *env) startProgress(quiet bool) *progress {
	if quiet {
		return nil
	}
	p := &progress{w: e.stderr, start: time.Now(), byLane: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	p.perLane = e.stderrTerminal
	p.redraw = e.stderrTerminal && e.getenv("TERM") != "dumb"
	every := progressEvery
	if p.redraw {
		every = 500 * time.Millisecond
	}
	go p.tick(every)
	return p
}

func (p *progress) tick(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.line()
			p.mu.Unlock()
		}
	}
}

// line prints the running total: redrawn in place on a terminal, one
// line of its own otherwise.
func (p *progress) line() {
	msg := fmt.Sprintf("scanning: %d resources read", p.resources)
	if p.lanes > 0 {
		msg += fmt.Sprintf(", %d of %d account×Region done", p.ended, p.lanes)
	}
	msg += fmt.Sprintf(" (%s)", time.Since(p.start).Round(time.Second))
	if p.redraw {
		fmt.Fprintf(p.w, "\r\x1b[K%s", msg)
		p.status = true
		return
	}
	fmt.Fprintf(p.w, "lambdawarden: %s\n", msg)
}

// clearStatus removes the status line before a line of its own.
func (p *progress) clearStatus() {
	if p.status {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.status = false
	}
}

// resource counts one resource read in an account and Region.
func (p *progress) resource(account, region string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.resources++
	p.byLane[account+" "+region]++
	p.mu.Unlock()
}

// laneDone is the collector's LaneDone hook.
func (p *progress) laneDone(account, region string, ended, lanes int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended, p.lanes = ended, lanes
	if p.perLane {
		p.clearStatus()
		fmt.Fprintf(p.w, "lambdawarden: %s %s: %d resources read (%d of %d account×Region done)\n", account, region, p.byLane[account+" "+region], ended, lanes)
	}
}

// finish stops the reporter and leaves the terminal clean.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	p.clearStatus()
	p.mu.Unlock()
}
