package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature covers the timestamp and the body, so a
// receiver can refuse a replayed or altered alert:
//
//	X-Lambdawarden-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
const (
	HeaderSignature = "X-Lambdawarden-Signature"
	HeaderTimestamp = "X-Lambdawarden-Timestamp"
	// HeaderDelivery carries the alert id: the same alert delivered twice
	// (sent just before a crash, then again) has the same id.
	HeaderDelivery = "X-Lambdawarden-Delivery"
)

// Webhook POSTs each alert as a JSON body to a URL.
type Webhook struct {
	URL       string
	Secret    []byte // empty: no signature header
	Client    *http.Client
	UserAgent string
	Now       func() time.Time
}

// ParseWebhookURL checks a --webhook value.
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return u, nil
}

// Name implements Transport: the host, never the path or query, which may
// hold a token.
func (w *Webhook) Name() string {
	if u, err := url.Parse(w.URL); err == nil {
		return "webhook " + u.Host
	}
	return "webhook"
}

// Sign returns the signature header value for a body sent at ts (Unix
// seconds).
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header in constant time; receivers (and
// tests) use it.
func Verify(secret []byte, ts string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// Deliver makes one POST. 2xx is delivered; 408, 425, 429 and 5xx are
// retried (honouring Retry-After); any other status is a refusal.
func (w *Webhook) Deliver(ctx context.Context, m Message) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(m.Body))
	if err != nil {
		return &Permanent{err}
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderDelivery, m.ID)
	if w.UserAgent != "" {
		req.Header.Set("User-Agent", w.UserAgent)
	}
	if len(w.Secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, m.Body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST failed: %s", scrubURL(err.Error(), w.URL))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		err := fmt.Errorf("the receiver answered %d", code)
		if after := retryAfter(resp.Header.Get("Retry-After"), now()); after > 0 {
			return &RetryAfter{Err: err, After: after}
		}
		return err
	default:
		return &Permanent{fmt.Errorf("the receiver refused the alert with %d", code)}
	}
}

func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// scrubURL keeps a webhook's path and query (which may carry a token)
// out of error messages.
func scrubURL(msg, raw string) string {
	if u, err := url.Parse(raw); err == nil {
		host := u.Scheme + "://" + u.Host
		msg = strings.ReplaceAll(msg, raw, host+"/…")
		msg = strings.ReplaceAll(msg, strconv.Quote(raw), strconv.Quote(host+"/…"))
	}
	return msg
}
