// Package suppress reads a suppressions file and applies it to a report.
//
// A suppression is an accepted risk, so each one must say why (reason),
// until when (expires) and who accepted it (approved_by). A suppressed
// finding is never dropped: it stays in every report, marked suppressed
// and naming the entry, and it does not count toward --fail-on. When the
// entry has expired the finding counts again and says so.
//
// The file:
//
//	suppressions:
//	  - rule: lambda-public-function-url
//	    resource: "arn:aws:lambda:us-east-1:111122223333:function:public-webhook*"
//	    account: "111122223333"              # optional
//	    sid: FunctionURLAllowPublicAccess    # optional
//	    reason: "Public webhook for the patient portal, reviewed by security"
//	    expires: 2027-03-31
//	    approved_by: "jane.doe@example.org"
//
// An entry matches a finding when every matcher it gives matches (rule,
// resource, account, sid; at least one is required, so no entry can hide
// everything). rule is one rule id, a list of them (rule: [a, b]), or
// "*" for every rule, which must then name the statement with resource
// and/or sid (every finding of one statement). resource is the resource ARN, where * matches any run of
// characters and ? one character; without a wildcard it must be the exact
// ARN (so an alias needs its own entry or a trailing *). sid is the
// statement's Sid, exactly. A date-only expires is valid through that day
// in UTC; an RFC 3339 time is valid until that instant.
package suppress

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/yamldoc"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Entry is one suppression as written.
type Entry struct {
	Rules      []string // rule ids; empty for any rule
	AnyRule    bool     // rule: "*" was written
	Resource   string   // ARN pattern with * and ?, or "" for any resource
	Account    string   // 12-digit account id, or "" for any account
	Sid        string   // statement Sid, or "" for any statement
	Reason     string
	ApprovedBy string
	// Expires is the first instant the entry no longer applies.
	Expires time.Time
	// ExpiresText is the expiry as written, for messages.
	ExpiresText string
	// File and Line locate the entry (its first line).
	File string
	Line int
}

// Set is a parsed suppressions file.
type Set struct {
	File    string
	Entries []Entry
}

// Outcome tells what applying a set did, so the caller can warn about
// expired and stale entries.
type Outcome struct {
	// Suppressed counts the findings an active entry suppressed.
	Suppressed int
	// Expired counts the findings only expired entries matched; they
	// count again and carry a note.
	Expired int
	// ExpiredEntries are the expired entries that matched a finding.
	ExpiredEntries []Entry
	// Unused are the active entries that matched no finding (fixed, or
	// mistyped): candidates for removal.
	Unused []Entry
}

// Load reads and parses a suppressions file.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	return Parse(data, path)
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
)

const known = "rule, resource, account, sid, reason, expires, approved_by"

// Parse reads a suppressions file's contents; name is used in errors
// ("suppressions.yaml:7: field \"expires\": ...").
func Parse(data []byte, name string) (*Set, error) {
	set := &Set{File: name}
	errf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	root, err := yamldoc.Root(data, name)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return set, nil // an empty file suppresses nothing
	}
	if root.Kind != yaml.MappingNode {
		return nil, errf(root.Line, "want a mapping with a \"suppressions\" list at the top")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], yamldoc.Resolve(root.Content[i+1])
		if k.Value != "suppressions" {
			return nil, errf(k.Line, "field %q: unknown field (the top level has only \"suppressions\")", k.Value)
		}
		if list != nil {
			return nil, errf(k.Line, "field %q: given twice", k.Value)
		}
		list = v
	}
	if list == nil || list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return set, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, errf(list.Line, "field \"suppressions\": want a list of entries")
	}
	for n, item := range list.Content {
		item = yamldoc.Resolve(item)
		e, err := parseEntry(item, n+1, name, errf)
		if err != nil {
			return nil, err
		}
		set.Entries = append(set.Entries, e)
	}
	return set, nil
}

