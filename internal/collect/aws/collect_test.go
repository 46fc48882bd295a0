package awscollect_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// startEmulator serves a seed over real HTTP for the real SDK client.
func startEmulator(t testing.TB, seed *emulator.Seed, opts emulator.Options) (*emulator.Server, string) {
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

func options(url, account string, regions ...string) awscollect.Options {
	return awscollect.Options{
		EndpointURL: url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIA"+account, "secret", ""),
		Regions:     regions,
		Thorough:    true,
		// The emulator is unthrottled unless a test says otherwise.
		Quotas: map[awscollect.Budget]float64{},
		// Role posture is tested with the demo estate, which seeds roles.
		SkipRoles: true,
		// Give up fast on injected faults.
		Retry: awscollect.RetryPolicy{MaxThrottles: 3, MaxErrors: 2, BaseBackoff: 5 * time.Millisecond, CallTimeout: 5 * time.Second},
	}
}

// collect runs a collection and judges every resource like scan does.
func collect(t testing.TB, opt awscollect.Options, trust rules.Trust) (map[string]report.Resource, *awscollect.Summary) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]report.Resource{}
	sum, err := awscollect.Collect(context.Background(), opt, func(r *inventory.Resource) {
		a := scan.Assess(r, scan.Options{Trust: trust})
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[a.ARN]; dup {
			t.Errorf("resource %s emitted twice", a.ARN)
		}
		got[a.ARN] = a
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, sum
}

const (
	mgmt      = "111122223333"
	analytics = "222233334444"
)

func fnARN(acct, region, name string) string {
	return "arn:aws:lambda:" + region + ":" + acct + ":function:" + name
}

// TestDemoEstateEndToEnd drives the real SDK over HTTP against the demo
// estate, entering the second account with sts:AssumeRole, and checks the
// class of every resource kind and every exposure class.
func TestDemoEstateEndToEnd(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	_, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt, "us-east-1", "eu-west-1")
	opt.Accounts = []string{mgmt, analytics}
	opt.SkipRoles = false
	got, sum := collect(t, opt, rules.Trust{OrgID: "o-abc123def4", Trusted: []string{mgmt, analytics}})

	want := map[string]string{
		fnARN(mgmt, "us-east-1", "patient-intake"):                  "public",
		fnARN(mgmt, "us-east-1", "patient-portal"):                  "public",
		fnARN(mgmt, "us-east-1", "claims-api"):                      "public",
		fnARN(mgmt, "us-east-1", "billing-export"):                  "cross-account",
		fnARN(mgmt, "us-east-1", "scan-ingest"):                     "service-unscoped",
		fnARN(mgmt, "us-east-1", "org-reports"):                     "org",
		fnARN(mgmt, "us-east-1", "lab-results"):                     "private",
		fnARN(mgmt, "us-east-1", "appointment-scheduler"):           "private",
		fnARN(mgmt, "us-east-1", "appointment-scheduler") + ":prod": "public",
		fnARN(mgmt, "us-east-1", "appointment-scheduler") + ":1":    "private",
		fnARN(mgmt, "us-east-1", "legacy-etl") + ":2":               "public",
		fnARN(mgmt, "us-east-1", "legacy-etl") + ":3":               "private",
		fnARN(mgmt, "us-east-1", "secrets-rotator"):                 "unknown",
		fnARN(mgmt, "us-east-1", "status-page"):                     "private",
		"arn:aws:lambda:us-east-1:" + mgmt + ":layer:phi-common:3":  "public",
		"arn:aws:lambda:us-east-1:" + mgmt + ":layer:phi-common:2":  "org",
		fnARN(mgmt, "eu-west-1", "eu-intake"):                       "org",
		fnARN(analytics, "us-east-1", "analytics-ingest"):           "private",
		fnARN(analytics, "us-east-1", "research-share"):             "cross-account",
		fnARN(analytics, "eu-west-1", "eu-dashboards"):              "cross-account",
	}
	for arn, class := range want {
		r, ok := got[arn]
		if !ok {
			t.Errorf("%s was not collected", arn)
			continue
		}
		if r.Exposure != class {
			t.Errorf("%s: exposure %s, want %s (%v)", arn, r.Exposure, class, r.Grants)
		}
	}
	if r := got[fnARN(mgmt, "us-east-1", "secrets-rotator")]; !strings.Contains(r.UnknownReason, "AccessDeniedException") {
		t.Errorf("unknown reason should carry the AWS error: %q", r.UnknownReason)
	}
	// The URL-only finding needs the URL config: it was read.
	if r := got[fnARN(mgmt, "us-east-1", "patient-portal")]; r.FunctionURL == nil || r.FunctionURL.AuthType != "NONE" {
		t.Errorf("patient-portal URL not read: %+v", r.FunctionURL)
	}
	if len(sum.Errors) != 0 {
		t.Errorf("unexpected scan errors: %v", sum.Errors)
	}
	if len(got) < len(want) {
		t.Errorf("collected %d resources, fewer than the %d checked", len(got), len(want))
	}
	// Execution-role posture, read through IAM.
	rulesOf := func(arn string) []string {
		var ids []string
		for _, f := range got[arn].Findings {
			ids = append(ids, f.RuleID)
		}
		return ids
	}
	if ids := strings.Join(rulesOf(fnARN(mgmt, "us-east-1", "billing-export")), ","); !strings.Contains(ids, "lambda-role-trust-broad") {
		t.Errorf("billing-export's role trusts a foreign account; findings %s", ids)
	}
	if ids := strings.Join(rulesOf(fnARN(mgmt, "us-east-1", "legacy-etl")), ","); !strings.Contains(ids, "lambda-role-admin") {
		t.Errorf("legacy-etl's role has AdministratorAccess; findings %s", ids)
	}
	if ids := strings.Join(rulesOf(fnARN(mgmt, "us-east-1", "lab-results")), ","); strings.Contains(ids, "lambda-role") {
		t.Errorf("lab-results' role is fine; findings %s", ids)
	}
}

