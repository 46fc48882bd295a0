package iac_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// The third round of outside testing: cases written the way the
// provider docs, the CloudFormation/SAM docs and CDK's synthesis write
// them.

// TestExecutionRoleNotJudged: the execution role (and the runtime) do
// not decide who can reach a function, so a role passed in as a
// variable without default, read by a data source, imported, or created
// by the same plan (after_unknown) leaves the function judged by its
// grants, not unknown.
func TestExecutionRoleNotJudged(t *testing.T) {
	fsys := fstest.MapFS{
		"tf/main.tf": {Data: []byte(`variable "role_arn" {}
variable "runtime" {}
data "aws_iam_role" "shared" { name = "shared" }
resource "aws_lambda_function" "var_role" {
  function_name = "var-role"
  role          = var.role_arn
  runtime       = var.runtime
  handler       = "index.handler"
  filename      = "x.zip"
}
resource "aws_lambda_function" "data_role" {
  function_name = "data-role"
  role          = data.aws_iam_role.shared.arn
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "open" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.data_role.function_name
  principal     = "*"
}
`)},
		"cfn/template.yaml": {Data: []byte(`AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  RoleArn:
    Type: String
Resources:
  ParamRole:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: param-role
      Role: !Ref RoleArn
      Runtime: python3.12
      Handler: index.handler
      Code: {ZipFile: x}
  ImportedRole:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: imported-role
      Role: !ImportValue SharedLambdaRole
      Runtime: python3.12
      Handler: index.handler
      Code: {ZipFile: x}
  Partner:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref ImportedRole
      Action: lambda:InvokeFunction
      Principal: '444455556666'
`)},
		"plan/plan.json": {Data: []byte(`{
  "format_version": "1.2",
  "resource_changes": [
    {"address": "aws_iam_role.lambda", "mode": "managed", "type": "aws_iam_role", "name": "lambda",
      "change": {"actions": ["create"], "after": {"name": "lambda"}, "after_unknown": {"arn": true}}},
    {"address": "aws_lambda_function.api", "mode": "managed", "type": "aws_lambda_function", "name": "api",
      "change": {"actions": ["create"], "after": {"function_name": "plan-new-role", "runtime": "python3.12"},
        "after_unknown": {"arn": true, "role": true, "version": true}}}
  ],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_lambda_function.api", "expressions": {"role": {"references": ["aws_iam_role.lambda.arn", "aws_iam_role.lambda"]}}}
  ]}}
}`)},
	}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:var-role":      {"private", 4, ""},
		"function:data-role":     {"public", 11, "lambda-public-access"},
		"function:param-role":    {"private", 6, ""},
		"function:imported-role": {"cross-account", 14, "lambda-cross-account-access"},
		"function:plan-new-role": {"private", 0, ""},
	})
}

// TestPlanForgetStaysDeployed: a removed block with lifecycle { destroy =
// false } plans the action "forget": Terraform drops the permission from
// its state but leaves it in AWS, so the grant it made is still judged
// (from its before values); a plain delete is not.
func TestPlanForgetStaysDeployed(t *testing.T) {
	fsys := fstest.MapFS{"plan.json": {Data: []byte(`{
  "format_version": "1.2",
  "resource_changes": [
    {"address": "aws_lambda_permission.forgotten", "mode": "managed", "type": "aws_lambda_permission", "name": "forgotten",
      "change": {"actions": ["forget"], "before": {"statement_id": "Open", "action": "lambda:InvokeFunction", "principal": "*", "function_name": "forgotten-fn"}, "after": null}},
    {"address": "aws_lambda_permission.deleted", "mode": "managed", "type": "aws_lambda_permission", "name": "deleted",
      "change": {"actions": ["delete"], "before": {"statement_id": "Open", "action": "lambda:InvokeFunction", "principal": "*", "function_name": "deleted-fn"}, "after": null}}
  ]
}`)}}
	got := judge(t, fsys, "plan.json", rules.Trust{})
	check(t, got, map[string]want{
		"function:forgotten-fn": {"public", 0, "lambda-public-access"},
	})
}

