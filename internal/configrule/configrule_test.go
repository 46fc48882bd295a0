package configrule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/configrule/awsconfig"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

const mgmt = "111122223333"

func start(t *testing.T, seed *emulator.Seed) (*emulator.Server, string) {
	t.Helper()
	return startWith(t, seed, emulator.Options{})
}

func startWith(t *testing.T, seed *emulator.Seed, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// startDemoFaulty serves the demo estate with the faults of spec.
func startDemoFaulty(t *testing.T, spec string) (*emulator.Server, string) {
	t.Helper()
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	faults, err := emulator.ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, seed, emulator.Options{Faults: faults, FaultSeed: 1})
}

func startDemo(t *testing.T) (*emulator.Server, string) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return start(t, seed)
}

func handler(t *testing.T, url string, topic string) *configrule.Handler {
	t.Helper()
	h, err := awsconfig.NewHandler(context.Background(), awsconfig.Settings{EndpointURL: url, Region: "us-east-1", NoPacing: true, SNSTopic: topic,
		Credentials: credentials.NewStaticCredentialsProvider("AKIA"+mgmt, "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func event(t *testing.T, name string) events.ConfigEvent {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.ConfigEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func compliance(evs []emulator.ConfigEvaluation) map[string]string {
	out := map[string]string{}
	for _, e := range evs {
		out[e.ResourceID] = e.ComplianceType
	}
	return out
}

// TestScheduledMarksExactlyTheExposedFunctions runs a scheduled
// notification over the demo estate: the exposed functions (public,
// cross-account, unscoped service, exposed only through an alias or a
// version, or unreadable) are NON_COMPLIANT, the rest COMPLIANT, as
// AWS Config received them.
func TestScheduledMarksExactlyTheExposedFunctions(t *testing.T) {
	srv, url := startDemo(t)
	ev := event(t, "scheduled.json")
	res, err := handler(t, url, "").HandleConfig(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"patient-intake": "NON_COMPLIANT", "patient-portal": "NON_COMPLIANT", "claims-api": "NON_COMPLIANT",
		"billing-export": "NON_COMPLIANT", "scan-ingest": "NON_COMPLIANT", "appointment-scheduler": "NON_COMPLIANT",
		"legacy-etl": "NON_COMPLIANT", "secrets-rotator": "NON_COMPLIANT",
		"org-reports": "COMPLIANT", "lab-results": "COMPLIANT", "status-page": "COMPLIANT",
	}
	got := compliance(srv.Evaluations())
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Config received:\n%v\nwant:\n%v", got, want)
	}
	if res.Batches != 1 || len(res.Evaluations) != len(want) {
		t.Errorf("result %+v", res)
	}
	for _, e := range srv.Evaluations() {
		if e.ResultToken != ev.ResultToken || e.TestMode || e.OrderingTimestamp.Format("2006-01-02T15:04:05Z") != "2026-12-01T06:00:00Z" {
			t.Errorf("%s: token %q test %v time %s", e.ResourceID, e.ResultToken, e.TestMode, e.OrderingTimestamp)
		}
		if len([]rune(e.Annotation)) > 256 || e.Annotation == "" {
			t.Errorf("%s: annotation %q", e.ResourceID, e.Annotation)
		}
		switch e.ResourceID {
		case "appointment-scheduler":
			if !strings.HasPrefix(e.Annotation, "public via alias prod, statement") {
				t.Errorf("the annotation should name the alias, statement and class: %q", e.Annotation)
			}
		case "secrets-rotator":
			if !strings.Contains(e.Annotation, "could not be assessed") || !strings.Contains(e.Annotation, "AccessDenied") {
				t.Errorf("an unreadable function must say why: %q", e.Annotation)
			}
		}
	}
	// Read-only, but for PutEvaluations.
	for _, r := range srv.Requests() {
		if !(strings.HasPrefix(r.Op, "Get") || strings.HasPrefix(r.Op, "List") || r.Op == "PutEvaluations") {
			t.Errorf("the rule called %s", r.Op)
		}
	}
}

func TestChangeNotifications(t *testing.T) {
	srv, url := startDemo(t)
	h := handler(t, url, "")
	for _, c := range []struct {
		file, id, compliance, note string
	}{
		{"change-appointment-scheduler.json", "appointment-scheduler", "NON_COMPLIANT", "public via alias prod"},
		{"change-lab-results.json", "lab-results", "COMPLIANT", "no finding at or above high"},
		{"oversized-patient-intake.json", "patient-intake", "NON_COMPLIANT", "public via the function"},
		{"deleted.json", "retired-function", "NOT_APPLICABLE", "deleted"},
	} {
		before := len(srv.Evaluations())
		res, err := h.HandleConfig(context.Background(), event(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		evs := srv.Evaluations()[before:]
		if len(evs) != 1 || evs[0].ResourceID != c.id || evs[0].ComplianceType != c.compliance || !strings.Contains(evs[0].Annotation, c.note) {
			t.Errorf("%s: Config received %+v", c.file, evs)
		}
		if evs[0].OrderingTimestamp.Format("15:04:05") != "05:59:00" || res.Batches != 1 {
			t.Errorf("%s: ordering timestamp %s (the item's capture time), batches %d", c.file, evs[0].OrderingTimestamp, res.Batches)
		}
	}
	if srv.Counts()["GetResourceConfigHistory"] != 1 {
		t.Errorf("the oversized notification must fetch the item: %v", srv.Counts())
	}
}

// TestDeletedFunctionIsNotReadAtAll: NOT_APPLICABLE without a Lambda call.
func TestDeletedFunctionIsNotReadAtAll(t *testing.T) {
	srv, url := startDemo(t)
	if _, err := handler(t, url, "").HandleConfig(context.Background(), event(t, "deleted.json")); err != nil {
		t.Fatal(err)
	}
	for op := range srv.Counts() {
		if op != "GetCallerIdentity" && op != "PutEvaluations" {
			t.Errorf("a deleted function needs no reads; called %s", op)
		}
	}
}

// TestMoreThanAHundredFunctionsGoInBatches: PutEvaluations takes 100.
func TestMoreThanAHundredFunctionsGoInBatches(t *testing.T) {
	var fns []string
	for i := 0; i < 150; i++ {
		fns = append(fns, fmt.Sprintf(`{"name":"fn-%03d"}`, i))
	}
	seed, err := emulator.ParseSeed([]byte(`{"accounts":[{"id":"` + mgmt + `","regions":{"us-east-1":{"functions":[` + strings.Join(fns, ",") + `]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv, url := start(t, seed)
	res, err := handler(t, url, "").HandleConfig(context.Background(), event(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs := srv.Evaluations()
	batches := map[int]int{}
	for _, e := range evs {
		batches[e.Batch]++
		if e.ComplianceType != "COMPLIANT" {
			t.Errorf("%s: %s", e.ResourceID, e.ComplianceType)
		}
	}
	if res.Batches != 2 || len(evs) != 150 || batches[1] != 100 || batches[2] != 50 {
		t.Errorf("batches %v, result batches %d, %d evaluations", batches, res.Batches, len(evs))
	}
}

func TestRuleParameters(t *testing.T) {
	p, err := configrule.ParseParameters(`{"TrustedAccounts":["111122223333"],"orgId":"o-x","severityThreshold":"critical"}`)
	if err != nil || len(p.Trust.Trusted) != 1 || p.Trust.OrgID != "o-x" || p.Threshold.String() != "critical" {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range []string{`{"trustedAcounts":"1"}`, `{"trustedAccounts":"12"}`, `{"orgId":"abc"}`, `{"severityThreshold":"none"}`, `[1]`} {
		if _, err := configrule.ParseParameters(bad); err == nil {
			t.Errorf("%s should be refused", bad)
		}
	}
	_, url := startDemo(t)
	ev := event(t, "scheduled.json")
	ev.RuleParameters = `{"trustedAcounts":"111122223333"}`
	if _, err := handler(t, url, "").HandleConfig(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "unknown parameter") {
		t.Errorf("a misspelt parameter must fail the evaluation: %v", err)
	}
}

// TestTestModeWithoutAToken: a local run without a real token.
func TestTestModeWithoutAToken(t *testing.T) {
	srv, url := startDemo(t)
	ev := event(t, "change-lab-results.json")
	ev.ResultToken = "TESTMODE"
	if _, err := handler(t, url, "").HandleConfig(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if evs := srv.Evaluations(); len(evs) != 1 || !evs[0].TestMode {
		t.Errorf("%+v", evs)
	}
}

// TestRealTimePath: an EventBridge event of the backdoor AddPermission is
// judged live and alerted on SNS.
func TestRealTimePath(t *testing.T) {
	srv, url := startDemo(t)
	envelope := backdoorEvent(t, srv, url, "lab-results")
	topic := "arn:aws:sns:us-east-1:" + mgmt + ":alerts"
	res, err := handler(t, url, topic).Handle(context.Background(), envelope)
	if err != nil {
		t.Fatal(err)
	}
	pub := srv.Published()
	if res.Alerts != 1 || len(pub) != 1 || !strings.Contains(pub[0].Message, `"severity":"critical"`) || !strings.Contains(pub[0].Message, "user/emulator") {
		t.Fatalf("result %+v, published %+v", res, pub)
	}
	// The result (what `config-rule --event` prints) holds the alert
	// itself, not only a count.
	if len(res.Raised) != 1 || string(res.Raised[0]) != pub[0].Message {
		t.Errorf("result raised %s, published %s", res.Raised, pub[0].Message)
	}
	var ops []string
	for op := range srv.Counts() {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		if !(strings.HasPrefix(op, "Get") || op == "AddPermission" || op == "sns:Publish") {
			t.Errorf("the real-time path called %s", op)
		}
	}
}

// TestKnownExposureIsNamedBeforeAnUnreadableAlias: a function public
// through its own policy whose alias cannot be read is NON_COMPLIANT, and
// the annotation names the public statement first, then what could not be
// read; "could not be assessed" alone would hide what is known.
func TestKnownExposureIsNamedBeforeAnUnreadableAlias(t *testing.T) {
	seed, err := emulator.ParseSeed([]byte(`{"accounts":[{"id":"` + mgmt + `","regions":{"us-east-1":{"functions":[
	  {"name":"f","policy":{"Version":"2012-10-17","Statement":[{"Sid":"pub","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:` + mgmt + `:function:f"}]},
	   "aliases":[{"name":"live","policy_error":"AccessDeniedException"}]},
	  {"name":"g","aliases":[{"name":"live","policy_error":"AccessDeniedException"}]}]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv, url := start(t, seed)
	if _, err := handler(t, url, "").HandleConfig(context.Background(), event(t, "scheduled.json")); err != nil {
		t.Fatal(err)
	}
	got := map[string]emulator.ConfigEvaluation{}
	for _, e := range srv.Evaluations() {
		got[e.ResourceID] = e
	}
	if e := got["f"]; e.ComplianceType != "NON_COMPLIANT" || !strings.HasPrefix(e.Annotation, `public via the function, statement "pub"`) ||
		!strings.Contains(e.Annotation, "alias live could not be assessed") {
		t.Errorf("f: %s %q", e.ComplianceType, e.Annotation)
	}
	if e := got["g"]; e.ComplianceType != "NON_COMPLIANT" || !strings.HasPrefix(e.Annotation, "could not be assessed (alias live)") {
		t.Errorf("g: %s %q", e.ComplianceType, e.Annotation)
	}
}

// TestUnlistableAliasesAreNonCompliant: aliases that cannot be listed
// leave their policies unread: NON_COMPLIANT, saying so in plain words.
func TestUnlistableAliasesAreNonCompliant(t *testing.T) {
	srv, url := startDemoFaulty(t, "ListAliases:denied=1")
	if _, err := handler(t, url, "").HandleConfig(context.Background(), event(t, "change-lab-results.json")); err != nil {
		t.Fatal(err)
	}
	evs := srv.Evaluations()
	if len(evs) != 1 || evs[0].ComplianceType != "NON_COMPLIANT" || !strings.HasPrefix(evs[0].Annotation, "could not be assessed (its aliases): ") {
		t.Errorf("Config received %+v", evs)
	}
}

// TestRealTimeUnreadableIsAnUnknownAlert: when the changed function cannot
// be read again, the real-time path raises an unknown alert (never
// silence), counted apart, and judges the statement the event added.
func TestRealTimeUnreadableIsAnUnknownAlert(t *testing.T) {
	srv, url := startDemoFaulty(t, "GetPolicy:denied=1,GetResourcePolicy:denied=1")
	envelope := backdoorEvent(t, srv, url, "lab-results")
	res, err := handler(t, url, "").Handle(context.Background(), envelope)
	if err != nil {
		t.Fatal(err)
	}
	if res.Alerts != 2 || res.UnknownAlerts != 1 || len(res.Raised) != 2 || !strings.Contains(string(res.Raised[0]), `"status":"unknown"`) ||
		!strings.Contains(string(res.Raised[1]), `"basis":"statement"`) {
		t.Fatalf("%d alert(s), %d unknown: %s", res.Alerts, res.UnknownAlerts, res.Raised)
	}
}

// backdoorEvent adds a Principal "*" permission to function and returns
// the EventBridge event of its CloudTrail record.
func backdoorEvent(t *testing.T, srv *emulator.Server, url, function string) []byte {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA"+mgmt, "x", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := lc.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String(function), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	recs := srv.TrailRecords(mgmt, "us-east-1")
	envelope, _ := json.Marshal(map[string]any{"version": "0", "id": "eb-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.lambda",
		"account": mgmt, "region": "us-east-1", "time": "2026-12-01T06:00:00Z", "resources": []string{}, "detail": json.RawMessage(recs[len(recs)-1])})
	return envelope
}