func parseEntry(item *yaml.Node, n int, name string, errf func(int, string, ...any) error) (Entry, error) {
	e := Entry{File: name, Line: item.Line}
	if item.Kind != yaml.MappingNode {
		return e, errf(item.Line, "suppression %d: want a mapping with %s", n, known)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], yamldoc.Resolve(item.Content[i+1])
		field := k.Value
		if seen[field] {
			return e, errf(k.Line, "field %q: given twice", field)
		}
		seen[field] = true
		if field == "rule" {
			if err := parseRules(&e, v, errf); err != nil {
				return e, err
			}
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return e, errf(v.Line, "field %q: want a single value, not a list or mapping", field)
		}
		val := strings.TrimSpace(v.Value)
		if v.Tag == "!!null" {
			val = ""
		}
		line := v.Line
		switch field {
		case "resource":
			if val == "" {
				return e, errf(line, "field %q: must not be empty (leave it out to match any resource)", field)
			}
			if !strings.HasPrefix(val, "arn:") {
				return e, errf(line, "field %q: %q is not an ARN pattern (want arn:aws:lambda:REGION:ACCOUNT:function:NAME, * and ? allowed)", field, val)
			}
			e.Resource = val
		case "account":
			if !accountRe.MatchString(val) {
				return e, errf(line, "field %q: %q is not a 12-digit AWS account id (quote it in YAML)", field, val)
			}
			e.Account = val
		case "sid":
			if val == "" {
				return e, errf(line, "field %q: must not be empty (leave it out to match any statement)", field)
			}
			e.Sid = v.Value
		case "reason":
			if val == "" {
				return e, errf(line, "field %q: must not be empty: say why the risk is accepted", field)
			}
			e.Reason = val
		case "approved_by":
			if val == "" {
				return e, errf(line, "field %q: must not be empty: name who accepted the risk", field)
			}
			e.ApprovedBy = val
		case "expires":
			t, err := parseExpiry(val)
			if err != nil {
				return e, errf(line, "field %q: %v", field, err)
			}
			e.Expires, e.ExpiresText = t, val
		default:
			return e, errf(k.Line, "field %q: unknown field (known: %s)", field, known)
		}
	}
	for _, f := range []string{"reason", "expires", "approved_by"} {
		if !seen[f] {
			return e, errf(item.Line, "suppression %d: missing field %q (every suppression needs reason, expires and approved_by)", n, f)
		}
	}
	if e.AnyRule && e.Resource == "" && e.Sid == "" {
		return e, errf(item.Line, "suppression %d: rule \"*\" matches every rule, so name the statement too: give resource and/or sid", n)
	}
	if len(e.Rules) == 0 && e.Resource == "" && e.Account == "" && e.Sid == "" {
		return e, errf(item.Line, "suppression %d: give at least one of rule, resource, account or sid (an entry that matches everything would hide every finding)", n)
	}
	return e, nil
}

// parseRules reads rule: one id, a list of ids, or "*".
func parseRules(e *Entry, v *yaml.Node, errf func(int, string, ...any) error) error {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			return errf(v.Line, "field \"rule\": the list is empty (leave the field out to match any rule)")
		}
	} else if v.Kind != yaml.ScalarNode {
		return errf(v.Line, "field \"rule\": want a rule id, a list of them, or \"*\"")
	}
	for _, it := range items {
		it = yamldoc.Resolve(it)
		if it.Kind != yaml.ScalarNode {
			return errf(it.Line, "field \"rule\": want a rule id, a list of them, or \"*\"")
		}
		val := strings.TrimSpace(it.Value)
		if it.Tag == "!!null" {
			val = ""
		}
		switch {
		case val == "":
			return errf(it.Line, "field \"rule\": must not be empty (leave it out to match any rule)")
		case val == "*" && v.Kind == yaml.SequenceNode:
			return errf(it.Line, "field \"rule\": \"*\" already means every rule; write rule: \"*\" alone")
		case val == "*":
			e.AnyRule = true
			continue
		}
		if _, err := rules.ByID(val); err != nil {
			return errf(it.Line, "field \"rule\": %v", err)
		}
		e.Rules = append(e.Rules, val)
	}
	return nil
}

// parseExpiry reads YYYY-MM-DD (valid through that day, UTC) or an RFC
// 3339 time (valid until that instant).
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("must not be empty: give the date the acceptance ends (YYYY-MM-DD)")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD, e.g. 2027-03-31)", s)
}

// Where names the entry for people: "suppressions.yaml:7".
func (e Entry) Where() string { return e.File + ":" + strconv.Itoa(e.Line) }

// Active reports whether the entry still applies at now.
func (e Entry) Active(now time.Time) bool { return now.Before(e.Expires) }

