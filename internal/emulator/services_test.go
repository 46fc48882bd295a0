package emulator_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func TestSTSIdentityAndAssumeRole(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	_, srv := startEstate(t, emulator.Options{Now: func() time.Time { return now }})
	c := stsClient(srv, awsConfig(prod, useast1))
	id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Account != prod || *id.Arn != "arn:aws:iam::111122223333:user/emulator" || *id.UserId == "" {
		t.Fatalf("GetCallerIdentity: %+v", id)
	}
	// Keys that name no account select the first seeded one.
	other, err := stsClient(srv, awsConfigKeys("test", "test", "", useast1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *other.Account != prod {
		t.Fatalf("default account: %+v %v", other, err)
	}

	role := "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("lambdawarden")})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !strings.HasPrefix(*cr.AccessKeyId, "ASIA"+dev) || *cr.SecretAccessKey == "" || *cr.SessionToken == "" || !cr.Expiration.Equal(now.Add(time.Hour)) {
		t.Fatalf("credentials: %+v", cr)
	}
	if *out.AssumedRoleUser.Arn != "arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/lambdawarden" {
		t.Fatalf("assumed role user: %+v", out.AssumedRoleUser)
	}
	assumed := awsConfigKeys(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken, useast1)
	who, err := stsClient(srv, assumed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Account != dev || *who.Arn != *out.AssumedRoleUser.Arn {
		t.Fatalf("identity with assumed credentials: %+v %v", who, err)
	}
	fns, err := lambdaClientFrom(srv, assumed).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(fns.Functions) != 2 || *fns.Functions[0].FunctionName != "dev-fn" {
		t.Fatalf("the assumed account's functions: %+v %v", fns, err)
	}

	deny := func(role, externalID string) {
		t.Helper()
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")}
		if externalID != "" {
			in.ExternalId = aws.String(externalID)
		}
		_, err := c.AssumeRole(ctx, in)
		apiError(t, err, "AccessDenied", 403)
	}
	deny("arn:aws:iam::777788889999:role/OrganizationAccountAccessRole", "") // assume_role_denied
	deny("arn:aws:iam::999999999999:role/OrganizationAccountAccessRole", "") // not seeded
	deny("arn:aws:iam::222233334444:role/OrganizationAccountAccessRole", "") // suspended
	deny("arn:aws:iam::444455556666:role/NoSuchRole", "")                    // roles listed, not this one
	deny("arn:aws:iam::555566667777:role/Audit", "")                         // external id required
	deny("arn:aws:iam::555566667777:role/Audit", "wrong")
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::555566667777:role/Audit"),
		RoleSessionName: aws.String("s1"), ExternalId: aws.String("s3cret")}); err != nil {
		t.Errorf("AssumeRole with the right external id: %v", err)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn"), RoleSessionName: aws.String("s1")})
	apiError(t, err, "ValidationError", 400)
}

func TestOrganizations(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	c := orgClient(srv, prod)
	org, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if o := org.Organization; *o.Id != "o-abc123def4" || *o.MasterAccountId != prod || o.FeatureSet != orgtypes.OrganizationFeatureSetAll ||
		*o.Arn != "arn:aws:organizations::111122223333:organization/o-abc123def4" {
		t.Fatalf("organization: %+v", o)
	}
	var ids []string
	pages := 0
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.Accounts {
			ids = append(ids, *a.Id+"/"+string(a.Status))
			if a.JoinedTimestamp == nil || a.JoinedTimestamp.Year() != 2020 || *a.Email == "" || a.JoinedMethod != orgtypes.AccountJoinedMethodCreated {
				t.Errorf("account fields: %+v", a)
			}
		}
	}
	want := prod + "/ACTIVE " + dev + "/ACTIVE " + locked + "/ACTIVE " + gone + "/SUSPENDED " + picky + "/ACTIVE"
	if pages != 3 || strings.Join(ids, " ") != want {
		t.Fatalf("ListAccounts in %d pages: %v", pages, ids)
	}
	_, err = orgClient(srv, dev).ListAccounts(ctx, &organizations.ListAccountsInput{})
	apiError(t, err, "AccessDeniedException", 400)

	_, bare := start(t, &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: prod}}}, emulator.Options{})
	_, err = orgClient(bare, prod).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	apiError(t, err, "AWSOrganizationsNotInUseException", 400)
}

