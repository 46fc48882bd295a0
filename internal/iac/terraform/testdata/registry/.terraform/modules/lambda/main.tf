variable "function_name" {
  type = string
}

variable "authorization_type" {
  type    = string
  default = "AWS_IAM"
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_function_url" "this" {
  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.authorization_type
}

resource "aws_lambda_permission" "url" {
  count                  = var.authorization_type == "NONE" ? 1 : 0
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

module "alias" {
  source        = "terraform-aws-modules/lambda/aws//modules/alias"
  function_name = aws_lambda_function.this.function_name
}
