package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// SchemaVersion is the version of the alert document. Bump it, with a
// changelog line in the README, when a field is changed or removed.
const SchemaVersion = "1"

// Alert statuses.
const (
	// StatusFail: the resource (or, offline, the statement) has a finding.
	StatusFail = "fail"
	// StatusUnknown: the change could not be judged (a denied re-read, an
	// unreadable policy, an event whose effect the statement alone cannot
	// tell). Never silence.
	StatusUnknown = "unknown"
)

// Verdict bases.
const (
	// BasisResource: the resource was read again after the event and
	// judged whole, as a scan would.
	BasisResource = "resource"
	// BasisStatement: --offline; only what the event itself carries (the
	// new statement or policy) was judged, not the resource.
	BasisStatement = "statement"
)

// Alert is one JSON document a watch emits.
type Alert struct {
	SchemaVersion string `json:"schema_version"`
	// ID is stable for the same finding from the same event, so a
	// receiver can drop a repeat delivery.
	ID       string `json:"id"`
	Status   string `json:"status"`
	Severity string `json:"severity"` // a finding severity, or "unknown"
	RuleID   string `json:"rule_id,omitempty"`
	Title    string `json:"title"`
	// Basis says what the verdict rests on; BasisNote explains it.
	Basis     string           `json:"basis"`
	BasisNote string           `json:"basis_note,omitempty"`
	Resource  AlertResource    `json:"resource"`
	Finding   *finding.Finding `json:"finding,omitempty"`
	// Reason is why an unknown alert could not be judged.
	Reason     string     `json:"reason,omitempty"`
	Event      AlertEvent `json:"event"`
	Actor      AlertActor `json:"actor"`
	DetectedAt string     `json:"detected_at"`
}

// AlertResource is the judged resource.
type AlertResource struct {
	ARN           string              `json:"arn"`
	Kind          string              `json:"kind"`
	Account       string              `json:"account"`
	Region        string              `json:"region"`
	Status        string              `json:"status"`
	Exposure      string              `json:"exposure"`
	UnknownReason string              `json:"unknown_reason,omitempty"`
	FunctionURL   *report.FunctionURL `json:"function_url,omitempty"`
}

// AlertEvent is the CloudTrail record the alert comes from.
type AlertEvent struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Time      string          `json:"time"`
	Region    string          `json:"region"`
	Account   string          `json:"account"`
	SourceIP  string          `json:"source_ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Request   json.RawMessage `json:"request"`
	Response  json.RawMessage `json:"response"`
	Where     string          `json:"where,omitempty"`
}

// AlertActor is who made the change.
type AlertActor struct {
	Type          string `json:"type,omitempty"`
	ARN           string `json:"arn,omitempty"`
	PrincipalID   string `json:"principal_id,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
	AccessKeyID   string `json:"access_key_id,omitempty"`
	UserName      string `json:"user_name,omitempty"`
	SessionIssuer string `json:"session_issuer,omitempty"`
	InvokedBy     string `json:"invoked_by,omitempty"`
}

// Caps on what an alert repeats from a record: strings from AWS or from
// files are data, kept short and escaped wherever they are shown.
const (
	maxField       = 1024
	maxExplanation = 4096
	maxActions     = 64
	maxRequest     = 16 << 10
)

// inert caps a string from outside and makes it valid UTF-8; JSON
// encoding escapes the rest.
func inert(s string) string { return inertN(s, maxField) }

