package iac_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lambdawarden/lambdawarden/internal/iac"
	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// CloudFormation, SAM and CDK cases found by outside testing.

// TestSAMGlobalsAndQueuedSNS: a FunctionUrlConfig in Globals is merged
// key by key into the function's own (SAM's Globals rule for mappings),
// so AuthType NONE from Globals with Cors on the function is public; an
// SNS event with SqsSubscription generates no Lambda permission.
func TestSAMGlobalsAndQueuedSNS(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "sam-globals.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:glob-cors":   {"public", 15, "lambda-public-function-url"},
		"function:glob-iam":    {"private", 25, ""},
		"function:glob-queued": {"private", 36, ""},
		"function:glob-direct": {"cross-account", 58, "lambda-cross-account-access"},
	})
}

// TestNestedStacks: a nested stack with a local template is read through
// its parent, with the Parameters the parent passes (a child whose
// default is the owner is public when the parent passes "*"), and not on
// its own; one whose template is not in the tree (an S3 URL, an
// application of the Serverless Application Repository) is unknown at its
// line.
func TestNestedStacks(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "nested", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"function:nest-open":                {"public", 10, "lambda-public-access"},
		"function:nest-partner":             {"cross-account", 10, "lambda-cross-account-access"},
		"function:nest-parent":              {"org", 37, ""},
		"nested/parent.yaml#Remote":         {"unknown", 47, ""},
		"nested/parent.yaml#FromRepository": {"unknown", 52, ""},
	})
	if s := got["function:nest-open"].Source; s == nil || s.Address != "OpenChild/Grant" {
		t.Errorf("a nested declaration's address should name its stack: %+v", s)
	}
	if _, alone := got["function:nest-alone"]; alone {
		t.Error("a nested template was also read on its own, with its defaults")
	}
	got = judge(t, os.DirFS("cloudformation/testdata"), "cdk-nested.out", rules.Trust{})
	check(t, got, map[string]want{
		"function:Worker4A3E2B1C": {"public", 3, "lambda-public-access"},
	})
}

