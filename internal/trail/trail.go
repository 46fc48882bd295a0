// Package trail reads CloudTrail records — log files as CloudTrail
// delivers them to S3 ({"Records":[...]}, gzip or not), EventBridge events
// wrapping a record, one record per line, or LookupEvents output — and
// turns every event that can change a Lambda resource's exposure
// into the resources it may have changed, with
// who did it, when, from where, and what they asked for.
//
// It is pure: bytes in, events out; no AWS calls, no files, no clock.
// A record that cannot be read is reported as a Problem and skipped,
// never a crash and never silently dropped. Failed calls (a record with
// errorCode) changed nothing: they are counted, not returned as changes.
package trail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Op is a Lambda operation that can change exposure, without the
// API-version suffix CloudTrail adds to its eventName.
type Op string

// The operations whose events can change who reaches a resource.
const (
	AddPermission                Op = "AddPermission"
	RemovePermission             Op = "RemovePermission"
	PutResourcePolicy            Op = "PutResourcePolicy"
	DeleteResourcePolicy         Op = "DeleteResourcePolicy"
	CreateFunctionURLConfig      Op = "CreateFunctionUrlConfig"
	UpdateFunctionURLConfig      Op = "UpdateFunctionUrlConfig"
	DeleteFunctionURLConfig      Op = "DeleteFunctionUrlConfig"
	AddLayerVersionPermission    Op = "AddLayerVersionPermission"
	RemoveLayerVersionPermission Op = "RemoveLayerVersionPermission"
	CreateAlias                  Op = "CreateAlias"
	UpdateAlias                  Op = "UpdateAlias"
	PublishVersion               Op = "PublishVersion"
)

// Ops lists every exposure-changing operation.
var Ops = []Op{AddPermission, RemovePermission, PutResourcePolicy, DeleteResourcePolicy,
	CreateFunctionURLConfig, UpdateFunctionURLConfig, DeleteFunctionURLConfig,
	AddLayerVersionPermission, RemoveLayerVersionPermission, CreateAlias, UpdateAlias, PublishVersion}

// LambdaSource is the eventSource of Lambda's records.
const LambdaSource = "lambda.amazonaws.com"

// ExposureOp matches an eventName against the exposure-changing
// operations by prefix, because CloudTrail appends the API version
// (AddPermission20150331v2, UpdateFunctionUrlConfig20211031). What follows
// the operation name must be empty or start with a digit, so that
// AddPermissionFoo is not AddPermission.
func ExposureOp(eventName string) (Op, bool) {
	for _, op := range Ops {
		rest, ok := strings.CutPrefix(eventName, string(op))
		if ok && (rest == "" || (rest[0] >= '0' && rest[0] <= '9')) {
			return op, true
		}
	}
	return "", false
}

// Actor is who made the call (userIdentity).
type Actor struct {
	Type        string `json:"type,omitempty"`
	ARN         string `json:"arn,omitempty"`
	PrincipalID string `json:"principal_id,omitempty"`
	AccountID   string `json:"account_id,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	// SessionIssuer is the role (or user) an assumed-role session came
	// from.
	SessionIssuer string `json:"session_issuer,omitempty"`
	// InvokedBy names the AWS service that made the call on the actor's
	// behalf (cloudformation.amazonaws.com), when one did.
	InvokedBy string `json:"invoked_by,omitempty"`
}

// Target is one resource an event may have changed.
type Target struct {
	ARN       string         `json:"arn"`
	Kind      inventory.Kind `json:"kind"`
	Account   string         `json:"account"`
	Region    string         `json:"region"`
	Name      string         `json:"name"`
	Qualifier string         `json:"qualifier,omitempty"`
}

// Event is one exposure-changing CloudTrail record.
type Event struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // eventName as recorded
	Op        Op        `json:"op"`
	Time      time.Time `json:"time"`
	Region    string    `json:"region"`
	Account   string    `json:"account"`
	Actor     Actor     `json:"actor"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	// Request and Response are requestParameters and responseElements as
	// recorded ("null" when absent).
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
	// ErrorCode and ErrorMessage are set on failed calls.
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// Targets are the resources the event may have changed: one, or none
	// when the record does not say which (a Problem says so).
	Targets []Target `json:"targets"`
	// Where says where the record was read: "file.json.gz record 3".
	Where string `json:"where,omitempty"`
}

// Problem is a record or input that could not be read.
type Problem struct {
	Where string
	Err   string
}

func (p Problem) String() string { return p.Where + ": " + p.Err }

