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