func TestRoleReadFailureMakesTheScanIncomplete(t *testing.T) {
	seed, _ := demo.Seed()
	faults, _ := emulator.ParseFaults("iam:GetRole:denied=1")
	_, url := startEmulator(t, seed, emulator.Options{Faults: faults, FaultSeed: 1})
	opt := options(url, mgmt, "us-east-1")
	opt.SkipRoles = false
	got, sum := collect(t, opt, rules.Trust{})
	if !strings.Contains(strings.Join(sum.Errors, "\n"), "execution role") {
		t.Fatalf("unreadable roles must make the scan incomplete: %v", sum.Errors)
	}
	r := got[fnARN(mgmt, "us-east-1", "patient-intake")]
	if r.Status != "evaluated" || r.Exposure != "public" {
		t.Errorf("an unreadable role must not hide the resource policy's verdict: %s/%s", r.Status, r.Exposure)
	}
	if !strings.Contains(strings.Join(r.Notes, " "), "could not be read") {
		t.Errorf("the resource should say its role could not be read: %v", r.Notes)
	}
}

// TestScanIsReadOnly checks from the emulator's request log that a scan
// calls nothing but reads.
func TestScanIsReadOnly(t *testing.T) {
	seed, _ := demo.Seed()
	srv, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt, "us-east-1", "eu-west-1")
	opt.Accounts = []string{mgmt, analytics}
	opt.SkipRoles = false
	collect(t, opt, rules.Trust{})
	reqs := srv.Requests()
	if len(reqs) < 20 {
		t.Fatalf("only %d requests logged; the check would prove nothing", len(reqs))
	}
	for _, r := range reqs {
		op := strings.TrimPrefix(r.Op, "iam:")
		switch {
		case strings.HasPrefix(op, "List"), strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "Describe"), op == "AssumeRole":
		default:
			t.Errorf("scan called %s: only List*, Get* and Describe* (and sts:AssumeRole) are allowed", r.Op)
		}
	}
}

