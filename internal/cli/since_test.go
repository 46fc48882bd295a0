package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/bench"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// sinceDoc is the part of a report these tests read.
type sinceDoc struct {
	Scan struct {
		APICalls    int                 `json:"api_calls"`
		Complete    bool                `json:"complete"`
		Notes       []string            `json:"notes"`
		Incremental *report.Incremental `json:"incremental"`
	} `json:"scan"`
	Resources []report.Resource `json:"resources"`
}

func parseSince(t *testing.T, out string) sinceDoc {
	t.Helper()
	var d sinceDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return d
}

// verdictOf is what must not change when a resource is carried forward.
func verdictOf(r report.Resource) string {
	s := r.Status + "|" + r.Exposure
	for _, f := range r.Findings {
		s += "|" + f.RuleID + ":" + f.Severity.String() + ":" + f.Exposure
	}
	return s
}

func scanArgs(url, db string, more ...string) []string {
	return append([]string{"scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--history", db, "--fail-on", "none", "-o", "json"}, more...)
}

// finished: the scan ran to its end (the demo estate holds one resource
// whose policy read is denied, so a complete scan is exit 3).
func finished(code int) bool { return code == exitOK || code == exitFindings || code == exitIncomplete }

// TestScanSinceRescansOnlyWhatChanged: a full scan is recorded; a
// backdoor AddPermission goes through the SDK (the emulator writes its
// CloudTrail record); `scan --since last` reads the events, re-reads only
// that function, finds the public grant, carries the rest forward with
// the same verdicts, only reads, and records it all in the history.
func TestScanSinceRescansOnlyWhatChanged(t *testing.T) {
	srv, url, _ := watchEstate(t)
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errOut := runCLI(t, "", scanArgs(url, db)...)
	if !finished(code) {
		t.Fatalf("full scan: exit %d\n%s", code, errOut)
	}
	full := parseSince(t, out)
	fullVerdict := map[string]string{}
	for _, r := range full.Resources {
		fullVerdict[r.ARN] = verdictOf(r)
	}
	backdoor(t, url, "lab-results")
	mark := len(srv.Requests())

	code, out, errOut = runCLI(t, "", scanArgs(url, db, "--since", "last")...)
	if !finished(code) {
		t.Fatalf("incremental scan: exit %d\n%s", code, errOut)
	}
	inc := parseSince(t, out)
	reqs := srv.Requests()[mark:]
	for _, r := range reqs {
		op := r.Op[strings.LastIndex(r.Op, ":")+1:] // iam:GetRole is a read too
		if !(strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || op == "LookupEvents") {
			t.Errorf("the incremental scan called %s: only reads are allowed", r.Op)
		}
		// secrets-rotator was unknown in the base scan (its GetPolicy is
		// denied): an unknown is read again, never carried forward.
		if (r.Op == "GetPolicy" || r.Op == "GetResourcePolicy") && !strings.Contains(r.Path, "lab-results") && !strings.Contains(r.Path, "secrets-rotator") {
			t.Errorf("%s %s: only the changed function's policy may be read", r.Op, r.Path)
		}
	}
	info := inc.Scan.Incremental
	if info == nil {
		t.Fatalf("no scan.incremental: notes %v", inc.Scan.Notes)
	}
	ops := map[string]int{}
	for _, r := range reqs {
		ops[r.Op]++
	}
	t.Logf("full scan %d calls, incremental %d (%d requests: %v): %+v", full.Scan.APICalls, info.APICalls, len(reqs), ops, info)
	if info.BaseScan != 1 || info.Events != 1 || info.CarriedForward == 0 || info.FullScanEstimate != full.Scan.APICalls || len(info.FullLanes) != 0 {
		t.Errorf("scan.incremental %+v (full scan made %d calls)", info, full.Scan.APICalls)
	}
	// O(changed): a few fixed calls (identity, listing, events) plus about
	// ten per function read again (configuration, aliases, versions, URL,
	// policy, execution role), never the whole estate's.
	if budget := 4 + 11*info.Rescanned; len(reqs) > budget || len(reqs) >= full.Scan.APICalls {
		t.Errorf("the incremental scan made %d requests (%d counted) for %d re-read functions, the full scan %d: want at most %d", len(reqs), info.APICalls, info.Rescanned, full.Scan.APICalls, budget)
	}
	if len(inc.Resources) != len(full.Resources) || info.Rescanned+info.CarriedForward != len(full.Resources) {
		t.Errorf("%d resources (%d read, %d carried), the full scan had %d", len(inc.Resources), info.Rescanned, info.CarriedForward, len(full.Resources))
	}
	target := "arn:aws:lambda:us-east-1:111122223333:function:lab-results"
	public := false
	for _, r := range inc.Resources {
		if strings.HasPrefix(r.ARN, target) || strings.Contains(r.ARN, ":function:secrets-rotator") {
			if r.CarriedForward {
				t.Errorf("%s changed but was carried forward", r.ARN)
			}
			for _, f := range r.Findings {
				public = public || (r.ARN == target && f.RuleID == "lambda-public-access" && f.Severity.String() == "critical")
			}
			continue
		}
		if !r.CarriedForward || r.CarriedFrom != 1 {
			t.Errorf("%s: carried_forward %v from %d, want carried from scan 1", r.ARN, r.CarriedForward, r.CarriedFrom)
		}
		if verdictOf(r) != fullVerdict[r.ARN] {
			t.Errorf("%s carried forward as %s, the full scan said %s", r.ARN, verdictOf(r), fullVerdict[r.ARN])
		}
	}
	if !public {
		t.Errorf("the backdoor on %s was not found", target)
	}

	s, err := history.Open(context.Background(), db, history.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Incremental(context.Background(), 2)
	if err != nil || rec == nil || rec.BaseScan != 1 || len(rec.Carried) != info.CarriedForward {
		t.Fatalf("history: %+v, %v", rec, err)
	}
	if v, err := s.Verify(context.Background()); err != nil || len(v.Problems) != 0 {
		t.Errorf("verify: %+v %v", v, err)
	}
	open, err := s.Findings(context.Background(), history.FindingFilter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	var fullOpen int
	for _, r := range full.Resources {
		fullOpen += len(r.Findings)
	}
	if len(open) < fullOpen+1 {
		t.Errorf("%d findings open after the incremental scan, want the %d of the full scan plus the backdoor: carried findings must stay open", len(open), fullOpen)
	}

	// A second incremental scan from the first: the carried resources
	// still come from scan 1, the re-read ones from scan 2.
	code, out, errOut = runCLI(t, "", scanArgs(url, db, "--since", "last")...)
	if !finished(code) {
		t.Fatalf("second incremental scan: exit %d\n%s", code, errOut)
	}
	again := parseSince(t, out)
	if again.Scan.Incremental == nil || again.Scan.Incremental.BaseScan != 2 {
		t.Fatalf("second incremental: %+v", again.Scan.Incremental)
	}
	for _, r := range again.Resources {
		switch {
		case !r.CarriedForward:
		case r.ARN == target && r.CarriedFrom != 2:
			t.Errorf("%s was last read by scan 2, carried from %d", r.ARN, r.CarriedFrom)
		case r.ARN != target && !strings.HasPrefix(r.ARN, target+":") && r.CarriedFrom != 1:
			t.Errorf("%s was last read by scan 1, carried from %d", r.ARN, r.CarriedFrom)
		}
	}
}

// TestScanSinceFullEvery: a last full scan older than --full-every forces
// a full scan, said so in the notes and recorded as full.
func TestScanSinceFullEvery(t *testing.T) {
	_, url, _ := watchEstate(t)
	db := filepath.Join(t.TempDir(), "h.db")
	if code, out, errOut := runCLI(t, "", scanArgs(url, db)...); !finished(code) {
		t.Fatalf("full scan: exit %d\n%s\n%s", code, errOut, out)
	}
	time.Sleep(5 * time.Millisecond)
	code, out, errOut := runCLI(t, "", scanArgs(url, db, "--since", "last", "--full-every", "1ms")...)
	if !finished(code) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	d := parseSince(t, out)
	if d.Scan.Incremental != nil || !strings.Contains(strings.Join(d.Scan.Notes, " "), "--full-every 1ms") {
		t.Errorf("want a full scan: incremental %+v, notes %v", d.Scan.Incremental, d.Scan.Notes)
	}
	for _, r := range d.Resources {
		if r.CarriedForward {
			t.Errorf("%s carried forward in a full scan", r.ARN)
		}
	}
	s, err := history.Open(context.Background(), db, history.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rec, err := s.Incremental(context.Background(), 2); err != nil || rec != nil {
		t.Errorf("scan 2 must be recorded as full: %+v %v", rec, err)
	}
}

// TestScanSinceLookupDenied: when LookupEvents is denied the account and
// Region are scanned in full; nothing is carried forward on a guess.
func TestScanSinceLookupDenied(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	url := serveSeed(t, seed, emulator.Options{}, "111122223333")
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errOut := runCLI(t, "", scanArgs(url, db)...)
	if !finished(code) {
		t.Fatalf("full scan: exit %d\n%s", code, errOut)
	}
	full := parseSince(t, out)

	denied, url2 := serveSeedServer(t, seed, emulator.Options{Faults: []emulator.Fault{{Op: "LookupEvents", Kind: emulator.FaultDenied, Probability: 1}}}, "111122223333")
	code, out, errOut = runCLI(t, "", scanArgs(url2, db, "--since", "last")...)
	if !finished(code) {
		t.Fatalf("incremental scan: exit %d\n%s", code, errOut)
	}
	d := parseSince(t, out)
	info := d.Scan.Incremental
	if info == nil || info.CarriedForward != 0 || len(info.FullLanes) != 1 || !strings.Contains(info.FullLanes[0], "111122223333/us-east-1") ||
		!strings.Contains(info.FullLanes[0], "LookupEvents") || info.Rescanned != len(full.Resources) {
		t.Fatalf("scan.incremental %+v (full scan: %d resources)", info, len(full.Resources))
	}
	for _, r := range d.Resources {
		if r.CarriedForward {
			t.Errorf("%s carried forward although the events could not be read", r.ARN)
		}
	}
	if denied.Counts()["GetPolicy"]+denied.Counts()["GetResourcePolicy"] == 0 {
		t.Error("the lane was not read again")
	}
}

// TestScanSinceUsage: bad combinations are exit 2 before any work.
func TestScanSinceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"scan", "--demo", "--since", "last", "--history", filepath.Join(t.TempDir(), "h.db")},
		{"scan", "--region", "us-east-1", "--since", "last"},
		{"scan", "--region", "us-east-1", "--since", "yesterday", "--history", filepath.Join(t.TempDir(), "h.db")},
		{"scan", "--region", "us-east-1", "--since", "last", "--full-every", "0d", "--history", filepath.Join(t.TempDir(), "h.db")},
		{"scan", "--region", "us-east-1", "--full-every", "3d"},
		{"scan", "--region", "us-east-1", "--since", "2026-12-01T00:00:00Z", "--cloudtrail", filepath.Join(t.TempDir(), "missing")},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestScanSinceFromCloudTrailFiles: --cloudtrail reads the events from the
// emulator's S3-layout folder; no LookupEvents call is made.
func TestScanSinceFromCloudTrailFiles(t *testing.T) {
	srv, url, dir := watchEstate(t)
	db := filepath.Join(t.TempDir(), "h.db")
	if code, _, errOut := runCLI(t, "", scanArgs(url, db)...); !finished(code) {
		t.Fatalf("full scan: exit %d\n%s", code, errOut)
	}
	backdoor(t, url, "status-page")
	code, out, errOut := runCLI(t, "", scanArgs(url, db, "--since", "last", "--cloudtrail", dir)...)
	if !finished(code) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	d := parseSince(t, out)
	if d.Scan.Incremental == nil || d.Scan.Incremental.Events != 1 || d.Scan.Incremental.CarriedForward == 0 {
		t.Fatalf("scan.incremental %+v", d.Scan.Incremental)
	}
	if n := srv.Counts()["LookupEvents"]; n != 0 {
		t.Errorf("%d LookupEvents calls with --cloudtrail", n)
	}
	for _, r := range d.Resources {
		if r.ARN == "arn:aws:lambda:us-east-1:111122223333:function:status-page" && (r.CarriedForward || r.Exposure != "public") {
			t.Errorf("status-page: carried %v, exposure %s", r.CarriedForward, r.Exposure)
		}
	}
}

// TestScanSinceWithoutHistory: --since TIME --cloudtrail PATH without a
// history reads only what the events name, and says so.
func TestScanSinceWithoutHistory(t *testing.T) {
	srv, url, dir := watchEstate(t)
	from := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	backdoor(t, url, "status-page")
	mark := len(srv.Requests())
	code, out, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--fail-on", "none", "-o", "json",
		"--since", from, "--cloudtrail", dir)
	if !finished(code) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	d := parseSince(t, out)
	if d.Scan.Incremental == nil || d.Scan.Incremental.Events != 1 || d.Scan.Incremental.CarriedForward != 0 || len(d.Resources) == 0 ||
		!strings.Contains(strings.Join(d.Scan.Notes, " "), "no history") {
		t.Fatalf("scan %+v, %d resources", d.Scan, len(d.Resources))
	}
	for _, r := range d.Resources {
		if !strings.HasPrefix(r.ARN, "arn:aws:lambda:us-east-1:111122223333:function:status-page") {
			t.Errorf("%s is not named by any event", r.ARN)
		}
	}
	for _, r := range srv.Requests()[mark:] {
		if r.Op == "ListFunctions" || r.Op == "LookupEvents" {
			t.Errorf("%s: only what the events name is read", r.Op)
		}
	}
}

// TestScanSinceCallsDoNotGrowWithTheEstate: on 300 functions (900
// resources) one changed function costs the same handful of calls as on
// the demo estate; the full scan's calls grow with the estate.
func TestScanSinceCallsDoNotGrowWithTheEstate(t *testing.T) {
	shape := bench.Shape{Accounts: 1, Regions: 1, Functions: 300, Aliases: 1, Versions: 1}
	srv, url := serveSeedServer(t, shape.Seed(), emulator.Options{CloudTrailDir: t.TempDir()}, "100000000000")
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errOut := runCLI(t, "", scanArgs(url, db, "--no-roles")...)
	if !finished(code) {
		t.Fatalf("full scan: exit %d\n%s", code, errOut)
	}
	full := parseSince(t, out)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA100000000000", "x", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := c.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String("fn-00042"), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	mark := len(srv.Requests())
	code, out, errOut = runCLI(t, "", scanArgs(url, db, "--no-roles", "--since", "last")...)
	if !finished(code) {
		t.Fatalf("incremental scan: exit %d\n%s", code, errOut)
	}
	inc := parseSince(t, out)
	info := inc.Scan.Incremental
	reqs := srv.Requests()[mark:]
	if info == nil {
		t.Fatalf("no scan.incremental: notes %v", inc.Scan.Notes)
	}
	t.Logf("%d resources: full scan %d calls, incremental %d (%d requests): %+v", len(full.Resources), full.Scan.APICalls, info.APICalls, len(reqs), info)
	// LookupEvents, ListFunctions (6 pages of 50), GetCallerIdentity, and
	// the function with its alias and version.
	if len(reqs) > 20 || info.CarriedForward != len(full.Resources)-3 || info.Rescanned != 3 {
		t.Errorf("%d requests for one changed function among %d resources: %+v", len(reqs), len(full.Resources), info)
	}
	for _, r := range inc.Resources {
		if r.ARN == "arn:aws:lambda:us-east-1:100000000000:function:fn-00042" && r.Exposure != "public" {
			t.Errorf("the backdoor was not found: %+v", r)
		}
	}
}
