package awscollect_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// failNone is --fail-on none: the exit code then shows only completeness.
const failNone = finding.Critical + 1

func faultServer(t *testing.T, seed *emulator.Seed, spec string, faultSeed int64, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	faults, err := emulator.ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	opts.Faults, opts.FaultSeed = faults, faultSeed
	return startEmulator(t, seed, opts)
}

// document builds the report document a scan would, to check the
// summary and the exit code the collection leads to.
func document(got map[string]report.Resource, sum *awscollect.Summary) *report.Document {
	d := &report.Document{Scan: &report.ScanInfo{Complete: sum.Complete(), Errors: sum.Errors, Notes: sum.Notes}}
	for _, r := range got {
		d.Resources = append(d.Resources, r)
	}
	for _, nl := range sum.NotListed {
		d.Summary.NotListed = append(d.Summary.NotListed, report.NotListed{Account: nl.Account, Region: nl.Region, What: nl.What, Reason: nl.Reason})
	}
	d.Summarize()
	d.Scan.Complete = d.Scan.Complete && d.Summary.Unknown == 0 && d.Summary.Unchecked == 0
	return d
}

// TestGetResourcePolicyFalse404SwitchesTheLaneToGetPolicy: when
// GetResourcePolicy says "no policy" but GetPolicy has one, the lane
// reads everything with GetPolicy from then on, no policy is lost, and
// the report says what happened.
func TestGetResourcePolicyFalse404SwitchesTheLaneToGetPolicy(t *testing.T) {
	// Every resource has a policy, so whichever "no policy" answer the
	// schedule happens to confirm first is a lie and is caught.
	seed := bigSeed(30, 1, 1)
	fns := seed.Accounts[0].Regions["us-east-1"].Functions
	for i := range fns {
		arn := fnARN(mgmt, "us-east-1", fns[i].Name)
		for v := range fns[i].Versions {
			fns[i].Versions[v].Policy = orgPinnedS3Policy(arn + ":" + string(fns[i].Versions[v].Version))
		}
		for a := range fns[i].Aliases {
			if fns[i].Aliases[a].Policy == nil {
				fns[i].Aliases[a].Policy = orgPinnedS3Policy(arn + ":" + fns[i].Aliases[a].Name)
			}
		}
	}
	srv, url := faultServer(t, seed, "GetResourcePolicy:404=1", 5, emulator.Options{})
	got, sum := collect(t, options(url, mgmt, "us-east-1"), rules.Trust{})
	if len(got) != 90 {
		t.Fatalf("collected %d resources, want 90", len(got))
	}
	for arn, r := range got {
		if r.Status != "evaluated" {
			t.Errorf("%s: %s (%s)", arn, r.Status, r.UnknownReason)
		}
	}
	for i := 0; i < 30; i += 10 {
		arn := fnARN(mgmt, "us-east-1", fmt.Sprintf("fn-%04d", i)) + ":a0"
		if got[arn].Exposure != "public" {
			t.Errorf("%s is public through its own policy, got %s: a false 404 was believed", arn, got[arn].Exposure)
		}
	}
	if len(sum.Notes) != 1 || !strings.Contains(sum.Notes[0], "GetPolicy returned one") || !strings.Contains(sum.Notes[0], mgmt+" us-east-1") {
		t.Errorf("the report must say the lane switched to GetPolicy: %q", sum.Notes)
	}
	if !sum.Complete() {
		t.Errorf("nothing was lost, the scan is complete: %v", sum.Errors)
	}
	// After the first disagreement no read goes through GetResourcePolicy
	// (those already in flight on the 8 shared workers excepted).
	if c := srv.Counts(); c["GetResourcePolicy"] > 16 {
		t.Errorf("GetResourcePolicy called %d times after it was caught lying", c["GetResourcePolicy"])
	}
}

// orgPinnedS3Policy is a private policy: an S3 trigger pinned to the owner.
func orgPinnedS3Policy(resource string) []byte {
	return []byte(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + resource + `","Condition":{"StringEquals":{"AWS:SourceAccount":"` + mgmt + `"}}}]}`)
}

