package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

const backdoorFixture = "../trail/testdata/backdoor.json"

func TestWatchUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"watch"}, "needs --cloudtrail"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--lookup"}, "exclusive"},
		{[]string{"watch", "--lookup", "--offline"}, "cannot be combined with --offline"},
		{[]string{"watch", "--cloudtrail", "no/such/dir"}, "--cloudtrail no/such/dir"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--webhook", "ftp://x"}, "--webhook"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--webhook-secret", "s"}, "needs --webhook"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--sns-topic", "arn:aws:s3:::b"}, "--sns-topic"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--min-severity", "none"}, "--min-severity"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--offline", "--endpoint-url", "http://x"}, "no AWS calls"},
		{[]string{"watch", "--cloudtrail", backdoorFixture, "--regions", "us-east-1"}, "--regions is for --lookup"},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %q", c.args, code, errOut, c.want)
		}
	}
}

func alertsOf(t *testing.T, stdout string) []watch.Alert {
	t.Helper()
	var out []watch.Alert
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var a watch.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("stdout line is not an alert: %q (%v)", line, err)
		}
		out = append(out, a)
	}
	return out
}

func TestWatchOfflineFile(t *testing.T) {
	code, out, errOut := runCLI(t, "", "watch", "--cloudtrail", backdoorFixture, "--offline")
	alerts := alertsOf(t, out)
	if code != exitFindings || len(alerts) != 1 || alerts[0].Severity != "critical" || alerts[0].Basis != watch.BasisStatement ||
		alerts[0].Actor.ARN != "arn:aws:sts::111122223333:assumed-role/DevOps/stratus-red-team" {
		t.Fatalf("exit %d, alerts %+v, stderr %s", code, alerts, errOut)
	}
	if !strings.Contains(errOut, "1 change(s) read") || !strings.Contains(errOut, "2 other record(s)") {
		t.Errorf("summary: %s", errOut)
	}
	// The same from standard input.
	data, _ := os.ReadFile(backdoorFixture)
	code, out, _ = runCLI(t, string(data), "watch", "--cloudtrail", "-", "--offline", "--quiet")
	if code != exitFindings || len(alertsOf(t, out)) != 1 {
		t.Errorf("stdin: exit %d, %s", code, out)
	}
}

// TestWatchMalformedRecordIsReportedAndSkipped: exit 3, the good record
// still alerted, no crash.
func TestWatchMalformedRecordIsReportedAndSkipped(t *testing.T) {
	code, out, errOut := runCLI(t, "", "watch", "--cloudtrail", "../trail/testdata/lines.jsonl", "--offline", "--fail-on", "none")
	if code != exitIncomplete || !strings.Contains(errOut, "skipped ../trail/testdata/lines.jsonl line 2: not JSON") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, a := range alertsOf(t, out) {
		if a.Status != watch.StatusUnknown {
			t.Errorf("offline removals are unknown, got %+v", a)
		}
	}
}

// watchEstate serves the demo estate with a CloudTrail folder and points
// the SDK's environment at it.
func watchEstate(t *testing.T) (*emulator.Server, string, string) {
	t.Helper()
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, url := emulatortest.Serve(t, seed, emulator.Options{CloudTrailDir: dir}, "111122223333")
	return srv, url, dir
}

// backdoor is the Stratus Red Team lambda-backdoor-function technique:
// AddPermission letting "*" invoke a function.
func backdoor(t *testing.T, url, function string) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA111122223333", "x", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := c.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String(function), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
}

// TestWatchStratusBackdoorEndToEnd: the emulator writes the backdoor as a
// CloudTrail log file; `watch` reads the folder, prints a critical alert
// naming the actor, posts it signed to a webhook and publishes it to SNS;
// the request log shows watch only read (and published).
func TestWatchStratusBackdoorEndToEnd(t *testing.T) {
	srv, url, dir := watchEstate(t)
	backdoor(t, url, "lab-results")
	before := len(srv.Requests())

	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !sink.Verify([]byte("s3cret"), r.Header.Get(sink.HeaderTimestamp), body, r.Header.Get(sink.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		hooks = append(hooks, string(body))
		mu.Unlock()
	}))
	defer hook.Close()

	topic := "arn:aws:sns:us-east-1:111122223333:security-alerts"
	code, out, errOut := runCLI(t, "", "watch", "--cloudtrail", dir, "--endpoint-url", url, "--pace", "none",
		"--webhook", hook.URL, "--webhook-secret", "s3cret", "--queue-dir", t.TempDir(), "--sns-topic", topic)
	alerts := alertsOf(t, out)
	if code != exitFindings || len(alerts) != 1 {
		t.Fatalf("exit %d, alerts %+v\n%s", code, alerts, errOut)
	}
	a := alerts[0]
	if a.Severity != "critical" || a.RuleID != "lambda-public-access" || a.Resource.ARN != "arn:aws:lambda:us-east-1:111122223333:function:lab-results" ||
		a.Actor.ARN != "arn:aws:iam::111122223333:user/emulator" || a.Event.Name != "AddPermission20150331v2" || a.Basis != watch.BasisResource {
		t.Errorf("alert %+v", a)
	}
	mu.Lock()
	if len(hooks) != 1 || !strings.Contains(hooks[0], a.ID) {
		t.Errorf("webhook got %v", hooks)
	}
	mu.Unlock()
	if pub := srv.Published(); len(pub) != 1 || pub[0].TopicArn != topic || pub[0].Attributes["alert_id"] != a.ID || !strings.HasPrefix(pub[0].Subject, "critical lambda-public-access") {
		t.Errorf("SNS got %+v", pub)
	}
	for _, r := range srv.Requests()[before:] {
		if !(strings.HasPrefix(r.Op, "Get") || strings.HasPrefix(r.Op, "List") || r.Op == "sns:Publish") {
			t.Errorf("watch called %s: only reads (and publishing the alert) are allowed", r.Op)
		}
	}
}