// TestStatementIDNotJudged: a statement id built from a variable
// ("AllowExecutionFromCloudWatch-${var.env}", the provider docs' example
// with an environment suffix) or computed at apply (statement_id_prefix
// in a plan) names the grant without changing who it reaches: the
// function is judged by the grant.
func TestStatementIDNotJudged(t *testing.T) {
	fsys := fstest.MapFS{
		"tf/main.tf": {Data: []byte(`variable "env" {}
resource "aws_lambda_function" "a" {
  function_name = "sid-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "events" {
  statement_id  = "AllowExecutionFromCloudWatch-${var.env}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.a.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.r.arn
}
resource "aws_cloudwatch_event_rule" "r" {
  name                = "every-5"
  schedule_expression = "rate(5 minutes)"
}
resource "aws_lambda_layer_version" "l" {
  layer_name = "sid-layer"
  filename   = "l.zip"
}
resource "aws_lambda_layer_version_permission" "l" {
  layer_name     = aws_lambda_layer_version.l.layer_arn
  version_number = aws_lambda_layer_version.l.version
  principal      = "444455556666"
  action         = "lambda:GetLayerVersion"
  statement_id   = "share-${var.env}"
}
`)},
		"plan/plan.json": {Data: []byte(`{
  "format_version": "1.2",
  "resource_changes": [
    {"address": "aws_lambda_permission.p", "mode": "managed", "type": "aws_lambda_permission", "name": "p",
      "change": {"actions": ["create"], "after": {"statement_id_prefix": "AllowPublic-", "action": "lambda:InvokeFunction", "principal": "*", "function_name": "prefix-fn"},
        "after_unknown": {"statement_id": true, "id": true}}},
    {"address": "aws_lambda_permission.q", "mode": "managed", "type": "aws_lambda_permission", "name": "q",
      "change": {"actions": ["create"], "after": {"statement_id_prefix": "AllowS3-", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "source_account": "111122223333", "function_name": "prefix-private"},
        "after_unknown": {"statement_id": true, "id": true}}}
  ]
}`)},
	}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:sid-fn":            {"private", 2, ""},
		"layer:sid-layer:$PUBLISHED": {"cross-account", 20, "lambda-cross-account-access"},
		"function:prefix-fn":         {"public", 0, "lambda-public-access"},
		"function:prefix-private":    {"private", 0, ""},
	})
	if r := got["function:prefix-fn"]; len(r.Unchecked) > 0 {
		t.Errorf("prefix-fn partly checked: %v", r.Unchecked)
	}
}

// TestUninstalledModuleUnknown: the registry module the Terraform docs
// use for Lambda (terraform-aws-modules/lambda/aws), called with a public
// function URL, in a tree terraform init has not run in: its function,
// URL and permissions cannot be read, so the call is listed as unknown at
// its line instead of the tree passing with nothing in it. A module
// called by a module the tree does read is listed once per written call.
func TestUninstalledModuleUnknown(t *testing.T) {
	fsys := fstest.MapFS{
		"main.tf": {Data: []byte(`module "lambda_function" {
  source  = "terraform-aws-modules/lambda/aws"
  version = "~> 7.0"

  function_name              = "my-lambda1"
  handler                    = "index.lambda_handler"
  runtime                    = "python3.12"
  create_lambda_function_url = true
  authorization_type         = "NONE"
}

module "svc" {
  count  = 2
  source = "./svc"
}
`)},
		"svc/main.tf": {Data: []byte(`module "inner" {
  source = "git::https://example.com/lambda.git?ref=v1"
}
`)},
	}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"main.tf#module.lambda_function":         {"unknown", 1, ""},
		"svc/main.tf#module.svc[0].module.inner": {"unknown", 1, ""},
	})
	if r := got["main.tf#module.lambda_function"]; !strings.Contains(r.UnknownReason, "terraform init") {
		t.Errorf("unknown reason should say to run terraform init: %s", r.UnknownReason)
	}
}

