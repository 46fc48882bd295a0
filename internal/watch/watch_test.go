package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/trail"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

const (
	acct     = "111122223333"
	region   = "us-east-1"
	backdoor = "stratus-red-team-backdoor-f-func"
)

var seedJSON = `{"accounts":[{"id":"` + acct + `","regions":{"us-east-1":{
  "functions":[
    {"name":"` + backdoor + `"},
    {"name":"locked-down","policy":{"Version":"2012-10-17","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:` + acct + `:function:locked-down","Condition":{"StringEquals":{"AWS:SourceAccount":"` + acct + `"}}}]}}
  ],
  "layers":[{"name":"shared","versions":[{"version":1}]}]}}}]}`

func startEmulator(t testing.TB, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	seed, err := emulator.ParseSeed([]byte(seedJSON))
	if err != nil {
		t.Fatal(err)
	}
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

// attacker is the SDK client that makes the changes watch must catch.
func attacker(url string) *lambda.Client {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIA"+acct, "x", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
}

func backdoorPermission(t testing.TB, c *lambda.Client) {
	t.Helper()
	_, err := c.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String(backdoor), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
	if err != nil {
		t.Fatal(err)
	}
}

// reader re-reads resources; paced keeps to Lambda's quotas as against
// AWS.
func reader(t testing.TB, url string, paced ...bool) *awscollect.Reader {
	t.Helper()
	opt := awscollect.Options{
		EndpointURL: url, Credentials: credentials.NewStaticCredentialsProvider("AKIA"+acct, "x", ""), Regions: []string{region},
		SkipRoles: true, Retry: awscollect.RetryPolicy{MaxThrottles: 2, MaxErrors: 1, BaseBackoff: time.Millisecond, CallTimeout: 5 * time.Second},
		Quotas: map[awscollect.Budget]float64{},
	}
	if len(paced) > 0 && paced[0] {
		opt.Quotas = nil
	}
	r, err := awscollect.NewReader(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// collector is a sink that keeps alerts.
type collector struct {
	mu     sync.Mutex
	alerts []watch.Alert
}

func (c *collector) Name() string { return "test" }
func (c *collector) Send(_ context.Context, m sink.Message) error {
	var a watch.Alert
	if err := json.Unmarshal(m.Body, &a); err != nil {
		return err
	}
	if a.ID != m.ID {
		return os.ErrInvalid
	}
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	return nil
}
func (c *collector) Close(context.Context) error { return nil }
func (c *collector) all() []watch.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]watch.Alert(nil), c.alerts...)
}

func newWatcher(t testing.TB, opt watch.Options) (*watch.Watcher, *collector, *bytes.Buffer) {
	t.Helper()
	c := &collector{}
	var logs bytes.Buffer
	var mu sync.Mutex
	opt.Sinks = append(opt.Sinks, c)
	opt.Logf = func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(strings.TrimSpace(fmt.Sprintf(f, a...)) + "\n")
	}
	if opt.Dedupe == 0 {
		opt.Dedupe = time.Hour
	}
	if opt.MinSeverity == 0 {
		opt.MinSeverity = finding.Medium // as the CLI: posture findings such as "not in a VPC" are not what events change
	}
	w, err := watch.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return w, c, &logs
}

func backdoorFixture(t testing.TB) trail.Result {
	data, err := os.ReadFile("../trail/testdata/backdoor.json")
	if err != nil {
		t.Fatal(err)
	}
	return trail.Parse("backdoor.json", data)
}

