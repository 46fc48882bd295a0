# A registry module terraform init installed: read from .terraform/modules.
module "lambda" {
  source  = "terraform-aws-modules/lambda/aws"
  version = "7.0.0"

  function_name      = "reg-fn"
  authorization_type = "NONE"
}

module "absent" {
  source = "git::https://example.com/lambda.git"
}

resource "aws_lambda_permission" "absent" {
  action        = "lambda:InvokeFunction"
  function_name = module.absent.function_name
  principal     = "*"
}
