resource "aws_lambda_permission" "p" {
  function_name = aws_lambda_function.f.function_name
  action = "lambda:InvokeFunction"
  principal = "*"
}
