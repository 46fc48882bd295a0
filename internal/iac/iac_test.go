package iac_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lambdawarden/lambdawarden/internal/iac"
	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

const owner = "111122223333"

// judge loads a fixture and runs the scan engine over it, as the iac
// command does, keyed by the resource part of each ARN
// ("function:zoo-public", "layer:zoo-org-libs:$PUBLISHED").
func judge(t *testing.T, fsys fs.FS, root string, trust rules.Trust) map[string]report.Resource {
	t.Helper()
	est, _, err := iac.Load(fsys, root, "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]report.Resource{}
	for _, r := range estate.Build(est, estate.Options{Owner: owner}) {
		res := scan.Assess(r, scan.Options{Trust: trust})
		key := r.ARN
		if parts := strings.SplitN(r.ARN, ":", 6); len(parts) == 6 {
			key = parts[5]
		}
		out[key] = res
	}
	return out
}

type want struct {
	exposure string // or "unknown"
	line     int    // the resource's source line (0: not checked)
	rule     string // a rule that must fire ("" for none)
}

func check(t *testing.T, got map[string]report.Resource, wants map[string]want) {
	t.Helper()
	for key, w := range wants {
		r, ok := got[key]
		if !ok {
			t.Errorf("%s: not in the inventory (have %v)", key, keys(got))
			continue
		}
		if r.Exposure != w.exposure {
			t.Errorf("%s: exposure %s, want %s (%s)", key, r.Exposure, w.exposure, r.UnknownReason)
		}
		if w.line != 0 && (r.Source == nil || r.Source.Line != w.line) {
			t.Errorf("%s: source %+v, want line %d", key, r.Source, w.line)
		}
		if w.rule != "" && !hasRule(r, w.rule) {
			t.Errorf("%s: %s did not fire (findings %v)", key, w.rule, r.Findings)
		}
		for _, f := range r.Findings {
			if f.Source == nil || f.Source.File == "" || f.Source.Line == 0 {
				t.Errorf("%s: finding %s has no file:line", key, f.RuleID)
			}
		}
	}
	if len(got) != len(wants) {
		t.Errorf("got %d resources, want %d: %v", len(got), len(wants), keys(got))
	}
}

func hasRule(r report.Resource, id string) bool {
	for _, f := range r.Findings {
		if f.RuleID == id {
			return true
		}
	}
	return false
}

func keys(m map[string]report.Resource) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTerraformZoo(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "zoo", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"function:zoo-public":               {"public", 36, "lambda-public-access"},
		"function:zoo-org":                  {"org", 36, ""},
		"function:zoo-s3ok":                 {"private", 36, ""},
		"function:zoo-s3open":               {"service-unscoped", 36, "lambda-service-unscoped"},
		"function:zoo-partner":              {"cross-account", 36, "lambda-cross-account-access"},
		"function:zoo-alexa":                {"private", 36, ""},
		"function:zoo-url":                  {"public", 36, "lambda-public-function-url"},
		"function:zoo-dormant":              {"private", 36, "lambda-url-dormant-none-auth"},
		"function:zoo-cors":                 {"private", 36, "lambda-url-cors-wildcard-credentials"},
		"function:zoo-rp_org":               {"org", 36, ""},
		"function:zoo-rp_public":            {"public", 36, "lambda-public-access"},
		"function:zoo-tpl":                  {"cross-account", 36, "lambda-cross-account-access"},
		"function:zoo-doc":                  {"private", 36, ""},
		"function:zoo-events_foreign":       {"cross-account", 36, "lambda-cross-account-access"},
		"function:zoo-alias_only":           {"private", 36, ""},
		"function:zoo-alias_only:live":      {"public", 214, "lambda-public-access"},
		"function:zoo-unknown":              {"unknown", 229, ""},
		"function:zoo-module":               {"org", 14, ""},
		"function:zoo-module-open":          {"public", 14, "lambda-public-access"},
		"layer:zoo-public-libs:$PUBLISHED":  {"public", 237, "lambda-layer-public"},
		"layer:zoo-org-libs:$PUBLISHED":     {"org", 237, ""},
		"layer:zoo-partner-libs:$PUBLISHED": {"cross-account", 237, "lambda-cross-account-access"},
	})
	// The public grant is reported at the permission that writes it.
	for _, f := range got["function:zoo-public"].Findings {
		if f.RuleID == "lambda-public-access" && f.Source.Line != 46 {
			t.Errorf("public grant at line %d, want 46 (aws_lambda_permission.public)", f.Source.Line)
		}
	}
	if r := got["function:zoo-unknown"]; !strings.Contains(r.UnknownReason, "var.deploy_role") || !strings.Contains(r.UnknownReason, "line 233") {
		t.Errorf("unknown reason should name the expression and its line: %s", r.UnknownReason)
	}
}

