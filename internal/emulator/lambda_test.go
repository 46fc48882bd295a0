package emulator_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func TestListFunctionsPagesInSeedOrder(t *testing.T) {
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: prod, Regions: map[string]emulator.SeedRegion{useast1: {}}}}}
	r := seed.Accounts[0].Regions[useast1]
	for i := range 120 {
		r.Functions = append(r.Functions, emulator.SeedFunction{Name: fmt.Sprintf("fn-%03d", i)})
	}
	seed.Accounts[0].Regions[useast1] = r
	_, url := start(t, seed, emulator.Options{})
	c := lambdaClient(url, prod, useast1)

	var names []string
	pages := 0
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Functions) > 50 {
			t.Fatalf("page of %d functions; Lambda returns at most 50", len(out.Functions))
		}
		pages++
		for _, f := range out.Functions {
			names = append(names, *f.FunctionName)
			if want := "arn:aws:lambda:us-east-1:" + prod + ":function:" + *f.FunctionName; *f.FunctionArn != want || *f.Version != "$LATEST" {
				t.Fatalf("function %s: arn %s version %s", *f.FunctionName, *f.FunctionArn, *f.Version)
			}
		}
	}
	if pages != 3 || len(names) != 120 || names[0] != "fn-000" || names[119] != "fn-119" {
		t.Fatalf("got %d pages, %d names (%v ... %v)", pages, len(names), names[:1], names[len(names)-1:])
	}

	// MaxItems above 50 is capped, small MaxItems pages accordingly.
	out, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(500)})
	if err != nil || len(out.Functions) != 50 || out.NextMarker == nil {
		t.Fatalf("MaxItems=500: %d functions, marker %v, err %v", len(out.Functions), out.NextMarker, err)
	}
	out, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(7), Marker: out.NextMarker})
	if err != nil || len(out.Functions) != 7 || *out.Functions[0].FunctionName != "fn-050" {
		t.Fatalf("MaxItems=7 after 50: %v, err %v", out.Functions, err)
	}
	_, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{Marker: aws.String("not-a-marker")})
	apiError(t, err, "InvalidParameterValueException", 400)
}

func TestListFunctionsAllVersions(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	var arns []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Functions {
			arns = append(arns, *f.FunctionArn+" "+*f.Version)
		}
	}
	base := "arn:aws:lambda:us-east-1:" + prod + ":function:"
	want := []string{
		base + "intake:$LATEST $LATEST", base + "intake:1 1", base + "intake:2 2",
		base + "private:$LATEST $LATEST", base + "denied:$LATEST $LATEST", base + "garbled:$LATEST $LATEST",
		base + "throttled:$LATEST $LATEST", base + "broken:$LATEST $LATEST",
	}
	if strings.Join(arns, "\n") != strings.Join(want, "\n") {
		t.Fatalf("FunctionVersion=ALL listed\n%s\nwant\n%s", strings.Join(arns, "\n"), strings.Join(want, "\n"))
	}
}

func TestGetFunctionQualifiers(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	base := "arn:aws:lambda:us-east-1:" + prod + ":function:intake"
	cases := []struct{ name, qualifier, arn, version string }{
		{"intake", "", base, "$LATEST"},
		{"intake", "$LATEST", base + ":$LATEST", "$LATEST"},
		{"intake", "2", base + ":2", "2"},
		{"intake", "prod", base + ":prod", "1"},
		{"intake", "dev", base + ":dev", "$LATEST"},
		{"intake:prod", "", base + ":prod", "1"},
		{prod + ":function:intake", "", base, "$LATEST"},
		{base + ":2", "", base + ":2", "2"},
		{base, "prod", base + ":prod", "1"},
	}
	for _, tc := range cases {
		in := &lambda.GetFunctionInput{FunctionName: aws.String(tc.name)}
		if tc.qualifier != "" {
			in.Qualifier = aws.String(tc.qualifier)
		}
		out, err := c.GetFunction(ctx, in)
		if err != nil {
			t.Fatalf("GetFunction(%s, %q): %v", tc.name, tc.qualifier, err)
		}
		cfg := out.Configuration
		if *cfg.FunctionArn != tc.arn || *cfg.Version != tc.version || *cfg.FunctionName != "intake" {
			t.Errorf("GetFunction(%s, %q) = %s %s", tc.name, tc.qualifier, *cfg.FunctionArn, *cfg.Version)
		}
	}
	out, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := out.Configuration; cfg.Runtime != types.RuntimePython312 || *cfg.Role != "arn:aws:iam::111122223333:role/intake" ||
		cfg.VpcConfig == nil || cfg.VpcConfig.SubnetIds[0] != "subnet-1" || cfg.VpcConfig.SecurityGroupIds[0] != "sg-1" {
		t.Errorf("configuration does not reflect the seed: %+v", cfg)
	}
	conf, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("private")})
	if err != nil || *conf.Role != "arn:aws:iam::111122223333:role/private" || conf.VpcConfig != nil || conf.Runtime != types.RuntimePython312 {
		t.Errorf("defaults: %+v %v", conf, err)
	}

	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	ae := apiError(t, err, "ResourceNotFoundException", 404)
	if !strings.Contains(ae.ErrorMessage(), "function:nope") {
		t.Errorf("404 does not name the function: %q", ae.ErrorMessage())
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake"), Qualifier: aws.String("staging")})
	ae = apiError(t, err, "ResourceNotFoundException", 404)
	if !strings.Contains(ae.ErrorMessage(), "function:intake:staging") {
		t.Errorf("404 does not name the alias: %q", ae.ErrorMessage())
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake:prod"), Qualifier: aws.String("dev")})
	apiError(t, err, "InvalidParameterValueException", 400)
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:" + dev + ":function:dev-fn")})
	apiError(t, err, "AccessDeniedException", 403)
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:" + prod + ":function:eu-fn")})
	apiError(t, err, "InvalidParameterValueException", 400)
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("bad name!")})
	apiError(t, err, "ValidationException", 400)

	// The region comes from the credential scope.
	eu := lambdaClient(url, prod, "eu-west-1")
	if _, err := eu.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("eu-fn")}); err != nil {
		t.Errorf("eu-west-1: %v", err)
	}
}