// inertN is inert with a cap of n bytes.
func inertN(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// inertJSON keeps a recorded JSON value when it is valid and small; a
// larger one becomes a note with its size.
func inertJSON(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !json.Valid(raw) {
		return json.RawMessage("null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return json.RawMessage("null")
	}
	if buf.Len() > maxRequest {
		b, _ := json.Marshal(map[string]any{"truncated": true, "bytes": buf.Len()})
		return b
	}
	return buf.Bytes()
}

func eventOf(ev *trail.Event) (AlertEvent, AlertActor) {
	e := AlertEvent{
		ID: inert(ev.ID), Name: inert(ev.Name), Time: ev.Time.UTC().Format(time.RFC3339), Region: inert(ev.Region), Account: inert(ev.Account),
		SourceIP: inert(ev.SourceIP), UserAgent: inert(ev.UserAgent), RequestID: inert(ev.RequestID),
		Request: inertJSON(ev.Request), Response: inertJSON(ev.Response), Where: inert(ev.Where),
	}
	a := ev.Actor
	return e, AlertActor{Type: inert(a.Type), ARN: inert(a.ARN), PrincipalID: inert(a.PrincipalID), AccountID: inert(a.AccountID),
		AccessKeyID: inert(a.AccessKeyID), UserName: inert(a.UserName), SessionIssuer: inert(a.SessionIssuer), InvokedBy: inert(a.InvokedBy)}
}

func resourceOf(r *report.Resource) AlertResource {
	out := AlertResource{ARN: inert(r.ARN), Kind: r.Kind, Account: inert(r.Account), Region: inert(r.Region), Status: r.Status, Exposure: r.Exposure,
		UnknownReason: inert(r.UnknownReason)}
	if u := r.FunctionURL; u != nil {
		// Offline, the URL and auth type are the record's own strings.
		c := *u
		c.URL, c.AuthType = inert(c.URL), inert(c.AuthType)
		out.FunctionURL = &c
	}
	return out
}

// dedupeKey names "the same finding": the resource, the rule, the
// statement and the class. A statement is named by its Sid, and by its
// position only when it has none: removing another statement moves it up
// the list, and it is still the same finding. An unknown is its event's:
// each change that could not be judged is alerted, since holding one back
// could hide a second change (and AWS error texts carry request ids, so
// "the same reason" is no identity either).
func (a *Alert) dedupeKey() string {
	if a.Status == StatusUnknown {
		return a.Resource.ARN + "\x00unknown\x00" + a.Event.ID + "\x00" + a.Event.Name
	}
	key := a.Resource.ARN + "\x00" + a.RuleID + "\x00" + a.Basis
	if f := a.Finding; f != nil {
		key += "\x00" + f.Exposure
		if s := f.Statement; s != nil {
			key += "\x00" + s.Policy + "\x00" + s.Sid
			if s.Sid == "" {
				key += "\x00#" + strconv.Itoa(s.Index)
			}
		}
	}
	return key
}

// seal sets the id: a hash of the finding and the event.
func (a *Alert) seal() {
	sum := sha256.Sum256([]byte(a.dedupeKey() + "\x00" + a.Event.ID + "\x00" + a.Event.Name))
	a.ID = "lw-" + hex.EncodeToString(sum[:12])
}

// subject is a one-line summary: "critical lambda-public-access on ARN by
// ACTOR".
func (a *Alert) subject() string {
	what := a.RuleID
	if a.Status == StatusUnknown {
		what = "could not judge"
	}
	who := a.Actor.ARN
	if who == "" {
		who = a.Actor.InvokedBy
	}
	s := a.Severity + " " + what + " on " + a.Resource.ARN
	if who != "" {
		s += " by " + who
	}
	return s
}

func (a *Alert) message() (sink.Message, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return sink.Message{}, err
	}
	return sink.Message{ID: a.ID, Subject: a.subject(), Body: escapeInvisible(body)}, nil
}

// escapeInvisible writes every control and format character beyond ASCII
// (C1 controls such as U+009B, which some terminals read as CSI; bidi
// overrides such as U+202E, which reorder what a reader sees) as a \u
// escape. encoding/json escapes only the ASCII controls; these can occur
// only inside strings, so the escaped document decodes to the same value.
func escapeInvisible(body []byte) []byte {
	var out []byte
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRune(body[i:])
		if r < utf8.RuneSelf || !(unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)) {
			if out != nil {
				out = append(out, body[i:i+n]...)
			}
			i += n
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(body)+16), body[:i]...)
		}
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, "\\u%04x\\u%04x", r1, r2)
		} else {
			out = fmt.Appendf(out, "\\u%04x", r)
		}
		i += n
	}
	if out == nil {
		return body
	}
	return out
}

// capFinding keeps what a finding repeats from a policy short: offline,
// the statement comes from the record itself, and a Sid of megabytes
// would be repeated in the explanation and the fix. A command too long to
// keep whole is left out (a cut command could run as another one).
func capFinding(f finding.Finding) finding.Finding {
	if f.Statement != nil {
		st := *f.Statement
		st.Sid, st.Policy = inert(st.Sid), inert(st.Policy)
		f.Statement = &st
	}
	f.Explanation = inertN(f.Explanation, maxExplanation)
	f.Note = inertN(f.Note, maxExplanation)
	f.Remediation.Text = inertN(f.Remediation.Text, maxExplanation)
	var cmds []string
	dropped := 0
	for _, c := range f.Remediation.Commands {
		if len(c) > maxField || !utf8.ValidString(c) {
			dropped++
			continue
		}
		cmds = append(cmds, c)
	}
	if dropped > 0 {
		f.Remediation.Text += fmt.Sprintf(" (%d command(s) left out: longer than %d bytes; run scan for them)", dropped, maxField)
	}
	f.Remediation.Commands = cmds
	if len(f.Actions) > maxActions {
		f.Actions = append(f.Actions[:maxActions:maxActions], fmt.Sprintf("… %d more", len(f.Actions)-maxActions))
	}
	for i := range f.Actions {
		f.Actions[i] = inert(f.Actions[i])
	}
	return f
}