// TestFaultsEndUnknownNeverPass injects each kind of failure and checks
// that no affected resource comes back as a pass.
func TestFaultsEndUnknownNeverPass(t *testing.T) {
	for _, kind := range []string{"denied", "500", "503", "throttle", "timeout"} {
		t.Run(kind, func(t *testing.T) {
			seed, _ := demo.Seed()
			faults, err := emulator.ParseFaults("GetPolicy:" + kind + "=1,GetResourcePolicy:" + kind + "=1")
			if err != nil {
				t.Fatal(err)
			}
			_, url := startEmulator(t, seed, emulator.Options{Faults: faults, FaultSeed: 7})
			opt := options(url, mgmt, "us-east-1")
			if kind == "throttle" {
				// Each 429 waits out Retry-After (1s): give up
				// after one retry, as "a throttle that never cleared".
				opt.Retry.MaxThrottles = 1
			}
			if kind == "timeout" {
				// The emulator holds the request until the client gives up.
				opt.Retry.CallTimeout = 100 * time.Millisecond
				opt.Concurrency = 8
			}
			got, _ := collect(t, opt, rules.Trust{})
			functions := 0
			for arn, r := range got {
				if strings.Contains(arn, ":layer:") {
					continue
				}
				functions++
				if r.Status != "unknown" || r.Exposure != "unknown" {
					t.Errorf("%s: %s/%s although every GetPolicy failed with %s", arn, r.Status, r.Exposure, kind)
				}
				if r.UnknownReason == "" {
					t.Errorf("%s: unknown without a reason", arn)
				}
			}
			if functions == 0 {
				t.Fatal("no function resources collected")
			}
			d := &report.Document{}
			for _, r := range got {
				d.Resources = append(d.Resources, r)
			}
			d.Summarize()
			if code := d.ExitCode(4); code != 3 {
				t.Errorf("exit code %d, want 3 (incomplete)", code)
			}
		})
	}
}

func TestListFailureMakesTheScanIncomplete(t *testing.T) {
	seed, _ := demo.Seed()
	faults, _ := emulator.ParseFaults("ListAliases:denied=1,ListFunctionUrlConfigs:500=1")
	_, url := startEmulator(t, seed, emulator.Options{Faults: faults, FaultSeed: 1})
	got, sum := collect(t, options(url, mgmt, "us-east-1"), rules.Trust{})
	if len(sum.Errors) == 0 {
		t.Fatal("failed listings must be reported as scan errors")
	}
	r, ok := got[fnARN(mgmt, "us-east-1", "appointment-scheduler")+":*"]
	if !ok || r.Status != "unknown" || !strings.Contains(r.UnknownReason, "aliases could not be listed") {
		t.Errorf("the unlisted aliases must appear as an unknown resource, got %+v", r)
	}
}

func TestDisabledRegionIsReported(t *testing.T) {
	seed, _ := demo.Seed()
	seed.Accounts[0].DisabledRegions = []string{"ap-east-1"}
	_, url := startEmulator(t, seed, emulator.Options{})
	_, sum := collect(t, options(url, mgmt, "us-east-1", "ap-east-1"), rules.Trust{})
	if !strings.Contains(strings.Join(sum.Errors, "\n"), "ap-east-1") {
		t.Fatalf("a Region that is not enabled must make the scan incomplete: %v", sum.Errors)
	}
}

func TestAssumeRoleRefusedIsUnknown(t *testing.T) {
	seed, _ := demo.Seed()
	seed.Accounts[1].AssumeRoleDenied = true
	_, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.Accounts = []string{mgmt, analytics}
	got, sum := collect(t, opt, rules.Trust{})
	r, ok := got["arn:aws:lambda:*:"+analytics+":function:*"]
	if !ok || r.Status != "unknown" {
		t.Fatalf("an account that cannot be entered must be an unknown resource; got %+v (errors %v)", r, sum.Errors)
	}
	if len(sum.Errors) == 0 {
		t.Error("and a scan error")
	}
	if _, ok := got[fnARN(mgmt, "us-east-1", "patient-intake")]; !ok {
		t.Error("the other account must still be scanned")
	}
}

