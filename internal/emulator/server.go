package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Options tunes a Server's behaviour beyond its estate.
type Options struct {
	// Latency is added to every request before it is answered; a request
	// whose context ends during the wait is dropped.
	Latency time.Duration
	// Quotas maps a budget name to requests per second, per account and
	// region: "GetFunction", "GetPolicy", "shared" (every other Lambda
	// control-plane operation) or any Lambda operation name (that operation
	// then gets a budget of its own). A budget that is not listed is
	// unlimited. Each budget is a token bucket holding one second's worth
	// of requests (at least one), refilled continuously, starting full; a
	// request over budget gets 429 TooManyRequestsException with
	// Retry-After = seconds until a token is available, rounded up, at
	// least 1. Only Lambda control-plane operations are limited (not STS,
	// Organizations, Account or IAM). See ParseQuotas.
	Quotas map[string]float64
	// Faults are injected failures; see ParseFaults.
	Faults []Fault
	// FaultSeed makes fault injection repeatable: the n-th request of an
	// operation meets the same fate in every run with the same seed.
	FaultSeed int64
	// RequestLog, when set, receives one JSON line per request.
	RequestLog io.Writer
	// Now is the clock for quotas, timestamps and STS expirations (default
	// time.Now).
	Now func() time.Time
	// CloudTrailDir, when set, receives every Lambda write served as a
	// CloudTrail log file in the S3 delivery layout (see cloudtrail.go).
	// Records are also served by cloudtrail:LookupEvents, with or without
	// a directory.
	CloudTrailDir string
	// CloudTrailInterval batches records into one file per account and
	// region per interval, as CloudTrail does every few minutes; zero
	// writes each record at once, before the write's answer is sent.
	CloudTrailInterval time.Duration
	// LookupEventsRate is LookupEvents' quota in requests per second per
	// account and region (default 2, AWS's figure).
	LookupEventsRate float64
}

