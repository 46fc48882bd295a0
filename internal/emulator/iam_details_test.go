package emulator_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// authSeed is one account with three roles: a partner role with a
// managed policy and a boundary, a CI role with an inline policy, and a
// plain execution role.
func authSeed() *emulator.Seed {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: prod,
		ManagedPolicies: []emulator.SeedManagedPolicy{
			{Name: "invoke-all", Document: raw(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`)},
			{Name: "boundary", Path: "/guard/", Document: raw(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)},
			{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Document: raw(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:Get*","Resource":"*"}]}`)},
		},
		Roles: []emulator.SeedRole{
			{Name: "partner", AssumeRolePolicy: raw(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`),
				AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/invoke-all", "arn:aws:iam::aws:policy/ReadOnlyAccess"}, PermissionsBoundary: "arn:aws:iam::111122223333:policy/guard/boundary"},
			{Name: "ci", Path: "/deploy/", InlinePolicies: map[string]json.RawMessage{"deploy": raw(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:UpdateFunctionCode","Resource":"*"}]}`)}},
			{Name: "intake"},
		},
	}}}
}

func TestIAMSDKGetAccountAuthorizationDetails(t *testing.T) {
	_, srv := start(t, authSeed(), emulator.Options{})
	c := iam.NewFromConfig(awsConfig(prod, useast1), func(o *iam.Options) { o.BaseEndpoint = aws.String(srv) })
	var roles []iamtypes.RoleDetail
	var policies []iamtypes.ManagedPolicyDetail
	pages := 0
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{
		Filter:   []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy},
		MaxItems: aws.Int32(2),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		roles = append(roles, out.RoleDetailList...)
		policies = append(policies, out.Policies...)
	}
	if pages != 3 || len(roles) != 3 || len(policies) != 3 {
		t.Fatalf("pages %d, roles %d, policies %d; want 3, 3, 3", pages, len(roles), len(policies))
	}
	partner := roles[0]
	trust, err := url.QueryUnescape(aws.ToString(partner.AssumeRolePolicyDocument))
	if err != nil || !strings.Contains(trust, "444455556666") {
		t.Errorf("trust policy %q (%v)", trust, err)
	}
	if aws.ToString(partner.Arn) != "arn:aws:iam::111122223333:role/partner" || len(partner.AttachedManagedPolicies) != 2 ||
		partner.PermissionsBoundary == nil || aws.ToString(partner.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::111122223333:policy/guard/boundary" ||
		partner.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("partner role: %+v", partner)
	}
	ci := roles[1]
	if aws.ToString(ci.Arn) != "arn:aws:iam::111122223333:role/deploy/ci" || len(ci.RolePolicyList) != 1 || aws.ToString(ci.RolePolicyList[0].PolicyName) != "deploy" || ci.PermissionsBoundary != nil {
		t.Errorf("ci role: %+v", ci)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(ci.RolePolicyList[0].PolicyDocument)); !strings.Contains(doc, "lambda:UpdateFunctionCode") {
		t.Errorf("inline document %q", doc)
	}
	byARN := map[string]iamtypes.ManagedPolicyDetail{}
	for _, m := range policies {
		byARN[aws.ToString(m.Arn)] = m
	}
	b := byARN["arn:aws:iam::111122223333:policy/guard/boundary"]
	if b.PermissionsBoundaryUsageCount == nil || *b.PermissionsBoundaryUsageCount != 1 || len(b.PolicyVersionList) != 1 || !b.PolicyVersionList[0].IsDefaultVersion ||
		aws.ToString(b.DefaultVersionId) != "v1" {
		t.Errorf("boundary policy: %+v", b)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(b.PolicyVersionList[0].Document)); !strings.Contains(doc, `"s3:*"`) {
		t.Errorf("boundary document %q", doc)
	}

	// Filters select entity types.
	out, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeAWSManagedPolicy}})
	if err != nil || len(out.RoleDetailList) != 0 || len(out.Policies) != 1 || aws.ToString(out.Policies[0].Arn) != "arn:aws:iam::aws:policy/ReadOnlyAccess" || out.IsTruncated {
		t.Errorf("AWS managed only: %+v %v", out, err)
	}
	_, err = c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{"Robot"}})
	apiError(t, err, "ValidationError", 400)

	// GetRole names the boundary too.
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("partner")})
	if err != nil || role.Role.PermissionsBoundary == nil || aws.ToString(role.Role.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::111122223333:policy/guard/boundary" {
		t.Errorf("GetRole boundary: %+v %v", role, err)
	}

	// Denied, as a scan role without iam:GetAccountAuthorizationDetails is.
	faults, err := emulator.ParseFaults("iam:GetAccountAuthorizationDetails:denied=1")
	if err != nil {
		t.Fatal(err)
	}
	_, denied := start(t, authSeed(), emulator.Options{Faults: faults})
	_, err = iam.NewFromConfig(awsConfig(prod, useast1), func(o *iam.Options) { o.BaseEndpoint = aws.String(denied) }).
		GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	apiError(t, err, "AccessDenied", 403)
}

func TestSeedBoundaryMustBeAManagedPolicy(t *testing.T) {
	_, err := emulator.ParseSeed([]byte(`{"accounts":[{"id":"111122223333","roles":[{"name":"r","permissions_boundary":"arn:aws:iam::111122223333:policy/nope"}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "accounts[0].roles[0].permissions_boundary") {
		t.Fatalf("want an error naming the field, got %v", err)
	}
}

func TestAWSCLIGetAccountAuthorizationDetails(t *testing.T) {
	_, srv := start(t, authSeed(), emulator.Options{})
	cli := newAWSCLI(t, srv)
	var out struct {
		RoleDetailList []struct {
			Arn                      string
			AssumeRolePolicyDocument map[string]any
			RolePolicyList           []struct{ PolicyName string }
			AttachedManagedPolicies  []struct{ PolicyArn string }
			PermissionsBoundary      *struct{ PermissionsBoundaryArn string }
		}
		Policies []struct {
			Arn               string
			PolicyVersionList []struct{ Document map[string]any }
		}
	}
	// The CLI pages itself (--max-items is its own page size here).
	cli.json(prod, &out, "iam", "get-account-authorization-details", "--filter", "Role", "LocalManagedPolicy", "--page-size", "1")
	if len(out.RoleDetailList) != 3 || len(out.Policies) != 2 {
		t.Fatalf("roles %d policies %d: %+v", len(out.RoleDetailList), len(out.Policies), out)
	}
	p := out.RoleDetailList[0]
	if p.Arn != "arn:aws:iam::111122223333:role/partner" || p.AssumeRolePolicyDocument["Version"] != "2012-10-17" || p.PermissionsBoundary == nil || len(p.AttachedManagedPolicies) != 2 {
		t.Errorf("partner: %+v", p)
	}
	if out.Policies[0].PolicyVersionList[0].Document["Version"] != "2012-10-17" {
		t.Errorf("policy document not decoded by the CLI: %+v", out.Policies[0])
	}
}
