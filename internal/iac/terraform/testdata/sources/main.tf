# Source resources the configuration creates itself, as the AWS provider
# documentation's aws_lambda_permission examples write them.
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "other"
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::999988887777:role/deploy"
  }
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(["api", "http", "sns", "s3", "rule", "role", "other"])
  function_name = "src-${each.key}"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_api_gateway_rest_api" "api" {
  name = "api"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowAPIGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["api"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.api.execution_arn}/*/*"
}

resource "aws_apigatewayv2_api" "http" {
  name          = "http"
  protocol_type = "HTTP"
}

# The API's own arn names no account: the grant is not pinned.
resource "aws_lambda_permission" "http" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["http"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = aws_apigatewayv2_api.http.arn
}

resource "aws_sns_topic" "t" {
  name = "topic"
}

resource "aws_lambda_permission" "sns" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["sns"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.t.arn
}

resource "aws_s3_bucket" "b" {
  bucket = "uploads"
}

resource "aws_lambda_permission" "s3" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["s3"].arn
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.b.arn
}

resource "aws_cloudwatch_event_rule" "every" {
  name                = "every-five"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_lambda_permission" "rule" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["rule"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.every.arn
}

resource "aws_iam_role" "caller" {
  name               = "caller"
  assume_role_policy = "{}"
}

resource "aws_lambda_permission" "role" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["role"].function_name
  principal     = aws_iam_role.caller.arn
}

# A topic in an account the provider assumes a role into: not known.
resource "aws_sns_topic" "elsewhere" {
  provider = aws.other
  name     = "elsewhere"
}

resource "aws_lambda_permission" "other" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["other"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.elsewhere.arn
}

# The REST API integration example: the path is computed by AWS, the
# account is fixed by the execution_arn before it.
resource "aws_api_gateway_resource" "r" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  parent_id   = aws_api_gateway_rest_api.api.root_resource_id
  path_part   = "items"
}

resource "aws_api_gateway_method" "m" {
  rest_api_id   = aws_api_gateway_rest_api.api.id
  resource_id   = aws_api_gateway_resource.r.id
  http_method   = "GET"
  authorization = "NONE"
}

resource "aws_lambda_function" "path" {
  function_name = "src-path"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "path" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.path.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.api.execution_arn}/*/${aws_api_gateway_method.m.http_method}${aws_api_gateway_resource.r.path}"
}

# Only the resource part is known: nothing pins the account.
resource "aws_lambda_function" "nopin" {
  function_name = "src-nopin"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "nopin" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.nopin.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "arn:aws:execute-api:eu-west-1:${aws_api_gateway_resource.r.path}"
}

# AWS provider v6: a resource's own region argument.
resource "aws_lambda_function" "tokyo" {
  region        = "ap-northeast-1"
  function_name = "src-tokyo"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_api_gateway_deployment" "d" {
  rest_api_id = aws_api_gateway_rest_api.api.id
}

resource "aws_api_gateway_stage" "prod" {
  rest_api_id   = aws_api_gateway_rest_api.api.id
  deployment_id = aws_api_gateway_deployment.d.id
  stage_name    = "prod"
}

resource "aws_lambda_function" "stage" {
  function_name = "src-stage"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "stage" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.stage.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_stage.prod.execution_arn}/GET/items"
}