func TestAccountListRegions(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	post := func(account, body string) (int, string) {
		resp := rawRequest(t, "POST", srv+"/listRegions", account, []byte(body), map[string]string{"Content-Type": "application/json"})
		return resp.StatusCode, readAll(t, resp.Body)
	}
	code, body := post(prod, `{}`)
	if want := `{"Regions":[{"RegionName":"ap-east-1","RegionOptStatus":"DISABLED"},{"RegionName":"eu-west-1","RegionOptStatus":"ENABLED_BY_DEFAULT"},{"RegionName":"us-east-1","RegionOptStatus":"ENABLED_BY_DEFAULT"}]}`; code != 200 || body != want {
		t.Errorf("ListRegions: %d %s", code, body)
	}
	code, body = post(prod, `{"RegionOptStatusContains":["ENABLED","ENABLED_BY_DEFAULT"],"MaxResults":1}`)
	if !strings.Contains(body, `"NextToken"`) || strings.Contains(body, "ap-east-1") || code != 200 {
		t.Errorf("filtered, paged ListRegions: %d %s", code, body)
	}
	code, body = post(prod, `{"AccountId":"`+picky+`"}`)
	if code != 200 || !strings.Contains(body, "us-west-2") {
		t.Errorf("management account listing a member: %d %s", code, body)
	}
	if code, _ = post(dev, `{"AccountId":"`+picky+`"}`); code != 403 {
		t.Errorf("member listing another account: %d", code)
	}
}

func TestIAMReadActions(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	call := func(account string, form url.Values) (int, string) {
		form.Set("Version", "2010-05-08")
		req, _ := http.NewRequest("POST", srv+"/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA"+account+"/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(t, resp.Body)
	}
	code, body := call(dev, url.Values{"Action": {"GetRole"}, "RoleName": {"OrganizationAccountAccessRole"}})
	var role struct {
		Result struct {
			Role struct {
				Arn, RoleName, AssumeRolePolicyDocument string
			}
		} `xml:"GetRoleResult"`
	}
	if err := xml.Unmarshal([]byte(body), &role); err != nil || code != 200 {
		t.Fatalf("GetRole: %d %s %v", code, body, err)
	}
	doc, _ := url.QueryUnescape(role.Result.Role.AssumeRolePolicyDocument)
	if role.Result.Role.Arn != "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole" || !strings.Contains(doc, `"arn:aws:iam::444455556666:root"`) {
		t.Errorf("role: %+v (trust %s)", role.Result.Role, doc)
	}
	code, body = call(dev, url.Values{"Action": {"ListAttachedRolePolicies"}, "RoleName": {"OrganizationAccountAccessRole"}})
	if code != 200 || !strings.Contains(body, "<PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn>") || !strings.Contains(body, "<IsTruncated>false</IsTruncated>") {
		t.Errorf("ListAttachedRolePolicies: %s", body)
	}
	code, body = call(dev, url.Values{"Action": {"ListRolePolicies"}, "RoleName": {"OrganizationAccountAccessRole"}})
	if code != 200 || !strings.Contains(body, "<member>extra</member>") {
		t.Errorf("ListRolePolicies: %s", body)
	}
	code, body = call(dev, url.Values{"Action": {"GetRolePolicy"}, "RoleName": {"OrganizationAccountAccessRole"}, "PolicyName": {"extra"}})
	if code != 200 || !strings.Contains(body, "lambda%3AGet%2A") {
		t.Errorf("GetRolePolicy: %s", body)
	}
	code, body = call(dev, url.Values{"Action": {"GetPolicy"}, "PolicyArn": {"arn:aws:iam::aws:policy/AdministratorAccess"}})
	if code != 200 || !strings.Contains(body, "<DefaultVersionId>v1</DefaultVersionId>") || !strings.Contains(body, "<AttachmentCount>1</AttachmentCount>") {
		t.Errorf("GetPolicy: %s", body)
	}
	code, body = call(dev, url.Values{"Action": {"GetPolicyVersion"}, "PolicyArn": {"arn:aws:iam::aws:policy/AdministratorAccess"}, "VersionId": {"v1"}})
	if code != 200 || !strings.Contains(body, "%22Action%22%3A%22%2A%22") {
		t.Errorf("GetPolicyVersion: %s", body)
	}
	code, body = call(prod, url.Values{"Action": {"GetRole"}, "RoleName": {"OrganizationAccountAccessRole"}})
	if code != 404 || !strings.Contains(body, "<Code>NoSuchEntity</Code>") {
		t.Errorf("role in another account: %d %s", code, body)
	}
	code, body = call(prod, url.Values{"Action": {"DeleteRole"}, "RoleName": {"x"}})
	if code != 404 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("unknown IAM action: %d %s", code, body)
	}
}

// The zero Server is a usable handler: an empty estate in the default
// account, any region.
func TestZeroValueServer(t *testing.T) {
	var s emulator.Server
	ts := httptest.NewServer(&s)
	defer ts.Close()
	out, err := lambdaClient(ts.URL, "123456789012", "eu-central-1").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(out.Functions) != 0 {
		t.Fatalf("ListFunctions: %+v %v", out, err)
	}
	id, err := stsClient(ts.URL, awsConfigKeys("anything", "x", "", useast1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != emulator.DefaultAccount {
		t.Fatalf("GetCallerIdentity: %+v %v", id, err)
	}
	_, err = lambdaClient(ts.URL, "123456789012", useast1).GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("x")})
	apiError(t, err, "ResourceNotFoundException", 404)
	if got := s.Counts(); got["ListFunctions"] != 1 || got["GetCallerIdentity"] != 1 || got["GetPolicy"] != 1 {
		t.Errorf("counts: %v", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a never-started server: %v", err)
	}
}