// bigSeed is an account with n functions, each with aliases and versions.
func bigSeed(n, aliases, versions int) *emulator.Seed {
	region := emulator.SeedRegion{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("fn-%04d", i)
		arn := fnARN(mgmt, "us-east-1", name)
		f := emulator.SeedFunction{Name: name}
		f.Policy = []byte(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"` + mgmt + `"}}}]}`)
		for v := 1; v <= versions; v++ {
			f.Versions = append(f.Versions, emulator.SeedVersion{Version: emulator.FunctionVersion(fmt.Sprint(v))})
		}
		for a := 0; a < aliases; a++ {
			al := emulator.SeedAlias{Name: fmt.Sprintf("a%d", a), Version: "$LATEST"}
			if i%10 == 0 && a == 0 {
				al.Policy = []byte(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"pub","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `:a0"}]}`)
			}
			f.Aliases = append(f.Aliases, al)
		}
		region.Functions = append(region.Functions, f)
	}
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: mgmt, Regions: map[string]emulator.SeedRegion{"us-east-1": region}}}}
}

// TestPagingAndCallCounts checks that every resource is found through
// ListFunctions paging with FunctionVersion=ALL and that the calls made
// are exactly the necessary ones: no ListVersionsByFunction, no repeats.
func TestPagingAndCallCounts(t *testing.T) {
	const n, aliases, versions = 60, 2, 3
	srv, url := startEmulator(t, bigSeed(n, aliases, versions), emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.Thorough = false
	opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, rules.Trust{}) }
	got, sum := collect(t, opt, rules.Trust{})
	if want := n * (1 + aliases + versions); len(got) != want {
		t.Fatalf("collected %d resources, want %d", len(got), want)
	}
	public := 0
	for _, r := range got {
		if r.Exposure == "public" {
			public++
		}
	}
	if public != n/10 {
		t.Errorf("%d public aliases, want %d", public, n/10)
	}
	counts := srv.Counts()
	entries := n * (1 + versions)
	want := map[string]int{
		"ListFunctions":          (entries + 49) / 50,
		"ListAliases":            n,
		"ListLayers":             1,
		"ListVersionsByFunction": 0,
		"ListFunctionUrlConfigs": 0, // no policy grants URL invoke
	}
	for op, w := range want {
		if counts[op] != w {
			t.Errorf("%s called %d times, want %d", op, counts[op], w)
		}
	}
	// Every resource is read once, plus GetPolicy's confirmation of the
	// first three "no policy" answers of GetResourcePolicy.
	notFound := 0
	for _, r := range srv.Requests() {
		if r.Op == "GetResourcePolicy" && r.Status == 404 {
			notFound++
		}
	}
	if got, want := counts["GetPolicy"]+counts["GetResourcePolicy"], n*(1+aliases+versions)+min(notFound, 3); got != want {
		t.Errorf("%d policy reads (GetPolicy %d + GetResourcePolicy %d, %d of them 404), want exactly %d", got, counts["GetPolicy"], counts["GetResourcePolicy"], notFound, want)
	}
	if sum.Throttled != 0 {
		t.Errorf("met %d throttles without quotas", sum.Throttled)
	}
}

