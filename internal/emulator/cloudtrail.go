package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// trailEventNames maps each Lambda write the server serves to the
// eventName CloudTrail records for it: the operation name plus the
// API-version suffix Lambda adds (AddPermission20150331v2). The 2026-07-09
// resource-policy APIs are recorded with that version as their suffix,
// by analogy (AWS has published no sample).
var trailEventNames = map[string]string{
	"AddPermission":                "AddPermission20150331v2",
	"RemovePermission":             "RemovePermission20150331v2",
	"PutResourcePolicy":            "PutResourcePolicy20260709",
	"DeleteResourcePolicy":         "DeleteResourcePolicy20260709",
	"CreateFunctionUrlConfig":      "CreateFunctionUrlConfig20211031",
	"UpdateFunctionUrlConfig":      "UpdateFunctionUrlConfig20211031",
	"DeleteFunctionUrlConfig":      "DeleteFunctionUrlConfig20211031",
	"AddLayerVersionPermission":    "AddLayerVersionPermission20181031",
	"RemoveLayerVersionPermission": "RemoveLayerVersionPermission20181031",
	"CreateAlias":                  "CreateAlias20150331",
	"UpdateAlias":                  "UpdateAlias20150331",
	"PublishVersion":               "PublishVersion20150331",
}

// TrailRecord is one CloudTrail record as delivered to S3 and as
// LookupEvents' CloudTrailEvent holds it. Fields are in the order AWS
// writes them.
type TrailRecord struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       TrailIdentity   `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
}

// TrailIdentity is a record's userIdentity.
type TrailIdentity struct {
	Type           string        `json:"type"`
	PrincipalID    string        `json:"principalId"`
	ARN            string        `json:"arn"`
	AccountID      string        `json:"accountId"`
	AccessKeyID    string        `json:"accessKeyId,omitempty"`
	UserName       string        `json:"userName,omitempty"`
	SessionContext *TrailSession `json:"sessionContext,omitempty"`
}

// TrailSession is userIdentity.sessionContext for assumed roles.
type TrailSession struct {
	SessionIssuer       TrailIssuer       `json:"sessionIssuer"`
	WebIDFederationData map[string]string `json:"webIdFederationData"`
	Attributes          map[string]string `json:"attributes"`
}

// TrailIssuer is the role an assumed-role session came from.
type TrailIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// maxTrailRecords bounds the records LookupEvents can serve per account
// and region; older ones are dropped (AWS keeps 90 days).
const maxTrailRecords = 10000

// trail keeps the records of the writes served, for LookupEvents, and
// delivers them as log files when a directory is set.
type trail struct {
	dir      string
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	records map[[2]string][]trailEntry // account, region → oldest first
	seq     int64
	pending map[[2]string][]json.RawMessage
	errs    int
	lastErr error
	stop    chan struct{}
	done    chan struct{}
}

type trailEntry struct {
	seq  int64 // increasing per server: what a NextToken names
	rec  *TrailRecord
	raw  json.RawMessage
	when time.Time
}

func newTrail(dir string, interval time.Duration, now func() time.Time) *trail {
	t := &trail{dir: dir, interval: interval, now: now, records: map[[2]string][]trailEntry{}, pending: map[[2]string][]json.RawMessage{}}
	if dir != "" && interval > 0 {
		t.stop, t.done = make(chan struct{}), make(chan struct{})
		go t.flushEvery()
	}
	return t
}

// add stores a record and delivers it (at once, or with the next batch).
func (t *trail) add(rec *TrailRecord, when time.Time) {
	raw, err := json.Marshal(rec)
	if err != nil {
		panic(fmt.Sprintf("emulator: encoding a trail record: %v", err))
	}
	key := [2]string{rec.RecipientAccountID, rec.AWSRegion}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	list := append(t.records[key], trailEntry{seq: t.seq, rec: rec, raw: raw, when: when})
	if len(list) > maxTrailRecords {
		list = list[len(list)-maxTrailRecords:]
	}
	t.records[key] = list
	if t.dir == "" {
		return
	}
	if t.interval > 0 {
		t.pending[key] = append(t.pending[key], raw)
		return
	}
	// Written before the API answers, so a client that made the change
	// finds the record when its call returns.
	t.deliver(key, []json.RawMessage{raw}, when)
}

func (t *trail) flushEvery() {
	defer close(t.done)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.flush()
		case <-t.stop:
			t.flush()
			return
		}
	}
}

func (t *trail) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for key, recs := range t.pending {
		t.deliver(key, recs, now)
	}
	clear(t.pending)
}

func (t *trail) close() {
	if t.stop != nil {
		close(t.stop)
		<-t.done
		t.stop = nil
	}
}

// deliver writes one log file the way CloudTrail delivers to S3:
// AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
// ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_RANDOM.json.gz holding
// {"Records":[...]}. The file appears whole (written aside, then renamed),
// so a reader polling the folder never sees half of one. Callers hold
// t.mu.
func (t *trail) deliver(key [2]string, recs []json.RawMessage, when time.Time) {
	account, region := key[0], key[1]
	when = when.UTC()
	dir := filepath.Join(t.dir, "AWSLogs", account, "CloudTrail", region, when.Format("2006"), when.Format("01"), when.Format("02"))
	name := account + "_CloudTrail_" + region + "_" + when.Format("20060102T1504Z") + "_" + randomAlnum(16) + ".json.gz"
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"Records":[`))
	for i, r := range recs {
		if i > 0 {
			_, _ = zw.Write([]byte{','})
		}
		_, _ = zw.Write(r)
	}
	_, _ = zw.Write([]byte(`]}`))
	_ = zw.Close()
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err = os.WriteFile(tmp, buf.Bytes(), 0o644); err == nil {
			err = os.Rename(tmp, filepath.Join(dir, name))
		}
	}
	if err != nil {
		t.errs++
		t.lastErr = err
	}
}