// Result is what one input held.
type Result struct {
	// Events are the exposure-changing calls that succeeded.
	Events []Event
	// Failed are exposure-changing calls that failed (errorCode): they
	// changed nothing, but someone tried.
	Failed []Event
	// Ignored counts records of other events (other services, reads,
	// other Lambda writes).
	Ignored int
	// Problems lists what could not be read.
	Problems []Problem
}

func (r *Result) add(o Result) {
	r.Events = append(r.Events, o.Events...)
	r.Failed = append(r.Failed, o.Failed...)
	r.Ignored += o.Ignored
	r.Problems = append(r.Problems, o.Problems...)
}

// MaxInput bounds one input once decompressed: CloudTrail log files are
// far smaller, and a gzip bomb must not exhaust memory.
const MaxInput = 256 << 20

// maxProblems bounds the problems reported for one input: a file of
// garbage is one problem, not a million.
const maxProblems = 100

var gzipMagic = []byte{0x1f, 0x8b}

// Parse reads one input, named where in messages: a log file
// {"Records":[...]} (gzip or not), an EventBridge event, a record, several
// of these one after another (one per line), a JSON array of them, or
// LookupEvents output ({"Events":[{"CloudTrailEvent":"..."}]}). Each value
// is named by the line it starts on ("file line 3", "file line 1 record
// 2"; lines of the decompressed text), so a problem can be found.
func Parse(where string, data []byte) Result { return ParseFrom(where, 1, data) }

// ParseFrom is Parse for input whose first line is line first of where
// (a chunk of a followed file).
func ParseFrom(where string, first int, data []byte) Result {
	if bytes.HasPrefix(data, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return Result{Problems: []Problem{{where, "not a valid gzip file: " + err.Error()}}}
		}
		data, err = io.ReadAll(io.LimitReader(zr, MaxInput+1))
		if err == nil && len(data) > MaxInput {
			err = fmt.Errorf("larger than %d MiB once decompressed", MaxInput>>20)
		}
		if err != nil {
			return Result{Problems: []Problem{{where, "cannot decompress: " + err.Error()}}}
		}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out Result
	// line is the line data[counted] is on.
	line, counted := first, 0
	lineAt := func(off int) int {
		line += bytes.Count(data[counted:off], []byte{'\n'})
		counted = off
		return line
	}
	failing := false // the last value could not be read either
	for off := 0; off < len(data); {
		dec := json.NewDecoder(bytes.NewReader(data[off:]))
		dec.UseNumber()
		for {
			start := off + int(dec.InputOffset())
			var v json.RawMessage
			err := dec.Decode(&v)
			if err == io.EOF {
				return out
			}
			if err != nil {
				// Report, then carry on at the line after the one the bad
				// value began on: one bad line of a JSON-lines file must
				// not hide the rest. Garbage spanning lines is one problem.
				for start < len(data) && isSpace(data[start]) {
					start++
				}
				if !failing && len(out.Problems) < maxProblems {
					out.Problems = append(out.Problems, Problem{fmt.Sprintf("%s line %d", where, lineAt(start)), "not JSON: " + err.Error()})
				}
				failing = true
				next := bytes.IndexByte(data[start:], '\n')
				if next < 0 {
					return out
				}
				off = start + next + 1
				break
			}
			failing = false
			for start < len(data) && isSpace(data[start]) {
				start++
			}
			out.add(parseValue(fmt.Sprintf("%s line %d", where, lineAt(start)), v))
			if len(out.Problems) > maxProblems {
				out.Problems = out.Problems[:maxProblems]
			}
		}
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// parseValue reads one top-level JSON value.
func parseValue(where string, v json.RawMessage) Result {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return Result{Problems: []Problem{{where, err.Error()}}}
		}
		var out Result
		for i, it := range items {
			out.add(parseValue(fmt.Sprintf("%s item %d", where, i+1), it))
		}
		return out
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(v, &probe); err != nil {
		return Result{Problems: []Problem{{where, "not a JSON object: " + err.Error()}}}
	}
	switch {
	case probe["Records"] != nil:
		var recs []json.RawMessage
		if err := json.Unmarshal(probe["Records"], &recs); err != nil {
			return Result{Problems: []Problem{{where, "Records is not a list of records: " + err.Error()}}}
		}
		var out Result
		for i, r := range recs {
			out.add(parseRecord(fmt.Sprintf("%s record %d", where, i+1), r, envelope{}))
		}
		return out
	case probe["detail"] != nil && probe["detail-type"] != nil:
		var env envelope
		_ = json.Unmarshal(v, &env)
		return parseRecord(where+" (EventBridge)", probe["detail"], env)
	case probe["Events"] != nil:
		return parseLookup(where, probe["Events"])
	case probe["digestStartTime"] != nil && probe["logFiles"] != nil:
		// A CloudTrail digest file (log file integrity validation,
		// AWSLogs/ACCOUNT/CloudTrail-Digest/...): it lists log files and
		// holds no records. A synced trail bucket has one per hour.
		return Result{}
	}
	return parseRecord(where, v, envelope{})
}

// envelope is what an EventBridge event adds around a record; it fills in
// what a detail lacks.
type envelope struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	ID      string `json:"id"`
}

