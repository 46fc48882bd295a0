package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/sink"
)

// receiver is a webhook endpoint that verifies signatures (refusing a bad
// one with 401), can be made to fail, and keeps what it got.
type receiver struct {
	secret []byte
	badSig atomic.Int32
	// failing makes it answer this status while set (0 = healthy).
	failing atomic.Int32
	mu      sync.Mutex
	got     []string // delivery ids in arrival order
	bodies  map[string]string
	hits    atomic.Int32
}

func newReceiver(t *testing.T, secret string) (*receiver, *httptest.Server) {
	r := &receiver{secret: []byte(secret), bodies: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if code := r.failing.Load(); code != 0 {
			w.WriteHeader(int(code))
			return
		}
		body, _ := io.ReadAll(req.Body)
		ts, sig := req.Header.Get(sink.HeaderTimestamp), req.Header.Get(sink.HeaderSignature)
		if req.Header.Get("Content-Type") != "application/json" || !sink.Verify(r.secret, ts, body, sig) {
			r.badSig.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := req.Header.Get(sink.HeaderDelivery)
		r.mu.Lock()
		r.got = append(r.got, id)
		r.bodies[id] = string(body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func msg(i int) sink.Message {
	id := fmt.Sprintf("alert-%03d", i)
	return sink.Message{ID: id, Subject: "s", Body: []byte(fmt.Sprintf(`{"id":%q,"n":%d}`, id, i))}
}

func fast() sink.DurableOptions {
	return sink.DurableOptions{Backoff: sink.Backoff{Base: 2 * time.Millisecond, Max: 20 * time.Millisecond}}
}

func openQueue(t *testing.T, dir string, max int) *sink.Queue {
	t.Helper()
	q, err := sink.OpenQueue(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebhookOutageLosesNothing: the receiver fails, then recovers; every
// alert arrives exactly once, in order, signed.
func TestWebhookOutageLosesNothing(t *testing.T) {
	rcv, srv := newReceiver(t, "s3cret")
	rcv.failing.Store(http.StatusServiceUnavailable)
	var logs bytes.Buffer
	var logMu sync.Mutex
	opt := fast()
	opt.Logf = func(f string, a ...any) { logMu.Lock(); fmt.Fprintf(&logs, f+"\n", a...); logMu.Unlock() }
	d := sink.NewDurable(openQueue(t, t.TempDir(), 100), &sink.Webhook{URL: srv.URL + "/hook?token=abc", Secret: []byte("s3cret")}, opt)
	for i := 0; i < 20; i++ {
		if err := d.Send(context.Background(), msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "retries during the outage", func() bool { return rcv.hits.Load() >= 5 })
	if len(rcv.ids()) != 0 {
		t.Fatal("nothing should be delivered during the outage")
	}
	rcv.failing.Store(0)
	waitFor(t, "all 20 alerts", func() bool { return len(rcv.ids()) == 20 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, id := range rcv.ids() {
		if id != msg(i).ID {
			t.Fatalf("delivery %d is %s: order lost or duplicated: %v", i, id, rcv.ids())
		}
	}
	if rcv.badSig.Load() != 0 {
		t.Errorf("%d deliveries were badly signed", rcv.badSig.Load())
	}
	st := d.Stats()
	if st.Delivered != 20 || st.Retries == 0 || st.Queued != 0 {
		t.Errorf("stats %+v", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "503") || strings.Contains(logs.String(), "token=abc") {
		t.Errorf("the log should name the failure but never the URL's token:\n%s", logs.String())
	}
}

// TestWebhookQueueSurvivesRestart: alerts queued while the receiver is
// down are delivered by the next run.
func TestWebhookQueueSurvivesRestart(t *testing.T) {
	rcv, srv := newReceiver(t, "k")
	rcv.failing.Store(http.StatusBadGateway)
	dir := t.TempDir()
	hook := &sink.Webhook{URL: srv.URL, Secret: []byte("k")}
	d := sink.NewDurable(openQueue(t, dir, 100), hook, fast())
	for i := 0; i < 5; i++ {
		if err := d.Send(context.Background(), msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := d.Close(ctx)
	cancel()
	if err == nil {
		t.Fatal("closing with undelivered alerts must say so")
	}
	if err := d.Send(context.Background(), msg(99)); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	// A crash mid-write leaves a temporary file: it is cleaned up.
	if err := os.WriteFile(filepath.Join(dir, ".partial.msg.tmp"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The next run delivers to a receiver that is up. A fresh receiver, so
	// a POST of the first run that was cancelled on the client but not yet
	// handled by the server cannot arrive late and count twice.
	rcv, srv2 := newReceiver(t, "k")
	hook = &sink.Webhook{URL: srv2.URL, Secret: []byte("k")}
	q := openQueue(t, dir, 100)
	if q.Len() != 5 {
		t.Fatalf("the restarted queue holds %d alerts, want 5", q.Len())
	}
	d2 := sink.NewDurable(q, hook, fast())
	waitFor(t, "the queued alerts", func() bool { return len(rcv.ids()) >= 5 })
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.ids(), ","); got != "alert-000,alert-001,alert-002,alert-003,alert-004" {
		t.Errorf("delivered %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial.msg.tmp")); !os.IsNotExist(err) {
		t.Errorf("leftover temporary file: %v", err)
	}
}

// TestWebhookRefusalIsKeptAside: a 4xx refusal is not retried forever
// and not dropped either.
func TestWebhookRefusalIsKeptAside(t *testing.T) {
	rcv, srv := newReceiver(t, "right")
	dir := t.TempDir()
	d := sink.NewDurable(openQueue(t, dir, 10), &sink.Webhook{URL: srv.URL, Secret: []byte("wrong")}, fast())
	if err := d.Send(context.Background(), msg(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { return d.Stats().Refused == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	dead, _ := os.ReadDir(filepath.Join(dir, "dead"))
	if len(dead) != 1 {
		t.Fatalf("the refused alert must be kept in dead/: %v", dead)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "dead", dead[0].Name()))
	if !strings.Contains(string(data), "401") || !strings.Contains(string(data), "alert-001") {
		t.Errorf("dead message %s", data)
	}
	if rcv.badSig.Load() != 1 || rcv.hits.Load() != 1 {
		t.Errorf("a refusal must not be retried: %d attempts", rcv.hits.Load())
	}
}

func TestQueueIsBounded(t *testing.T) {
	q := openQueue(t, t.TempDir(), 3)
	for i := 0; i < 3; i++ {
		if err := q.Put(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Put(msg(3)); !errors.Is(err, sink.ErrQueueFull) {
		t.Fatalf("the fourth message must be refused: %v", err)
	}
	if _, err := sink.OpenQueue(t.TempDir(), 0); err == nil {
		t.Error("a queue of size 0 must be refused")
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"a":1}`)
	sig := sink.Sign([]byte("k"), "1700000000", body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
		t.Fatalf("signature %q", sig)
	}
	if !sink.Verify([]byte("k"), "1700000000", body, sig) || sink.Verify([]byte("k"), "1700000001", body, sig) ||
		sink.Verify([]byte("x"), "1700000000", body, sig) || sink.Verify([]byte("k"), "1700000000", []byte(`{"a":2}`), sig) {
		t.Error("the signature must cover secret, timestamp and body")
	}
	if _, err := sink.ParseWebhookURL("ftp://x"); err == nil {
		t.Error("ftp is not a webhook")
	}
}

func TestLinesWritesOneLinePerAlert(t *testing.T) {
	var buf bytes.Buffer
	l := sink.NewLines(&buf)
	for i := 0; i < 3; i++ {
		if err := l.Send(context.Background(), msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 3 || lines[2] != `{"id":"alert-002","n":2}` {
		t.Errorf("%q", buf.String())
	}
}
