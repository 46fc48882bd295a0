package terraform

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// FuzzReadDir: any HCL text reads to an estate (or a broken file) without
// panicking or hanging, and the estate builds.
func FuzzReadDir(f *testing.F) {
	f.Add([]byte("resource \"aws_lambda_permission\" \"p\" {\n  function_name = \"fn\"\n  action = \"lambda:InvokeFunction\"\n  principal = \"*\"\n}\n"))
	f.Add([]byte("locals { a = local.b\n b = local.a }\nresource \"aws_lambda_permission\" \"p\" {\n count = 2\n function_name = local.a\n principal = var.x\n}\n"))
	f.Add([]byte("variable \"m\" { default = {a = \"1\"} }\nresource \"aws_lambda_function\" \"f\" {\n for_each = var.m\n function_name = each.key\n}\nresource \"aws_lambda_resource_policy\" \"r\" {\n function_name = aws_lambda_function.f[\"a\"].arn\n policy = jsonencode({Statement = [{Effect = \"Allow\"}]})\n}\n"))
	f.Add([]byte("module \"m\" {\n source = \"./\"\n}\n"))
	f.Add([]byte("data \"aws_iam_policy_document\" \"d\" {\n statement {\n principals {\n type = \"*\"\n identifiers = [\"*\"]\n }\n }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{"main.tf": {Data: src}, "t.tpl": {Data: src}}
		e := ReadDir(fsys, ".", Options{})
		estate.Build(e, estate.Options{})
	})
}

// FuzzReadPlan: any JSON reads to an estate or a broken plan.
func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"format_version":"1.2","resource_changes":[{"address":"aws_lambda_permission.p","mode":"managed","type":"aws_lambda_permission","name":"p","change":{"actions":["create"],"after":{"function_name":"f","principal":"*","action":"lambda:InvokeFunction"},"after_unknown":{}}}]}`))
	f.Add([]byte(`{"format_version":"1.2","planned_values":{"root_module":{"resources":[{"address":"aws_lambda_function.f","mode":"managed","type":"aws_lambda_function","values":{"function_name":"f"}}]}}}`))
	f.Add([]byte(`{"format_version":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := ReadPlan(data, "plan.json", Options{})
		estate.Build(e, estate.Options{})
	})
}

// FuzzReadTFJSON: any text in a .tf.json file reads to an estate or a
// broken file, without panicking; the native rewrite keeps a line for
// every line it writes.
func FuzzReadTFJSON(f *testing.F) {
	f.Add([]byte(`{"resource": {"aws_lambda_permission": {"p": {"function_name": "fn", "action": "lambda:InvokeFunction", "principal": "*"}}}}`))
	f.Add([]byte(`{"variable": {"v": {"default": "${x}", "type": "list(string)"}}, "locals": {"a": "${var.v[0]}"}}`))
	f.Add([]byte(`{"resource": {"aws_lambda_function_url": {"u": {"function_name": "f", "authorization_type": "NONE", "dynamic": {"cors": {"for_each": "${[1]}", "content": {"allow_origins": ["*"]}}}}}}}`))
	f.Add([]byte(`{"resource": {"aws_lambda_function": {"f": {"function_name": "${\"a}\"}-${jsonencode({a = \"}\"})}", "provider": "aws.x"}}}}`))
	f.Add([]byte(`{"provider": {"aws": [{"region": "x"}, {"alias": "y", "assume_role": {"role_arn": "r"}}]}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		native, lines, diags := tfJSONToNative(src, "main.tf.json")
		if !diags.HasErrors() && strings.Count(string(native), "\n") != len(lines) {
			t.Fatalf("%d native lines, %d mapped", strings.Count(string(native), "\n"), len(lines))
		}
		fsys := fstest.MapFS{"main.tf.json": {Data: src}}
		e := ReadDir(fsys, ".", Options{})
		estate.Build(e, estate.Options{})
	})
}
