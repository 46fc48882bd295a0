variable "name" {
  type = string
}

variable "principal" {
  type = string
}

variable "org_id" {
  type    = string
  default = null
}

resource "aws_lambda_function" "this" {
  function_name = var.name
  role          = "arn:aws:iam::111122223333:role/lambda"
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "lambda.zip"
}

resource "aws_lambda_permission" "invoke" {
  statement_id     = "Invoke"
  action           = "lambda:InvokeFunction"
  function_name    = aws_lambda_function.this.function_name
  principal        = var.principal
  principal_org_id = var.org_id
}
