// Package configrule is lambdawarden as an AWS Config custom rule: the
// handler that the lambdawarden-config-rule Lambda function runs, and that
// `lambdawarden config-rule --event FILE` runs locally.
//
// For AWS::Lambda::Function it answers ConfigurationItemChangeNotification,
// OversizedConfigurationItemChangeNotification (the item is fetched with
// GetResourceConfigHistory) and ScheduledNotification, judging each
// function live with all its aliases, versions and URL — a configuration
// item carries none of their policies — with the same rules as a scan. It
// reports COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE (deleted functions)
// through PutEvaluations, at most 100 a call, with an annotation naming
// the statement and the class. A function that cannot be assessed is
// NON_COMPLIANT with the reason: Config accepts no INSUFFICIENT_DATA from a
// custom rule, and a pass would be a lie.
//
// The same handler accepts EventBridge events of CloudTrail Lambda API
// calls (the real-time path) and raises watch alerts for them.
package configrule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/scan"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/trail"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

// FunctionType is the only resource type the rule evaluates.
const FunctionType = "AWS::Lambda::Function"

// Compliance types a custom rule may report.
const (
	Compliant     = "COMPLIANT"
	NonCompliant  = "NON_COMPLIANT"
	NotApplicable = "NOT_APPLICABLE"
)

// MaxBatch is PutEvaluations' limit per call.
const MaxBatch = 100

// Evaluation is one verdict put to AWS Config.
type Evaluation struct {
	ResourceType      string    `json:"resource_type"`
	ResourceID        string    `json:"resource_id"`
	Compliance        string    `json:"compliance"`
	Annotation        string    `json:"annotation,omitempty"`
	OrderingTimestamp time.Time `json:"ordering_timestamp"`
}

// Item is the part of a configuration item the rule reads.
type Item struct {
	ResourceType string    `json:"resourceType"`
	ResourceID   string    `json:"resourceId"`
	ResourceName string    `json:"resourceName"`
	ARN          string    `json:"ARN"`
	Account      string    `json:"awsAccountId"`
	Region       string    `json:"awsRegion"`
	Status       string    `json:"configurationItemStatus"`
	CaptureTime  time.Time `json:"configurationItemCaptureTime"`
}

// ConfigService is the part of AWS Config the rule calls, in the account
// the event is for.
type ConfigService interface {
	PutEvaluations(ctx context.Context, account, resultToken string, testMode bool, evs []Evaluation) error
	// ConfigurationItem returns a resource's current configuration item.
	ConfigurationItem(ctx context.Context, account, resourceType, resourceID string) (*Item, error)
}

// FunctionReader reads one function with its aliases and versions
// (awscollect.Reader).
type FunctionReader interface {
	ReadFunction(ctx context.Context, functionARN string) ([]awscollect.Read, error)
	Read(ctx context.Context, arn string) (awscollect.Read, error)
}

// ScanFunc reads every resource of an account in a Region, as scan does;
// it returns what could not be read beyond single resources.
type ScanFunc func(ctx context.Context, account, region string, emit func(*inventory.Resource)) (errs []string, err error)

// Handler answers Config rule invocations.
type Handler struct {
	Reader FunctionReader
	Scan   ScanFunc
	Config ConfigService
	// Region is where the function runs (AWS_REGION): scheduled
	// notifications evaluate that Region.
	Region string
	// Alerts receive the real-time path's alerts (SNS).
	Alerts []sink.Sink
	Logf   func(format string, args ...any)
	Now    func() time.Time
}

// Result is what one invocation did; `config-rule --event` prints it.
type Result struct {
	MessageType string       `json:"message_type"`
	Evaluations []Evaluation `json:"evaluations"`
	// Batches is the number of PutEvaluations calls made.
	Batches int `json:"batches"`
	// Alerts counts the real-time path's alerts; Raised holds them (the
	// alert documents of `lambdawarden watch`).
	Alerts int               `json:"alerts,omitempty"`
	Raised []json.RawMessage `json:"raised,omitempty"`
	// UnknownAlerts counts the alerts on changes that could not be judged
	// (the resource could not be read again): the run is incomplete.
	UnknownAlerts int `json:"unknown_alerts,omitempty"`
	// Errors lists what could not be read beyond single functions.
	Errors []string `json:"errors,omitempty"`
}