// TestStratusBackdoorFromTheEmulatorsTrail is the end-to-end path: a
// backdoor AddPermission made through the SDK is written by the emulator
// as a CloudTrail log file; watch reads the folder, re-reads only that
// function, and raises a critical alert naming the actor. The emulator's
// request log proves watch only read.
func TestStratusBackdoorFromTheEmulatorsTrail(t *testing.T) {
	dir := t.TempDir()
	srv, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	backdoorPermission(t, attacker(url))
	writes := len(srv.Requests())

	w, got, logs := newWatcher(t, watch.Options{Reader: reader(t, url)})
	src := &watch.Files{Path: dir}
	if err := src.Run(context.Background(), func(r trail.Result) { w.Handle(context.Background(), r) }); err != nil {
		t.Fatal(err)
	}
	alerts := got.all()
	if len(alerts) != 1 {
		t.Fatalf("want one alert, got %d: %+v\n%s", len(alerts), alerts, logs)
	}
	a := alerts[0]
	if a.Status != watch.StatusFail || a.Severity != "critical" || a.RuleID != "lambda-public-access" || a.Basis != watch.BasisResource ||
		a.Resource.ARN != "arn:aws:lambda:us-east-1:"+acct+":function:"+backdoor || a.Resource.Exposure != "public" {
		t.Errorf("alert %+v", a)
	}
	if a.Actor.ARN != "arn:aws:iam::"+acct+":user/emulator" || a.Actor.AccessKeyID != "AKIA"+acct || a.Event.Name != "AddPermission20150331v2" ||
		a.Event.SourceIP != "127.0.0.1" || !strings.Contains(a.Event.UserAgent, "aws-sdk-go-v2") || a.Event.ID == "" ||
		!strings.Contains(string(a.Event.Request), `"principal":"*"`) || a.Finding == nil || a.Finding.Statement.Sid != "backdoor" {
		t.Errorf("alert must name who, when, from where and what: %+v", a)
	}
	if st := w.Stats(); st.Events != 1 || st.Reads != 1 || st.Alerts != 1 || st.Worst != finding.Critical {
		t.Errorf("stats %+v", st)
	}
	// Read-only: everything after the attacker's write is a read.
	reqs := srv.Requests()[writes:]
	if len(reqs) < 3 {
		t.Fatalf("only %d requests; the read-only check would prove nothing", len(reqs))
	}
	for _, r := range reqs {
		if !(strings.HasPrefix(r.Op, "Get") || strings.HasPrefix(r.Op, "List") || r.Op == "LookupEvents") {
			t.Errorf("watch called %s: only Get*, List* and LookupEvents are allowed", r.Op)
		}
	}
	if len(reqs) > 5 {
		t.Errorf("%d calls for one changed function; a targeted read takes a handful: %+v", len(reqs), reqs)
	}
}