func TestAliasesAndVersions(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	al, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake")})
	if err != nil {
		t.Fatal(err)
	}
	if len(al.Aliases) != 2 || *al.Aliases[0].Name != "prod" || *al.Aliases[0].FunctionVersion != "1" ||
		*al.Aliases[0].AliasArn != "arn:aws:lambda:us-east-1:111122223333:function:intake:prod" || *al.Aliases[1].FunctionVersion != "$LATEST" {
		t.Fatalf("aliases: %+v", al.Aliases)
	}
	filtered, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake"), FunctionVersion: aws.String("1")})
	if err != nil || len(filtered.Aliases) != 1 {
		t.Fatalf("filtered aliases: %+v %v", filtered, err)
	}
	one, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake"), MaxItems: aws.Int32(1)})
	if err != nil || len(one.Aliases) != 1 || one.NextMarker == nil {
		t.Fatalf("paged aliases: %+v %v", one, err)
	}
	got, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("intake"), Name: aws.String("prod")})
	if err != nil || *got.FunctionVersion != "1" {
		t.Fatalf("GetAlias: %+v %v", got, err)
	}
	vs, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("intake")})
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, v := range vs.Versions {
		versions = append(versions, *v.Version+"="+*v.FunctionArn)
	}
	base := "arn:aws:lambda:us-east-1:111122223333:function:intake"
	if want := "$LATEST=" + base + ":$LATEST 1=" + base + ":1 2=" + base + ":2"; strings.Join(versions, " ") != want {
		t.Fatalf("versions %v, want %s", versions, want)
	}
	_, err = c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("nope")})
	apiError(t, err, "ResourceNotFoundException", 404)
}

func TestGetPolicyPerResource(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	get := func(name, qualifier string) (*lambda.GetPolicyOutput, error) {
		in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		return c.GetPolicy(ctx, in)
	}
	sids := map[string]string{"": "public", "prod": "alias-public", "2": "v2"}
	revisions := map[string]bool{}
	for q, sid := range sids {
		out, err := get("intake", q)
		if err != nil {
			t.Fatalf("GetPolicy(intake, %q): %v", q, err)
		}
		var doc struct{ Statement []struct{ Sid string } }
		if err := json.Unmarshal([]byte(*out.Policy), &doc); err != nil {
			t.Fatalf("policy of %q is not JSON: %v", q, err)
		}
		if len(doc.Statement) != 1 || doc.Statement[0].Sid != sid {
			t.Errorf("policy of %q: %s", q, *out.Policy)
		}
		revisions[*out.RevisionId] = true
	}
	if len(revisions) != 3 {
		t.Errorf("each resource should have its own revision id: %v", revisions)
	}
	// The seeded document is served compacted, in its author's key order.
	out, _ := get("intake", "")
	if want := `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"public","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:intake"}]}`; *out.Policy != want {
		t.Errorf("policy string\n%s\nwant\n%s", *out.Policy, want)
	}
	// The function's RevisionId is the policy's.
	fn, _ := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake")})
	if *fn.Configuration.RevisionId != *out.RevisionId {
		t.Errorf("function revision %s != policy revision %s", *fn.Configuration.RevisionId, *out.RevisionId)
	}

	for _, tc := range []struct{ name, qualifier string }{{"intake", "1"}, {"intake", "dev"}, {"private", ""}} {
		_, err := get(tc.name, tc.qualifier)
		ae := apiError(t, err, "ResourceNotFoundException", 404)
		if ae.ErrorMessage() != "The resource you requested does not exist." {
			t.Errorf("no policy on %s:%s: %q", tc.name, tc.qualifier, ae.ErrorMessage())
		}
	}
	_, err := get("intake", "9")
	if ae := apiError(t, err, "ResourceNotFoundException", 404); !strings.Contains(ae.ErrorMessage(), "intake:9") {
		t.Errorf("missing version not named: %q", ae.ErrorMessage())
	}
}

