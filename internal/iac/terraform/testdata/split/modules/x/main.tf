resource "aws_lambda_function" "m" { function_name = "modx" }
