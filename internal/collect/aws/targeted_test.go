package awscollect_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

func newReader(t *testing.T, opt awscollect.Options) *awscollect.Reader {
	t.Helper()
	r, err := awscollect.NewReader(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// verdict is what must agree between a scan and a targeted read.
type verdict struct {
	Status, Exposure string
	URL              *report.FunctionURL
	Findings         []string
}

func verdictOf(r report.Resource) verdict {
	v := verdict{Status: r.Status, Exposure: r.Exposure, URL: r.FunctionURL}
	for _, f := range r.Findings {
		sid := ""
		if f.Statement != nil {
			sid = f.Statement.Sid
		}
		v.Findings = append(v.Findings, f.RuleID+"/"+f.Severity.String()+"/"+sid)
	}
	return v
}

// TestTargetedReadMatchesTheScan reads single resources of every kind from
// the demo estate and checks that each is judged exactly as the full scan
// judges it, with a handful of calls.
func TestTargetedReadMatchesTheScan(t *testing.T) {
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	_, url := startEmulator(t, seed, emulator.Options{})
	trust := rules.Trust{OrgID: "o-abc123def4", Trusted: []string{mgmt, analytics}}
	opt := options(url, mgmt, "us-east-1", "eu-west-1")
	opt.Accounts = []string{mgmt, analytics}
	opt.SkipRoles = false
	scanned, _ := collect(t, opt, trust)

	reader := newReader(t, opt)
	findings := 0
	arns := []string{
		fnARN(mgmt, "us-east-1", "patient-intake"),
		fnARN(mgmt, "us-east-1", "patient-portal"),
		fnARN(mgmt, "us-east-1", "billing-export"),
		fnARN(mgmt, "us-east-1", "appointment-scheduler") + ":prod",
		fnARN(mgmt, "us-east-1", "appointment-scheduler") + ":1",
		fnARN(mgmt, "us-east-1", "legacy-etl") + ":2",
		fnARN(mgmt, "us-east-1", "secrets-rotator"),
		"arn:aws:lambda:us-east-1:" + mgmt + ":layer:phi-common:3",
		fnARN(mgmt, "eu-west-1", "eu-intake"),
		// Another account, entered with sts:AssumeRole.
		fnARN(analytics, "us-east-1", "research-share"),
	}
	for _, arn := range arns {
		want, ok := scanned[arn]
		if !ok {
			t.Fatalf("the scan did not see %s", arn)
		}
		got, err := reader.Read(context.Background(), arn)
		if err != nil {
			t.Fatalf("%s: %v", arn, err)
		}
		if got.Gone || got.Resource == nil {
			t.Fatalf("%s: reported gone", arn)
		}
		judged := scan.Assess(got.Resource, scan.Options{Trust: trust})
		findings += len(judged.Findings)
		if !reflect.DeepEqual(verdictOf(judged), verdictOf(want)) {
			t.Errorf("%s:\n targeted %+v\n scan     %+v", arn, verdictOf(judged), verdictOf(want))
		}
		if got.Calls < 1 || got.Calls > 8 {
			t.Errorf("%s: %d calls; a targeted read should take a handful", arn, got.Calls)
		}
	}
	if findings < len(arns) {
		t.Errorf("only %d findings over %d resources: the comparison proves little", findings, len(arns))
	}
	if r := scanned[fnARN(mgmt, "us-east-1", "secrets-rotator")]; r.Status != "unknown" {
		t.Fatalf("fixture changed: secrets-rotator should be unreadable, is %s", r.Status)
	}
}

func TestTargetedReadOfMissingResourcesSaysGone(t *testing.T) {
	seed, _ := demo.Seed()
	_, url := startEmulator(t, seed, emulator.Options{})
	reader := newReader(t, options(url, mgmt, "us-east-1"))
	for _, arn := range []string{
		fnARN(mgmt, "us-east-1", "no-such-function"),
		fnARN(mgmt, "us-east-1", "patient-intake") + ":no-such-alias",
		fnARN(mgmt, "us-east-1", "patient-intake") + ":99",
		"arn:aws:lambda:us-east-1:" + mgmt + ":layer:phi-common:99",
	} {
		got, err := reader.Read(context.Background(), arn)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Gone || got.Resource != nil {
			t.Errorf("%s: want gone, got %+v", arn, got.Resource)
		}
	}
	if _, err := reader.Read(context.Background(), "arn:aws:s3:::bucket"); err == nil {
		t.Error("a non-Lambda ARN must be refused")
	}
}

// TestTargetedReadFailsClosed: a denied read is an unknown resource with
// the AWS error, never a pass; an account that cannot be entered too.
func TestTargetedReadFailsClosed(t *testing.T) {
	seed, _ := demo.Seed()
	faults, _ := emulator.ParseFaults("GetPolicy:denied=1")
	_, url := startEmulator(t, seed, emulator.Options{Faults: faults, FaultSeed: 1})
	opt := options(url, mgmt, "us-east-1")
	reader := newReader(t, opt)
	got, err := reader.Read(context.Background(), fnARN(mgmt, "us-east-1", "lab-results"))
	if err != nil {
		t.Fatal(err)
	}
	judged := scan.Assess(got.Resource, scan.Options{})
	if judged.Status != "unknown" || !strings.Contains(judged.UnknownReason, "AccessDeniedException") {
		t.Errorf("a denied GetPolicy must leave the resource unknown with the reason: %s %q", judged.Status, judged.UnknownReason)
	}

	opt.RoleName = "NoSuchRole"
	reader = newReader(t, opt)
	got, err = reader.Read(context.Background(), fnARN("999988887777", "us-east-1", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if judged := scan.Assess(got.Resource, scan.Options{}); judged.Status != "unknown" || !strings.Contains(judged.UnknownReason, "could not be entered") {
		t.Errorf("an account that cannot be entered must be unknown: %s %q", judged.Status, judged.UnknownReason)
	}
}

// TestReadFunctionReadsAliasesAndVersions: the Config rule's view of one
// function is the function, its aliases and its versions, each judged as
// the scan judges it.
func TestReadFunctionReadsAliasesAndVersions(t *testing.T) {
	seed, _ := demo.Seed()
	_, url := startEmulator(t, seed, emulator.Options{})
	trust := rules.Trust{OrgID: "o-abc123def4", Trusted: []string{mgmt, analytics}}
	reader := newReader(t, options(url, mgmt, "us-east-1"))
	reads, err := reader.ReadFunction(context.Background(), fnARN(mgmt, "us-east-1", "appointment-scheduler"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range reads {
		a := scan.Assess(r.Resource, scan.Options{Trust: trust})
		got[a.ARN] = a.Exposure
	}
	base := fnARN(mgmt, "us-east-1", "appointment-scheduler")
	for arn, want := range map[string]string{base: "private", base + ":prod": "public", base + ":1": "private"} {
		if got[arn] != want {
			t.Errorf("%s: %q, want %q (all: %v)", arn, got[arn], want, got)
		}
	}
	if _, err := reader.ReadFunction(context.Background(), base+":prod"); err == nil {
		t.Error("a qualified ARN is not a function")
	}
}
