# Variables without a default, valued by the files Terraform loads by
# itself: terraform.tfvars, then *.auto.tfvars (later wins).
variable "partner" {
  type = string
}

variable "principal" {
  type    = string
  default = "111122223333"
}

variable "unset" {
  type = string
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(["partner", "open", "unset"])
  function_name = "vars-${each.key}"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_permission" "partner" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["partner"].function_name
  principal     = var.partner
}

resource "aws_lambda_permission" "open" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["open"].function_name
  principal     = var.principal
}

resource "aws_lambda_permission" "unset" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["unset"].function_name
  principal     = var.unset
}