// TestGetResourcePolicyNotFoundIsConfirmed: with both APIs agreeing, the
// first three "no policy" answers are checked and nothing is noted.
func TestGetResourcePolicyNotFoundIsConfirmed(t *testing.T) {
	srv, url := startEmulator(t, bigSeed(20, 2, 0), emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	// A scarce GetPolicy budget beside a roomy shared one sends policy
	// reads through GetResourcePolicy, so there are "no policy" answers
	// to confirm whatever the scheduling.
	opt.Quotas = map[awscollect.Budget]float64{awscollect.BudgetGetPolicy: 20, awscollect.BudgetShared: 1000, awscollect.BudgetGetFunction: 1000}
	_, sum := collect(t, opt, rules.Trust{})
	if len(sum.Notes) != 0 {
		t.Errorf("no disagreement, no note: %v", sum.Notes)
	}
	var grp404 []string
	confirmed := map[string]bool{}
	for _, r := range srv.Requests() {
		if r.Op == "GetResourcePolicy" && r.Status == 404 {
			grp404 = append(grp404, r.Path)
		}
		if r.Op == "GetPolicy" && r.Status == 404 {
			confirmed[r.Path] = true
		}
	}
	if len(grp404) < 3 {
		t.Fatalf("only %d GetResourcePolicy 404s: the shared budget should have carried most reads", len(grp404))
	}
	if len(confirmed) < 3 {
		t.Errorf("%d \"no policy\" answers confirmed with GetPolicy, want the first 3", len(confirmed))
	}
	if c := srv.Counts(); c["GetPolicy"]+c["GetResourcePolicy"] != 60+3 {
		t.Errorf("%d policy reads, want 60 and 3 confirmations", c["GetPolicy"]+c["GetResourcePolicy"])
	}
}

// TestPolicyAPIGetPolicyNeverUsesGetResourcePolicy is --policy-api getpolicy.
func TestPolicyAPIGetPolicyNeverUsesGetResourcePolicy(t *testing.T) {
	srv, url := faultServer(t, bigSeed(10, 1, 1), "GetResourcePolicy:404=1", 5, emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.GetPolicyOnly = true
	_, sum := collect(t, opt, rules.Trust{})
	if c := srv.Counts(); c["GetResourcePolicy"] != 0 || c["GetPolicy"] != 30 {
		t.Errorf("GetPolicy %d, GetResourcePolicy %d; want 30 and 0", c["GetPolicy"], c["GetResourcePolicy"])
	}
	if len(sum.Notes) != 0 {
		t.Errorf("notes: %v", sum.Notes)
	}
}

// TestDeletedExecutionRoleIsAFindingAndTheScanStaysComplete: IAM's
// NoSuchEntity for a function's role is the lambda-role-missing finding,
// not a failed read.
func TestDeletedExecutionRoleIsAFindingAndTheScanStaysComplete(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	regions := seed.Accounts[0].Regions
	r := regions["us-east-1"]
	r.Functions = append(r.Functions, emulator.SeedFunction{Name: "orphan", Role: "arn:aws:iam::" + mgmt + ":role/service-role/deleted-role"})
	regions["us-east-1"] = r
	_, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.SkipRoles = false
	got, sum := collect(t, opt, rules.Trust{})
	res := got[fnARN(mgmt, "us-east-1", "orphan")]
	var f *string
	for _, x := range res.Findings {
		if x.RuleID == "lambda-role-missing" {
			f = &x.Explanation
			if len(x.Remediation.Commands) == 0 || !strings.Contains(x.Remediation.Commands[0], "--role-name deleted-role --path /service-role/") {
				t.Errorf("remediation: %+v", x.Remediation)
			}
		}
	}
	if f == nil || !strings.Contains(*f, "does not exist") {
		t.Fatalf("a deleted role must be the lambda-role-missing finding: %+v", res.Findings)
	}
	if res.Status != "evaluated" || len(res.Unchecked) != 0 {
		t.Errorf("the function is judged: %s, unchecked %v", res.Status, res.Unchecked)
	}
	if !sum.Complete() {
		t.Errorf("a deleted role is an answer; the scan is complete: %v", sum.Errors)
	}
	// The demo estate's one unreadable policy is its only shortfall.
	if d := document(got, sum); d.Summary.Unchecked != 0 || d.Summary.Unknown != 1 {
		t.Errorf("unchecked %d, unknown %d: %s", d.Summary.Unchecked, d.Summary.Unknown, d.Shortfall())
	}
}

// TestUnreadableRoleIsCountedAsPartlyChecked: an execution role that
// cannot be read makes the scan incomplete, and the summary counts why,
// so the result line and the summary agree.
func TestUnreadableRoleIsCountedAsPartlyChecked(t *testing.T) {
	seed, _ := demo.Seed()
	_, url := faultServer(t, seed, "iam:GetRole:denied=1", 1, emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.SkipRoles = false
	got, sum := collect(t, opt, rules.Trust{})
	d := document(got, sum)
	// The demo estate has one unreadable policy; every function's role
	// is unreadable here.
	if d.Summary.Unknown != 1 || d.Summary.Unchecked < 5 {
		t.Fatalf("unknown %d, unchecked %d: want 1 and every function", d.Summary.Unknown, d.Summary.Unchecked)
	}
	if d.ExitCode(failNone) != 3 || !strings.Contains(d.Shortfall(), "partly checked") {
		t.Errorf("exit %d, shortfall %q", d.ExitCode(failNone), d.Shortfall())
	}
}

// throttledRetry gives up quickly: the breaker opens after 2 s of
// nothing but 429s.
func throttledRetry(opt awscollect.Options) awscollect.Options {
	opt.Retry.MaxThrottles = 8
	opt.Retry.BreakAfter = 2 * time.Second
	opt.Concurrency = 4
	return opt
}

// TestPermanentPolicyThrottleEndsBoundedAndUnknown: every policy read is
// throttled forever. The scan ends within seconds (the breakers open),
// every resource is unknown with the reason, and none passes.
func TestPermanentPolicyThrottleEndsBoundedAndUnknown(t *testing.T) {
	for _, tc := range []struct {
		name          string
		spec          string
		getPolicyOnly bool
	}{
		{"both policy APIs", "GetPolicy:throttle=1,GetResourcePolicy:throttle=1", false},
		{"getpolicy only", "GetPolicy:throttle=1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := faultServer(t, bigSeed(240, 1, 1), tc.spec, 11, emulator.Options{})
			opt := throttledRetry(options(url, mgmt, "us-east-1"))
			opt.GetPolicyOnly = tc.getPolicyOnly
			start := time.Now()
			got, sum := collect(t, opt, rules.Trust{})
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s under permanent throttling; the breaker must end it in seconds", took)
			}
			if len(got) != 720 {
				t.Fatalf("collected %d resources, want 720", len(got))
			}
			breaker := 0
			for arn, r := range got {
				if r.Status != "unknown" || r.Exposure != "unknown" {
					t.Fatalf("%s: %s/%s although every policy read was throttled", arn, r.Status, r.Exposure)
				}
				if !strings.Contains(r.UnknownReason, "throttled") {
					t.Errorf("%s: reason %q does not say it was throttled", arn, r.UnknownReason)
				}
				if strings.Contains(r.UnknownReason, "was throttled for") {
					breaker++
				}
			}
			if breaker < 600 {
				t.Errorf("only %d of 720 resources gave up through the breaker", breaker)
			}
			if code := document(got, sum).ExitCode(failNone); code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
		})
	}
}

// TestGetPolicyThrottledReadsGoThroughGetResourcePolicy: when only
// GetPolicy is throttled for good, its breaker opens and policy reads
// move to GetResourcePolicy. What GetPolicy was needed for (confirming
// "no policy") stays unknown; nothing passes on an unconfirmed 404.
func TestGetPolicyThrottledReadsGoThroughGetResourcePolicy(t *testing.T) {
	_, url := faultServer(t, bigSeed(240, 1, 1), "GetPolicy:throttle=1", 11, emulator.Options{})
	opt := throttledRetry(options(url, mgmt, "us-east-1"))
	start := time.Now()
	got, _ := collect(t, opt, rules.Trust{})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %s", took)
	}
	evaluated := 0
	for arn, r := range got {
		switch {
		case r.Status == "evaluated" && r.Kind == "function":
			evaluated++
		case r.Status == "evaluated" && r.Policy == "":
			// An alias or version with no policy of its own may pass only
			// once three such answers were confirmed: here none could be.
			t.Errorf("%s evaluated on an unconfirmed \"no policy\"", arn)
		case r.Status == "evaluated":
		case !strings.Contains(r.UnknownReason, "throttled"):
			t.Errorf("%s: reason %q", arn, r.UnknownReason)
		}
	}
	if evaluated < 200 {
		t.Errorf("only %d of 240 functions (each with a policy) were read through GetResourcePolicy", evaluated)
	}
}

