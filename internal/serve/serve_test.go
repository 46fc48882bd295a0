package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/chromiumtest"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

const hostile = `<script>alert(1)</script>`

var day0 = time.Date(2025, 5, 1, 6, 0, 0, 0, time.UTC)

func arn(account, name string) string {
	return "arn:aws:lambda:us-east-1:" + account + ":function:" + name
}

func fn(account, name, exposure, policy string, fs ...finding.Finding) report.Resource {
	if fs == nil {
		fs = []finding.Finding{}
	}
	return report.Resource{ARN: arn(account, name), Kind: "function", Account: account, Region: "us-east-1", Status: "evaluated", Exposure: exposure, Policy: policy, Findings: fs}
}

func public(sid string) finding.Finding {
	return finding.Finding{RuleID: "lambda-public-access", Title: "public", Severity: finding.Critical, Exposure: "public",
		Statement: &finding.StatementRef{Sid: sid}, Explanation: "Statement " + sid + " allows anyone.",
		Compliance: finding.Compliance{{Framework: "HIPAA", IDs: []string{"164.312(a)(1)"}}}}
}

// estate records ten daily scans of two accounts: intake opened to
// everyone on day 3 and fixed on day 6; a function with a hostile Sid
// stays public.
func estate(t *testing.T) (history.Store, *Server) {
	t.Helper()
	now := day0
	clock := func() time.Time { return now }
	s, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), history.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	priv := `{"Statement":[{"Sid":"events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}`
	open := `{"Statement":[{"Sid":"events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction"},{"Sid":"vendor","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"}]}`
	bad := `{"Statement":[{"Sid":"` + strings.ReplaceAll(hostile, `"`, `\"`) + `","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"}]}`
	for day := 1; day <= 10; day++ {
		rs := []report.Resource{fn("111122223333", "intake", "private", priv), fn("222233334444", hostile, "public", bad, public(hostile))}
		if day >= 3 && day < 6 {
			rs[0] = fn("111122223333", "intake", "public", open, public("vendor"))
		}
		d := &report.Document{SchemaVersion: "1", Tool: report.Tool{Name: "lambdawarden", Version: "test"}, Resources: rs,
			Scan: &report.ScanInfo{StartedAt: now.Format(time.RFC3339), FinishedAt: now.Format(time.RFC3339), Accounts: []string{"111122223333", "222233334444"}, Regions: []string{"us-east-1"}}}
		d.Summarize()
		d.Scan.Complete = true
		if _, err := s.RecordScan(context.Background(), d, history.Meta{Caller: "arn:aws:iam::111122223333:role/" + hostile}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(24 * time.Hour)
	}
	return s, New(s, Options{Now: clock, Tool: report.Tool{Name: "lambdawarden", Version: "test"}})
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:8080"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPagesOverHTTP(t *testing.T) {
	_, srv := estate(t)
	h := srv.Handler()
	intake := url.QueryEscape(arn("111122223333", "intake"))
	cases := []struct {
		method, target string
		code           int
		want           string
	}{
		{"GET", "/", 200, `<b id="n-scans">10</b>`},
		{"HEAD", "/", 200, ""},
		{"GET", "/scans", 200, "<td class=\"num\">10</td>"},
		{"GET", "/findings", 200, "1 findings"},
		{"GET", "/findings?state=all", 200, "2 findings"},
		{"GET", "/findings?state=resolved&rule=lambda-public-access", 200, "sid:vendor"},
		{"GET", "/findings?state=all&account=111122223333&severity=critical", 200, "1 findings"},
		{"GET", "/findings?state=bogus", 400, "want open, resolved or all"},
		{"GET", "/resource?arn=" + intake, 200, `<b>added</b> <code>sid:vendor</code>`},
		{"GET", "/resource?arn=intake", 400, "give the resource's ARN"},
		{"GET", "/resource?arn=" + url.QueryEscape(arn("111122223333", "never")), 404, "not found"},
		{"GET", "/evidence?from=2025-05-01&to=2025-05-10", 200, "AWS Lambda exposure: audit evidence"},
		{"GET", "/evidence?from=2025-05-01&to=2025-05-10&format=json", 200, `"schema_version": "1"`},
		{"GET", "/evidence?from=may&to=2025-05-10", 400, "YYYY-MM-DD"},
		{"GET", "/nope", 404, ""},
		{"POST", "/", 405, "read-only"},
		{"DELETE", "/findings", 405, "read-only"},
	}
	for _, c := range cases {
		w := get(t, h, c.method, c.target)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s %s: %d, want %d with %q:\n%.600s", c.method, c.target, w.Code, c.code, c.want, w.Body.String())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s %s: CSP %q", c.method, c.target, csp)
		}
		// JSON is data, served as application/json with nosniff.
		if !strings.Contains(c.target, "format=json") && strings.Contains(w.Body.String(), hostile) {
			t.Errorf("%s %s: a hostile name became markup", c.method, c.target)
		}
	}
	if w := get(t, h, "GET", "/evidence?from=2025-05-01&to=2025-05-10"); !strings.Contains(w.Header().Get("Content-Disposition"), `attachment; filename="lambdawarden-evidence-2025-05-01-2025-05-10.html"`) {
		t.Errorf("evidence is not a download: %v", w.Header())
	}
}

