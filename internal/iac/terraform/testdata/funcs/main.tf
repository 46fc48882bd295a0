# sensitive(), alltrue, anytrue and sum resolve as Terraform evaluates them.
variable "secret_principal" {
  default = "*"
}
locals {
  enabled = alltrue([true, anytrue([false, true])]) && sum([1, 2]) == 3
}
resource "aws_lambda_function" "f" {
  function_name = "fn-funcs"
  role = "r"
}
resource "aws_lambda_permission" "p" {
  count = local.enabled ? 1 : 0
  action = "lambda:InvokeFunction"
  function_name = aws_lambda_function.f.function_name
  principal = sensitive(var.secret_principal)
}