func TestCloudFormationZoo(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "zoo.yaml", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"function:cfn-public":            {"public", 20, "lambda-public-access"},
		"function:cfn-org":               {"org", 36, ""},
		"function:cfn-bucket":            {"service-unscoped", 53, "lambda-service-unscoped"},
		"function:cfn-rule":              {"private", 76, ""},
		"function:cfn-url":               {"private", 99, ""},
		"function:cfn-url:live":          {"public", 108, "lambda-public-function-url"},
		"function:cfn-policy":            {"org", 129, ""},
		"function:cfn-prod":              {"cross-account", 159, "lambda-cross-account-access"},
		"function:cfn-unknown":           {"unknown", 184, ""},
		"layer:cfn-shared:$PUBLISHED":    {"public", 191, "lambda-layer-public"},
		"layer:cfn-org-layer:$PUBLISHED": {"org", 204, ""},
	})
	if r := got["function:cfn-unknown"]; !strings.Contains(r.UnknownReason, "DeployRole") || !strings.Contains(r.UnknownReason, "line 189") {
		t.Errorf("unknown reason should name the parameter and its line: %s", r.UnknownReason)
	}
}

func TestSAM(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "sam.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:sam-webhook":  {"public", 17, "lambda-public-function-url"},
		"function:sam-api":      {"private", 26, ""},
		"function:sam-api:live": {"private", 31, ""},
		"function:sam-topic":    {"cross-account", 47, "lambda-cross-account-access"},
		"function:sam-alexa":    {"service-unscoped", 59, "lambda-service-unscoped"},
	})
	for _, f := range got["function:sam-webhook"].Findings {
		if f.RuleID == "lambda-public-function-url" && (f.Severity.String() != "critical" || f.Source.Line != 22) {
			t.Errorf("FunctionUrlConfig NONE: %s at line %d, want critical at 22", f.Severity, f.Source.Line)
		}
	}
}

func TestCDKOut(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "cdk.out", rules.Trust{})
	check(t, got, map[string]want{
		"function:Handler886CB40B": {"public", 12, "lambda-public-function-url"},
		"function:GrantedC4F3E2A1": {"private", 38, ""},
	})
}

func TestPlan(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "plan/plan.json", rules.Trust{})
	check(t, got, map[string]want{
		"function:plan-api":     {"public", 7, "lambda-public-access"},
		"function:plan-partner": {"cross-account", 25, "lambda-cross-account-access"},
		"function:plan-edge":    {"org", 43, ""},
		"function:plan-role":    {"unknown", 53, ""},
	})
	if _, ok := got["function:plan-old"]; ok {
		t.Error("a permission the plan deletes was judged")
	}
}