// TestWatchOfflinePublishesToSNS: --offline judges without reading, yet
// its alerts still go to --sns-topic, through --endpoint-url when given.
func TestWatchOfflinePublishesToSNS(t *testing.T) {
	srv, url, _ := watchEstate(t)
	before := len(srv.Requests())
	topic := "arn:aws:sns:us-east-1:111122223333:security-alerts"
	code, out, errOut := runCLI(t, "", "watch", "--cloudtrail", backdoorFixture, "--offline", "--endpoint-url", url,
		"--sns-topic", topic, "--queue-dir", t.TempDir())
	if alerts := alertsOf(t, out); code != exitFindings || len(alerts) != 1 || alerts[0].Basis != watch.BasisStatement {
		t.Fatalf("exit %d, alerts %+v\n%s", code, alerts, errOut)
	}
	if pub := srv.Published(); len(pub) != 1 || pub[0].TopicArn != topic {
		t.Errorf("SNS got %+v\n%s", pub, errOut)
	}
	for _, r := range srv.Requests()[before:] {
		if r.Op != "sns:Publish" {
			t.Errorf("an offline watch called %s", r.Op)
		}
	}
}

// TestWatchFollow: `watch --follow` started before the change alerts on
// it, and ends cleanly when interrupted.
func TestWatchFollow(t *testing.T) {
	_, url, dir := watchEstate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- e.run([]string{"watch", "--cloudtrail", dir, "--follow", "--poll", "20ms", "--endpoint-url", url, "--pace", "none"})
	}()
	time.Sleep(100 * time.Millisecond)
	backdoor(t, url, "status-page")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "status-page") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	code := <-done
	alerts := alertsOf(t, out.String())
	if code != exitInterrupted || len(alerts) != 1 || alerts[0].Severity != "critical" || !strings.Contains(errb.String(), "INTERRUPTED: watch stopped after 1 alert(s)") {
		t.Fatalf("exit %d, alerts %+v\n%s", code, alerts, errb.String())
	}
}

// TestWatchOutputIsInert: strings from a record (here an ANSI escape in
// the actor) reach the terminal escaped.
func TestWatchOutputIsInert(t *testing.T) {
	rec := `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/\u001b[31mevil","accountId":"111122223333"},"eventTime":"2026-12-01T00:00:00Z","eventSource":"lambda.amazonaws.com","eventName":"AddPermission20150331v2","awsRegion":"us-east-1","errorCode":"AccessDenied\u0007","requestParameters":{"functionName":"f"},"responseElements":null,"eventID":"e","recipientAccountId":"111122223333"}`
	code, out, errOut := runCLI(t, rec, "watch", "--cloudtrail", "-", "--offline")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if strings.ContainsAny(errOut, "\x1b\x07") || !strings.Contains(errOut, `\u001b[31mevil`) {
		t.Errorf("stderr must escape control characters: %q", errOut)
	}
}

// TestWatchLookup polls the emulator's LookupEvents once.
func TestWatchLookup(t *testing.T) {
	srv, url, _ := watchEstate(t)
	backdoor(t, url, "status-page")
	code, out, errOut := runCLI(t, "", "watch", "--lookup", "--regions", "us-east-1", "--endpoint-url", url)
	alerts := alertsOf(t, out)
	if code != exitFindings || len(alerts) != 1 || alerts[0].Event.Where != "LookupEvents us-east-1 event 1" || alerts[0].Severity != "critical" {
		t.Fatalf("exit %d, alerts %+v\n%s", code, alerts, errOut)
	}
	if n := srv.Counts()["LookupEvents"]; n != 1 {
		t.Errorf("%d LookupEvents calls", n)
	}
}
