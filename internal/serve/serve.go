// Package serve is the read-only local dashboard over a history: the
// trend of open findings, the latest posture per account and Region, the
// findings with filters, a resource's timeline with policy diffs, and
// evidence downloads. Pages are rendered on the server from html/template
// with no script and no external asset, so it works offline; only GET
// and HEAD are answered, and only for a loopback Host (a page elsewhere
// cannot reach it through DNS rebinding).
package serve

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/evidence"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

//go:embed pages.tmpl
var pagesTemplate string

// Options configure the dashboard.
type Options struct {
	Now  func() time.Time // nil: time.Now
	Tool report.Tool
	// Log receives one line per failed request; nil discards.
	Log *log.Logger
}

// Server renders the pages of one history.
type Server struct {
	store history.Store
	opt   Options
	pages *template.Template
}

// New returns the dashboard of a history.
func New(s history.Store, opt Options) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Server{store: s, opt: opt, pages: template.Must(template.New("pages").Funcs(funcs).Parse(pagesTemplate))}
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"ptime": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"date": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"dur": func(d *history.Duration) string {
		if d == nil {
			return ""
		}
		return history.HumanDuration(time.Duration(*d))
	},
	"join": strings.Join,
	"cap": func(n int, s string) string {
		if len(s) <= n {
			return s
		}
		for n > 0 && s[n]&0xc0 == 0x80 {
			n--
		}
		return s[:n] + "…"
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"resourceURL": func(arn string) string { return "/resource?arn=" + url.QueryEscape(arn) },
	"severities":  func() []string { return evidence.Severities },
}

// csp allows only inline styles: no script, no fetch, no framing.
const csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler is the dashboard's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.page(s.dashboard))
	mux.HandleFunc("/scans", s.page(s.scans))
	mux.HandleFunc("/findings", s.page(s.findings))
	mux.HandleFunc("/resource", s.page(s.resource))
	mux.HandleFunc("/evidence", s.evidence)
	return guard(mux)
}