// TestBrokenAmongGood: one file that does not parse is listed as unknown
// at its line; the others are still judged.
func TestBrokenAmongGood(t *testing.T) {
	fsys := fstest.MapFS{
		"good/main.tf":       {Data: []byte("resource \"aws_lambda_permission\" \"p\" {\n  function_name = \"fn\"\n  action = \"lambda:InvokeFunction\"\n  principal = \"*\"\n}\n")},
		"bad/main.tf":        {Data: []byte("resource \"aws_lambda_function\" \"f\" {\n  function_name = \n}\n")},
		"cfn/template.yaml":  {Data: []byte("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n   Properties: [\n")},
		"node_modules/x.tf":  {Data: []byte("this is not terraform {")},
		".terraform/m/x.tf":  {Data: []byte("neither {")},
		"other/package.json": {Data: []byte(`{"name": "not a template"}`)},
	}
	est, stats, err := iac.Load(fsys, ".", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Broken != 2 || len(est.Broken) != 2 {
		t.Fatalf("broken = %d (%+v), want the .tf and the template (node_modules and .terraform skipped)", stats.Broken, est.Broken)
	}
	lines := map[string]int{}
	for _, b := range est.Broken {
		lines[b.File] = b.Line
	}
	if lines["bad/main.tf"] != 2 || lines["cfn/template.yaml"] == 0 {
		t.Errorf("broken lines = %v, want bad/main.tf:2 and a line for the template", lines)
	}
	got := map[string]string{}
	for _, r := range estate.Build(est, estate.Options{Owner: owner}) {
		res := scan.Assess(r, scan.Options{})
		got[r.ARN] = res.Exposure
	}
	if got["arn:aws:lambda:REGION:"+owner+":function:fn"] != "public" || got["bad/main.tf"] != "unknown" || got["cfn/template.yaml"] != "unknown" {
		t.Errorf("verdicts = %v", got)
	}
}

// TestTerraformSourceResources: a source_arn or principal naming a
// resource the same configuration creates (an API's execution_arn, a
// topic, a bucket, a rule, a role) carries the deploying account (none
// for S3 buckets and API Gateway's own arn), as it will once applied.
func TestTerraformSourceResources(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "sources", rules.Trust{})
	check(t, got, map[string]want{
		"function:src-api":   {"private", 15, ""},
		"function:src-http":  {"service-unscoped", 15, "lambda-service-unscoped"},
		"function:src-sns":   {"private", 15, ""},
		"function:src-s3":    {"service-unscoped", 15, "lambda-service-unscoped"},
		"function:src-rule":  {"private", 15, ""},
		"function:src-role":  {"private", 15, ""},
		"function:src-other": {"unknown", 98, ""},
		"function:src-path":  {"private", 120, ""},
		"function:src-nopin": {"unknown", 140, ""},
		"function:src-tokyo": {"private", 148, ""},
		"function:src-stage": {"private", 165, ""},
	})
	if r := got["function:src-tokyo"]; r.Region != "ap-northeast-1" {
		t.Errorf("a resource's region argument (provider v6): Region %q, want ap-northeast-1", r.Region)
	}
	if r := got["function:src-api"]; r.Region != "eu-west-1" {
		t.Errorf("the provider's Region: %q, want eu-west-1", r.Region)
	}
	if r := got["function:src-other"]; !strings.Contains(r.UnknownReason, "assumes a role") {
		t.Errorf("unknown reason should say the provider assumes a role: %s", r.UnknownReason)
	}
}

// TestTerraformDynamic: dynamic blocks (cors, policy document
// statements) are expanded with their iterator; one whose for_each is
// not fixed makes the resource unknown.
func TestTerraformDynamic(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "dynamic", rules.Trust{})
	check(t, got, map[string]want{
		"function:dyn-cors":       {"private", 15, "lambda-url-cors-wildcard-credentials"},
		"function:dyn-unresolved": {"unknown", 35, ""},
		"function:dyn-doc":        {"public", 15, "lambda-public-access"},
	})
	if r := got["function:dyn-unresolved"]; !strings.Contains(r.UnknownReason, "dynamic cors") {
		t.Errorf("unknown reason should name the dynamic block: %s", r.UnknownReason)
	}
}