// invoking is the invokingEvent of a Config rule event.
type invoking struct {
	MessageType              string    `json:"messageType"`
	NotificationCreationTime time.Time `json:"notificationCreationTime"`
	ConfigurationItem        *Item     `json:"configurationItem"`
	ConfigurationItemSummary *Item     `json:"configurationItemSummary"`
	Account                  string    `json:"awsAccountId"`
}

// Handle answers one invocation: a Config rule event or an EventBridge
// event of a CloudTrail record.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (*Result, error) {
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Logf == nil {
		h.Logf = func(string, ...any) {}
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("the event is not a JSON object: %v", err)
	}
	if probe["detail-type"] != nil {
		return h.realTime(ctx, raw)
	}
	if probe["invokingEvent"] == nil {
		return nil, errors.New("the event is neither an AWS Config rule event (no invokingEvent) nor an EventBridge event (no detail-type)")
	}
	var ev events.ConfigEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("the Config rule event does not parse: %v", err)
	}
	return h.HandleConfig(ctx, ev)
}

// HandleConfig answers a Config rule event.
func (h *Handler) HandleConfig(ctx context.Context, ev events.ConfigEvent) (*Result, error) {
	if h.Now == nil {
		h.Now = time.Now
	}
	params, err := ParseParameters(ev.RuleParameters)
	if err != nil {
		return nil, err
	}
	var inv invoking
	if err := json.Unmarshal([]byte(ev.InvokingEvent), &inv); err != nil {
		return nil, fmt.Errorf("invokingEvent does not parse: %v", err)
	}
	res := &Result{MessageType: inv.MessageType, Evaluations: []Evaluation{}}
	account := ev.AccountID
	switch inv.MessageType {
	case "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification":
		item := inv.ConfigurationItem
		if inv.MessageType == "OversizedConfigurationItemChangeNotification" {
			if inv.ConfigurationItemSummary == nil {
				return nil, errors.New("an oversized notification without configurationItemSummary")
			}
			item = inv.ConfigurationItemSummary
			if !deleted(item.Status) && item.ResourceType == FunctionType {
				full, err := h.Config.ConfigurationItem(ctx, orDefault(item.Account, account), item.ResourceType, item.ResourceID)
				if err != nil {
					return nil, fmt.Errorf("config:GetResourceConfigHistory %s: %v", item.ResourceID, err)
				}
				full.CaptureTime = laterOf(full.CaptureTime, item.CaptureTime)
				item = full
			}
		}
		if item == nil {
			return nil, errors.New("a change notification without configurationItem")
		}
		if account == "" {
			account = item.Account
		}
		if item.ResourceType == "" || item.ResourceID == "" {
			return nil, errors.New("the configuration item names no resource (resourceType and resourceId)")
		}
		res.Evaluations = append(res.Evaluations, h.evaluateItem(ctx, item, ev.EventLeftScope, params))
	case "ScheduledNotification":
		if account == "" {
			account = inv.Account
		}
		when := inv.NotificationCreationTime
		if when.IsZero() {
			when = h.Now()
		}
		evs, errs, err := h.evaluateAll(ctx, account, h.Region, when, params)
		if err != nil {
			return nil, err
		}
		res.Evaluations, res.Errors = evs, errs
	default:
		return nil, fmt.Errorf("messageType %q is not one this rule answers (ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification)", inv.MessageType)
	}
	testMode := ev.ResultToken == "" || ev.ResultToken == "TESTMODE"
	for start := 0; start < len(res.Evaluations); start += MaxBatch {
		batch := res.Evaluations[start:min(start+MaxBatch, len(res.Evaluations))]
		if err := h.Config.PutEvaluations(ctx, account, ev.ResultToken, testMode, batch); err != nil {
			return res, fmt.Errorf("config:PutEvaluations: %v", err)
		}
		res.Batches++
	}
	if len(res.Errors) > 0 {
		// Functions that were not even listed have no evaluation: fail
		// the invocation so Config shows the rule in error.
		return res, fmt.Errorf("the evaluation is incomplete: %s", strings.Join(res.Errors, "; "))
	}
	return res, nil
}

