variable "function_name" {
  type = string
}

resource "aws_lambda_alias" "this" {
  name             = "live"
  function_name    = var.function_name
  function_version = "$LATEST"
}

resource "aws_lambda_permission" "alias" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_alias.this.arn
  principal     = "444455556666"
}