// Matches reports whether the entry covers a finding on a resource.
func (e Entry) Matches(r *report.Resource, f *finding.Finding) bool {
	if len(e.Rules) > 0 && !slices.Contains(e.Rules, f.RuleID) {
		return false
	}
	if e.Account != "" && e.Account != accountOf(r) {
		return false
	}
	if e.Resource != "" && !Wildcard(e.Resource, r.ARN) {
		return false
	}
	if e.Sid != "" && (f.Statement == nil || f.Statement.Sid != e.Sid) {
		return false
	}
	return true
}

func accountOf(r *report.Resource) string {
	if r.Account != "" {
		return r.Account
	}
	if parts := strings.SplitN(r.ARN, ":", 6); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

// describe is the SuppressedBy text: where, why, who and until when.
func (e Entry) describe() string {
	return fmt.Sprintf("%s: %q (approved by %s, expires %s)", e.Where(), e.Reason, e.ApprovedBy, e.ExpiresText)
}

// Apply marks every finding an active entry matches as suppressed
// (first matching entry in file order wins), notes on findings that only
// an expired entry matches that the suppression expired, and recomputes
// the document's summary. Findings are never removed.
func (s *Set) Apply(d *report.Document, now time.Time) Outcome {
	if s == nil {
		return Outcome{}
	}
	m := s.Marker(now)
	for i := range d.Resources {
		m.Mark(&d.Resources[i])
	}
	d.Summarize()
	return m.Outcome()
}

// Marker applies a set to one resource at a time, as a scan judges them
// (before they are spooled, since a spooled report is counted as it is
// written), and gathers what Apply would report.
type Marker struct {
	s           *Set
	now         time.Time
	used        []bool
	expiredSeen []bool
	out         Outcome
}

// Marker starts marking resources against the set; a nil set marks
// nothing.
func (s *Set) Marker(now time.Time) *Marker {
	m := &Marker{s: s, now: now}
	if s != nil {
		m.used = make([]bool, len(s.Entries))
		m.expiredSeen = make([]bool, len(s.Entries))
	}
	return m
}

// Mark applies the set to one resource's findings, as Apply does.
func (m *Marker) Mark(r *report.Resource) {
	if m.s == nil {
		return
	}
	for j := range r.Findings {
		f := &r.Findings[j]
		if f.Suppressed {
			continue
		}
		expired := -1
		for k := range m.s.Entries {
			e := &m.s.Entries[k]
			if !e.Matches(r, f) {
				continue
			}
			if e.Active(m.now) {
				f.Suppressed = true
				f.SuppressedBy = e.describe()
				m.used[k] = true
				expired = -1
				break
			}
			if expired < 0 {
				expired = k
			}
		}
		if f.Suppressed {
			m.out.Suppressed++
			continue
		}
		if expired >= 0 {
			e := m.s.Entries[expired]
			note := fmt.Sprintf("suppression expired on %s (%s, approved by %s): the finding counts again.", expiryDay(e), e.Where(), e.ApprovedBy)
			if f.Note == "" {
				f.Note = note
			} else {
				f.Note += " " + note
			}
			m.out.Expired++
			if !m.expiredSeen[expired] {
				m.expiredSeen[expired] = true
				m.out.ExpiredEntries = append(m.out.ExpiredEntries, e)
			}
		}
	}
}

// Outcome is what the resources marked so far add up to, with the active
// entries that matched none of them.
func (m *Marker) Outcome() Outcome {
	out := m.out
	out.ExpiredEntries = append([]Entry(nil), m.out.ExpiredEntries...)
	out.Unused = nil
	if m.s == nil {
		return out
	}
	for k, e := range m.s.Entries {
		if !m.used[k] && e.Active(m.now) {
			out.Unused = append(out.Unused, e)
		}
	}
	return out
}

// expiryDay is the last day an entry was valid, as the file wrote it for
// dates, or the instant for times.
func expiryDay(e Entry) string {
	if _, err := time.Parse("2006-01-02", e.ExpiresText); err == nil {
		return e.ExpiresText
	}
	return e.Expires.UTC().Format(time.RFC3339)
}

// Wildcard matches s against a pattern where * matches any run of
// characters (including none) and ? exactly one; everything else is
// literal. ARNs contain no path structure worth respecting, so * crosses
// ':' and '/'.
func Wildcard(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
