package trail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"go/build"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func targets(evs []trail.Event) []string {
	var out []string
	for _, e := range evs {
		for _, t := range e.Targets {
			out = append(out, string(e.Op)+" "+string(t.Kind)+" "+t.ARN)
		}
	}
	return out
}

const backdoorARN = "arn:aws:lambda:us-east-1:111122223333:function:stratus-red-team-backdoor-f-func"

// TestBackdoorLogFile reads a log file as CloudTrail delivers it to S3,
// plain and gzip: the Stratus Red Team lambda-backdoor-function
// AddPermission, a read and another service's call.
func TestBackdoorLogFile(t *testing.T) {
	plain := fixture(t, "backdoor.json")
	for name, data := range map[string][]byte{"plain": plain, "gzip": gz(t, plain)} {
		t.Run(name, func(t *testing.T) {
			res := trail.Parse("backdoor.json", data)
			if len(res.Problems) != 0 || len(res.Failed) != 0 || res.Ignored != 2 || len(res.Events) != 1 {
				t.Fatalf("events %d failed %d ignored %d problems %v", len(res.Events), len(res.Failed), res.Ignored, res.Problems)
			}
			ev := res.Events[0]
			if got := targets(res.Events); len(got) != 1 || got[0] != "AddPermission function "+backdoorARN {
				t.Errorf("targets %v", got)
			}
			want := trail.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/DevOps/stratus-red-team",
				PrincipalID: "AROAEXAMPLEROLEID:stratus-red-team", AccountID: "111122223333", AccessKeyID: "ASIAEXAMPLEKEY000001",
				SessionIssuer: "arn:aws:iam::111122223333:role/DevOps"}
			if ev.Actor != want {
				t.Errorf("actor %+v\nwant  %+v", ev.Actor, want)
			}
			if ev.Name != "AddPermission20150331v2" || ev.ID != "5f1b9c02-6a3d-4c7e-8f0a-2b9d4e6c1a77" || ev.SourceIP != "203.0.113.7" ||
				!strings.HasPrefix(ev.UserAgent, "stratus-red-team_") || !ev.Time.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) ||
				ev.Account != "111122223333" || ev.Region != "us-east-1" || ev.Where != "backdoor.json line 1 record 1" {
				t.Errorf("event %+v", ev)
			}
			var resp struct{ Statement string }
			if err := json.Unmarshal(ev.Response, &resp); err != nil || !strings.Contains(resp.Statement, `"Principal":"*"`) {
				t.Errorf("response %s", ev.Response)
			}
		})
	}
}

func TestEveryExposureChangingEvent(t *testing.T) {
	res := trail.Parse("mixed.json", fixture(t, "mixed.json"))
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	want := []string{
		"CreateFunctionUrlConfig alias arn:aws:lambda:eu-west-1:111122223333:function:portal:live",
		"AddLayerVersionPermission layer-version arn:aws:lambda:eu-west-1:111122223333:layer:phi-common:3",
		"PutResourcePolicy function arn:aws:lambda:eu-west-1:111122223333:function:portal",
		"PublishVersion version arn:aws:lambda:eu-west-1:111122223333:function:portal:7",
		"UpdateAlias alias arn:aws:lambda:eu-west-1:111122223333:function:portal:live",
	}
	if got := targets(res.Events); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The denied AddPermission changed nothing: counted, not a change.
	if len(res.Failed) != 1 || res.Failed[0].ErrorCode != "AccessDeniedException" || res.Failed[0].Actor.UserName != "bob" {
		t.Fatalf("failed: %+v", res.Failed)
	}
	if got := targets(res.Failed); len(got) != 1 || !strings.HasSuffix(got[0], ":function:portal") {
		t.Errorf("a failed call still says what it aimed at: %v", got)
	}
	if put := res.Events[2]; put.Actor.InvokedBy != "cloudformation.amazonaws.com" || put.Actor.Type != "AWSService" {
		t.Errorf("service actor: %+v", put.Actor)
	}
}

func TestEventBridgeEnvelope(t *testing.T) {
	res := trail.Parse("eventbridge.json", fixture(t, "eventbridge.json"))
	if len(res.Problems) != 0 || len(res.Events) != 1 {
		t.Fatalf("%+v", res)
	}
	ev := res.Events[0]
	if got := targets(res.Events); got[0] != "UpdateFunctionUrlConfig alias arn:aws:lambda:us-west-2:222233334444:function:reports:prod" {
		t.Errorf("target %v", got)
	}
	if ev.Actor.SessionIssuer != "arn:aws:iam::222233334444:role/Ops" || ev.Where != "eventbridge.json line 1 (EventBridge)" {
		t.Errorf("event %+v", ev)
	}
}

