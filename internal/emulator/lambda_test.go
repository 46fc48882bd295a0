package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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

func TestPermissionConflictsAndRevisions(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	add := func(sid, revision string) error {
		in := &lambda.AddPermissionInput{FunctionName: aws.String("private"), StatementId: aws.String(sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(dev)}
		if revision != "" {
			in.RevisionId = aws.String(revision)
		}
		_, err := c.AddPermission(ctx, in)
		return err
	}
	if err := add("one", ""); err != nil {
		t.Fatal(err)
	}
	ae := apiError(t, add("one", ""), "ResourceConflictException", 409)
	if !strings.Contains(ae.ErrorMessage(), "(one)") {
		t.Errorf("conflict message: %q", ae.ErrorMessage())
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")})
	if err != nil {
		t.Fatal(err)
	}
	apiError(t, add("two", "stale-revision"), "PreconditionFailedException", 412)
	if err := add("two", *pol.RevisionId); err != nil {
		t.Fatalf("AddPermission with the current revision: %v", err)
	}
	pol2, _ := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")})
	if *pol2.RevisionId == *pol.RevisionId {
		t.Error("RevisionId did not change on write")
	}

	remove := func(sid, revision string) error {
		in := &lambda.RemovePermissionInput{FunctionName: aws.String("private"), StatementId: aws.String(sid)}
		if revision != "" {
			in.RevisionId = aws.String(revision)
		}
		_, err := c.RemovePermission(ctx, in)
		return err
	}
	apiError(t, remove("one", *pol.RevisionId), "PreconditionFailedException", 412)
	apiError(t, remove("three", ""), "ResourceNotFoundException", 404)
	if err := remove("one", *pol2.RevisionId); err != nil {
		t.Fatal(err)
	}
	if err := remove("two", ""); err != nil {
		t.Fatal(err)
	}
	// The last statement gone, the policy is gone.
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")})
	apiError(t, err, "ResourceNotFoundException", 404)
	apiError(t, remove("two", ""), "ResourceNotFoundException", 404)
}

func TestPercentEncodedARNs(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	c := lambdaClient(srv, prod, useast1)
	arn := "arn:aws:lambda:us-east-1:" + prod + ":function:intake"
	for _, name := range []string{arn + ":prod", prod + ":function:intake:prod", "intake:prod", "function:intake:prod"} {
		out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
		if err != nil || !strings.Contains(*out.Policy, "alias-public") {
			t.Errorf("GetPolicy(%s): %v", name, err)
		}
	}
	// By hand: colons, and a slash, percent-encoded in the path.
	resp := rawRequest(t, "GET", srv+"/2015-03-31/functions/"+url.PathEscape(arn)+"/policy?Qualifier=prod", prod, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(readAll(t, resp.Body), "alias-public") {
		t.Errorf("percent-encoded GetPolicy: %d", resp.StatusCode)
	}
	resp = rawRequest(t, "GET", srv+"/2026-07-09/resource-policy/"+strings.ReplaceAll(url.PathEscape(arn+":2"), ":", "%3A"), prod, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(readAll(t, resp.Body), `\"Sid\":\"v2\"`) {
		t.Errorf("percent-encoded GetResourcePolicy: %d", resp.StatusCode)
	}
	resp = rawRequest(t, "GET", srv+"/2026-07-09/resource-policy/arn%3Aaws%3Alambda%3Aus-east-1%3A"+prod+"%3Afunction%2Fintake", prod, nil, nil)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Errorf("an ARN with an encoded slash is one (invalid) label: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestResourcePolicyAPI(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	base := "arn:aws:lambda:us-east-1:" + prod + ":"
	doc := func(sid string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:root"]},"Action":"lambda:*","Resource":"` + base + `function:intake:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	}
	for _, arn := range []string{base + "function:private", base + "function:intake:prod", base + "function:intake:1", base + "layer:shared-libs:4"} {
		_, err := c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
		if strings.HasSuffix(arn, ":prod") {
			if err != nil {
				t.Fatalf("seeded alias policy via GetResourcePolicy: %v", err)
			}
		} else {
			apiError(t, err, "ResourceNotFoundException", 404)
		}
		put, err := c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc("put"))})
		if err != nil {
			t.Fatalf("PutResourcePolicy(%s): %v", arn, err)
		}
		if *put.Policy != doc("put") || put.RevisionId == nil {
			t.Fatalf("PutResourcePolicy returned %v", put)
		}
		_, err = c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc("again")), RevisionId: aws.String("stale")})
		apiError(t, err, "PreconditionFailedException", 412)
		got, err := c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
		if err != nil || *got.Policy != doc("put") || *got.RevisionId != *put.RevisionId {
			t.Fatalf("GetResourcePolicy after put: %v %v", got, err)
		}
		_, err = c.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn), RevisionId: aws.String(*put.RevisionId)})
		if err != nil {
			t.Fatalf("DeleteResourcePolicy: %v", err)
		}
		_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
		apiError(t, err, "ResourceNotFoundException", 404)
		_, err = c.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)})
		apiError(t, err, "ResourceNotFoundException", 404)
	}
	// The put policy is the one GetPolicy serves for the same resource.
	if _, err := c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(base + "function:intake:2"), Policy: aws.String(doc("same"))}); err != nil {
		t.Fatal(err)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake"), Qualifier: aws.String("2")})
	if err != nil || *pol.Policy != doc("same") {
		t.Fatalf("GetPolicy after PutResourcePolicy: %v %v", pol, err)
	}
	// Limits and validation.
	_, err = c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(base + "function:private"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 21000) + `"}]}`)})
	apiError(t, err, "PolicyLengthExceededException", 400)
	_, err = c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(base + "function:private"), Policy: aws.String(`not json`)})
	apiError(t, err, "InvalidParameterValueException", 400)
	_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(base + "function:nope")})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(base + "layer:shared-libs:9")})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String("intake")})
	apiError(t, err, "ValidationException", 400)
}