func TestPolicyErrors(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	get := func(name string) error {
		_, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
		return err
	}
	apiError(t, get("denied"), "AccessDeniedException", 403)
	apiError(t, get("broken"), "ServiceException", 500)
	ae := apiError(t, get("throttled"), "TooManyRequestsException", 429)
	var tm *types.TooManyRequestsException
	if !asType(ae, &tm) || tm.Reason != types.ThrottleReasonCallerRateLimitExceeded || aws.ToString(tm.RetryAfterSeconds) != "1" {
		t.Errorf("throttle error not modelled as Lambda does: %#v", ae)
	}
	out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("garbled")})
	if err != nil {
		t.Fatal(err)
	}
	if json.Valid([]byte(*out.Policy)) || *out.Policy == "" {
		t.Errorf("malformed policy is valid JSON: %q", *out.Policy)
	}
	// The same injection applies to GetResourcePolicy.
	_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String("arn:aws:lambda:us-east-1:" + prod + ":function:denied")})
	apiError(t, err, "AccessDeniedException", 403)
}

func asType[T any](err error, target *T) bool {
	v, ok := any(err).(T)
	if ok {
		*target = v
	}
	return ok
}

// These are the statements AWS documents for the same AddPermission calls
// (Lambda developer guide "Using resource-based policies", the
// add-permission CLI examples and the function URL auth page), byte for
// byte: key order, principal forms, condition operators.
func TestAddPermissionMatchesAWSExamples(t *testing.T) {
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: "123456789012", Regions: map[string]emulator.SeedRegion{
		"us-east-2": {Functions: []emulator.SeedFunction{{Name: "my-function", Aliases: []emulator.SeedAlias{{Name: "prod"}}}}},
	}}}}
	_, url := start(t, seed, emulator.Options{})
	c := lambdaClient(url, "123456789012", "us-east-2")
	fn := "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	cases := []struct {
		in   lambda.AddPermissionInput
		want string
	}{
		{lambda.AddPermissionInput{StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"),
			SourceArn: aws.String("arn:aws:s3:::my-bucket-1xpuxmplzrlbh"), SourceAccount: aws.String("123456789012")},
			`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket-1xpuxmplzrlbh"}}}`},
		{lambda.AddPermissionInput{StatementId: aws.String("sns"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com")},
			`{"Sid":"sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}`},
		{lambda.AddPermissionInput{StatementId: aws.String("xaccount"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("210987654321")},
			`{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}`},
		{lambda.AddPermissionInput{StatementId: aws.String("FunctionURLAllowPublicAccess"), Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"),
			FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
			`{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + fn + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`},
		{lambda.AddPermissionInput{StatementId: aws.String("FunctionURLInvokeAllowPublicAccess"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"),
			InvokedViaFunctionUrl: aws.Bool(true)},
			`{"Sid":"FunctionURLInvokeAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`},
		{lambda.AddPermissionInput{StatementId: aws.String("org"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), PrincipalOrgID: aws.String("o-a1b2c3d4e5")},
			`{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`},
		{lambda.AddPermissionInput{StatementId: aws.String("role"), Action: aws.String("lambda:GetFunction"), Principal: aws.String("arn:aws:iam::210987654321:role/ops")},
			`{"Sid":"role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:role/ops"},"Action":"lambda:GetFunction","Resource":"` + fn + `"}`},
		{lambda.AddPermissionInput{StatementId: aws.String("alexa"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("alexa-appkit.amazon.com"),
			EventSourceToken: aws.String("amzn1.ask.skill.xxxx")},
			`{"Sid":"alexa","Effect":"Allow","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"lambda:EventSourceToken":"amzn1.ask.skill.xxxx"}}}`},
	}
	var stmts []string
	for _, tc := range cases {
		in := tc.in
		in.FunctionName = aws.String("my-function")
		out, err := c.AddPermission(ctx, &in)
		if err != nil {
			t.Fatalf("AddPermission %s: %v", *in.StatementId, err)
		}
		if *out.Statement != tc.want {
			t.Errorf("statement %s\n got %s\nwant %s", *in.StatementId, *out.Statement, tc.want)
		}
		stmts = append(stmts, tc.want)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("my-function")})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(stmts, ",") + `]}`; *pol.Policy != want {
		t.Errorf("policy\n got %s\nwant %s", *pol.Policy, want)
	}

	// Qualified: the statement names the alias ARN and lands on the alias only.
	out, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("my-function"), Qualifier: aws.String("prod"),
		StatementId: aws.String("alias"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com")})
	if err != nil || !strings.Contains(*out.Statement, `"Resource":"`+fn+`:prod"`) {
		t.Fatalf("alias AddPermission: %v %v", out, err)
	}
	ap, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("my-function:prod")})
	if err != nil || strings.Count(*ap.Policy, `"Sid"`) != 1 {
		t.Fatalf("alias policy: %v %v", ap, err)
	}

	// Invalid input.
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("my-function"), StatementId: aws.String("bad"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("nobody")})
	apiError(t, err, "InvalidParameterValueException", 400)
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("nope"), StatementId: aws.String("x"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
	apiError(t, err, "ResourceNotFoundException", 404)
}
