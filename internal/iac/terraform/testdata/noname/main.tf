# The function's name is a variable without default: its grants refer to
# it through the resource, so they are judged whatever the name will be.
variable "name" {
  type = string
}

resource "aws_lambda_function" "open" {
  function_name = var.name
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "open" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.open.function_name
  principal     = "*"
}

resource "aws_lambda_function" "quiet" {
  function_name = "${var.name}-quiet"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}