// parseLookup reads LookupEvents output: each event's CloudTrailEvent is
// a record as a JSON string.
func parseLookup(where string, events json.RawMessage) Result {
	var list []struct {
		CloudTrailEvent *string `json:"CloudTrailEvent"`
	}
	if err := json.Unmarshal(events, &list); err != nil {
		return Result{Problems: []Problem{{where, "Events is not LookupEvents output: " + err.Error()}}}
	}
	var out Result
	for i, e := range list {
		w := fmt.Sprintf("%s event %d", where, i+1)
		if e.CloudTrailEvent == nil {
			out.Problems = append(out.Problems, Problem{w, "no CloudTrailEvent"})
			continue
		}
		out.add(parseRecord(w, json.RawMessage(*e.CloudTrailEvent), envelope{}))
	}
	return out
}

// ParseRecord reads one record (LookupEvents' CloudTrailEvent, an
// EventBridge detail).
func ParseRecord(where string, record []byte) Result {
	return parseRecord(where, record, envelope{})
}

// record is the part of a CloudTrail record lambdawarden reads.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity *struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			SessionIssuer *struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	RecipientAccountID string          `json:"recipientAccountId"`
}

var errNotRecord = errors.New("not a CloudTrail record (no eventName and eventSource)")

func parseRecord(where string, raw json.RawMessage, env envelope) Result {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return Result{Problems: []Problem{{where, "not a CloudTrail record: " + err.Error()}}}
	}
	if r.EventName == "" || r.EventSource == "" {
		return Result{Problems: []Problem{{where, errNotRecord.Error()}}}
	}
	op, ok := ExposureOp(r.EventName)
	if r.EventSource != LambdaSource || !ok {
		return Result{Ignored: 1}
	}
	ev := Event{
		ID: r.EventID, Name: r.EventName, Op: op, Region: r.AWSRegion, Account: r.RecipientAccountID,
		SourceIP: r.SourceIPAddress, UserAgent: r.UserAgent, RequestID: r.RequestID,
		Request: nullIfEmpty(r.RequestParameters), Response: nullIfEmpty(r.ResponseElements),
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, Targets: []Target{}, Where: where,
	}
	if ev.ID == "" {
		ev.ID = env.ID
	}
	if ev.Region == "" {
		ev.Region = env.Region
	}
	if u := r.UserIdentity; u != nil {
		ev.Actor = Actor{Type: u.Type, ARN: u.ARN, PrincipalID: u.PrincipalID, AccountID: u.AccountID, AccessKeyID: u.AccessKeyID, UserName: u.UserName, InvokedBy: u.InvokedBy}
		if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
			ev.Actor.SessionIssuer = u.SessionContext.SessionIssuer.ARN
		}
	}
	if ev.Account == "" {
		ev.Account = env.Account
	}
	if ev.Account == "" {
		ev.Account = ev.Actor.AccountID
	}
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return Result{Problems: []Problem{{where, fmt.Sprintf("%s: eventTime %q is not an RFC 3339 time", r.EventName, clip(r.EventTime))}}}
	}
	ev.Time = t.UTC()
	if ev.ErrorCode != "" {
		// It changed nothing; say what it aimed at when that can be told.
		if target, err := targetOf(&ev); err == nil {
			ev.Targets = append(ev.Targets, target)
		}
		return Result{Failed: []Event{ev}}
	}
	target, err := targetOf(&ev)
	if err != nil {
		what := r.EventName
		if ev.ID != "" {
			what += " (event " + clip(ev.ID) + ")"
		}
		return Result{Problems: []Problem{{where, fmt.Sprintf("%s: %v", what, err)}}}
	}
	ev.Targets = append(ev.Targets, target)
	return Result{Events: []Event{ev}}
}

func nullIfEmpty(m json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(m)) == 0 {
		return json.RawMessage("null")
	}
	return m
}

// clip keeps strings from a record short in messages.
func clip(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