// TestGrantOnUnresolvedFunction: a permission on a function the code
// looks up (data "aws_lambda_function", !Ref of a parameter without
// default, a plan's after_unknown function_name) is listed under its
// address. Principal "*" with no condition is public wherever it lands,
// so it is public, partly checked, naming what was not resolved; any
// other grant (a named account, a service pinned to the owner) depends
// on the function and stays unknown.
func TestGrantOnUnresolvedFunction(t *testing.T) {
	fsys := fstest.MapFS{
		"tf/main.tf": {Data: []byte(`data "aws_lambda_function" "existing" {
  function_name = "legacy"
}
resource "aws_lambda_permission" "public" {
  action        = "lambda:InvokeFunction"
  function_name = data.aws_lambda_function.existing.function_name
  principal     = "*"
}
resource "aws_lambda_permission" "s3" {
  action         = "lambda:InvokeFunction"
  function_name  = data.aws_lambda_function.existing.arn
  principal      = "s3.amazonaws.com"
  source_account = "111122223333"
}
variable "who" {}
resource "aws_lambda_permission" "both" {
  action        = "lambda:InvokeFunction"
  function_name = data.aws_lambda_function.existing.arn
  principal     = var.who
}
`)},
		"cfn/template.yaml": {Data: []byte(`AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  FunctionName:
    Type: String
Resources:
  PublicInvoke:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref FunctionName
      Action: lambda:InvokeFunction
      Principal: '*'
  PartnerInvoke:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !ImportValue SharedFn
      Action: lambda:InvokeFunction
      Principal: '444455556666'
`)},
		"plan/plan.json": {Data: []byte(`{"format_version": "1.2", "resource_changes": [
  {"address": "aws_lambda_permission.p", "mode": "managed", "type": "aws_lambda_permission", "name": "p",
    "change": {"actions": ["create"], "after": {"statement_id": "Pub", "action": "lambda:InvokeFunction", "principal": "*"}, "after_unknown": {"function_name": true}}}
]}`)},
	}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:aws_lambda_permission.public": {"public", 4, "lambda-public-access"},
		"function:aws_lambda_permission.s3":     {"unknown", 9, ""},
		"function:aws_lambda_permission.both":   {"unknown", 16, ""},
		"function:PublicInvoke":                 {"public", 6, "lambda-public-access"},
		"function:PartnerInvoke":                {"unknown", 12, ""},
		"function:aws_lambda_permission.p":      {"public", 2, "lambda-public-access"},
	})
	if r := got["function:aws_lambda_permission.public"]; !strings.Contains(strings.Join(r.Unchecked, " "), "data.aws_lambda_function.existing") {
		t.Errorf("the unchecked note should name the unresolved function: %v", r.Unchecked)
	}
	if r := got["function:aws_lambda_permission.both"]; !strings.Contains(r.UnknownReason, "var.who") || !strings.Contains(r.UnknownReason, "data.aws_lambda_function") {
		t.Errorf("the unknown reason should name both unresolved values: %s", r.UnknownReason)
	}
}

// TestLayerGrantOnUnresolvedLayer: the same for a layer permission on a
// layer the template takes as a parameter or imports: Principal "*"
// without an organization shares it with every account whichever layer
// it is; an organization grant depends on the layer and stays unknown.
func TestLayerGrantOnUnresolvedLayer(t *testing.T) {
	fsys := fstest.MapFS{
		"template.yaml": {Data: []byte(`AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  LayerArn:
    Type: String
Resources:
  Pub:
    Type: AWS::Lambda::LayerVersionPermission
    Properties:
      Action: lambda:GetLayerVersion
      LayerVersionArn: !Ref LayerArn
      Principal: '*'
  Org:
    Type: AWS::Lambda::LayerVersionPermission
    Properties:
      Action: lambda:GetLayerVersion
      LayerVersionArn: !ImportValue SharedLayer
      Principal: '*'
      OrganizationId: o-abc123def4
`)},
		"tf/main.tf": {Data: []byte(`data "aws_lambda_layer_version" "shared" {
  layer_name = "shared"
}
resource "aws_lambda_layer_version_permission" "all" {
  layer_name     = data.aws_lambda_layer_version.shared.layer_arn
  version_number = data.aws_lambda_layer_version.shared.version
  principal      = "*"
  action         = "lambda:GetLayerVersion"
  statement_id   = "all"
}
`)},
	}
	got := judge(t, fsys, ".", rules.Trust{OrgID: "o-abc123def4"})
	check(t, got, map[string]want{
		"layer:Pub:$PUBLISHED": {"public", 6, "lambda-layer-public"},
		"layer:Org:$PUBLISHED": {"unknown", 12, ""},
		// The version is unresolved with the layer: it names which
		// version, not who can read it.
		"layer:aws_lambda_layer_version_permission.all:$PUBLISHED": {"public", 4, "lambda-layer-public"},
	})
}

// TestTerraformCoalesceAndReplace: Terraform's coalesce skips empty
// strings (coalesce("", "b") is "b", the language docs' example), so a
// principal defaulted through it is read, not lost; Terraform's replace
// takes a /regular expression/, so a name built with it is the name
// Terraform builds.
func TestTerraformCoalesceAndReplace(t *testing.T) {
	fsys := fstest.MapFS{"main.tf": {Data: []byte(`variable "principal" { default = "" }
variable "source_account" { default = "" }
variable "raw_name" { default = "Orders API" }
data "aws_caller_identity" "current" {}
locals {
  name = lower(replace(var.raw_name, "/[^a-zA-Z0-9]+/", "-"))
}
resource "aws_lambda_function" "f" {
  function_name = local.name
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "default_public" {
  action        = "lambda:InvokeFunction"
  function_name = "orders-api"
  principal     = coalesce(var.principal, "*")
}
resource "aws_lambda_function" "g" {
  function_name = "s3-target"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "s3" {
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.g.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:aws:s3:::uploads"
  source_account = coalesce(var.source_account, data.aws_caller_identity.current.account_id)
}
`)}}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:orders-api": {"public", 8, "lambda-public-access"},
		"function:s3-target":  {"private", 20, ""},
	})
}

