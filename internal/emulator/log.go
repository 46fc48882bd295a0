package emulator

import (
	"encoding/json"
	"io"
	"maps"
	"sync"
)

// requestLog keeps every request in memory and, when w is set, writes it
// as one JSON line. Writes happen under the mutex so lines never interleave.
type requestLog struct {
	w       io.Writer
	mu      sync.Mutex
	entries []Request
	count   map[string]int
}

func (l *requestLog) record(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, r)
	if l.count == nil {
		l.count = map[string]int{}
	}
	l.count[r.Op]++
	if l.w != nil {
		b, _ := json.Marshal(r)
		// A failing log writer must not fail the request it describes.
		_, _ = l.w.Write(append(b, '\n'))
	}
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.entries...)
}

func (l *requestLog) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.count))
	maps.Copy(out, l.count)
	return out
}