// TestPlanRegionAndSources: a plan's resources carry the Region the plan
// says (the arn of a resource that exists, else its provider's region,
// a constant or a variable the plan holds); a source_arn the plan leaves
// unknown but that names an API the plan creates is that API's
// execution ARN in the deploying account, unless the provider assumes a
// role.
func TestPlanRegionAndSources(t *testing.T) {
	est, _, err := iac.Load(os.DirFS("terraform/testdata"), "plan-region/plan.json", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]string{}
	for _, r := range estate.Build(est, estate.Options{Owner: owner}) {
		regions[r.Name] = r.Region
	}
	for name, want := range map[string]string{"pr-api": "eu-central-1", "pr-west": "us-west-2", "pr-edge": "us-east-1"} {
		if regions[name] != want {
			t.Errorf("%s: Region %q, want %q (all: %v)", name, regions[name], want, regions)
		}
	}
	got := judge(t, os.DirFS("terraform/testdata"), "plan-region/plan.json", rules.Trust{})
	check(t, got, map[string]want{
		"function:pr-api":  {"private", 0, ""},
		"function:pr-west": {"unknown", 0, ""},
		"function:pr-edge": {"private", 0, ""},
	})
}

// TestTerraformModuleSplitAroundSubfolder: a module whose files sort
// before and after a subfolder (main.tf, modules/, z.tf) is read once,
// so its grants are not doubled.
func TestTerraformModuleSplitAroundSubfolder(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "split", rules.Trust{})
	check(t, got, map[string]want{
		"function:dup":  {"public", 1, "lambda-public-access"},
		"function:modx": {"private", 1, ""},
	})
	n := 0
	for _, f := range got["function:dup"].Findings {
		if f.RuleID == "lambda-public-access" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the one public grant is reported %d times", n)
	}
}

// TestTerraformJSONSyntax: *.tf.json files (Terraform's JSON syntax) are
// read like *.tf: templates in strings, nested blocks as objects or
// arrays, a literal variable default, lines of the JSON file; they mix
// with native files of the same module.
func TestTerraformJSONSyntax(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "tfjson", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"function:json-public":  {"public", 19, "lambda-public-access"},
		"function:json-org":     {"org", 19, ""},
		"function:json-url":     {"public", 19, "lambda-url-cors-wildcard-credentials"},
		"function:json-doc":     {"org", 19, ""},
		"function:json-partner": {"unknown", 40, ""},
	})
	for _, f := range got["function:json-public"].Findings {
		if f.RuleID == "lambda-public-access" && (f.Source.Line != 28 || f.Source.File != "tfjson/main.tf.json") {
			t.Errorf("public grant at %s:%d, want tfjson/main.tf.json:28", f.Source.File, f.Source.Line)
		}
	}
	if r := got["function:json-partner"]; !strings.Contains(r.UnknownReason, "var.partner") || !strings.Contains(r.UnknownReason, "line 43") {
		t.Errorf("unknown reason should name the expression and its JSON line: %s", r.UnknownReason)
	}
	for _, r := range got {
		if r.Region != "ap-southeast-2" {
			t.Errorf("%s: Region %q, want the provider's ap-southeast-2", r.ARN, r.Region)
		}
	}

	// A .tf.json file that does not parse is broken at its line.
	fsys := fstest.MapFS{
		"bad/main.tf.json":  {Data: []byte("{\n  \"resource\": {\n    \"aws_lambda_function\": {\"f\": {\"function_name\": }}\n  }\n}\n")},
		"good/main.tf.json": {Data: []byte(`{"resource": {"aws_lambda_permission": {"p": {"function_name": "fn", "action": "lambda:InvokeFunction", "principal": "*"}}}}`)},
	}
	est, stats, err := iac.Load(fsys, ".", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Broken != 1 || len(est.Broken) != 1 || est.Broken[0].File != "bad/main.tf.json" || est.Broken[0].Line != 3 {
		t.Errorf("broken: %+v", est.Broken)
	}
	if len(est.Permissions) != 1 || est.Permissions[0].Principal != "*" {
		t.Errorf("the good .tf.json file was not read: %+v", est.Permissions)
	}
}

