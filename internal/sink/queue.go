package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Queue is a bounded folder of messages waiting for delivery, one file
// each, named so that a sorted listing is the order they were queued.
// Files appear whole (written aside, synced, renamed), so a crash leaves
// either the whole message or nothing. Delivered messages are removed;
// refused ones move to the dead/ subfolder with the reason.
type Queue struct {
	dir string
	max int

	mu   sync.Mutex
	seq  uint64
	size int
	now  func() time.Time
}

// ErrQueueFull is returned by Put when the queue holds its maximum.
var ErrQueueFull = errors.New("the delivery queue is full")

// queued is a message as stored.
type queued struct {
	ID       string    `json:"id"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	Queued   time.Time `json:"queued"`
	Attempts int       `json:"attempts,omitempty"`
	// Reason is why a dead message was refused.
	Reason string `json:"reason,omitempty"`
}

const queueExt = ".msg"

// OpenQueue opens (creating) a queue folder holding at most max messages.
// Leftovers of an interrupted write are removed; queued messages stay.
func OpenQueue(dir string, max int) (*Queue, error) {
	if max <= 0 {
		return nil, fmt.Errorf("queue %s: the maximum must be positive", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "dead"), 0o700); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{dir: dir, max: max, now: time.Now}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp"):
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, queueExt):
			q.size++
		}
	}
	return q, nil
}

// Dir is the queue's folder.
func (q *Queue) Dir() string { return q.dir }

// Len is the number of messages waiting.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size
}

// Put stores a message durably.
func (q *Queue) Put(m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.size >= q.max {
		return fmt.Errorf("%w (%d messages in %s)", ErrQueueFull, q.size, q.dir)
	}
	q.seq++
	name := fmt.Sprintf("%020d-%08d%s", q.now().UnixNano(), q.seq, queueExt)
	data, _ := json.Marshal(queued{ID: m.ID, Subject: m.Subject, Body: string(m.Body), Queued: q.now().UTC()})
	if err := writeDurably(filepath.Join(q.dir, name), data); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.size++
	return nil
}

// pending lists the queued files, oldest first.
func (q *Queue) pending() ([]string, error) {
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), queueExt) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func (q *Queue) load(name string) (queued, error) {
	var m queued
	data, err := os.ReadFile(filepath.Join(q.dir, name))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s is not a queued message: %w", name, err)
	}
	return m, nil
}

// done removes a delivered message.
func (q *Queue) done(name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := os.Remove(filepath.Join(q.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	q.size--
	return nil
}

// dead moves a refused (or unreadable) message aside with the reason.
func (q *Queue) dead(name string, m queued, why string) error {
	m.Reason = why
	data, _ := json.Marshal(m)
	if err := writeDurably(filepath.Join(q.dir, "dead", name), data); err != nil {
		return err
	}
	return q.done(name)
}

// writeDurably writes a file whole or not at all.
func writeDurably(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