// Request is one entry of the request log.
type Request struct {
	Op      string `json:"op"`
	Account string `json:"account"`
	Region  string `json:"region"`
	// Status is the HTTP status answered; 0 means the connection was
	// dropped without an answer (timeout fault, client gone).
	Status int    `json:"status"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

// Server is the emulator. The zero value is ready to use as an
// http.Handler and serves an empty estate for account DefaultAccount (or
// whatever account a request's access key names) in the request's region.
// All methods are safe for concurrent use.
type Server struct {
	once   sync.Once
	est    *estate
	opts   Options
	quota  *quotas
	faults *faultInjector
	log    requestLog
	routes []lambdaRoute
	trail  *trail
	sns    snsLog
	config configLog
	// lookupQuota meters cloudtrail:LookupEvents (2 requests/s in AWS).
	lookupQuota *quotas

	stsMu    sync.Mutex
	sessions map[string]*stsSession
	keySeq   uint64

	closing   chan struct{}
	closeOnce sync.Once
	srvMu     sync.Mutex
	srv       *http.Server
}

// New returns a server for the seed (nil means an empty estate), after
// validating the seed and options.
func New(seed *Seed, opts Options) (*Server, error) {
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	for name, rps := range opts.Quotas {
		if err := checkQuota(name, rps); err != nil {
			return nil, err
		}
	}
	for _, f := range opts.Faults {
		if err := f.check(); err != nil {
			return nil, err
		}
	}
	if opts.CloudTrailDir != "" {
		// Made now, so a reader can follow the folder before the first
		// write.
		if err := os.MkdirAll(opts.CloudTrailDir, 0o755); err != nil {
			return nil, fmt.Errorf("emulator: CloudTrail folder: %w", err)
		}
	}
	s := &Server{est: newEstate(seed), opts: opts}
	s.init()
	return s, nil
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.est == nil {
			s.est = newEstate(nil)
		}
		s.quota = newQuotas(s.opts.Quotas)
		s.faults = newFaultInjector(s.opts.Faults, s.opts.FaultSeed)
		s.log.w = s.opts.RequestLog
		s.sessions = map[string]*stsSession{}
		s.routes = lambdaRoutes()
		s.closing = make(chan struct{})
		s.trail = newTrail(s.opts.CloudTrailDir, s.opts.CloudTrailInterval, s.now)
		rate := s.opts.LookupEventsRate
		if rate <= 0 {
			rate = 2
		}
		s.lookupQuota = newQuotas(map[string]float64{"LookupEvents": rate})
	})
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background until Close. It returns the base URL, e.g.
// "http://127.0.0.1:41234".
func (s *Server) Start(addr string) (string, error) {
	s.init()
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("emulator: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by Start, drops open connections and
// releases requests hanging in a timeout fault. It is safe to call more
// than once and on a server that was never started.
func (s *Server) Close() error {
	s.init()
	s.closeOnce.Do(func() {
		close(s.closing)
		s.trail.close() // the last batch is delivered
	})
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Requests returns a copy of the request log so far.
func (s *Server) Requests() []Request {
	s.init()
	return s.log.snapshot()
}

// Counts returns the number of requests per operation so far.
func (s *Server) Counts() map[string]int {
	s.init()
	return s.log.counts()
}

// protocol is the wire protocol of an operation; it decides the shape of
// error responses.
type protocol int

const (
	protoRestJSON protocol = iota // Lambda, Account
	protoAWSJSON                  // Organizations
	protoQuery                    // STS, IAM
)

// call is one request in flight.
type call struct {
	s       *Server
	w       *statusWriter
	r       *http.Request
	id      identity
	op      string
	service string // "lambda", "sts", "iam", "organizations", "account"
	proto   protocol
	labels  map[string]string
	body    []byte // awsJSON body
	form    map[string][]string
	reqID   string
}

type handler func(c *call)

// ServeHTTP answers one AWS API request. Order of events: routing,
// latency, unknown operation (404), disabled region (403, Lambda only),
// quota (429, Lambda only), faults, then the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	c := &call{s: s, w: &statusWriter{ResponseWriter: w}, r: r, reqID: newUUID()}
	c.id = s.identify(r)
	h := s.route(c)
	defer func() {
		s.log.record(Request{Op: c.op, Account: c.id.account, Region: c.id.region,
			Status: c.w.status, Method: r.Method, Path: r.URL.EscapedPath()})
	}()
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		}
	}
	if h == nil {
		c.error(http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.EscapedPath())
		return
	}
	if c.service == "lambda" {
		if a := s.est.account(c.id.account); a != nil && a.disabled[c.id.region] {
			c.error(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid")
			return
		}
		if wait, ok := s.quota.take(c.id.account, c.id.region, c.op, s.now()); !ok {
			c.throttle(wait)
			return
		}
	}
	if c.service == "cloudtrail" {
		if wait, ok := s.lookupQuota.take(c.id.account, c.id.region, c.op, s.now()); !ok {
			c.throttle(wait)
			return
		}
	}
	kind, faulty := s.faults.draw(c.op)
	run := func() {
		if faulty {
			s.injectFault(c, kind)
			return
		}
		h(c)
	}
	// Lambda writes are recorded in the trail, failed ones too, as
	// CloudTrail does; a hanging request never answers, so there is
	// nothing to record.
	if c.service == "lambda" && recorded(c.op) && !(faulty && kind == FaultTimeout) {
		s.serveRecorded(c, run)
		return
	}
	run()
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Hijack).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// identity is who a request claims to be; signatures are not verified.
type identity struct {
	accessKey string
	account   string
	region    string
	service   string // signing name from the credential scope
	session   *stsSession
}

// identify reads the SigV4 credential scope (Authorization header or
// presigned X-Amz-Credential) and maps the access key to an account:
// "AKIA"+12 digits is that account, a key issued by AssumeRole is the
// assumed account, anything else the default (first seeded) account.
func (s *Server) identify(r *http.Request) identity {
	id := identity{account: s.est.defaultAccount, region: "us-east-1"}
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			scope = auth[i+len("Credential="):]
			if j := strings.IndexAny(scope, ", "); j >= 0 {
				scope = scope[:j]
			}
		}
	} else if q := r.URL.Query().Get("X-Amz-Credential"); q != "" {
		scope = q
	}
	parts := strings.Split(scope, "/")
	if len(parts) >= 4 {
		id.accessKey = parts[0]
		if parts[2] != "" {
			id.region = parts[2]
		}
		id.service = parts[3]
	} else if len(parts) >= 1 {
		id.accessKey = parts[0]
	}
	k := id.accessKey
	switch {
	case len(k) == 16 && strings.HasPrefix(k, "AKIA") && reDigits.MatchString(k[4:]):
		id.account = k[4:]
	case len(k) >= 16 && strings.HasPrefix(k, "ASIA") && reDigits.MatchString(k[4:16]):
		id.account = k[4:16]
		s.stsMu.Lock()
		id.session = s.sessions[k]
		s.stsMu.Unlock()
	}
	return id
}

// callerARN is the ARN AWS would name in an authorization error.
func (id identity) callerARN() string {
	if id.session != nil {
		return id.session.assumedARN
	}
	return "arn:aws:iam::" + id.account + ":user/emulator"
}

// injectFault answers with the fault.
func (s *Server) injectFault(c *call, kind FaultKind) {
	switch kind {
	case FaultThrottle:
		c.throttle(time.Second)
	case Fault500:
		c.error(http.StatusInternalServerError, "ServiceException", "Injected fault: internal service error.")
	case Fault503:
		c.error(http.StatusServiceUnavailable, "ServiceUnavailable", "Injected fault: service unavailable.")
	case FaultDenied:
		c.error(http.StatusForbidden, "AccessDeniedException",
			"User: "+c.id.callerARN()+" is not authorized to perform: "+c.service+":"+strings.TrimPrefix(c.op, "iam:")+" (injected fault)")
	case Fault404:
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist. (injected fault)")
	case FaultTimeout:
		s.hang(c)
	}
}

// hang waits until the client gives up (or 30s pass, or the server
// closes), then drops the connection without answering.
func (s *Server) hang(c *call) {
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-c.r.Context().Done():
	case <-t.C:
	case <-s.closing:
	}
	if conn, _, err := http.NewResponseController(c.w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	// Not hijackable (HTTP/2, a recorder): abort the response, which
	// net/http turns into a reset stream or closed connection.
	panic(http.ErrAbortHandler)
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