// TestTerraformTfvars: terraform.tfvars and *.auto.tfvars(.json) value
// the root module's variables as terraform plan would (an auto file
// overrides terraform.tfvars and the default); a variable no file sets
// stays unresolved.
func TestTerraformTfvars(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "tfvars", rules.Trust{})
	check(t, got, map[string]want{
		"function:vars-partner": {"cross-account", 16, "lambda-cross-account-access"},
		"function:vars-open":    {"public", 16, "lambda-public-access"},
		"function:vars-unset":   {"unknown", 35, ""},
	})
}

// TestUnresolvedFunctionName: a function whose name the code does not
// fix is one resource, judged by the grants that refer to it (a public
// grant is not hidden behind unknown, nor listed twice); when some grant
// names a function the reader cannot resolve, it may be this one, so the
// function is unknown.
func TestUnresolvedFunctionName(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "noname", rules.Trust{})
	check(t, got, map[string]want{
		"function:aws_lambda_function.open":  {"public", 7, "lambda-public-access"},
		"function:aws_lambda_function.quiet": {"private", 19, ""},
	})
	got = judge(t, os.DirFS("terraform/testdata"), "noname-loose", rules.Trust{})
	check(t, got, map[string]want{
		"function:aws_lambda_function.open":  {"public", 7, "lambda-public-access"},
		"function:aws_lambda_function.quiet": {"unknown", 19, ""},
		// Public whatever function it lands on: judged so, partly checked.
		"function:aws_lambda_permission.loose": {"public", 27, "lambda-public-access"},
	})
	got = judge(t, os.DirFS("cloudformation/testdata"), "noname.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:Fn":    {"public", 8, "lambda-public-access"},
		"function:Quiet": {"private", 20, ""},
	})
}

// TestTerraformModuleOutputs: a grant in the root on a function a local
// module creates, named through the module's outputs (module.api.function_name,
// module.workers[1].arn), lands on that function; an output of a module
// that is not in the tree (a registry module) leaves the grant's function
// unresolved, saying so (the grant, public, is judged under its address).
func TestTerraformModuleOutputs(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "modout", rules.Trust{})
	check(t, got, map[string]want{
		"function:mo-api":      {"public", 5, "lambda-public-access"},
		"function:mo-worker-0": {"private", 5, ""},
		"function:mo-worker-1": {"cross-account", 5, "lambda-cross-account-access"},
		// A public grant on a function the reader cannot name is public
		// (partly checked, naming what could not be resolved).
		"function:aws_lambda_permission.registry": {"public", 31, "lambda-public-access"},
		// The module itself is not read: what it declares is unknown.
		"modout/main.tf#module.registry": {"unknown", 14, ""},
	})
	if r := got["function:aws_lambda_permission.registry"]; !strings.Contains(strings.Join(r.Unchecked, " "), "not in the tree") {
		t.Errorf("the unchecked note should say the module is not read: %v", r.Unchecked)
	}
	for _, f := range got["function:mo-api"].Findings {
		if f.RuleID == "lambda-public-access" && (f.Source.File != "modout/main.tf" || f.Source.Line != 19) {
			t.Errorf("public grant at %s:%d, want modout/main.tf:19", f.Source.File, f.Source.Line)
		}
	}
}

// TestCloudFormationInlinePolicy: a Policy property on a Version is its
// resource policy, judged as written.
func TestCloudFormationInlinePolicy(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "inline-policy.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:inline-fn":            {"private", 5, ""},
		"function:inline-fn:$PUBLISHED": {"public", 11, "lambda-public-access"},
	})
}

