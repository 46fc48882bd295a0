provider "aws" {
  region = var.region
}

variable "region" {
  default = "us-east-1"
}

variable "org_id" {
  type    = string
  default = "o-abc123def4"
}

variable "partner" {
  type = string
}

data "aws_caller_identity" "current" {}

locals {
  name = "intake"
}

resource "aws_lambda_function" "intake" {
  function_name = "${local.name}-api"
  role          = "arn:aws:iam::111122223333:role/intake"
  runtime       = "python3.12"
  handler       = "main.handler"
  filename      = "fn.zip"
}

# Bad: anyone can invoke, no condition.
resource "aws_lambda_permission" "public" {
  statement_id  = "AllowPublic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.intake.function_name
  principal     = "*"
}

# Good: restricted to the organization.
resource "aws_lambda_permission" "org" {
  statement_id     = "AllowOrg"
  action           = "lambda:InvokeFunction"
  function_name    = aws_lambda_function.intake.arn
  principal        = "*"
  principal_org_id = var.org_id
}

resource "aws_lambda_permission" "s3" {
  count          = 2
  statement_id   = "AllowS3-${count.index}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.intake.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:aws:s3:::uploads-${count.index}"
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_lambda_permission" "partner" {
  statement_id  = "Partner"
  action        = "lambda:InvokeFunction"
  function_name = "other-fn"
  principal     = var.partner
}