func TestLayers(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	layers, err := c.ListLayers(ctx, &lambda.ListLayersInput{})
	if err != nil || len(layers.Layers) != 1 || *layers.Layers[0].LayerName != "shared-libs" || layers.Layers[0].LatestMatchingVersion.Version != 4 {
		t.Fatalf("ListLayers: %+v %v", layers, err)
	}
	versions, err := c.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("arn:aws:lambda:us-east-1:" + prod + ":layer:shared-libs")})
	if err != nil || len(versions.LayerVersions) != 2 || versions.LayerVersions[0].Version != 4 || versions.LayerVersions[1].Version != 3 ||
		*versions.LayerVersions[1].LayerVersionArn != "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:3" {
		t.Fatalf("ListLayerVersions: %+v %v", versions, err)
	}
	pol, err := c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(3)})
	if err != nil || !strings.Contains(*pol.Policy, `"Principal":"*"`) {
		t.Fatalf("GetLayerVersionPolicy: %v %v", pol, err)
	}
	_, err = c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4)})
	apiError(t, err, "ResourceNotFoundException", 404)

	lv := "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:4"
	cases := []struct {
		sid, principal, org, want string
	}{
		{"xaccount", "210987654321", "", `{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"lambda:GetLayerVersion","Resource":"` + lv + `"}`},
		{"everyone", "*", "", `{"Sid":"everyone","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"` + lv + `"}`},
		{"org", "*", "o-t194hfs8cz", `{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"` + lv + `","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-t194hfs8cz"}}}`},
	}
	var last string
	for _, tc := range cases {
		in := &lambda.AddLayerVersionPermissionInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4),
			StatementId: aws.String(tc.sid), Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String(tc.principal)}
		if tc.org != "" {
			in.OrganizationId = aws.String(tc.org)
		}
		out, err := c.AddLayerVersionPermission(ctx, in)
		if err != nil {
			t.Fatalf("AddLayerVersionPermission %s: %v", tc.sid, err)
		}
		if *out.Statement != tc.want || out.RevisionId == nil {
			t.Errorf("layer statement\n got %s\nwant %s", *out.Statement, tc.want)
		}
		last = *out.RevisionId
	}
	_, err = c.AddLayerVersionPermission(ctx, &lambda.AddLayerVersionPermissionInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4),
		StatementId: aws.String("org"), Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String("*")})
	apiError(t, err, "ResourceConflictException", 409)
	_, err = c.AddLayerVersionPermission(ctx, &lambda.AddLayerVersionPermissionInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4),
		StatementId: aws.String("inv"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
	apiError(t, err, "ValidationException", 400)
	pol, err = c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4)})
	if err != nil || *pol.RevisionId != last || strings.Count(*pol.Policy, "Sid") != 3 {
		t.Fatalf("layer policy after adds: %v %v", pol, err)
	}
	_, err = c.RemoveLayerVersionPermission(ctx, &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4),
		StatementId: aws.String("everyone"), RevisionId: aws.String("stale")})
	apiError(t, err, "PreconditionFailedException", 412)
	for _, sid := range []string{"everyone", "xaccount", "org"} {
		if _, err := c.RemoveLayerVersionPermission(ctx, &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String("shared-libs"),
			VersionNumber: aws.Int64(4), StatementId: aws.String(sid)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(4)})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(7)})
	if ae := apiError(t, err, "ResourceNotFoundException", 404); !strings.Contains(ae.ErrorMessage(), "shared-libs:7") {
		t.Errorf("missing layer version not named: %q", ae.ErrorMessage())
	}
	got, err := c.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("shared-libs"), VersionNumber: aws.Int64(3)})
	if err != nil || *got.LayerVersionArn != "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:3" {
		t.Fatalf("GetLayerVersion: %v %v", got, err)
	}
}