func TestOnlyLoopbackHosts(t *testing.T) {
	_, srv := estate(t)
	for host, ok := range map[string]bool{"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "127.0.0.2": true,
		"evil.example:8080": false, "10.0.0.1:8080": false, "": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if (w.Code == 200) != ok {
			t.Errorf("Host %q: %d", host, w.Code)
		}
	}
}

func TestEmptyHistory(t *testing.T) {
	s, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := get(t, New(s, Options{}).Handler(), "GET", "/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "No scans recorded yet") {
		t.Errorf("empty history: %d %s", w.Code, w.Body.String())
	}
}

// TestPagesInChromium loads the pages from a real loopback server in
// headless Chromium, checks the DOM and saves a screenshot.
func TestPagesInChromium(t *testing.T) {
	bin := chromiumtest.Find(t)
	_, srv := estate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	base := "http://" + l.Addr().String()

	dom := chromiumtest.Run(t, bin, base+"/", "--dump-dom")
	for _, want := range []string{`<b id="n-scans">10</b>`, `<b id="n-open">1</b>`, `id="posture-table"`, "<svg", `action="/evidence"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<tr>") - 1; n < 3 {
		t.Errorf("dashboard tables have %d rows", n)
	}
	dom = chromiumtest.Run(t, bin, base+"/findings?state=all", "--dump-dom")
	if n := strings.Count(dom, `<tr class="finding">`); n != 2 {
		t.Errorf("findings page shows %d findings, want 2", n)
	}
	if !strings.Contains(dom, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(dom, "<script>alert") {
		t.Error("the hostile name is not shown as text")
	}
	dom = chromiumtest.Run(t, bin, base+"/resource?arn="+url.QueryEscape(arn("111122223333", "intake")), "--dump-dom")
	if strings.Count(dom, `<section class="version">`) != 3 || !strings.Contains(dom, `class="change added"`) || !strings.Contains(dom, `class="change removed"`) {
		t.Errorf("the timeline lacks its three versions and their diffs:\n%.2000s", dom)
	}
	chromiumtest.Screenshot(t, bin, base+"/", "serve-dashboard.png")
	chromiumtest.Screenshot(t, bin, base+"/resource?arn="+url.QueryEscape(arn("111122223333", "intake")), "serve-resource.png")
	// The evidence download works from the dashboard's own form.
	resp, err := http.Get(base + "/evidence?from=2025-05-01&to=2025-05-10&format=json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"chart_bucket": "day"`) {
		t.Errorf("evidence download: %d %.300s", resp.StatusCode, body)
	}
}
