package emulator_test

import (
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