// TestTimeoutLeavesUnreadUnknownAndUnlisted: the run's time limit ends
// the scan; what was read is judged, everything else is unknown or not
// listed, with the limit as the reason.
func TestTimeoutLeavesUnreadUnknownAndUnlisted(t *testing.T) {
	quotas := map[string]float64{"GetPolicy": 5, "shared": 5}
	_, url := startEmulator(t, bigSeed(300, 1, 0), emulator.Options{Quotas: quotas})
	opt := options(url, mgmt, "us-east-1")
	opt.Quotas = map[awscollect.Budget]float64{awscollect.BudgetGetPolicy: 5, awscollect.BudgetShared: 5}
	limit := errors.New("--timeout 2s was reached")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 2*time.Second, limit)
	defer cancel()
	start := time.Now()
	got := map[string]report.Resource{}
	sum, err := awscollect.Collect(ctx, opt, func(r *inventory.Resource) {
		a := scan.Assess(r, scan.Options{})
		got[a.ARN] = a
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("a 2 s limit took %s", took)
	}
	unknown, evaluated := 0, 0
	for arn, r := range got {
		switch r.Status {
		case "unknown":
			unknown++
			if !strings.Contains(r.UnknownReason, limit.Error()) {
				t.Errorf("%s: reason %q does not name the limit", arn, r.UnknownReason)
			}
		default:
			evaluated++
		}
	}
	if unknown == 0 || evaluated == 0 {
		t.Errorf("%d unknown, %d evaluated: want some of each", unknown, evaluated)
	}
	if len(sum.NotListed) == 0 || !strings.Contains(sum.NotListed[0].Reason, limit.Error()) {
		t.Errorf("300 functions at 5 calls/s cannot all be listed in 2 s: not listed %+v", sum.NotListed)
	}
	if !strings.Contains(strings.Join(sum.Errors, "\n"), limit.Error()) {
		t.Errorf("errors must name the limit: %v", sum.Errors)
	}
	d := document(got, sum)
	if d.ExitCode(failNone) != 3 || !strings.Contains(d.Shortfall(), "listing incomplete") {
		t.Errorf("exit %d, shortfall %q", d.ExitCode(failNone), d.Shortfall())
	}
}