// TestDeniedReReadIsAnUnknownAlert: a watch that cannot read the resource
// says so; it never stays silent.
func TestDeniedReReadIsAnUnknownAlert(t *testing.T) {
	faults, _ := emulator.ParseFaults("GetPolicy:denied=1")
	_, url := startEmulator(t, emulator.Options{Faults: faults, FaultSeed: 1})
	w, got, _ := newWatcher(t, watch.Options{Reader: reader(t, url)})
	w.Handle(context.Background(), backdoorFixture(t))
	alerts := got.all()
	if len(alerts) != 2 || alerts[0].Status != watch.StatusUnknown || !strings.Contains(alerts[0].Reason, "AccessDeniedException") ||
		alerts[0].Actor.SessionIssuer != "arn:aws:iam::"+acct+":role/DevOps" {
		t.Fatalf("want an unknown alert naming the denial and the actor: %+v", alerts)
	}
	// What the event itself added is judged too: a receiver routing on
	// severity sees the backdoor as critical, said to be the statement's.
	if a := alerts[1]; a.Status != watch.StatusFail || a.Severity != "critical" || a.Basis != watch.BasisStatement || !strings.Contains(a.BasisNote, "could not be read again") {
		t.Errorf("want the added statement judged critical: %+v", a)
	}
	if st := w.Stats(); st.Unknown != 1 || st.Alerts != 2 {
		t.Errorf("stats %+v", st)
	}
	// Another change to the same unreadable function is alerted too, even
	// within the dedupe window: it may be a second backdoor. The same
	// event delivered again is not; nor is the same statement's finding.
	w.Handle(context.Background(), backdoorFixture(t))
	second := backdoorFixture(t)
	second.Events[0].ID = "a-second-change"
	w.Handle(context.Background(), second)
	if alerts := got.all(); len(alerts) != 3 || alerts[2].Status != watch.StatusUnknown || alerts[2].Event.ID != "a-second-change" {
		t.Errorf("want the second change alerted as unknown: %+v", alerts)
	}
	if st := w.Stats(); st.Unknown != 2 || st.Repeats != 1 || st.Deduped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestOfflineJudgesTheStatementAlone: no AWS call; the verdict says it is
// the statement's.
func TestOfflineJudgesTheStatementAlone(t *testing.T) {
	w, got, _ := newWatcher(t, watch.Options{Offline: true})
	w.Handle(context.Background(), backdoorFixture(t))
	alerts := got.all()
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v", alerts)
	}
	a := alerts[0]
	if a.Severity != "critical" || a.Basis != watch.BasisStatement || !strings.Contains(a.BasisNote, "statement") ||
		a.Actor.ARN != "arn:aws:sts::"+acct+":assumed-role/DevOps/stratus-red-team" || a.Event.SourceIP != "203.0.113.7" {
		t.Errorf("offline alert %+v", a)
	}

	// What the event alone cannot tell is unknown, never silent.
	data, _ := os.ReadFile("../trail/testdata/mixed.json")
	w2, got2, logs := newWatcher(t, watch.Options{Offline: true})
	w2.Handle(context.Background(), trail.Parse("mixed.json", data))
	byEvent := map[string][]string{}
	for _, a := range got2.all() {
		byEvent[a.Event.Name] = append(byEvent[a.Event.Name], a.Status+"/"+a.Severity+"/"+a.RuleID)
	}
	checks := map[string]string{
		"CreateFunctionUrlConfig20211031":   "unknown/unknown/", // NONE: public or not depends on the policy
		"AddLayerVersionPermission20181031": "fail/high/lambda-layer-public",
		"PutResourcePolicy20260709":         "fail/high/lambda-cross-account-access",
		"PublishVersion20150331":            "unknown/unknown/",
		"UpdateAlias20150331":               "unknown/unknown/",
	}
	for name, want := range checks {
		if !strings.Contains(strings.Join(byEvent[name], " "), want) {
			t.Errorf("%s: alerts %v, want one %s", name, byEvent[name], want)
		}
	}
	if !strings.Contains(logs.String(), "AddPermission20150331v2 by arn:aws:iam::"+acct+":user/bob failed (AccessDeniedException)") {
		t.Errorf("the failed call should be logged as no change:\n%s", logs)
	}
	if st := w2.Stats(); st.Failed != 1 || st.Events != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestRepeatsAreAlertedOnce: the same event read twice is handled once;
// another event leading to the same finding within the window is not
// alerted again; after the window it is.
func TestRepeatsAreAlertedOnce(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	state := t.TempDir() + "/state.json"
	w, got, _ := newWatcher(t, watch.Options{Offline: true, Dedupe: time.Hour, StatePath: state, Now: func() time.Time { return now }})
	res := backdoorFixture(t)
	w.Handle(context.Background(), res)
	w.Handle(context.Background(), res)
	again := backdoorFixture(t)
	again.Events[0].ID = "another-event"
	w.Handle(context.Background(), again)
	if n := len(got.all()); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}
	if st := w.Stats(); st.Repeats != 1 || st.Deduped != 1 {
		t.Errorf("stats %+v", st)
	}
	// A restart keeps the memory.
	w2, got2, _ := newWatcher(t, watch.Options{Offline: true, Dedupe: time.Hour, StatePath: state, Now: func() time.Time { return now.Add(time.Minute) }})
	w2.Handle(context.Background(), res)
	if n := len(got2.all()); n != 0 {
		t.Errorf("after a restart the same event alerted again")
	}
	later := backdoorFixture(t)
	later.Events[0].ID = "much-later"
	w3, got3, _ := newWatcher(t, watch.Options{Offline: true, Dedupe: time.Hour, StatePath: state, Now: func() time.Time { return now.Add(2 * time.Hour) }})
	w3.Handle(context.Background(), later)
	if n := len(got3.all()); n != 1 {
		t.Errorf("after the window the finding must be alerted again; got %d", n)
	}
}

