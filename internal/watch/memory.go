package watch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxSeenEvents bounds the event ids remembered (an event read twice —
// overlapping LookupEvents windows, a file read again after a restart —
// is handled once).
const maxSeenEvents = 200000

// pruneAt is the number of remembered findings past which those outside
// the window are dropped.
const pruneAt = 10000

// memory remembers what was already handled: event ids, and when each
// finding was last alerted, so a repeat within the window is not sent
// again. With a path it survives restarts.
type memory struct {
	window time.Duration
	path   string

	mu     sync.Mutex
	alerts map[string]time.Time
	events map[string]struct{}
	order  []string // event ids, oldest first
	dirty  bool
}

type memoryFile struct {
	Version int                  `json:"version"`
	Alerts  map[string]time.Time `json:"alerts"`
	Events  []string             `json:"events"`
}

func newMemory(window time.Duration, path string) (*memory, error) {
	m := &memory{window: window, path: path, alerts: map[string]time.Time{}, events: map[string]struct{}{}}
	if path == "" {
		return m, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	var f memoryFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("state %s is not a lambdawarden watch state file (delete it to start afresh)", path)
	}
	for k, t := range f.Alerts {
		m.alerts[k] = t
	}
	for _, id := range f.Events {
		m.rememberEvent(id)
	}
	return m, nil
}

// seen reports whether an event id was handled already.
func (m *memory) seen(id string) bool {
	if id == "" {
		return false // nothing to tell it by
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.events[id]
	return ok
}

// handled remembers an event id once its alerts are out.
func (m *memory) handled(id string) {
	if id == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.events[id]; !ok {
		m.rememberEvent(id)
		m.dirty = true
	}
}

func (m *memory) rememberEvent(id string) {
	m.events[id] = struct{}{}
	m.order = append(m.order, id)
	if len(m.order) > maxSeenEvents {
		drop := len(m.order) - maxSeenEvents
		for _, old := range m.order[:drop] {
			delete(m.events, old)
		}
		m.order = append([]string(nil), m.order[drop:]...)
	}
}

// repeat reports whether the same finding was alerted within the window;
// if not, it records now.
func (m *memory) repeat(key string, now time.Time) bool {
	if m.window <= 0 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.alerts[key]; ok && now.Sub(last) < m.window {
		return true
	}
	if len(m.alerts) >= pruneAt {
		// A long watch without a state file would otherwise keep every
		// finding it ever alerted.
		for k, t := range m.alerts {
			if now.Sub(t) >= m.window {
				delete(m.alerts, k)
			}
		}
	}
	m.alerts[key] = now
	m.dirty = true
	return false
}

// save writes the state (when it has a path and changed), dropping
// findings whose window has passed.
func (m *memory) save(now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.path == "" || !m.dirty {
		return nil
	}
	for k, t := range m.alerts {
		if now.Sub(t) >= m.window {
			delete(m.alerts, k)
		}
	}
	data, _ := json.Marshal(memoryFile{Version: 1, Alerts: m.alerts, Events: m.order})
	tmp, err := os.CreateTemp(filepath.Dir(m.path), ".lambdawarden-state-*")
	if err != nil {
		return fmt.Errorf("state %s: %w", m.path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), m.path)
	}
	if err != nil {
		return fmt.Errorf("state %s: %w", m.path, err)
	}
	m.dirty = false
	return nil
}
