{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Partner",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::${account}:root"},
      "Action": "lambda:InvokeFunction",
      "Resource": "${function_arn}"
    }
  ]
}