// TestCloudFormationGetAttLambda: !GetAtt Alias.AliasArn names the
// alias; a Lambda attribute the reader does not derive does not land the
// grant on a function named after the token: it is listed under its
// logical id (public here, as its Principal "*" is wherever it lands).
func TestCloudFormationGetAttLambda(t *testing.T) {
	got := judge(t, os.DirFS("cloudformation/testdata"), "getatt.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:ga-fn":      {"private", 5, ""},
		"function:ga-fn:live": {"public", 8, "lambda-public-access"},
		"function:P2":         {"public", 14, "lambda-public-access"},
	})
}

// TestState: `terraform show -json` without a plan file prints the state
// (values.root_module): read like a plan's planned values, with the
// Region of the deployed ARNs.
func TestState(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "state", rules.Trust{})
	check(t, got, map[string]want{
		"function:st-api": {"public", 8, "lambda-public-access"},
	})
	if r := got["function:st-api"]; r.Region != "sa-east-1" {
		t.Errorf("Region %q, want sa-east-1 from the arn", r.Region)
	}
}

// TestTerraformOverrideFiles: *_override.tf and override.tf(.json) are
// merged into the blocks they override, argument by argument, as
// Terraform does; an override of no block is listed as broken.
func TestTerraformOverrideFiles(t *testing.T) {
	est, _, err := iac.Load(os.DirFS("terraform/testdata"), "override", "", iac.Options{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if len(est.Broken) != 1 || est.Broken[0].File != "override/override.tf.json" {
		t.Errorf("broken = %+v, want the override of nothing", est.Broken)
	}
	got := judge(t, os.DirFS("terraform/testdata"), "override", rules.Trust{OrgID: "o-abc123def4"})
	delete(got, "override/override.tf.json")
	check(t, got, map[string]want{
		"function:ov-opened": {"public", 1, "lambda-public-access"},
		"function:ov-closed": {"org", 1, ""},
	})
	for _, f := range got["function:ov-opened"].Findings {
		if f.RuleID == "lambda-public-access" && f.Source.Line != 8 {
			t.Errorf("the merged permission is at line %d, want 8 (its block in main.tf)", f.Source.Line)
		}
	}
}

// TestTerraformInstalledModules: a registry module terraform init put in
// .terraform/modules is read from there (modules.json), nested calls
// too; one that is not installed leaves what uses its outputs unknown.
func TestTerraformInstalledModules(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "registry", rules.Trust{})
	check(t, got, map[string]want{
		"function:reg-fn":                       {"public", 10, "lambda-public-function-url"},
		"function:reg-fn:live":                  {"cross-account", 5, "lambda-cross-account-access"},
		"function:aws_lambda_permission.absent": {"public", 14, "lambda-public-access"},
		// A module terraform init did not install is not read: what it
		// declares is unknown.
		"registry/main.tf#module.absent": {"unknown", 10, ""},
	})
	if r := got["function:aws_lambda_permission.absent"]; !strings.Contains(strings.Join(r.Unchecked, " "), "terraform init") {
		t.Errorf("the unchecked note should say the module is not installed: %v", r.Unchecked)
	}
}

// TestTerraformMoreFunctions: sensitive() keeps its value (a public
// principal written through it is public); alltrue, anytrue and sum
// resolve a count.
func TestTerraformMoreFunctions(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "funcs", rules.Trust{})
	check(t, got, map[string]want{
		"function:fn-funcs": {"public", 8, "lambda-public-access"},
	})
}

// TestPlanReferences: a value the plan leaves unknown is followed to the
// one instance its reference names (a literal key), and through a module
// output into the module; a key from each.key is not in the plan's
// references, so that grant stays unknown rather than landing on
// whichever instance came last.
func TestPlanReferences(t *testing.T) {
	got := judge(t, os.DirFS("terraform/testdata"), "plan-refs/plan.json", rules.Trust{})
	check(t, got, map[string]want{
		"function:pf-a":   {"public", 0, "lambda-public-access"},
		"function:pf-b":   {"private", 0, ""},
		"function:pf-mod": {"public", 0, "lambda-public-access"},
		"function:aws_lambda_permission.each[\"b\"]": {"unknown", 0, ""},
	})
}