// TestFollowFolderAlertsOnNewFiles: --follow sees a change made after it
// started.
func TestFollowFolderAlertsOnNewFiles(t *testing.T) {
	dir := t.TempDir()
	_, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	w, got, _ := newWatcher(t, watch.Options{Reader: reader(t, url)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		src := &watch.Files{Path: dir, Follow: true, Poll: 20 * time.Millisecond}
		done <- src.Run(ctx, func(r trail.Result) { w.Handle(ctx, r) })
	}()
	time.Sleep(50 * time.Millisecond)
	backdoorPermission(t, attacker(url))
	deadline := time.Now().Add(10 * time.Second)
	for len(got.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if a := got.all(); len(a) != 1 || a[0].Severity != "critical" {
		t.Fatalf("alerts %+v", a)
	}
}

// TestLookupEventsSource polls the emulator's LookupEvents through the
// reader.
func TestLookupEventsSource(t *testing.T) {
	srv, url := startEmulator(t, emulator.Options{})
	backdoorPermission(t, attacker(url))
	r := reader(t, url)
	w, got, _ := newWatcher(t, watch.Options{Reader: r})
	src := &watch.Lookup{Regions: []string{region}, Fetch: r.LookupEvents}
	if err := src.Run(context.Background(), func(res trail.Result) { w.Handle(context.Background(), res) }); err != nil {
		t.Fatal(err)
	}
	if a := got.all(); len(a) != 1 || a[0].Severity != "critical" || a[0].Event.Name != "AddPermission20150331v2" {
		t.Fatalf("alerts %+v", a)
	}
	if srv.Counts()["LookupEvents"] != 1 {
		t.Errorf("LookupEvents calls: %v", srv.Counts())
	}
}

// BenchmarkBackdoorAlert measures the time from reading a backdoor record
// to its critical alert, live re-read included (the issue asks for under
// a second). "latency" is one event's path; "aws-paced" is a stream of
// events on one account and Region, bound by the reader keeping to
// Lambda's quotas (3 calls a function, 15 requests/s shared).
func BenchmarkBackdoorAlert(b *testing.B) {
	_, url := startEmulator(b, emulator.Options{})
	backdoorPermission(b, attacker(url))
	record, err := os.ReadFile("../trail/testdata/backdoor.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, paced := range []bool{false, true} {
		name := "latency"
		if paced {
			name = "aws-paced"
		}
		b.Run(name, func(b *testing.B) {
			r := reader(b, url, paced)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w, got, _ := newWatcher(b, watch.Options{Reader: r, Dedupe: -1})
				w.Handle(context.Background(), trail.Parse("backdoor.json", record))
				if a := got.all(); len(a) != 1 || a[0].Severity != "critical" {
					b.Fatalf("alerts %+v", a)
				}
			}
		})
	}
}

// TestAliasAndVersionEventsFromTheEmulator: a new version and a new alias
// made public are each re-read as themselves.
func TestAliasAndVersionEventsFromTheEmulator(t *testing.T) {
	dir := t.TempDir()
	_, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	c := attacker(url)
	ctx := context.Background()
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("locked-down")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("locked-down"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("locked-down"), Qualifier: aws.String("live"), StatementId: aws.String("open"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	w, got, logs := newWatcher(t, watch.Options{Reader: reader(t, url)})
	if err := (&watch.Files{Path: dir}).Run(ctx, func(r trail.Result) { w.Handle(ctx, r) }); err != nil {
		t.Fatal(err)
	}
	alerts := got.all()
	if len(alerts) != 1 || alerts[0].Resource.ARN != "arn:aws:lambda:us-east-1:"+acct+":function:locked-down:live" || alerts[0].Severity != "critical" {
		t.Fatalf("alerts %+v\n%s", alerts, logs)
	}
	// The version and the alias (twice: created, then opened) were read.
	if st := w.Stats(); st.Events != 3 || st.Reads != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestHostileRecordStaysInertAndCapped: offline, the statement comes from
// the record itself. A Sid of 200 KB with terminal escapes, a C1 CSI and a
// bidi override, and a URL of the same, must come out capped (the Sid
// would otherwise be repeated in the explanation and the fix) and with
// nothing a terminal or a reader would interpret, while the alert stays
// valid and critical.
func TestHostileRecordStaysInertAndCapped(t *testing.T) {
	hostile := "bd\x1b[31mRED\x1b[0m\a\r\n\u009b31m\u202e" + strings.Repeat("A", 200000)
	fn := "arn:aws:lambda:us-east-1:" + acct + ":function:" + backdoor
	stmt, _ := json.Marshal(map[string]any{"Sid": hostile, "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": fn})
	req, _ := json.Marshal(map[string]any{"functionName": backdoor, "statementId": "bd", "action": "lambda:InvokeFunction", "principal": "*"})
	resp, _ := json.Marshal(map[string]any{"statement": string(stmt)})
	urlReq, _ := json.Marshal(map[string]any{"functionName": backdoor, "authType": "NONE"})
	urlResp, _ := json.Marshal(map[string]any{"functionUrl": "https://x/" + hostile, "authType": "NONE"})
	target := trail.Target{ARN: fn, Kind: "function", Account: acct, Region: region, Name: backdoor}
	evs := []trail.Event{
		{ID: "e1", Name: "AddPermission20150331v2", Op: trail.AddPermission, Time: time.Unix(0, 0), Region: region, Account: acct,
			UserAgent: hostile, Request: req, Response: resp, Targets: []trail.Target{target}},
		{ID: "e2", Name: "CreateFunctionUrlConfig20211031", Op: trail.CreateFunctionURLConfig, Time: time.Unix(1, 0), Region: region, Account: acct,
			Request: urlReq, Response: urlResp, Targets: []trail.Target{target}},
	}
	var out bytes.Buffer
	w, got, _ := newWatcher(t, watch.Options{Offline: true, Dedupe: -1, Sinks: []sink.Sink{sink.NewLines(&out)}})
	w.Handle(context.Background(), trail.Result{Events: evs})
	critical := false
	for _, a := range got.all() {
		if a.Severity == "critical" && a.Finding != nil && strings.HasPrefix(a.Finding.Statement.Sid, "bd\x1b[31m") {
			critical = true
		}
	}
	if !critical {
		t.Errorf("want a critical alert on the hostile statement: %+v", got.all())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("want the statement's and the URL's alerts, got %d lines", len(lines))
	}
	for _, l := range lines {
		if len(l) > 48<<10 {
			t.Errorf("an alert of %d bytes: strings from the record are not capped", len(l))
		}
		for _, bad := range []string{"\x1b", "\a", "\r", "\u009b", "\u202e"} {
			if strings.Contains(l, bad) {
				t.Errorf("alert line holds %q raw: %.300s", bad, l)
			}
		}
		if !json.Valid([]byte(l)) {
			t.Errorf("alert line is not JSON: %.300s", l)
		}
	}
}

// TestRemovingAnotherStatementIsNotANewFinding: two public statements are
// alerted; removing the first moves the backdoor up the policy's list,
// and the re-read after the RemovePermission finds it again. It is the
// same finding (same Sid), so within the window it is not alerted again
// in the RemovePermission's name.
func TestRemovingAnotherStatementIsNotANewFinding(t *testing.T) {
	dir := t.TempDir()
	_, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	c := attacker(url)
	ctx := context.Background()
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(backdoor), StatementId: aws.String("first"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	backdoorPermission(t, c)
	state := t.TempDir() + "/state.json"
	run := func() []watch.Alert {
		w, got, _ := newWatcher(t, watch.Options{Reader: reader(t, url), StatePath: state})
		if err := (&watch.Files{Path: dir}).Run(ctx, func(r trail.Result) { w.Handle(ctx, r) }); err != nil {
			t.Fatal(err)
		}
		return got.all()
	}
	if first := run(); len(first) != 2 {
		t.Fatalf("want the two public statements alerted, got %+v", first)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(backdoor), StatementId: aws.String("first")}); err != nil {
		t.Fatal(err)
	}
	for _, a := range run() {
		t.Errorf("re-alerted within the window after %s: %s statement %+v", a.Event.Name, a.RuleID, a.Finding.Statement)
	}
}

// TestUnreadableFolderIsAProblem: a folder of the trail that cannot be
// listed is input not read; it is counted as a problem (the exit code says
// the run was incomplete), not only logged, and the rest is still read.
func TestUnreadableFolderIsAProblem(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../trail/testdata/backdoor.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/a.json", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir+"/locked", 0o700); err != nil {
		t.Fatal(err)
	}
	// The folder refuses to be listed, as a 0o000 one does for anyone
	// but root (CI runs as root).
	locked := lockedFS{FS: os.DirFS(dir), dir: "locked"}
	w, got, _ := newWatcher(t, watch.Options{Offline: true})
	if err := (&watch.Files{Path: dir, Dir: locked}).Run(context.Background(), func(r trail.Result) { w.Handle(context.Background(), r) }); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Problems != 1 || len(got.all()) != 1 {
		t.Errorf("stats %+v, %d alerts: want the locked folder as one problem and the readable file's alert", st, len(got.all()))
	}
}

// TestBackdoorRemovedBeforeTheReadIsStillAlerted: the attacker adds the
// backdoor, uses it, and removes it before CloudTrail delivers the record
// (minutes). The re-read finds a private function; the AddPermission
// still made it public meanwhile, and that is alerted (judged on the
// statement, saying so), never silence. A grant still in place is judged
// with the resource, not twice.
func TestBackdoorRemovedBeforeTheReadIsStillAlerted(t *testing.T) {
	dir := t.TempDir()
	_, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	c := attacker(url)
	ctx := context.Background()
	backdoorPermission(t, c)
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(backdoor), StatementId: aws.String("backdoor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(backdoor), StatementId: aws.String("kept"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	w, got, logs := newWatcher(t, watch.Options{Reader: reader(t, url)})
	if err := (&watch.Files{Path: dir}).Run(ctx, func(r trail.Result) { w.Handle(ctx, r) }); err != nil {
		t.Fatal(err)
	}
	bySid := map[string][]watch.Alert{}
	for _, a := range got.all() {
		if a.Finding != nil && a.Finding.Statement != nil {
			bySid[a.Finding.Statement.Sid] = append(bySid[a.Finding.Statement.Sid], a)
		}
	}
	if b := bySid["backdoor"]; len(b) != 1 || b[0].Severity != "critical" || b[0].Basis != watch.BasisStatement ||
		!strings.Contains(b[0].BasisNote, "no longer in the resource's policy") || !strings.HasPrefix(b[0].Event.Name, "AddPermission") ||
		b[0].Actor.ARN != "arn:aws:iam::"+acct+":user/emulator" {
		t.Errorf("the removed backdoor: %+v\n%s", b, logs)
	}
	if k := bySid["kept"]; len(k) != 1 || k[0].Basis != watch.BasisResource {
		t.Errorf("the grant still in place is judged with the resource, once: %+v", k)
	}
}

// TestFullPolicyBackdoorReplacedBeforeTheRead: PutResourcePolicy opens
// the function to everyone, then DeleteResourcePolicy hides it before the
// records are read. The public policy is alerted on its own; a policy
// still in place (the locked-down one) is judged with the resource only.
func TestFullPolicyBackdoorReplacedBeforeTheRead(t *testing.T) {
	dir := t.TempDir()
	_, url := startEmulator(t, emulator.Options{CloudTrailDir: dir})
	c := attacker(url)
	ctx := context.Background()
	fn := "arn:aws:lambda:us-east-1:" + acct + ":function:" + backdoor
	open := `{"Version":"2012-10-17","Statement":[{"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"` + fn + `"}]}`
	if _, err := c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(fn), Policy: aws.String(open)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	locked := "arn:aws:lambda:us-east-1:" + acct + ":function:locked-down"
	kept := `{"Version":"2012-10-17","Statement":[{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + locked +
		`","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}]}`
	if _, err := c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(locked), Policy: aws.String(kept)}); err != nil {
		t.Fatal(err)
	}
	w, got, logs := newWatcher(t, watch.Options{Reader: reader(t, url)})
	if err := (&watch.Files{Path: dir}).Run(ctx, func(r trail.Result) { w.Handle(ctx, r) }); err != nil {
		t.Fatal(err)
	}
	alerts := got.all()
	if len(alerts) != 1 {
		t.Fatalf("want one alert, on the deleted public policy: %+v\n%s", alerts, logs)
	}
	if a := alerts[0]; a.Severity != "critical" || a.Basis != watch.BasisStatement || a.Resource.ARN != fn ||
		!strings.HasPrefix(a.Event.Name, "PutResourcePolicy") || !strings.Contains(a.BasisNote, "no longer the resource's") {
		t.Errorf("alert %+v", a)
	}
}

// lockedFS is a folder one of whose subfolders cannot be listed.
type lockedFS struct {
	fs.FS
	dir string
}

func (l lockedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == l.dir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return fs.ReadDir(l.FS, name)
}
