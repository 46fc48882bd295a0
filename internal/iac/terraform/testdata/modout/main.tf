# Grants written in the root on functions a local module creates, named
# through the module's outputs.
module "api" {
  source = "./modules/fn"
  name   = "mo-api"
}

module "workers" {
  source = "./modules/fn"
  count  = 2
  name   = "mo-worker-${count.index}"
}

module "registry" {
  source  = "terraform-aws-modules/lambda/aws"
  version = "7.0.0"
}

resource "aws_lambda_permission" "api" {
  action        = "lambda:InvokeFunction"
  function_name = module.api.function_name
  principal     = "*"
}

resource "aws_lambda_permission" "worker" {
  action        = "lambda:InvokeFunction"
  function_name = module.workers[1].arn
  principal     = "444455556666"
}

resource "aws_lambda_permission" "registry" {
  action        = "lambda:InvokeFunction"
  function_name = module.registry.lambda_function_name
  principal     = "*"
}