// TestBrokenJSONTemplate: a .json template is read as JSON, as
// CloudFormation reads it: a trailing comma YAML would forgive is a
// syntax error at its line, and the other templates are still judged.
func TestBrokenJSONTemplate(t *testing.T) {
	fsys := fstest.MapFS{
		"bad.template.json": {Data: []byte("{\"AWSTemplateFormatVersion\": \"2010-09-09\",\n \"Resources\": {\n  \"P\": {\"Type\": \"AWS::Lambda::Permission\", \"Properties\": {\"FunctionName\": \"fn\", \"Action\": \"lambda:InvokeFunction\", \"Principal\": \"*\",}}\n }\n}\n")},
		"good.yaml":         {Data: []byte("Resources:\n  P:\n    Type: AWS::Lambda::Permission\n    Properties: {FunctionName: ok, Action: lambda:InvokeFunction, Principal: \"*\"}\n")},
		"bad.template":      {Data: []byte("{\"Resources\": {\"P\": {\"Type\": \"AWS::Lambda::Permission\",\n \"Properties\": {\"FunctionName\": \"fn2\", \"Principal\": \"*\",}}}}\n")},
	}
	est, stats, err := iac.Load(fsys, ".", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, b := range est.Broken {
		if strings.Contains(b.Reason, "JSON syntax") {
			lines[b.File] = b.Line
		}
	}
	if stats.Broken != 2 || lines["bad.template.json"] != 3 || lines["bad.template"] != 2 {
		t.Fatalf("broken = %+v, want bad.template.json:3 and bad.template:2, JSON syntax errors", est.Broken)
	}
	got := map[string]string{}
	for _, r := range estate.Build(est, estate.Options{Owner: owner}) {
		got[r.ARN] = scan.Assess(r, scan.Options{}).Exposure
	}
	if got["bad.template.json"] != "unknown" || got["arn:aws:lambda:REGION:"+owner+":function:ok"] != "public" || len(got) != 3 {
		t.Errorf("verdicts = %v", got)
	}
}

// TestCDKTreeNotATemplate: CDK's tree.json names resource types and
// "Resources" deep inside; only a JSON object with the template sections
// at its top is read as a template.
func TestCDKTreeNotATemplate(t *testing.T) {
	fsys := fstest.MapFS{
		"cdk.out/tree.json":       {Data: []byte(`{"version":"tree-0.1","tree":{"id":"App","children":{"Resources":{"id":"Resources","attributes":{"aws:cdk:cloudformation:type":"AWS::Lambda::Function"}}}}}`)},
		"cdk.out/manifest.json":   {Data: []byte(`{"version":"36.0.0","artifacts":{"S":{"type":"aws:cloudformation:stack","metadata":{"/S/Resources/Fn":[{"type":"aws:cdk:logicalId","data":"AWS::Lambda::Function"}]}}}}`)},
		"cdk.out/S.template.json": {Data: []byte(`{"Resources":{"P":{"Type":"AWS::Lambda::Permission","Properties":{"FunctionName":"fn","Action":"lambda:InvokeFunction","Principal":"*"}}}}`)},
	}
	// A large app's tree.json is bigger than the part sniffing reads.
	big := `{"version":"tree-0.1","tree":{"children":{"Resources":{"attributes":{"aws:cdk:cloudformation:type":"AWS::Lambda::Permission"}}}},"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	fsys["big.out/tree.json"] = &fstest.MapFile{Data: []byte(big)}
	est, stats, err := iac.Load(fsys, ".", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Templates != 1 || stats.Broken != 0 || len(est.Permissions) != 1 {
		t.Errorf("stats %+v, broken %+v: want only S.template.json read", stats, est.Broken)
	}
}

// TestLanguageExtensions: Fn::ForEach loops are unrolled (a "*" in the
// collection is a public grant), a CommaDelimitedList is a list, an SSM
// parameter type's Default is not its value, and what only deployment
// fills in (a loop over a list without Default, Fn::Transform, a macro
// in Transform) is listed as unknown at its line, never left out.
func TestLanguageExtensions(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "language-extensions.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:le-fn":                              {"public", 18, "lambda-public-access"},
		"function:le-partner":                         {"unknown", 39, ""},
		"function:le-second":                          {"cross-account", 47, "lambda-cross-account-access"},
		"function:le-default":                         {"public", 71, "lambda-public-access"},
		"function:le-length":                          {"cross-account", 79, "lambda-cross-account-access"},
		"language-extensions.yaml#Fn::ForEach::Extra": {"unknown", 55, ""},
		"language-extensions.yaml#Fn::Transform":      {"unknown", 65, ""},
		"language-extensions.yaml#Transform":          {"unknown", 4, ""},
	})
	if r := got["function:le-partner"]; !strings.Contains(r.UnknownReason, "SSM Parameter Store") {
		t.Errorf("unknown reason should say the value is read from SSM: %s", r.UnknownReason)
	}
	if r := got["language-extensions.yaml#Transform"]; !strings.Contains(r.UnknownReason, "AcmeCorpMacro") {
		t.Errorf("unknown reason should name the macro: %s", r.UnknownReason)
	}
}

// TestSAMReferences: MyFunction.Alias and MyFunction.Version resolve to
// the alias and version AutoPublishAlias (here from Globals) creates, as
// does the generated alias's logical id; a resource without Type is
// unknown.
func TestSAMReferences(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "sam-refs.yaml", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"function:refs-worker":            {"private", 12, ""},
		"function:refs-worker:live":       {"public", 9, "lambda-public-access"},
		"function:refs-worker:$PUBLISHED": {"cross-account", 12, "lambda-cross-account-access"},
		"sam-refs.yaml#Typo":              {"unknown", 44, ""},
	})
}

// TestSameLogicalIDInTwoStacks: two templates with an unnamed function of
// the same logical id deploy two functions (CloudFormation names each
// after its stack): they are judged apart, not merged into one.
func TestSameLogicalIDInTwoStacks(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "two-apps", rules.Trust{})
	check(t, got, map[string]want{
		"function:two-apps-orders-template-HelloWorldFunction":  {"public", 6, "lambda-public-function-url"},
		"function:two-apps-billing-template-HelloWorldFunction": {"private", 6, ""},
	})
}

// TestRepeatedKeyTemplate: a key written twice in one mapping (two
// Principals) is refused, as CloudFormation refuses the template, in
// YAML and in JSON: neither copy is judged.
func TestRepeatedKeyTemplate(t *testing.T) {
	fsys := fstest.MapFS{
		"dup.yaml": {Data: []byte("Resources:\n  P:\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: dup\n      Principal: \"444455556666\"\n      Principal: \"*\"\n      Action: lambda:InvokeFunction\n")},
		"dup.json": {Data: []byte("{\"Resources\": {\"P\": {\"Type\": \"AWS::Lambda::Permission\", \"Properties\": {\"FunctionName\": \"dupj\",\n \"Principal\": \"444455556666\",\n \"Action\": \"lambda:InvokeFunction\",\n \"Principal\": \"*\"}}}}\n")},
	}
	est, _, err := iac.Load(fsys, ".", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, b := range est.Broken {
		if !strings.Contains(b.Reason, `"Principal" is repeated`) {
			t.Errorf("%s: %s", b.File, b.Reason)
		}
		lines[b.File] = b.Line
	}
	if lines["dup.yaml"] != 7 || lines["dup.json"] != 4 || len(est.Permissions) != 0 {
		t.Errorf("broken at %v, permissions %+v: want dup.yaml:7, dup.json:4 and no permission judged", lines, est.Permissions)
	}
}

// TestSAMBuildCopySkipped: `sam build` copies the template to
// .aws-sam/build; the copy is not read again beside its source (the
// function would be listed twice, under two stack names), but it is read
// when named.
func TestSAMBuildCopySkipped(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "sam-built", rules.Trust{})
	check(t, got, map[string]want{
		"function:HelloWorldFunction": {"public", 6, "lambda-public-function-url"},
	})
	got = judge(t, os.DirFS("cloudformation/testdata"), "sam-built/.aws-sam/build", rules.Trust{})
	check(t, got, map[string]want{
		"function:HelloWorldFunction": {"public", 6, "lambda-public-function-url"},
	})
}

// TestRegionConditions: a condition on AWS::Region or AWS::StackName
// depends on where the stack is deployed: a resource it guards is
// judged (not dropped, as comparing the placeholder would), and a value
// chosen by it is unknown.
func TestRegionConditions(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "region-conditions.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:reg-east":   {"public", 11, "lambda-public-access"},
		"function:reg-either": {"unknown", 20, ""},
		"function:reg-stack":  {"unknown", 27, ""},
		"function:reg-same":   {"cross-account", 35, "lambda-cross-account-access"},
	})
	// Without --account, a condition on AWS::AccountId is undecided too.
	fsys := fstest.MapFS{"t.yaml": {Data: []byte("Conditions:\n  IsProdAcct: !Equals [!Ref AWS::AccountId, \"111122223333\"]\nResources:\n  P:\n    Type: AWS::Lambda::Permission\n    Condition: IsProdAcct\n    Properties: {FunctionName: acct-cond, Action: lambda:InvokeFunction, Principal: \"*\"}\n")}}
	for _, o := range []string{"", "444455556666"} {
		est, _, err := iac.Load(fsys, "t.yaml", "", iac.Options{Owner: o})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(est.Permissions); (o == "") != (n == 1) {
			t.Errorf("owner %q: %d permissions; want the grant judged without --account, dropped for another account", o, n)
		}
	}
}

// TestSAMConfigOverrides: sam deploy passes samconfig.toml's
// parameter_overrides over the template's defaults: a Default of the owner
// deployed with "*" is public; a parameter environments set differently
// is unknown.
func TestSAMConfigOverrides(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "samconfig", rules.Trust{})
	check(t, got, map[string]want{
		"function:cfg-prod":  {"public", 14, "lambda-public-access"},
		"function:envs-prod": {"unknown", 22, ""},
	})
	if r := got["function:envs-prod"]; !strings.Contains(r.UnknownReason, "sets Caller") {
		t.Errorf("unknown reason should name samconfig's parameter: %s", r.UnknownReason)
	}
}

// TestCDKStackAccounts: a CDK stack whose environment in manifest.json
// names an account deploys there: a grant to the --account is
// cross-account on it; a stack without one (unknown-account) is the
// --account's.
func TestCDKStackAccounts(t *testing.T) {
	est, _, err := iac.Load(os.DirFS("cloudformation/testdata"), "cdk-accounts.out", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range estate.Build(est, estate.Options{Owner: owner}) {
		got[r.ARN] = scan.Assess(r, scan.Options{}).Exposure
	}
	want := map[string]string{
		"arn:aws:lambda:REGION:444455556666:function:acct-prod": "cross-account",
		"arn:aws:lambda:REGION:" + owner + ":function:acct-dev": "private",
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for arn, w := range want {
		if got[arn] != w {
			t.Errorf("%s: %s, want %s (all: %v)", arn, got[arn], w, got)
		}
	}
}

// TestPartlyUnresolved: a resource whose resolved grants are already
// public is public (what could not be resolved only adds Allow
// statements); otherwise, or when an unreadable resource policy could
// hold a Deny, it is unknown.
func TestPartlyUnresolved(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "partly-unresolved.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:part-open": {"public", 11, "lambda-public-access"},
		"function:part-own":  {"unknown", 31, ""},
		"function:part-deny": {"unknown", 46, ""},
	})
	// Public, and said to be partly checked: what could not be resolved
	// is named, and the run is not complete.
	if r := got["function:part-open"]; len(r.Unchecked) == 0 || !strings.Contains(strings.Join(r.Notes, " "), "could not be resolved") {
		t.Errorf("part-open is not marked partly checked: unchecked %q, notes %q", r.Unchecked, r.Notes)
	}
}
