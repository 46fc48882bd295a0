resource "aws_lambda_function" "f" {
  function_name = "dup"
  role = "r"
}