// TestGetResourcePolicyRefusedFallsBack: a role without
// lambda:GetResourcePolicy must not turn resources unknown; the lane reads
// them with GetPolicy instead.
func TestGetResourcePolicyRefusedFallsBack(t *testing.T) {
	faults, _ := emulator.ParseFaults("GetResourcePolicy:denied=1")
	srv, url := startEmulator(t, bigSeed(20, 1, 1), emulator.Options{Faults: faults, FaultSeed: 3})
	got, sum := collect(t, options(url, mgmt, "us-east-1"), rules.Trust{})
	// A refusal that touches no verdict does not make the scan incomplete.
	if d := document(got, sum); d.Incomplete() {
		t.Errorf("incomplete although every resource was read: %s %v", d.Shortfall(), sum.Errors)
	}
	if len(got) != 60 {
		t.Fatalf("collected %d resources, want 60", len(got))
	}
	for arn, r := range got {
		if r.Status != "evaluated" {
			t.Errorf("%s: %s (%s)", arn, r.Status, r.UnknownReason)
		}
	}
	c := srv.Counts()
	if c["GetResourcePolicy"] == 0 || c["GetResourcePolicy"] > 8 {
		t.Errorf("GetResourcePolicy was tried %d times; want a few, then none", c["GetResourcePolicy"])
	}
}

// TestGetPolicyOnly keeps every policy read on GetPolicy when asked.
func TestGetPolicyOnly(t *testing.T) {
	srv, url := startEmulator(t, bigSeed(5, 1, 1), emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.GetPolicyOnly = true
	collect(t, opt, rules.Trust{})
	if c := srv.Counts(); c["GetResourcePolicy"] != 0 || c["GetPolicy"] != 15 {
		t.Errorf("GetPolicy %d, GetResourcePolicy %d; want 15 and 0", c["GetPolicy"], c["GetResourcePolicy"])
	}
}

// TestPacedUnderAWSQuotas runs against AWS's quotas: the scan must finish
// with no resource lost and no 429 reaching it.
func TestPacedUnderAWSQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("paced scan takes a few seconds")
	}
	quotas, err := emulator.ParseQuotas([]string{"aws"})
	if err != nil {
		t.Fatal(err)
	}
	// 10 functions x 4 policies = 40 GetPolicy calls: more than one
	// second's burst, so pacing must work.
	_, url := startEmulator(t, bigSeed(10, 1, 2), emulator.Options{Quotas: quotas, Latency: 5 * time.Millisecond})
	opt := options(url, mgmt, "us-east-1")
	opt.Quotas = nil // AWS's quotas
	got, sum := collect(t, opt, rules.Trust{})
	if len(got) != 40 {
		t.Fatalf("collected %d resources, want 40", len(got))
	}
	for arn, r := range got {
		if r.Status != "evaluated" {
			t.Errorf("%s: %s (%s)", arn, r.Status, r.UnknownReason)
		}
	}
	if sum.Throttled != 0 {
		t.Errorf("the pacer let %d requests be throttled", sum.Throttled)
	}
}

// TestThrottlesAreRetriedWithRetryAfter injects 429s: retries follow
// Retry-After and every resource is still read.
func TestThrottlesAreRetriedWithRetryAfter(t *testing.T) {
	faults, _ := emulator.ParseFaults("GetPolicy:throttle=0.3,ListAliases:throttle=0.3")
	_, url := startEmulator(t, bigSeed(6, 1, 1), emulator.Options{Faults: faults, FaultSeed: 42})
	opt := options(url, mgmt, "us-east-1")
	opt.Retry.MaxThrottles = 12
	got, sum := collect(t, opt, rules.Trust{})
	var arns []string
	for arn, r := range got {
		if r.Status != "evaluated" {
			arns = append(arns, arn+": "+r.UnknownReason)
		}
	}
	sort.Strings(arns)
	if len(arns) > 0 {
		t.Errorf("throttled reads were not retried:\n%s", strings.Join(arns, "\n"))
	}
	if sum.Throttled == 0 {
		t.Error("no throttle was met; the fault injection did not work and the test proves nothing")
	}
}

func TestAllRegionsListsEnabledRegions(t *testing.T) {
	seed, _ := demo.Seed()
	seed.Accounts[0].EnabledRegions = []string{"eu-west-1", "us-east-1"}
	_, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt)
	opt.AllRegions = true
	_, sum := collect(t, opt, rules.Trust{})
	if strings.Join(sum.Regions, ",") != "eu-west-1,us-east-1" {
		t.Fatalf("--all-regions scanned %v", sum.Regions)
	}
}