// TestCallerIdentityOfAnotherProvider: data "aws_caller_identity" read
// through a provider that assumes a role (a tooling or pipeline account)
// is that account's identity, not the deploying one's: a grant to its
// account_id is not known to be private. The default provider's is the
// deploying account.
func TestCallerIdentityOfAnotherProvider(t *testing.T) {
	fsys := fstest.MapFS{"main.tf": {Data: []byte(`provider "aws" {
  region = "us-east-1"
}
provider "aws" {
  alias  = "tooling"
  region = "us-west-2"
  assume_role {
    role_arn = "arn:aws:iam::999988887777:role/Terraform"
  }
}
data "aws_caller_identity" "current" {}
data "aws_caller_identity" "tooling" {
  provider = aws.tooling
}
resource "aws_lambda_function" "own" {
  function_name = "own-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "own" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.own.function_name
  principal     = data.aws_caller_identity.current.account_id
}
resource "aws_lambda_function" "tooling" {
  function_name = "tooling-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "tooling" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.tooling.function_name
  principal     = data.aws_caller_identity.tooling.account_id
}
`)}}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:own-fn":     {"private", 15, ""},
		"function:tooling-fn": {"unknown", 34, ""},
	})
	if r := got["function:tooling-fn"]; !strings.Contains(r.UnknownReason, "assumes a role") {
		t.Errorf("the unknown reason should say the provider assumes a role: %s", r.UnknownReason)
	}
}

// TestProviderOfOtherProfile: an aliased provider signing in with another
// profile than the default one (or with static keys) may be another
// account, as one assuming a role may: its caller identity and the ARNs
// of its resources are not the deploying account's. An alias that only
// changes the Region (the us-east-1 provider of Lambda@Edge and ACM,
// with the same profile) is the same account.
func TestProviderOfOtherProfile(t *testing.T) {
	fsys := fstest.MapFS{"main.tf": {Data: []byte(`variable "profile" { default = "dev" }
provider "aws" {
  region  = "eu-west-1"
  profile = var.profile
}
provider "aws" {
  alias   = "us_east_1"
  region  = "us-east-1"
  profile = var.profile
}
provider "aws" {
  alias   = "shared"
  region  = "eu-west-1"
  profile = "shared-services"
}
data "aws_caller_identity" "shared" {
  provider = aws.shared
}
resource "aws_sns_topic" "edge" {
  provider = aws.us_east_1
  name     = "edge"
}
resource "aws_sns_topic" "shared" {
  provider = aws.shared
  name     = "shared"
}
resource "aws_lambda_function" "edge" {
  provider      = aws.us_east_1
  function_name = "edge-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "edge" {
  provider      = aws.us_east_1
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.edge.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.edge.arn
}
resource "aws_lambda_function" "f" {
  function_name = "shared-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "topic" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.f.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.shared.arn
}
resource "aws_lambda_function" "g" {
  function_name = "shared-caller"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "caller" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.g.function_name
  principal     = data.aws_caller_identity.shared.account_id
}
`)}}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:edge-fn":       {"private", 27, ""},
		"function:shared-fn":     {"unknown", 0, ""},
		"function:shared-caller": {"unknown", 0, ""},
	})
}

