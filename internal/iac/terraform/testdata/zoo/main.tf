# Fixtures written from the AWS provider documentation examples, one
# function per exposure class. The expected verdicts are in
# internal/iac/iac_test.go.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

variable "org_id" {
  default = "o-abc123def4"
}

variable "partner_accounts" {
  type    = map(string)
  default = { acme = "444455556666", globex = "777788889999" }
}

variable "deploy_role" {
  type = string
}

locals {
  prefix   = "zoo"
  owner_id = data.aws_caller_identity.current.account_id
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(["public", "org", "s3ok", "s3open", "partner", "alexa", "url", "dormant", "cors", "rp_org", "rp_public", "tpl", "doc", "events_foreign", "alias_only", "unknown"])
  function_name = "${local.prefix}-${each.key}"
  role          = "arn:aws:iam::${local.owner_id}:role/lambda"
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "lambda.zip"
}

# bad: public, no condition (CKV_AWS_301's example)
resource "aws_lambda_permission" "public" {
  statement_id  = "AllowEveryone"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["public"].function_name
  principal     = "*"
}

# good: everyone in my organization
resource "aws_lambda_permission" "org" {
  statement_id     = "AllowOrg"
  action           = "lambda:InvokeFunction"
  function_name    = aws_lambda_function.fn["org"].arn
  principal        = "*"
  principal_org_id = var.org_id
}

# good: S3 pinned to the owner (provider docs, "With S3")
resource "aws_lambda_permission" "s3ok" {
  statement_id   = "AllowExecutionFromS3Bucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.fn["s3ok"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:aws:s3:::uploads-bucket"
  source_account = local.owner_id
}

# bad: S3 without source_account (the bucket name can be re-registered)
resource "aws_lambda_permission" "s3open" {
  statement_id  = "AllowExecutionFromS3Bucket"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["s3open"].function_name
  principal     = "s3.amazonaws.com"
  source_arn    = "arn:aws:s3:::uploads-bucket"
}

# bad: partner accounts (for_each over a map)
resource "aws_lambda_permission" "partner" {
  for_each      = var.partner_accounts
  statement_id  = "Allow-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["partner"].function_name
  principal     = each.value
}

# good: one Alexa skill
resource "aws_lambda_permission" "alexa" {
  statement_id       = "AllowAlexa"
  action             = "lambda:InvokeFunction"
  function_name      = aws_lambda_function.fn["alexa"].function_name
  principal          = "alexa-appkit.amazon.com"
  event_source_token = "amzn1.ask.skill.1234"
}

# bad: a public function URL (provider docs: aws_lambda_function_url)
resource "aws_lambda_function_url" "url" {
  function_name      = aws_lambda_function.fn["url"].function_name
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "url" {
  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.fn["url"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

# info: a NONE URL with no grant is one statement away from public
resource "aws_lambda_function_url" "dormant" {
  function_name      = aws_lambda_function.fn["dormant"].function_name
  authorization_type = "NONE"
}

# medium: credentials from any origin
resource "aws_lambda_function_url" "cors" {
  function_name      = aws_lambda_function.fn["cors"].function_name
  authorization_type = "AWS_IAM"
  cors {
    allow_credentials = true
    allow_origins     = ["*"]
    allow_methods     = ["GET", "POST"]
  }
}

# good: full policy, everyone allowed but denied outside the organization
resource "aws_lambda_resource_policy" "rp_org" {
  function_name = aws_lambda_function.fn["rp_org"].function_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowAll"
        Effect    = "Allow"
        Principal = "*"
        Action    = "lambda:InvokeFunction"
        Resource  = aws_lambda_function.fn["rp_org"].arn
      },
      {
        Sid       = "DenyOutsideOrg"
        Effect    = "Deny"
        Principal = "*"
        Action    = "lambda:*"
        Resource  = "${aws_lambda_function.fn["rp_org"].arn}*"
        Condition = { StringNotEquals = { "aws:PrincipalOrgID" = var.org_id } }
      }
    ]
  })
}

# bad: full policy in a heredoc, public read of the code
resource "aws_lambda_resource_policy" "rp_public" {
  function_name = aws_lambda_function.fn["rp_public"].function_name
  policy        = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{
        "Sid": "ReadCode",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "lambda:GetFunction",
        "Resource": "arn:aws:lambda:us-east-1:111122223333:function:zoo-rp_public"
      }]
    }
  EOT
}

# bad: a template with a literal foreign account
resource "aws_lambda_resource_policy" "tpl" {
  function_name = aws_lambda_function.fn["tpl"].function_name
  policy = templatefile("${path.module}/policies/invoke.json.tpl", {
    function_arn = aws_lambda_function.fn["tpl"].arn
    account      = "444455556666"
  })
}

# good: aws_iam_policy_document pinned to the owner
data "aws_iam_policy_document" "doc" {
  statement {
    sid       = "FromMyEvents"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.fn["doc"].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_lambda_resource_policy" "doc" {
  function_name = aws_lambda_function.fn["doc"].function_name
  policy        = data.aws_iam_policy_document.doc.json
}

# bad: an EventBridge rule of another account can trigger it
resource "aws_lambda_permission" "events_foreign" {
  statement_id  = "AllowForeignRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["events_foreign"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = "arn:aws:events:us-east-1:444455556666:rule/nightly"
}

# bad: public on the alias only (invisible to an unqualified GetPolicy)
resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.fn["alias_only"].function_name
  function_version = "$LATEST"
}

resource "aws_lambda_permission" "alias_only" {
  statement_id  = "AllowEveryoneLive"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["alias_only"].function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "*"
}

# unknown: a variable without default
resource "aws_lambda_permission" "unknown" {
  statement_id  = "AllowDeployRole"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["unknown"].function_name
  principal     = var.deploy_role
}

# layers (provider docs: aws_lambda_layer_version_permission)
resource "aws_lambda_layer_version" "shared" {
  for_each   = toset(["public", "org", "partner"])
  layer_name = "${local.prefix}-${each.key}-libs"
  filename   = "layer.zip"
}

resource "aws_lambda_layer_version_permission" "public" {
  layer_name     = aws_lambda_layer_version.shared["public"].layer_arn
  version_number = aws_lambda_layer_version.shared["public"].version
  principal      = "*"
  action         = "lambda:GetLayerVersion"
  statement_id   = "all"
}

resource "aws_lambda_layer_version_permission" "org" {
  layer_name      = aws_lambda_layer_version.shared["org"].layer_name
  version_number  = aws_lambda_layer_version.shared["org"].version
  principal       = "*"
  organization_id = var.org_id
  action          = "lambda:GetLayerVersion"
  statement_id    = "org"
}

resource "aws_lambda_layer_version_permission" "partner" {
  layer_name     = aws_lambda_layer_version.shared["partner"].layer_arn
  version_number = aws_lambda_layer_version.shared["partner"].version
  principal      = "444455556666"
  action         = "lambda:GetLayerVersion"
  statement_id   = "partner"
}

# a local module, followed with its inputs
module "api" {
  source    = "./modules/api"
  name      = "${local.prefix}-module"
  principal = "*"
  org_id    = var.org_id
}

module "api_open" {
  source    = "./modules/api"
  name      = "${local.prefix}-module-open"
  principal = "*"
}