// snapshot returns the records of one account and region, newest first.
func (t *trail) snapshot(account, region string) []trailEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.records[[2]string{account, region}]
	out := make([]trailEntry, len(list))
	for i, e := range list {
		out[len(list)-1-i] = e
	}
	return out
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// TrailRecords returns the CloudTrail records of the writes served so far
// in one account and region, oldest first, as JSON.
func (s *Server) TrailRecords(account, region string) []json.RawMessage {
	s.init()
	entries := s.trail.snapshot(account, region)
	out := make([]json.RawMessage, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e.raw
	}
	return out
}

// TrailWriteErrors reports how many log files could not be written to the
// CloudTrail directory, and the last error.
func (s *Server) TrailWriteErrors() (int, error) {
	s.init()
	s.trail.mu.Lock()
	defer s.trail.mu.Unlock()
	return s.trail.errs, s.trail.lastErr
}

// recorded reports whether an operation is written to the trail.
func recorded(op string) bool {
	_, ok := trailEventNames[op]
	return ok
}

// serveRecorded runs a Lambda write with its answer held back, records it
// in the trail the way CloudTrail would (failed calls too, with their
// errorCode), then sends the answer.
func (s *Server) serveRecorded(c *call, run func()) {
	body, _ := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	c.r.Body = io.NopCloser(bytes.NewReader(body))
	real := c.w.ResponseWriter
	held := &heldResponse{header: http.Header{}}
	c.w.ResponseWriter = held
	run()
	c.w.ResponseWriter = real
	when := s.now()
	s.trail.add(s.trailRecord(c, body, held, when), when)
	for k, v := range held.header {
		real.Header()[k] = v
	}
	status := held.status
	if status == 0 {
		status = http.StatusOK
	}
	real.WriteHeader(status)
	_, _ = real.Write(held.body.Bytes())
}

// heldResponse is a response kept in memory until it is recorded.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }
func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

