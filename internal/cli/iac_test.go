package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIaCDoneWhen is the acceptance run: a Terraform public
// permission is flagged at its line, one restricted by principal_org_id
// passes, a SAM FunctionUrlConfig AuthType NONE is critical public, and
// the SARIF points code scanning at the repository-relative file and line.
func TestIaCDoneWhen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"infra/main.tf": `resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "arn:aws:iam::111122223333:role/api"
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "api.zip"
}

resource "aws_lambda_permission" "open" {
  statement_id  = "Open"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "*"
}

resource "aws_lambda_function" "internal" {
  function_name = "internal"
  role          = "arn:aws:iam::111122223333:role/api"
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "api.zip"
}

resource "aws_lambda_permission" "org" {
  statement_id     = "Org"
  action           = "lambda:InvokeFunction"
  function_name    = aws_lambda_function.internal.function_name
  principal        = "*"
  principal_org_id = "o-abc123def4"
}
`,
		"infra/sam/template.yaml": `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Webhook:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: webhook
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      FunctionUrlConfig:
        AuthType: NONE
`,
	})
	code, _, errOut := runCLI(t, "", "iac", "./infra", "--account", "111122223333", "--org-id", "o-abc123def4", "-o", "sarif=r.sarif", "-o", "json=r.json")
	if code != exitFindings {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	var d report.Document
	readJSON(t, "r.json", &d)
	byName := map[string]report.Resource{}
	for _, r := range d.Resources {
		byName[r.ARN[strings.LastIndex(r.ARN, ":")+1:]] = r
	}
	if r := byName["api"]; r.Exposure != "public" || !firesAt(r, "lambda-public-access", "infra/main.tf", 9) {
		t.Errorf("api: %s, findings %+v; want public at infra/main.tf:9", r.Exposure, r.Findings)
	}
	if r := byName["internal"]; r.Exposure != "org" || firesAt(r, "lambda-public-access", "", 0) {
		t.Errorf("internal: %s; want org, no public finding", r.Exposure)
	}
	if r := byName["webhook"]; r.Exposure != "public" || !firesAt(r, "lambda-public-function-url", "infra/sam/template.yaml", 11) {
		t.Errorf("webhook: %s, %+v; want a critical public URL at template.yaml:11", r.Exposure, r.Findings)
	}

	var sarif struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string } `json:"artifactLocation"`
						Region           struct{ StartLine int }         `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	readJSON(t, "r.sarif", &sarif)
	found := false
	for _, r := range sarif.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		if r.RuleID == "lambda-public-access" && pl.ArtifactLocation.URI == "infra/main.tf" && pl.Region.StartLine == 9 && r.Level == "error" {
			found = true
		}
		if pl.ArtifactLocation.URI == "" || pl.Region.StartLine == 0 {
			t.Errorf("SARIF result %s has no physical location", r.RuleID)
		}
	}
	if !found {
		t.Errorf("SARIF has no lambda-public-access error at infra/main.tf:9: %+v", sarif.Runs[0].Results)
	}

	// text names file:line.
	_, text, _ := runCLI(t, "", "iac", "infra/main.tf", "--account", "111122223333", "-o", "text")
	if !strings.Contains(text, "infra/main.tf:9 (aws_lambda_permission.open)") {
		t.Errorf("text output does not name file:line:\n%s", text)
	}
}

func firesAt(r report.Resource, rule, file string, line int) bool {
	for _, f := range r.Findings {
		if f.RuleID == rule && (file == "" || f.Source != nil && f.Source.File == file && f.Source.Line == line) {
			return true
		}
	}
	return false
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestIaCInputErrors: one malformed file alone is exit 2 with its file
// and line; among good files it is listed as unknown (exit 3 when nothing
// else fails); without --account the report says literal accounts are
// foreign.
func TestIaCInputErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"bad/main.tf":  "resource \"aws_lambda_permission\" \"p\" {\n  principal = \n}\n",
		"good/main.tf": "resource \"aws_lambda_permission\" \"p\" {\n  function_name = \"fn\"\n  action = \"lambda:InvokeFunction\"\n  principal = \"111122223333\"\n}\n",
		"empty/README": "nothing here",
	})
	code, _, errOut := runCLI(t, "", "iac", "bad")
	if code != exitUsage || !strings.Contains(errOut, "bad/main.tf:2") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("malformed only input: exit %d, stderr %q; want 2 and one line naming bad/main.tf:2", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "iac", "empty"); code != exitUsage || !strings.Contains(errOut, "found no Terraform") {
		t.Errorf("no input: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "iac", "missing"); code != exitUsage || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing path: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "iac", "good", "--account", "12"); code != exitUsage || !strings.Contains(errOut, "12 digits") {
		t.Errorf("bad --account: exit %d, %q", code, errOut)
	}

	code, out, errOut := runCLI(t, "", "iac", "bad", "good", "--account", "111122223333", "-o", "json")
	if code != exitIncomplete {
		t.Fatalf("bad among good: exit %d, want 3: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range d.Resources {
		kinds = append(kinds, r.Kind+"="+r.Exposure)
		if r.Kind == "file" && (r.Source == nil || r.Source.File != "bad/main.tf" || r.Source.Line != 2) {
			t.Errorf("broken file source = %+v", r.Source)
		}
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "file=unknown,function=private" {
		t.Errorf("resources = %v", kinds)
	}

	// Without --account the same owner-account grant is foreign.
	code, out, errOut = runCLI(t, "", "iac", "good", "-o", "json")
	if code != exitFindings || !strings.Contains(errOut, "no --account") || !strings.Contains(out, "cross-account") || !strings.Contains(out, "every account id written in the code counts as foreign") {
		t.Errorf("without --account: exit %d, stderr %q", code, errOut)
	}
}

// TestIaCSameVerdictThreeWays drives one set of permissions three ways:
// added with the real SDK's AddPermission to the emulator and scanned,
// written as Terraform (native and JSON syntax), and written as
// CloudFormation. Each function must
// get the same exposure and the same policy findings every way.
func TestIaCSameVerdictThreeWays(t *testing.T) {
	type perm struct {
		name string
		in   lambda.AddPermissionInput
		url  bool
	}
	perms := []perm{
		{"same-public", lambda.AddPermissionInput{Principal: aws.String("*")}, false},
		{"same-org", lambda.AddPermissionInput{Principal: aws.String("*"), PrincipalOrgID: aws.String("o-abc123def4")}, false},
		{"same-s3", lambda.AddPermissionInput{Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::uploads")}, false},
		{"same-s3-pinned", lambda.AddPermissionInput{Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::uploads"), SourceAccount: aws.String("111122223333")}, false},
		{"same-partner", lambda.AddPermissionInput{Principal: aws.String("444455556666")}, false},
		{"same-rule", lambda.AddPermissionInput{Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-1:444455556666:rule/r")}, false},
		{"same-url", lambda.AddPermissionInput{Principal: aws.String("*"), Action: aws.String("lambda:InvokeFunctionUrl"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}, true},
	}
	var seedFns []string
	for _, p := range perms {
		seedFns = append(seedFns, `{"name": "`+p.name+`"}`)
	}
	seed, err := emulator.ParseSeed([]byte(`{"accounts": [{"id": "111122223333", "regions": {"us-east-1": {"functions": [` + strings.Join(seedFns, ",") + `]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	url := serveSeed(t, seed, emulator.Options{}, "111122223333")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA111122223333", "x", "")}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
	ctx := context.Background()

	var tf, cfn strings.Builder
	// The same Terraform in the JSON syntax (*.tf.json).
	tfjFns, tfjPerms, tfjURLs := map[string]any{}, map[string]any{}, map[string]any{}
	cfn.WriteString("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n")
	for i, p := range perms {
		in := p.in
		in.FunctionName = aws.String(p.name)
		in.StatementId = aws.String("s" + p.name)
		if in.Action == nil {
			in.Action = aws.String("lambda:InvokeFunction")
		}
		if _, err := client.AddPermission(ctx, &in); err != nil {
			t.Fatalf("AddPermission %s: %v", p.name, err)
		}
		tfLine := func(k string, v *string) {
			if v != nil {
				tf.WriteString("  " + k + " = \"" + *v + "\"\n")
			}
		}
		cfnLine := func(k string, v *string) {
			if v != nil {
				cfn.WriteString("      " + k + ": \"" + *v + "\"\n")
			}
		}
		tf.WriteString("resource \"aws_lambda_function\" \"f" + itoa(i) + "\" {\n  function_name = \"" + p.name + "\"\n  role = \"arn:aws:iam::111122223333:role/r\"\n}\n")
		tfjFns["f"+itoa(i)] = map[string]any{"function_name": p.name, "role": "arn:aws:iam::111122223333:role/r"}
		tfjPerm := map[string]any{"function_name": "${aws_lambda_function.f" + itoa(i) + ".function_name}", "statement_id": "s" + p.name}
		tfjPerms["p"+itoa(i)] = tfjPerm
		tf.WriteString("resource \"aws_lambda_permission\" \"p" + itoa(i) + "\" {\n  function_name = aws_lambda_function.f" + itoa(i) + ".function_name\n  statement_id = \"s" + p.name + "\"\n")
		cfn.WriteString("  F" + itoa(i) + ":\n    Type: AWS::Lambda::Function\n    Properties:\n      FunctionName: " + p.name + "\n")
		cfn.WriteString("  P" + itoa(i) + ":\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: !Ref F" + itoa(i) + "\n")
		for _, kv := range []struct {
			tf, cfn string
			v       *string
		}{{"action", "Action", in.Action}, {"principal", "Principal", in.Principal}, {"source_arn", "SourceArn", in.SourceArn},
			{"source_account", "SourceAccount", in.SourceAccount}, {"principal_org_id", "PrincipalOrgID", in.PrincipalOrgID}} {
			tfLine(kv.tf, kv.v)
			cfnLine(kv.cfn, kv.v)
			if kv.v != nil {
				tfjPerm[kv.tf] = *kv.v
			}
		}
		if in.FunctionUrlAuthType != "" {
			a := string(in.FunctionUrlAuthType)
			tfLine("function_url_auth_type", &a)
			cfnLine("FunctionUrlAuthType", &a)
			tfjPerm["function_url_auth_type"] = a
		}
		tf.WriteString("}\n")
		if p.url {
			if _, err := client.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(p.name), AuthType: types.FunctionUrlAuthTypeNone}); err != nil {
				t.Fatal(err)
			}
			tf.WriteString("resource \"aws_lambda_function_url\" \"u" + itoa(i) + "\" {\n  function_name = \"" + p.name + "\"\n  authorization_type = \"NONE\"\n}\n")
			cfn.WriteString("  U" + itoa(i) + ":\n    Type: AWS::Lambda::Url\n    Properties:\n      TargetFunctionArn: !GetAtt F" + itoa(i) + ".Arn\n      AuthType: NONE\n")
			tfjURLs["u"+itoa(i)] = map[string]any{"function_name": p.name, "authorization_type": "NONE"}
		}
	}
	tfj, err := json.MarshalIndent(map[string]any{"resource": map[string]any{
		"aws_lambda_function": tfjFns, "aws_lambda_permission": tfjPerms, "aws_lambda_function_url": tfjURLs}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"tf/main.tf": tf.String(), "cfn/template.yaml": cfn.String(), "tfjson/main.tf.json": string(tfj)})

	verdicts := func(d report.Document) map[string]string {
		out := map[string]string{}
		for _, r := range d.Resources {
			var ids []string
			for _, f := range r.Findings {
				if f.RuleID != "lambda-not-in-vpc" { // live config vs code: not a policy verdict
					ids = append(ids, f.RuleID+"@"+f.Severity.String())
				}
			}
			sort.Strings(ids)
			out[r.ARN[strings.LastIndex(r.ARN, ":")+1:]] = r.Exposure + " " + strings.Join(ids, ",")
		}
		return out
	}
	code, out, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--no-roles", "--thorough", "--org-id", "o-abc123def4", "-o", "json", "--fail-on", "none")
	if code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var live report.Document
	if err := json.Unmarshal([]byte(out), &live); err != nil {
		t.Fatal(err)
	}
	want := verdicts(live)
	if len(want) != len(perms) {
		t.Fatalf("live scan judged %v", want)
	}
	for _, input := range []string{"tf", "cfn/template.yaml", "tfjson"} {
		code, out, errOut := runCLI(t, "", "iac", filepath.Join(dir, input), "--account", "111122223333", "--org-id", "o-abc123def4", "-o", "json", "--fail-on", "none")
		if code != exitOK {
			t.Fatalf("iac %s: exit %d: %s", input, code, errOut)
		}
		var d report.Document
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		got := verdicts(d)
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s %s: %q, live scan says %q", input, name, got[name], w)
			}
		}
	}
	if want["same-public"] == "" || !strings.HasPrefix(want["same-public"], "public") || !strings.HasPrefix(want["same-org"], "org") {
		t.Errorf("live verdicts are not what the fixture means: %v", want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestIaCOnlyAnUnreadModule: a tree whose only Lambda code is a call to
// a registry module terraform init has not installed is not an input
// error (the file reads); the call is listed as unknown and the run is
// incomplete, never a pass.
func TestIaCOnlyAnUnreadModule(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"infra/main.tf": "module \"fn\" {\n  source = \"terraform-aws-modules/lambda/aws\"\n  create_lambda_function_url = true\n  authorization_type = \"NONE\"\n}\n",
	})
	code, out, errOut := runCLI(t, "", "iac", "infra", "--account", "111122223333", "-o", "json")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != 1 || d.Resources[0].Exposure != "unknown" || d.Resources[0].Source == nil || d.Resources[0].Source.Line != 1 ||
		d.Resources[0].Source.File != "infra/main.tf" || d.Resources[0].ARN != "infra/main.tf#module.fn" {
		t.Errorf("resources = %+v", d.Resources)
	}
}