func TestFunctionURLs(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	c := lambdaClient(url, prod, useast1)
	u, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("intake")})
	if err != nil {
		t.Fatal(err)
	}
	if u.AuthType != types.FunctionUrlAuthTypeNone || u.Cors == nil || u.Cors.AllowOrigins[0] != "*" || aws.ToBool(u.Cors.AllowCredentials) ||
		!strings.HasPrefix(*u.FunctionUrl, "https://") || !strings.HasSuffix(*u.FunctionUrl, ".lambda-url.us-east-1.on.aws/") ||
		*u.FunctionArn != "arn:aws:lambda:us-east-1:111122223333:function:intake" {
		t.Fatalf("GetFunctionUrlConfig: %+v", u)
	}
	alias, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("intake"), Qualifier: aws.String("prod")})
	if err != nil || alias.AuthType != types.FunctionUrlAuthTypeAwsIam || *alias.FunctionUrl == *u.FunctionUrl {
		t.Fatalf("alias URL: %+v %v", alias, err)
	}
	list, err := c.ListFunctionUrlConfigs(ctx, &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String("intake")})
	if err != nil || len(list.FunctionUrlConfigs) != 2 {
		t.Fatalf("ListFunctionUrlConfigs: %+v %v", list, err)
	}
	_, err = c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("private")})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("intake"), Qualifier: aws.String("1")})
	apiError(t, err, "ValidationException", 400)

	created, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("private"), AuthType: types.FunctionUrlAuthTypeAwsIam})
	if err != nil || created.AuthType != types.FunctionUrlAuthTypeAwsIam || created.InvokeMode != types.InvokeModeBuffered {
		t.Fatalf("CreateFunctionUrlConfig: %+v %v", created, err)
	}
	_, err = c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("private"), AuthType: types.FunctionUrlAuthTypeNone})
	apiError(t, err, "ResourceConflictException", 409)
	updated, err := c.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String("private"), AuthType: types.FunctionUrlAuthTypeNone,
		Cors: &types.Cors{AllowOrigins: []string{"https://example.com"}, AllowCredentials: aws.Bool(true)}})
	if err != nil || updated.AuthType != types.FunctionUrlAuthTypeNone || updated.Cors.AllowOrigins[0] != "https://example.com" || *updated.FunctionUrl != *created.FunctionUrl {
		t.Fatalf("UpdateFunctionUrlConfig: %+v %v", updated, err)
	}
	if _, err := c.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String("private")})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String("private"), AuthType: types.FunctionUrlAuthTypeNone})
	apiError(t, err, "ResourceNotFoundException", 404)
	_, err = c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("intake"), Qualifier: aws.String("nope"), AuthType: types.FunctionUrlAuthTypeNone})
	apiError(t, err, "ResourceNotFoundException", 404)
}

func TestPublicAccessBlock(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	read := func(account, region, name string) string {
		arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + name
		req, _ := http.NewRequest("GET", srv+"/2026-07-09/public-access-block/"+url.PathEscape(arn), nil)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA"+account+"/20260101/"+region+"/lambda/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return fmt.Sprint(resp.StatusCode, " ", readAll(t, resp.Body))
	}
	if got := read(picky, "us-west-2", "guarded"); got != `200 {"PublicAccessBlockConfig":{"BlockPublicPolicy":true,"RestrictPublicResource":true}}` {
		t.Errorf("picky: %s", got)
	}
	if got := read(prod, useast1, "intake"); got != `200 {"PublicAccessBlockConfig":{"BlockPublicPolicy":false,"RestrictPublicResource":false}}` {
		t.Errorf("prod: %s", got)
	}
	// BlockPublicPolicy refuses public statements, not scoped ones.
	c := lambdaClient(srv, picky, "us-west-2")
	_, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("guarded"), StatementId: aws.String("pub"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
	apiError(t, err, "PublicPolicyException", 400)
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("guarded"), StatementId: aws.String("scoped"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), PrincipalOrgID: aws.String("o-abc123def4")}); err != nil {
		t.Errorf("scoped statement refused: %v", err)
	}
}

func TestDisabledRegionAndUnknownOperation(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	_, err := lambdaClient(srv, prod, "ap-east-1").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	ae := apiError(t, err, "UnrecognizedClientException", 403)
	if ae.ErrorMessage() != "The security token included in the request is invalid" {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	// A region with nothing seeded is empty, not an error.
	out, err := lambdaClient(srv, prod, "sa-east-1").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(out.Functions) != 0 {
		t.Errorf("empty region: %v %v", out, err)
	}
	_, err = lambdaClient(srv, prod, useast1).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("intake")})
	apiError(t, err, "UnknownOperationException", 404)
	resp := rawRequest(t, "GET", srv+"/nothing/here", prod, nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("unknown path: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestErrorWireFormat(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	resp := rawRequest(t, "GET", srv+"/2015-03-31/functions/private/policy", prod, nil, nil)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
		body != `{"Message":"The resource you requested does not exist.","Type":"User"}` {
		t.Errorf("404: %d %q %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	resp = rawRequest(t, "GET", srv+"/2015-03-31/functions/throttled/policy", prod, nil, nil)
	body = readAll(t, resp.Body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" ||
		body != `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded","retryAfterSeconds":"1"}` {
		t.Errorf("429: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
