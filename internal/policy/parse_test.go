package policy

import (
	"errors"
	"go/build"
	"strings"
	"testing"
)

func TestParseErrorsNameTheProblem(t *testing.T) {
	cases := []struct {
		name, in string
		stmt     int
		want     string
	}{
		{"not JSON", `{"Version": `, -1, "not a JSON object"},
		{"not an object", `[1,2]`, -1, "not a JSON object"},
		{"empty", `   `, -1, "empty"},
		{"unknown top-level element", `{"Version":"2012-10-17","Statements":[]}`, -1, `unknown top-level element "Statements"`},
		{"missing Statement", `{"Version":"2012-10-17"}`, -1, "missing Statement"},
		{"empty Statement", `{"Version":"2012-10-17","Statement":[]}`, -1, "Statement is empty"},
		{"Statement of wrong type", `{"Statement":"x"}`, -1, "object or an array"},
		{"statement not an object", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:*"}, 3]}`, 1, "JSON object"},
		{"unknown statement element", doc(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"FN","Conditions":{}}`), 0, `unknown element "Conditions"`},
		{"missing Effect", doc(`{"Sid":"a","Principal":"*","Action":"lambda:*"}`), 0, "missing Effect"},
		{"bad Effect", doc(`{"Sid":"a","Effect":"Permit","Principal":"*","Action":"lambda:*"}`), 0, `"Permit"`},
		{"missing Principal", doc(`{"Sid":"a","Effect":"Allow","Action":"lambda:*"}`), 0, "missing Principal"},
		{"both Principal and NotPrincipal", doc(`{"Sid":"a","Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"lambda:*"}`), 0, "both Principal and NotPrincipal"},
		{"principal string other than star", doc(`{"Effect":"Allow","Principal":"111122223333","Action":"lambda:*"}`), 0, `{"AWS": "111122223333"}`},
		{"service as bare string", doc(`{"Effect":"Allow","Principal":"s3.amazonaws.com","Action":"lambda:*"}`), 0, `{"Service": "s3.amazonaws.com"}`},
		{"unknown principal type", doc(`{"Effect":"Allow","Principal":{"Account":"1"},"Action":"lambda:*"}`), 0, `unknown principal type "Account"`},
		{"principal of wrong type", doc(`{"Effect":"Allow","Principal":{"AWS":12},"Action":"lambda:*"}`), 0, "string or an array"},
		{"missing Action", doc(`{"Sid":"x","Effect":"Allow","Principal":"*"}`), 0, "missing Action"},
		{"Action and NotAction", doc(`{"Effect":"Allow","Principal":"*","Action":"a","NotAction":"b"}`), 0, "both Action and NotAction"},
		{"Action of wrong type", doc(`{"Effect":"Allow","Principal":"*","Action":{"x":1}}`), 0, "Action"},
		{"Action array with a number", doc(`{"Effect":"Allow","Principal":"*","Action":["lambda:*",7]}`), 0, "found a number"},
		{"empty Action array", doc(`{"Effect":"Allow","Principal":"*","Action":[]}`), 0, "empty array"},
		{"Resource and NotResource", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*","NotResource":"*"}`), 0, "both Resource and NotResource"},
		{"unknown operator", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"StringEqualz":{"k":"v"}}}`), 0, `unknown condition operator "StringEqualz"`},
		{"unknown set operator", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"ForSomeValues:StringEquals":{"k":"v"}}}`), 0, "unknown set operator"},
		{"Null with IfExists", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"NullIfExists":{"k":"true"}}}`), 0, "Null takes no IfExists"},
		{"condition block of wrong type", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":["x"]}`), 0, "object of operators"},
		{"condition value object", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"StringEquals":{"k":{"a":1}}}}`), 0, "strings, numbers or booleans"},
		{"bad IP", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}}`), 0, "not an IP address"},
		{"bad Bool", doc(`{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), 0, "true or false"},
		{"second statement bad, index named", doc(`{"Effect":"Allow","Principal":"*","Action":"a"}`, `{"Sid":"two","Effect":"Allow","Principal":"*"}`), 1, `statement 1 (Sid "two")`},
		{"trailing garbage", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"a"}} x`, -1, "after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("no error for %s", c.in)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *ParseError", err)
			}
			if pe.Statement != c.stmt {
				t.Errorf("statement index = %d, want %d (%v)", pe.Statement, c.stmt, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestParseAcceptsEveryElementShape(t *testing.T) {
	in := `{"version":"2012-10-17","ID":"x","statement":{"sid":"all","effect":"Allow","principal":{"aws":["*"],"service":"s3.amazonaws.com","federated":"cognito-identity.amazonaws.com","canonicaluser":"abc"},
	"action":"lambda:*","notresource":["arn:aws:lambda:us-east-1:1:function:x"],
	"condition":{"ForAllValues:StringLikeIfExists":{"aws:PrincipalOrgPaths":["o-a/*"]},"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true},
	"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"BinaryEquals":{"k":"QmluYXJ5"},"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::x"},"Null":{"k2":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.1","fd00::/8"]}}}}`
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Statements[0]
	if d.Version != "2012-10-17" || d.ID != "x" || s.Sid != "all" || s.Effect != Allow {
		t.Fatalf("header fields lost: %+v %+v", d, s)
	}
	if len(s.Principal.AWS) != 1 || len(s.Principal.Service) != 1 || len(s.Principal.Federated) != 1 || len(s.Principal.CanonicalUser) != 1 {
		t.Fatalf("principals lost: %+v", s.Principal)
	}
	if len(s.Conditions) != 8 {
		t.Fatalf("want 8 conditions, got %d", len(s.Conditions))
	}
	ops := map[string]Operator{}
	for _, c := range s.Conditions {
		ops[c.Op.Base] = c.Op
	}
	if op := ops["StringLike"]; op.Set != ForAllValues || !op.IfExists {
		t.Errorf("ForAllValues:StringLikeIfExists parsed as %+v", op)
	}
	if ops["NumericLessThan"].Base == "" || ops["BinaryEquals"].Base == "" || ops["DateGreaterThan"].Base == "" {
		t.Errorf("operator families missing: %v", ops)
	}
}

func TestConditionEvaluation(t *testing.T) {
	mk := func(op, key, vals string) Condition {
		_, n, err := readTree([]byte(`{"` + op + `":{"` + key + `":` + vals + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		cs, err := parseConditions(n)
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	ctx := map[string][]string{
		"aws:sourceaccount":      {"111122223333"},
		"aws:sourcearn":          {"arn:aws:sns:us-east-1:111122223333:alerts"},
		"aws:principalorgpaths":  {"o-a/r-1/ou-1/", "o-a/r-1/ou-2/"},
		"aws:sourceip":           {"10.1.2.3"},
		"aws:multifactorauthage": {"100"},
		"aws:currenttime":        {"2026-11-28T10:00:00Z"},
		"aws:securetransport":    {"true"},
		"k":                      {"QmluYXJ5"},
	}
	cases := []struct {
		op, key, vals string
		want          bool
	}{
		{"StringEquals", "aws:SourceAccount", `"111122223333"`, true},
		{"StringEquals", "AWS:SOURCEACCOUNT", `["1","111122223333"]`, true},
		{"StringNotEquals", "aws:SourceAccount", `["1","111122223333"]`, false},
		{"StringNotEquals", "aws:missing", `"x"`, true},
		{"StringEquals", "aws:missing", `"x"`, false},
		{"StringEqualsIfExists", "aws:missing", `"x"`, true},
		{"StringEqualsIgnoreCase", "aws:SourceAccount", `"111122223333"`, true},
		{"StringLike", "aws:SourceArn", `"arn:aws:sns:*:111122223333:*"`, true},
		{"StringNotLike", "aws:SourceArn", `"arn:aws:sns:*"`, false},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:111122223333:alert?"`, true},
		{"ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:*:alerts"`, true},
		{"ArnNotLike", "aws:SourceArn", `"arn:aws:sqs:*"`, true},
		{"ForAllValues:StringLike", "aws:PrincipalOrgPaths", `"o-a/*"`, true},
		{"ForAllValues:StringLike", "aws:PrincipalOrgPaths", `"o-a/r-1/ou-1/"`, false},
		{"ForAllValues:StringEquals", "aws:missing", `"x"`, true},
		{"ForAnyValue:StringEquals", "aws:PrincipalOrgPaths", `"o-a/r-1/ou-2/"`, true},
		{"ForAnyValue:StringEquals", "aws:missing", `"x"`, false},
		{"ForAnyValue:StringNotEquals", "aws:PrincipalOrgPaths", `"o-a/r-1/ou-2/"`, true},
		{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, true},
		{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`, false},
		{"NumericLessThan", "aws:MultiFactorAuthAge", `3600`, true},
		{"NumericGreaterThanEquals", "aws:MultiFactorAuthAge", `"100"`, true},
		{"NumericNotEquals", "aws:MultiFactorAuthAge", `100`, false},
		{"DateLessThan", "aws:CurrentTime", `"2030-01-01T00:00:00Z"`, true},
		{"DateGreaterThan", "aws:CurrentTime", `"2030-01-01"`, false},
		{"Bool", "aws:SecureTransport", `true`, true},
		{"BoolIfExists", "aws:missing", `"false"`, true},
		{"BinaryEquals", "k", `"QmluYXJ5"`, true},
		{"Null", "aws:missing", `"true"`, true},
		{"Null", "aws:SourceAccount", `"true"`, false},
		{"Null", "aws:SourceAccount", `"false"`, true},
	}
	for _, c := range cases {
		cond := mk(c.op, c.key, c.vals)
		if got := cond.Holds(ctx); got != c.want {
			t.Errorf("%s %s %s = %v, want %v", c.op, c.key, c.vals, got, c.want)
		}
	}
}

func TestEvaluateDenyWins(t *testing.T) {
	d := mustParse(t, doc(allow("a", star, `"lambda:*"`, fn, ""), deny("d", star, invoke, fn, cond("StringNotEquals", "aws:PrincipalOrgID", myOrg))))
	anon := Request{Caller: Caller{Kind: CallerAnonymous}, Action: "lambda:InvokeFunction", Resource: fnARN, Context: map[string][]string{}}
	if got := d.Evaluate(anon); got != ExplicitDeny {
		t.Errorf("anonymous invoke = %s, want explicit-deny", got)
	}
	member := anon
	member.Caller = Caller{Kind: CallerIAM, Account: "555566667777"}
	member.Context = map[string][]string{"aws:principalorgid": {myOrg}}
	if got := d.Evaluate(member); got != Allowed {
		t.Errorf("org member invoke = %s, want allow", got)
	}
	anon.Action = "lambda:GetFunction"
	if got := d.Evaluate(anon); got != Allowed {
		t.Errorf("anonymous GetFunction = %s, want allow (the Deny covers only invoke)", got)
	}
	anon.Resource = "arn:aws:lambda:us-east-1:111122223333:function:other"
	if got := d.Evaluate(anon); got != ImplicitDeny {
		t.Errorf("other function = %s, want implicit-deny", got)
	}
}

// TestPackageIsPure keeps the engine free of I/O: no AWS SDK, network,
// database or processes.
func TestPackageIsPure(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read; the check would prove nothing")
	}
	for _, imp := range pkg.Imports {
		for _, bad := range []string{"github.com/aws/", "net/http", "database/sql", "os/exec", "net"} {
			if imp == bad || strings.HasPrefix(imp, bad) && strings.HasSuffix(bad, "/") {
				t.Errorf("policy imports %s; it must stay pure", imp)
			}
		}
		if imp == "os" {
			t.Errorf("policy imports os; it must not touch files")
		}
	}
}