func deleted(status string) bool {
	return status == "ResourceDeleted" || status == "ResourceDeletedNotRecorded" || status == "ResourceNotRecorded"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// evaluateItem judges the function a configuration item names.
func (h *Handler) evaluateItem(ctx context.Context, item *Item, leftScope bool, p Parameters) Evaluation {
	out := Evaluation{ResourceType: item.ResourceType, ResourceID: item.ResourceID, OrderingTimestamp: item.CaptureTime}
	if out.OrderingTimestamp.IsZero() {
		out.OrderingTimestamp = h.Now()
	}
	switch {
	case item.ResourceType != FunctionType:
		out.Compliance, out.Annotation = NotApplicable, "lambdawarden evaluates AWS::Lambda::Function only"
		return out
	case leftScope || deleted(item.Status):
		out.Compliance, out.Annotation = NotApplicable, "the function was deleted or left the rule's scope"
		return out
	}
	arn := item.ARN
	if arn == "" {
		arn = "arn:aws:lambda:" + item.Region + ":" + item.Account + ":function:" + item.ResourceID
	}
	reads, err := h.Reader.ReadFunction(ctx, arn)
	if err != nil {
		out.Compliance, out.Annotation = NonCompliant, clip("could not be assessed: "+err.Error())
		return out
	}
	if len(reads) == 1 && reads[0].Gone {
		out.Compliance, out.Annotation = NotApplicable, "the function no longer exists"
		return out
	}
	var judged []report.Resource
	for _, r := range reads {
		if r.Resource != nil {
			judged = append(judged, scan.Assess(r.Resource, scan.Options{Trust: p.Trust, OmitPolicyText: true}))
		}
	}
	out.Compliance, out.Annotation = verdict(judged, p)
	return out
}

// evaluateAll judges every function of the account in the Region.
func (h *Handler) evaluateAll(ctx context.Context, account, region string, when time.Time, p Parameters) ([]Evaluation, []string, error) {
	if region == "" {
		return nil, nil, errors.New("no Region to evaluate (AWS_REGION is not set)")
	}
	byFunction := map[string][]report.Resource{}
	errs, err := h.Scan(ctx, account, region, func(r *inventory.Resource) {
		if r.Kind == inventory.KindLayerVersion || r.Kind == inventory.KindExecutionRole {
			return
		}
		byFunction[r.Name] = append(byFunction[r.Name], scan.Assess(r, scan.Options{Trust: p.Trust, OmitPolicyText: true}))
	})
	if err != nil {
		return nil, nil, err
	}
	// A resource named "*" stands for an account or listing that could
	// not be read: it is no function Config knows.
	if stand, ok := byFunction["*"]; ok {
		delete(byFunction, "*")
		for _, r := range stand {
			errs = append(errs, r.ARN+": "+r.UnknownReason)
		}
	}
	names := make([]string, 0, len(byFunction))
	for n := range byFunction {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Evaluation, 0, len(names))
	for _, n := range names {
		c, note := verdict(byFunction[n], p)
		out = append(out, Evaluation{ResourceType: FunctionType, ResourceID: n, Compliance: c, Annotation: note, OrderingTimestamp: when})
	}
	return out, errs, nil
}

// realTime handles an EventBridge event of a CloudTrail Lambda API call:
// the changed resource is read again and judged, and alerts go to the
// alert sinks.
func (h *Handler) realTime(ctx context.Context, raw json.RawMessage) (*Result, error) {
	parsed := trail.Parse("EventBridge event", raw)
	for _, p := range parsed.Problems {
		return nil, fmt.Errorf("%s", p)
	}
	count := &countingSink{}
	w, err := watch.New(watch.Options{Reader: h.Reader, Sinks: append([]sink.Sink{count}, h.Alerts...), Logf: h.Logf, Now: h.Now, MinSeverity: finding.Medium})
	if err != nil {
		return nil, err
	}
	w.Handle(ctx, parsed)
	st := w.Stats()
	res := &Result{MessageType: "AWS API Call via CloudTrail", Evaluations: []Evaluation{}, Alerts: len(count.raised), Raised: count.raised, UnknownAlerts: st.Unknown}
	if st.SinkErrors > 0 {
		return res, fmt.Errorf("%d alert(s) could not be published", st.SinkErrors)
	}
	return res, nil
}

// countingSink keeps the alerts raised, for the invocation's result.
type countingSink struct{ raised []json.RawMessage }

func (c *countingSink) Name() string { return "result" }
func (c *countingSink) Send(_ context.Context, m sink.Message) error {
	c.raised = append(c.raised, json.RawMessage(m.Body))
	return nil
}
func (c *countingSink) Close(context.Context) error { return nil }