// guard answers only reads from a loopback Host and sets the headers
// every response carries.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if !loopbackHost(r.Host) {
			http.Error(w, "this dashboard answers only on a loopback address (127.0.0.1, ::1, localhost)", http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// badRequest is a problem with the request's parameters (400).
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

// page renders one named template with the data fn returns.
func (s *Server) page(fn func(r *http.Request) (string, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, data, err := fn(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		http.Error(w, bad.msg, http.StatusBadRequest)
	case errors.Is(err, history.ErrNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	default:
		if s.opt.Log != nil {
			s.opt.Log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
		}
		http.Error(w, "internal error reading the history (see the server's log)", http.StatusInternalServerError)
	}
}

// dashboardData is the front page.
type dashboardData struct {
	Scans       int
	Latest      *history.Scan
	Recent      []history.Scan
	Chart       template.HTML
	TrendDays   int
	Posture     []postureRow
	OpenByLevel map[string]int
	Open        int
	From, To    string // evidence form defaults
}

// postureRow is one account × Region as its latest scan saw it.
type postureRow struct {
	Account, Region string
	Scan            history.Scan
	Resources       int
	Exposure        map[string]int
	Unknown         int
	Open            map[string]int // unsuppressed findings by severity
}

const trendDays = 90

func (s *Server) dashboard(r *http.Request) (string, any, error) {
	ctx := r.Context()
	now := s.opt.Now()
	scans, err := s.store.Scans(ctx, history.ScanFilter{})
	if err != nil {
		return "", nil, err
	}
	d := dashboardData{Scans: len(scans), TrendDays: trendDays, OpenByLevel: map[string]int{},
		From: now.AddDate(0, 0, -trendDays).Format(time.DateOnly), To: now.Format(time.DateOnly)}
	if len(scans) == 0 {
		return "dashboard", d, nil
	}
	d.Latest = &scans[len(scans)-1]
	for i := len(scans) - 1; i >= 0 && len(d.Recent) < 10; i-- {
		d.Recent = append(d.Recent, scans[i])
	}
	trend, err := evidence.Trend(ctx, s.store, now.Truncate(24*time.Hour).AddDate(0, 0, -trendDays+1), now.Add(time.Nanosecond), now)
	if err != nil {
		return "", nil, err
	}
	if d.Chart, err = evidence.ChartHTML(trend); err != nil {
		return "", nil, err
	}
	if d.Posture, err = s.posture(ctx, scans); err != nil {
		return "", nil, err
	}
	open, err := s.store.Findings(ctx, history.FindingFilter{Open: true})
	if err != nil {
		return "", nil, err
	}
	for _, f := range open {
		if !f.Suppressed {
			d.OpenByLevel[f.Severity]++
			d.Open++
		}
	}
	return "dashboard", d, nil
}

// posture takes each account × Region from the latest scan that covered
// it, looking back over at most 50 scans.
func (s *Server) posture(ctx context.Context, scans []history.Scan) ([]postureRow, error) {
	rows := map[[2]string]*postureRow{}
	for i, n := len(scans)-1, 0; i >= 0 && n < 50; i, n = i-1, n+1 {
		sc := scans[i]
		missing := false
		for _, a := range sc.Accounts {
			for _, rg := range sc.Regions {
				if rows[[2]string{a, rg}] == nil {
					missing = true
				}
			}
		}
		if !missing {
			continue
		}
		snap, err := s.store.Snapshot(ctx, sc.ID)
		if err != nil {
			return nil, err
		}
		mine := map[[2]string]*postureRow{}
		for _, a := range sc.Accounts {
			for _, rg := range sc.Regions {
				if rows[[2]string{a, rg}] == nil {
					row := &postureRow{Account: a, Region: rg, Scan: sc, Exposure: map[string]int{}, Open: map[string]int{}}
					rows[[2]string{a, rg}], mine[[2]string{a, rg}] = row, row
				}
			}
		}
		region := map[string][2]string{}
		for _, r := range snap.Resources {
			key := [2]string{r.Account, r.Region}
			region[r.ARN] = key
			if row := mine[key]; row != nil {
				row.Resources++
				row.Exposure[r.Exposure]++
				if r.Status == "unknown" {
					row.Unknown++
				}
			}
		}
		for _, f := range snap.Findings {
			if row := mine[region[f.ARN]]; row != nil && !f.Suppressed {
				row.Open[f.Severity]++
			}
		}
	}
	out := make([]postureRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Region < out[j].Region
	})
	return out, nil
}

func (s *Server) scans(r *http.Request) (string, any, error) {
	scans, err := s.store.Scans(r.Context(), history.ScanFilter{})
	if err != nil {
		return "", nil, err
	}
	for i, j := 0, len(scans)-1; i < j; i, j = i+1, j-1 {
		scans[i], scans[j] = scans[j], scans[i]
	}
	return "scans", scans, nil
}

// maxFindingRows caps the findings page; the filters narrow it.
const maxFindingRows = 1000

type findingsData struct {
	Filter   url.Values
	State    string
	Severity string
	Rows     []history.Finding
	Total    int
	More     int
	Rules    []string
	Accounts []string
}

func (s *Server) findings(r *http.Request) (string, any, error) {
	q := r.URL.Query()
	d := findingsData{Filter: q, State: q.Get("state"), Severity: q.Get("severity")}
	if d.State == "" {
		d.State = "open"
	}
	switch d.State {
	case "open", "resolved", "all":
	default:
		return "", nil, badRequest{fmt.Sprintf("state %q: want open, resolved or all", d.State)}
	}
	flt := history.FindingFilter{Account: q.Get("account"), Rule: q.Get("rule"), Resource: q.Get("resource"), Open: d.State == "open"}
	all, err := s.store.Findings(r.Context(), history.FindingFilter{})
	if err != nil {
		return "", nil, err
	}
	rules, accounts := map[string]bool{}, map[string]bool{}
	for _, f := range all {
		rules[f.RuleID], accounts[f.Account] = true, true
	}
	d.Rules, d.Accounts = keys(rules), keys(accounts)
	fs, err := s.store.Findings(r.Context(), flt)
	if err != nil {
		return "", nil, err
	}
	for _, f := range fs {
		if d.State == "resolved" && f.Open() || d.Severity != "" && f.Severity != d.Severity {
			continue
		}
		d.Total++
		if len(d.Rows) < maxFindingRows {
			d.Rows = append(d.Rows, f)
		}
	}
	d.More = d.Total - len(d.Rows)
	return "findings", d, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type resourceData struct {
	ARN      string
	Versions []history.PolicyVersion
	Findings []history.Finding
}

func (s *Server) resource(r *http.Request) (string, any, error) {
	arn := r.URL.Query().Get("arn")
	if !strings.HasPrefix(arn, "arn:") {
		return "", nil, badRequest{"arn: give the resource's ARN (/resource?arn=arn:aws:lambda:…)"}
	}
	versions, err := history.PolicyVersions(r.Context(), s.store, arn)
	if err != nil {
		return "", nil, err
	}
	fs, err := s.store.Findings(r.Context(), history.FindingFilter{Resource: arn})
	if err != nil {
		return "", nil, err
	}
	// Newest first, as a timeline reads.
	for i, j := 0, len(versions)-1; i < j; i, j = i+1, j-1 {
		versions[i], versions[j] = versions[j], versions[i]
	}
	return "resource", resourceData{ARN: arn, Versions: versions, Findings: fs}, nil
}

// evidence renders the evidence pack for ?from=&to= as a download.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := time.Parse(time.DateOnly, q.Get("from"))
	to, err2 := time.Parse(time.DateOnly, q.Get("to"))
	format := q.Get("format")
	if format == "" {
		format = "html"
	}
	switch {
	case err1 != nil || err2 != nil:
		http.Error(w, "from and to: dates as YYYY-MM-DD", http.StatusBadRequest)
		return
	case to.Before(from):
		http.Error(w, "from is after to", http.StatusBadRequest)
		return
	case format != "html" && format != "json":
		http.Error(w, "format: html or json", http.StatusBadRequest)
		return
	}
	p, err := evidence.Build(r.Context(), s.store, from, to.AddDate(0, 0, 1), s.opt.Now(), s.opt.Tool)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if format == "html" {
		err = evidence.WriteHTML(&buf, p)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	} else {
		err = evidence.WriteJSON(&buf, p)
		w.Header().Set("Content-Type", "application/json")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lambdawarden-evidence-%s-%s.%s"`, from.Format(time.DateOnly), to.Format(time.DateOnly), format))
	w.Write(buf.Bytes())
}