// TestMalformedRecordsAreReportedAndSkipped: one record per line, with a
// broken line, a bad time and a record that names no function: each is a
// problem naming where it is, and the good records around them are read.
func TestMalformedRecordsAreReportedAndSkipped(t *testing.T) {
	res := trail.Parse("lines.jsonl", fixture(t, "lines.jsonl"))
	want := []string{
		"RemovePermission alias arn:aws:lambda:us-east-1:111122223333:function:intake:prod",
		"DeleteResourcePolicy alias arn:aws:lambda:us-east-1:111122223333:function:intake:prod",
	}
	if got := targets(res.Events); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets %v", got)
	}
	var probs []string
	for _, p := range res.Problems {
		probs = append(probs, p.String())
	}
	if len(probs) != 3 || !strings.Contains(probs[0], "lines.jsonl line 2: not JSON") || !strings.Contains(probs[1], "eventTime \"yesterday\"") ||
		!strings.Contains(probs[2], "functionName is missing") {
		t.Errorf("problems:\n%s", strings.Join(probs, "\n"))
	}
}

func TestLookupEventsOutputAndArrays(t *testing.T) {
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(fixture(t, "backdoor.json"), &file); err != nil {
		t.Fatal(err)
	}
	lookup, _ := json.Marshal(map[string]any{"Events": []map[string]any{{"EventId": "x", "CloudTrailEvent": string(file.Records[0])}}})
	if got := targets(trail.Parse("lookup", lookup).Events); len(got) != 1 || !strings.HasSuffix(got[0], backdoorARN) {
		t.Errorf("LookupEvents output: %v", got)
	}
	array, _ := json.Marshal(file.Records)
	if res := trail.Parse("array", array); len(res.Events) != 1 || res.Ignored != 2 {
		t.Errorf("array of records: %+v", res)
	}
	if res := trail.ParseRecord("one", file.Records[0]); len(res.Events) != 1 {
		t.Errorf("ParseRecord: %+v", res)
	}
	for _, junk := range []string{"", "   ", "null", "42", `"x"`, `{}`, `{"Records":{}}`, `{"Records":[1]}`, `{"Events":[{}]}`, "\x1f\x8bnot gzip"} {
		res := trail.Parse("junk", []byte(junk))
		if len(res.Events) != 0 {
			t.Errorf("%q gave events", junk)
		}
		if strings.TrimSpace(junk) != "" && len(res.Problems) == 0 {
			t.Errorf("%q should be a problem", junk)
		}
	}
}

func TestExposureOpMatchesByPrefix(t *testing.T) {
	for name, want := range map[string]trail.Op{
		"AddPermission20150331v2":              trail.AddPermission,
		"AddPermission20150331":                trail.AddPermission,
		"AddPermission":                        trail.AddPermission,
		"UpdateFunctionUrlConfig20211031":      trail.UpdateFunctionURLConfig,
		"AddLayerVersionPermission20181031":    trail.AddLayerVersionPermission,
		"RemoveLayerVersionPermission20181031": trail.RemoveLayerVersionPermission,
		"PutResourcePolicy20260709":            trail.PutResourcePolicy,
		"PublishVersion20150331":               trail.PublishVersion,
		"CreateAlias20150331":                  trail.CreateAlias,
		"AddPermissionFoo":                     "",
		"PublishLayerVersion20181031":          "",
		"GetPolicy20150331v2":                  "",
		"UpdateFunctionConfiguration20150331":  "",
	} {
		got, ok := trail.ExposureOp(name)
		if got != want || ok != (want != "") {
			t.Errorf("ExposureOp(%s) = %q %v, want %q", name, got, ok, want)
		}
	}
}

