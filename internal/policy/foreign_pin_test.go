package policy

import (
	"strings"
	"testing"
)

// TestForeignAccountPins: a service grant, or Principal "*", pinned to
// fixed accounts outside the owner and the trusted set is cross-account
// and names those accounts (SEMANTICS.md section 4); it was judged
// service-unscoped ("nothing pins the owner account").
func TestForeignAccountPins(t *testing.T) {
	two := `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::partner-drop"},"StringEquals":{"AWS:SourceAccount":"` + foreign + `"}}`
	cases := []struct {
		name   string
		policy string
		want   Class
		names  []string
	}{
		{"SNS topic ARN in another account", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:"+foreign+":alerts"))), CrossAccount, []string{foreign, "arn:aws:sns:us-east-1:" + foreign + ":alerts"}},
		{"EventBridge rule in another account", doc(allow("events", svc("events.amazonaws.com"), invoke, fn, cond("ArnEquals", "aws:SourceArn", "arn:aws:events:us-east-1:"+foreign+":rule/nightly"))), CrossAccount, []string{foreign}},
		{"regional logs principal with a foreign SourceAccount", doc(allow("logs", svc("logs.us-east-1.amazonaws.com"), invoke, fn, cond("StringEquals", "AWS:SourceAccount", foreign))), CrossAccount, []string{foreign}},
		{"S3 bucket with a foreign SourceAccount", doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, two)), CrossAccount, []string{foreign}},
		{"API Gateway API in another account", doc(allow("apigw", svc("apigateway.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:execute-api:us-east-1:"+foreign+":abc123/*/POST/intake"))), CrossAccount, []string{foreign}},
		{"SourceOwner in another account", doc(allow("ses", svc("ses.amazonaws.com"), invoke, fn, cond("StringEquals", "aws:SourceOwner", foreign))), CrossAccount, []string{foreign}},
		{"Principal star pinned to a foreign SourceAccount", doc(allow("star", star, invoke, fn, cond("StringEquals", "AWS:SourceAccount", foreign))), CrossAccount, []string{foreign}},
		{"Principal star pinned to a foreign SourceArn", doc(allow("star", star, invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:"+foreign+":t"))), CrossAccount, []string{foreign}},
		{"several foreign accounts are all named", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, `{"StringEquals":{"AWS:SourceAccount":["`+foreign+`","555566667777"]}}`)), CrossAccount, []string{foreign, "555566667777"}},
		{"owner and foreign together is still cross-account", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, `{"StringEquals":{"AWS:SourceAccount":["`+owner+`","`+foreign+`"]}}`)), CrossAccount, []string{foreign}},
		{"the owner pin stays private", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("StringEquals", "AWS:SourceAccount", owner))), Private, nil},
		{"a trusted account pin stays private", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("StringEquals", "AWS:SourceAccount", trusted))), Private, nil},
		{"a bucket name alone stays service-unscoped", doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::partner-drop"))), ServiceUnscoped, nil},
		{"a wildcard account pins nothing", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:*:alerts"))), ServiceUnscoped, nil},
		{"a network limit on a service grant pins no account", doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))), ServiceUnscoped, nil},
		{"foreign pin and owner pin together (ANDed) is private", doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, `{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:`+foreign+`:t"},"StringEquals":{"AWS:SourceAccount":"`+owner+`"}}`)), Private, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := baseCtx()
			res := Analyze(mustParse(t, c.policy), nil, ctx)
			if res.Exposure != c.want {
				for _, g := range res.Grants {
					t.Logf("%s: %s", g.Class, g.Explanation())
				}
				t.Fatalf("exposure = %s, want %s", res.Exposure, c.want)
			}
			if len(c.names) == 0 {
				return
			}
			ex := res.Grants[0].Explanation()
			for _, n := range c.names {
				if !strings.Contains(ex, n) {
					t.Errorf("explanation does not name %s: %s", n, ex)
				}
			}
			if strings.Contains(ex, "nothing pins") {
				t.Errorf("a pinned grant must not say nothing pins it: %s", ex)
			}
		})
	}
}

// TestBareAccountIDReadsLikeRoot: {"AWS":"ID"} and arn:aws:iam::ID:root
// are one principal, whatever the id's length (compared as a string).
func TestBareAccountIDReadsLikeRoot(t *testing.T) {
	for _, id := range []string{foreign, "12456789012", "1234", owner, trusted} {
		bare := Analyze(mustParse(t, doc(allow("p", aws(id), invoke, fn, ""))), nil, baseCtx())
		root := Analyze(mustParse(t, doc(allow("p", aws("arn:aws:iam::"+id+":root"), invoke, fn, ""))), nil, baseCtx())
		if bare.Exposure != root.Exposure {
			t.Errorf("%s: bare %s, root %s", id, bare.Exposure, root.Exposure)
		}
		if ex := bare.Grants[0].Explanation(); strings.Contains(ex, "unique ID") || !strings.Contains(ex, "account "+id) {
			t.Errorf("%s: explanation %q", id, ex)
		}
	}
	// A bare id the owner wrote with the wrong length is not the owner.
	short := Analyze(mustParse(t, doc(allow("p", aws("11112222333"), invoke, fn, ""))), nil, baseCtx())
	if short.Exposure != CrossAccount {
		t.Errorf("11-digit account: %s, want cross-account", short.Exposure)
	}
	// The concrete evaluator agrees: the bare id admits that account's callers.
	d := mustParse(t, doc(allow("p", aws("12456789012"), invoke, fn, "")))
	req := Request{Action: "lambda:InvokeFunction", Resource: fnARN, Caller: Caller{Kind: CallerIAM, Account: "12456789012", ARN: "arn:aws:iam::12456789012:role/x"}}
	if got := d.Evaluate(req); got != Allowed {
		t.Errorf("Evaluate = %v, want allow", got)
	}
}