// trailRecord builds the record of one served write.
func (s *Server) trailRecord(c *call, body []byte, held *heldResponse, when time.Time) *TrailRecord {
	rec := &TrailRecord{
		EventVersion:       "1.09",
		UserIdentity:       c.trailIdentity(),
		EventTime:          when.UTC().Format("2006-01-02T15:04:05Z"),
		EventSource:        "lambda.amazonaws.com",
		EventName:          trailEventNames[c.op],
		AWSRegion:          c.id.region,
		SourceIPAddress:    sourceIP(c.r),
		UserAgent:          c.r.UserAgent(),
		RequestID:          c.reqID,
		EventID:            newUUID(),
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: c.id.account,
		EventCategory:      "Management",
		RequestParameters:  c.requestParameters(body),
		ResponseElements:   json.RawMessage("null"),
	}
	if held.status >= 300 {
		rec.ErrorCode = held.header.Get("X-Amzn-ErrorType")
		var e map[string]any
		if json.Unmarshal(held.body.Bytes(), &e) == nil {
			for _, k := range []string{"message", "Message"} {
				if m, ok := e[k].(string); ok {
					rec.ErrorMessage = m
				}
			}
		}
		return rec
	}
	if held.body.Len() > 0 {
		if v, ok := lowerCamelJSON(held.body.Bytes()); ok {
			rec.ResponseElements = v
		}
	}
	return rec
}

// trailIdentity is userIdentity for the caller's access key: an IAM user
// for a long-term key, an assumed role (with its session issuer) for a key
// issued by AssumeRole.
func (c *call) trailIdentity() TrailIdentity {
	id := c.id
	if se := id.session; se != nil {
		return TrailIdentity{
			Type:        "AssumedRole",
			PrincipalID: se.roleID + ":" + se.sessionName,
			ARN:         se.assumedARN,
			AccountID:   se.account,
			AccessKeyID: id.accessKey,
			SessionContext: &TrailSession{
				SessionIssuer:       TrailIssuer{Type: "Role", PrincipalID: se.roleID, ARN: se.roleARN, AccountID: se.account, UserName: se.roleName},
				WebIDFederationData: map[string]string{},
				Attributes: map[string]string{
					"creationDate":     se.created.UTC().Format("2006-01-02T15:04:05Z"),
					"mfaAuthenticated": "false",
				},
			},
		}
	}
	return TrailIdentity{
		Type:        "IAMUser",
		PrincipalID: "AIDA" + id.account + "EMULATOR",
		ARN:         id.callerARN(),
		AccountID:   id.account,
		AccessKeyID: id.accessKey,
		UserName:    "emulator",
	}
}

func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// requestParameters is what CloudTrail records of a request: the path
// labels and query parameters, then the body's members, all with
// lowerCamel keys (functionName, statementId, principal, ...).
func (c *call) requestParameters(body []byte) json.RawMessage {
	params := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			if m, ok := lowerCamelKeys(v).(map[string]any); ok {
				params = m
			}
		}
	}
	for k, v := range c.labels {
		if k == "VersionNumber" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				params["versionNumber"] = n
				continue
			}
		}
		params[lowerCamel(k)] = v
	}
	for k, vs := range c.r.URL.Query() {
		if len(vs) > 0 {
			params[lowerCamel(k)] = vs[0]
		}
	}
	b, _ := json.Marshal(params)
	return b
}

// lowerCamelJSON rewrites a JSON document's object keys to lowerCamel.
func lowerCamelJSON(doc []byte) (json.RawMessage, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil, false
	}
	b, err := json.Marshal(lowerCamelKeys(v))
	return b, err == nil
}

func lowerCamelKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[lowerCamel(k)] = lowerCamelKeys(val)
		}
		return out
	case []any:
		for i := range x {
			x[i] = lowerCamelKeys(x[i])
		}
		return x
	}
	return v
}

// lowerCamel lowers the first letter: FunctionName → functionName,
// PrincipalOrgID → principalOrgID.
func lowerCamel(k string) string {
	if k == "" {
		return k
	}
	r := []rune(k)
	r[0] = unicode.ToLower(r[0])
	return strings.Clone(string(r))
}