// TestTerraformVariableTypes: a variable's value takes its type
// constraint as Terraform applies it: optional() attributes an object
// leaves out (or sets to null) take their default, so a map of triggers
// with optional(string, OWNER) source_account reads each grant as
// Terraform will create it; lookup takes an object and a null default.
func TestTerraformVariableTypes(t *testing.T) {
	fsys := fstest.MapFS{"main.tf": {Data: []byte(`variable "triggers" {
  type = map(object({
    principal      = string
    source_arn     = optional(string)
    source_account = optional(string, "111122223333")
  }))
  default = {
    s3  = { principal = "s3.amazonaws.com", source_arn = "arn:aws:s3:::bkt" }
    any = { principal = "*", source_account = null }
  }
}
variable "open" {
  type = map(object({
    principal = string
    org       = optional(string)
  }))
  default = {
    pub = { principal = "*" }
  }
}
resource "aws_lambda_function" "f" {
  function_name = "typed-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "t" {
  for_each       = var.triggers
  statement_id   = "Allow-${each.key}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.f.function_name
  principal      = each.value.principal
  source_arn     = each.value.source_arn
  source_account = each.value.source_account
}
resource "aws_lambda_function" "g" {
  function_name = "typed-open"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "g" {
  for_each         = var.open
  action           = "lambda:InvokeFunction"
  function_name    = aws_lambda_function.g.function_name
  principal        = each.value.principal
  principal_org_id = lookup(each.value, "org", null)
}
`)}}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:typed-fn":   {"private", 21, ""},
		"function:typed-open": {"public", 37, "lambda-public-access"},
	})
}

// TestCloudFormationSourceArnKnownPrefix: a SourceArn whose account is
// fixed but whose end only a deployment knows (an API id passed as a
// parameter, an imported API id inside CDK's Fn::Join, a topic name
// parameter in a SAM SNS event) is read as its known part followed by *,
// as the Terraform reader reads an execution_arn prefix: the account is
// what it pins. An unknown before the account (the Region from a
// parameter) leaves it unknown.
func TestCloudFormationSourceArnKnownPrefix(t *testing.T) {
	fsys := fstest.MapFS{"template.yaml": {Data: []byte(`AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  ApiId:
    Type: String
  Region:
    Type: String
  TopicName:
    Type: String
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: sub-own
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/x
      Code: {ZipFile: x}
  ApiPerm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*/GET/hello"
  JoinPerm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":execute-api:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":", {"Fn::ImportValue": "ApiId"}, "/prod/*/*"]]}
  Foreign:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: sub-foreign
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/x
      Code: {ZipFile: x}
  ForeignPerm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Foreign
      Action: lambda:InvokeFunction
      Principal: sns.amazonaws.com
      SourceArn: !Sub "arn:aws:sns:us-east-1:444455556666:${TopicName}"
  Early:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: sub-early
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/x
      Code: {ZipFile: x}
  EarlyPerm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Early
      Action: lambda:InvokeFunction
      Principal: events.amazonaws.com
      SourceArn: !Sub "arn:aws:events:${Region}:${AWS::AccountId}:rule/x"
  Subscriber:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: sub-sam
      Runtime: python3.12
      Handler: index.handler
      CodeUri: src/
      Events:
        Topic:
          Type: SNS
          Properties:
            Topic: !Sub "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:${TopicName}"
`)}}
	got := judge(t, fsys, "template.yaml", rules.Trust{})
	check(t, got, map[string]want{
		"function:sub-own":     {"private", 11, ""},
		"function:sub-foreign": {"cross-account", 33, "lambda-cross-account-access"},
		"function:sub-early":   {"unknown", 0, ""},
		"function:sub-sam":     {"private", 0, ""},
	})
}

// TestTerraformFormatKnownPrefix: format() with an argument only known
// later keeps the text before that argument's verb, as a "${...}"
// template does, so a source ARN built with it still pins the account it
// fixes; an unknown before the account leaves it unknown.
func TestTerraformFormatKnownPrefix(t *testing.T) {
	fsys := fstest.MapFS{"main.tf": {Data: []byte(`variable "topic" {}
variable "region" {}
data "aws_caller_identity" "current" {}
resource "aws_lambda_function" "f" {
  function_name = "fmt-fn"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "sns" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.f.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = format("arn:aws:sns:us-east-1:%s:%s", data.aws_caller_identity.current.account_id, var.topic)
}
resource "aws_lambda_function" "g" {
  function_name = "fmt-foreign"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "g" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.g.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = format("arn:aws:sns:%s:%s:%s", "us-east-1", "444455556666", var.topic)
}
resource "aws_lambda_function" "h" {
  function_name = "fmt-early"
  role          = "arn:aws:iam::111122223333:role/x"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "x.zip"
}
resource "aws_lambda_permission" "h" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.h.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = format("arn:aws:sns:%s:%s:topic", var.region, data.aws_caller_identity.current.account_id)
}
`)}}
	got := judge(t, fsys, ".", rules.Trust{})
	check(t, got, map[string]want{
		"function:fmt-fn":      {"private", 4, ""},
		"function:fmt-foreign": {"cross-account", 17, "lambda-cross-account-access"},
		"function:fmt-early":   {"unknown", 0, ""},
	})
}
