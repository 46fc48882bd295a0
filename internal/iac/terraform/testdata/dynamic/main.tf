# dynamic blocks are expanded as Terraform does; one whose for_each the
# code does not fix leaves its resource unknown.
variable "cors" {
  default = [{ origins = ["*"], creds = true }]
}

variable "origins" {
  type = list(string)
}

variable "callers" {
  default = { everyone = "*" }
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(["cors", "unresolved", "doc"])
  function_name = "dyn-${each.key}"
  role          = "arn:aws:iam::111122223333:role/r"
  filename      = "x.zip"
}

resource "aws_lambda_function_url" "cors" {
  function_name      = aws_lambda_function.fn["cors"].function_name
  authorization_type = "AWS_IAM"
  dynamic "cors" {
    for_each = var.cors
    iterator = c
    content {
      allow_origins     = c.value.origins
      allow_credentials = c.value.creds
    }
  }
}

resource "aws_lambda_function_url" "unresolved" {
  function_name      = aws_lambda_function.fn["unresolved"].function_name
  authorization_type = "AWS_IAM"
  dynamic "cors" {
    for_each = var.origins
    content {
      allow_origins = [cors.value]
    }
  }
}

data "aws_iam_policy_document" "doc" {
  dynamic "statement" {
    for_each = var.callers
    content {
      sid     = statement.key
      actions = ["lambda:InvokeFunction"]
      principals {
        type        = "AWS"
        identifiers = [statement.value]
      }
      resources = [aws_lambda_function.fn["doc"].arn]
    }
  }
}

resource "aws_lambda_resource_policy" "doc" {
  function_name = aws_lambda_function.fn["doc"].function_name
  policy        = data.aws_iam_policy_document.doc.json
}
