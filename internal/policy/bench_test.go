package policy

import "testing"

// typicalPolicy is a 5-statement function policy of the kind AddPermission
// and the console write: API Gateway, S3, SNS, the console URL grant and a
// partner account.
var typicalPolicy = doc(
	allow("apigw", svc("apigateway.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:execute-api:us-east-1:"+owner+":abc123/*/POST/intake")),
	allow("s3", svc("s3.amazonaws.com"), invoke, fn, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-uploads"},"StringEquals":{"AWS:SourceAccount":"`+owner+`"}}`),
	allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:"+owner+":alerts")),
	allow("FunctionURLAllowPublicAccess", star, `"lambda:InvokeFunctionUrl"`, fn, cond("StringEquals", "lambda:FunctionUrlAuthType", "NONE")),
	allow("partner", aws("arn:aws:iam::"+foreign+":root"), invoke, fn, ""),
)

// BenchmarkAnalyze measures policies evaluated per second for a parsed
// 5-statement policy (the goal: >= 200k/s on one core). Run with
// -cpu 1.
func BenchmarkAnalyze(b *testing.B) {
	d := mustParse(b, typicalPolicy)
	ctx := baseCtx()
	ctx.URLAuthType = "NONE"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Analyze(d, nil, ctx); r.Exposure != Public {
			b.Fatal(r.Exposure)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "policies/s")
}

// BenchmarkParseAndAnalyze includes parsing the JSON text, as a scan does
// for every policy it reads.
func BenchmarkParseAndAnalyze(b *testing.B) {
	data := []byte(typicalPolicy)
	ctx := baseCtx()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		Analyze(d, nil, ctx)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "policies/s")
}

// BenchmarkPermissionEvaluate measures one role's effective permission on
// one function: two identity policies (one conditional), a boundary and
// two SCPs, the per-resource work of access paths. Run with -cpu 1.
func BenchmarkPermissionEvaluate(b *testing.B) {
	ps := &PermissionSet{
		Identity: []IdentityPolicy{
			{Name: "a", Doc: idDoc(b, allowID(`["lambda:InvokeFunction","lambda:Get*"]`, `"arn:aws:lambda:*:111122223333:function:*"`), allowID(`["s3:GetObject","dynamodb:*"]`, star))},
			{Name: "b", Doc: idDoc(b, idStmt("Allow", "Action", `"lambda:*"`, "Resource", star, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), denyID(`"lambda:DeleteFunction"`, star))},
		},
		Boundary: &IdentityPolicy{Name: "boundary", Doc: idDoc(b, allowID(`["lambda:*","s3:*"]`, star))},
		SCPs: []IdentityPolicy{
			{Name: "root", Doc: idDoc(b, allowID(star, star))},
			{Name: "ou", Doc: idDoc(b, idStmt("Deny", "Action", star, "Resource", star, `{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}`))},
		},
		Caller: Caller{Kind: CallerIAM, Account: owner, ARN: roleARN},
		Known:  RoleSessionContext(owner, roleARN, myOrg),
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e := ps.Evaluate(fnARN); !e.Allows("lambda:InvokeFunction") {
			b.Fatal("no invoke")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evaluations/s")
}
