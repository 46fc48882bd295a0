resource "aws_lambda_function" "fn" {
  for_each      = toset(["opened", "closed"])
  function_name = "ov-${each.key}"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "opened" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["opened"].function_name
  principal     = "111122223333"
}

resource "aws_lambda_permission" "closed" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["closed"].function_name
  principal     = "*"
}