// TestLaterPageFailureIsNotListed: ListFunctions answers the first page
// and refuses the second (fault seed 7 draws exactly that): the functions
// never listed are counted as not listed, not silently dropped.
func TestLaterPageFailureIsNotListed(t *testing.T) {
	_, url := faultServer(t, bigSeed(120, 0, 0), "ListFunctions:denied=0.5", 7, emulator.Options{})
	got, sum := collect(t, options(url, mgmt, "us-east-1"), rules.Trust{})
	if len(got) == 0 || len(got) >= 120 {
		t.Fatalf("collected %d of 120: the first page should have been read, the rest not", len(got))
	}
	if len(sum.NotListed) != 1 {
		t.Fatalf("not listed: %+v", sum.NotListed)
	}
	nl := sum.NotListed[0]
	if nl.Account != mgmt || nl.Region != "us-east-1" || nl.What != "functions" || !strings.Contains(nl.Reason, "a later page failed") || !strings.Contains(nl.Reason, "AccessDeniedException") {
		t.Errorf("entry %+v", nl)
	}
	d := document(got, sum)
	if d.Summary.Unknown != 0 || !d.Incomplete() || d.ExitCode(failNone) != 3 {
		t.Errorf("unknown %d, incomplete %v, exit %d", d.Summary.Unknown, d.Incomplete(), d.ExitCode(failNone))
	}
}

// TestDisabledRegionIsNotListed: a Region that is not enabled lists
// nothing; the summary says so for functions and layers.
func TestDisabledRegionIsNotListed(t *testing.T) {
	seed, _ := demo.Seed()
	seed.Accounts[0].DisabledRegions = []string{"ap-east-1"}
	_, url := startEmulator(t, seed, emulator.Options{})
	_, sum := collect(t, options(url, mgmt, "us-east-1", "ap-east-1"), rules.Trust{})
	var what []string
	for _, nl := range sum.NotListed {
		if nl.Region != "ap-east-1" || nl.Account != mgmt {
			t.Errorf("unexpected entry %+v", nl)
		}
		what = append(what, nl.What)
	}
	if strings.Join(what, ",") != "functions,layers" {
		t.Errorf("not listed in ap-east-1: %v", what)
	}
}

// TestThrottledGetCallerIdentityIsRetried: the first sts call is
// throttled twice (fault seed 1 draws that), then answers; the scan goes on.
func TestThrottledGetCallerIdentityIsRetried(t *testing.T) {
	srv, url := faultServer(t, bigSeed(3, 0, 0), "GetCallerIdentity:throttle=0.5", 1, emulator.Options{})
	got, sum := collect(t, options(url, mgmt, "us-east-1"), rules.Trust{})
	if len(got) != 3 || !sum.Complete() {
		t.Fatalf("collected %d, errors %v", len(got), sum.Errors)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if r.Op == "GetCallerIdentity" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) < 2 || statuses[0] == 200 {
		t.Errorf("GetCallerIdentity statuses %v: the first was meant to be throttled", statuses)
	}
}

// TestAccountNotEnteredIsNotListed: an account whose role cannot be
// assumed is counted as not listed in every Region asked for.
func TestAccountNotEnteredIsNotListed(t *testing.T) {
	seed, _ := demo.Seed()
	seed.Accounts[1].AssumeRoleDenied = true
	_, url := startEmulator(t, seed, emulator.Options{})
	opt := options(url, mgmt, "us-east-1", "eu-west-1")
	opt.Accounts = []string{mgmt, analytics}
	_, sum := collect(t, opt, rules.Trust{})
	if len(sum.NotListed) != 2 || sum.NotListed[0].Account != analytics || !strings.Contains(sum.NotListed[0].Reason, "could not be entered") {
		t.Errorf("not listed: %+v", sum.NotListed)
	}
}
