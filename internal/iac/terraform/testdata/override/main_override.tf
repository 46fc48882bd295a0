# Terraform merges these arguments into the blocks of main.tf.
resource "aws_lambda_permission" "opened" {
  principal = "*"
}

resource "aws_lambda_permission" "closed" {
  principal_org_id = "o-abc123def4"
}