// TestFunctionNameFormats covers every FunctionName form Lambda accepts.
func TestFunctionNameFormats(t *testing.T) {
	base := "arn:aws:lambda:us-east-1:111122223333:function:f"
	for _, c := range []struct {
		name, qualifier, want string
		kind                  inventory.Kind
	}{
		{"f", "", base, inventory.KindFunction},
		{"f", "prod", base + ":prod", inventory.KindAlias},
		{"f:3", "", base + ":3", inventory.KindVersion},
		{"f:$LATEST", "", base, inventory.KindFunction},
		{"111122223333:function:f", "", base, inventory.KindFunction},
		{"999988887777:function:f:live", "", "arn:aws:lambda:us-east-1:999988887777:function:f:live", inventory.KindAlias},
		{"arn:aws:lambda:eu-west-1:111122223333:function:f", "7", "arn:aws:lambda:eu-west-1:111122223333:function:f:7", inventory.KindVersion},
		{"f:prod", "dev", "", ""},
		{"a:b:c:d:e", "", "", ""},
		{"arn:aws:lambda:us-east-1:111122223333:layer:l:1", "", "", ""},
		// Names Lambda would refuse: a record naming them was not written
		// by Lambda, and the name must not reach alerts uncapped.
		{strings.Repeat("a", 64), "", base[:len(base)-1] + strings.Repeat("a", 64), inventory.KindFunction},
		{strings.Repeat("a", 65), "", "", ""},
		{strings.Repeat("a", 100000), "", "", ""},
		{"f\x1b[31m", "", "", ""},
		{"f", "prod\u202e", "", ""},
		{"f", strings.Repeat("q", 129), "", ""},
		{"12:function:f", "", "", ""},
		{"arn:aws:lambda:us-east-1\n:111122223333:function:f", "", "", ""},
	} {
		rec := map[string]any{"eventName": "AddPermission20150331v2", "eventSource": "lambda.amazonaws.com", "eventTime": "2026-12-01T00:00:00Z",
			"awsRegion": "us-east-1", "recipientAccountId": "111122223333",
			"requestParameters": map[string]any{"functionName": c.name, "qualifier": c.qualifier}}
		b, _ := json.Marshal(rec)
		res := trail.ParseRecord("t", b)
		if c.want == "" {
			if len(res.Events) != 0 || len(res.Problems) != 1 {
				t.Errorf("%q/%q should be a problem: %+v", c.name, c.qualifier, res)
			}
			continue
		}
		if len(res.Events) != 1 || res.Events[0].Targets[0].ARN != c.want || res.Events[0].Targets[0].Kind != c.kind {
			t.Errorf("%q/%q: %+v, want %s %s", c.name, c.qualifier, res, c.kind, c.want)
		}
	}
}

// TestPackageIsPure keeps the parser free of I/O: no AWS SDK, network,
// files or processes (its callers read the inputs).
func TestPackageIsPure(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read; the check would prove nothing")
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/aws/") || strings.HasPrefix(imp, "net") || imp == "os" || imp == "os/exec" || imp == "database/sql" {
			t.Errorf("trail imports %s; it must stay pure", imp)
		}
	}
}

// TestProblemsNameTheirLine: in a file of one record per line with blank
// lines, a broken record is named by its line, not by its rank among the
// values, and so are the good records around it (also in a followed
// file's later chunk).
func TestProblemsNameTheirLine(t *testing.T) {
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(fixture(t, "backdoor.json"), &file); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, file.Records[0]); err != nil {
		t.Fatal(err)
	}
	rec := compact.String()
	data := []byte("\n\n" + rec + "\n\n{\"eventName\": broken\n" + rec + "\n")
	res := trail.Parse("x.jsonl", data)
	if len(res.Problems) != 1 || res.Problems[0].Where != "x.jsonl line 5" {
		t.Errorf("problems %+v, want one on x.jsonl line 5", res.Problems)
	}
	if len(res.Events) != 2 || res.Events[0].Where != "x.jsonl line 3" || res.Events[1].Where != "x.jsonl line 6" {
		t.Errorf("events at %v", wheres(res.Events))
	}
	if res := trail.ParseFrom("x.jsonl", 40, []byte(rec)); len(res.Events) != 1 || res.Events[0].Where != "x.jsonl line 40" {
		t.Errorf("ParseFrom: %v %v", wheres(res.Events), res.Problems)
	}
}

func wheres(evs []trail.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Where)
	}
	return out
}

// TestDigestFilesAreNotProblems: a synced trail bucket holds the digest
// files of log file integrity validation next to the logs
// (AWSLogs/ACCOUNT/CloudTrail-Digest/...). They hold no records; reading
// the bucket's folder must not report each one as unreadable.
func TestDigestFilesAreNotProblems(t *testing.T) {
	digest := []byte(`{"awsAccountId":"111122223333","digestStartTime":"2026-12-01T09:00:00Z","digestEndTime":"2026-12-01T10:00:00Z",
	  "digestS3Bucket":"trail","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/01/x.json.gz",
	  "digestPublicKeyFingerprint":"abc","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2026-12-01T09:59:00Z",
	  "oldestEventTime":"2026-12-01T09:00:00Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,
	  "previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,
	  "logFiles":[{"s3Bucket":"trail","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/y.json.gz",
	    "hashValue":"00","hashAlgorithm":"SHA-256","newestEventTime":"2026-12-01T09:59:00Z","oldestEventTime":"2026-12-01T09:00:00Z"}]}`)
	if res := trail.Parse("digest.json.gz", gz(t, digest)); len(res.Problems) != 0 || len(res.Events) != 0 {
		t.Errorf("a digest file: %+v", res)
	}
}
