package emulator_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func TestAccountSDKListRegions(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	c := account.NewFromConfig(awsConfig(prod, useast1), func(o *account.Options) { o.BaseEndpoint = aws.String(srv) })
	var got []string
	p := account.NewListRegionsPaginator(c, &account.ListRegionsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Regions {
			got = append(got, *r.RegionName+"="+string(r.RegionOptStatus))
		}
	}
	if want := "ap-east-1=DISABLED eu-west-1=ENABLED_BY_DEFAULT us-east-1=ENABLED_BY_DEFAULT"; strings.Join(got, " ") != want {
		t.Errorf("ListRegions: %v", got)
	}
	out, err := c.ListRegions(ctx, &account.ListRegionsInput{RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusDisabled}})
	if err != nil || len(out.Regions) != 1 || *out.Regions[0].RegionName != "ap-east-1" {
		t.Errorf("disabled only: %+v %v", out, err)
	}
	_, err = account.NewFromConfig(awsConfig(dev, useast1), func(o *account.Options) { o.BaseEndpoint = aws.String(srv) }).
		ListRegions(ctx, &account.ListRegionsInput{AccountId: aws.String(prod)})
	apiError(t, err, "AccessDeniedException", 403)
}

func TestIAMSDK(t *testing.T) {
	_, srv := startEstate(t, emulator.Options{})
	c := iam.NewFromConfig(awsConfig(dev, useast1), func(o *iam.Options) { o.BaseEndpoint = aws.String(srv) })
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := url.QueryUnescape(*role.Role.AssumeRolePolicyDocument)
	if *role.Role.Arn != "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole" || !strings.Contains(trust, "sts:AssumeRole") || role.Role.CreateDate == nil {
		t.Errorf("GetRole: %+v", role.Role)
	}
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	if err != nil || len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyName != "AdministratorAccess" || attached.IsTruncated {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", attached, err)
	}
	inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	if err != nil || len(inline.PolicyNames) != 1 || inline.PolicyNames[0] != "extra" {
		t.Fatalf("ListRolePolicies: %+v %v", inline, err)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"), PolicyName: aws.String("extra")})
	if doc, _ := url.QueryUnescape(aws.ToString(rp.PolicyDocument)); err != nil || doc != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:Get*","Resource":"*"}]}` {
		t.Fatalf("GetRolePolicy: %+v %v", rp, err)
	}
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	if err != nil || *pol.Policy.DefaultVersionId != "v1" || *pol.Policy.AttachmentCount != 1 {
		t.Fatalf("GetPolicy: %+v %v", pol, err)
	}
	ver, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: pol.Policy.Arn, VersionId: aws.String("v1")})
	if doc, _ := url.QueryUnescape(aws.ToString(ver.PolicyVersion.Document)); err != nil || !strings.Contains(doc, `"Action":"*"`) {
		t.Fatalf("GetPolicyVersion: %+v %v", ver, err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Nope")})
	apiError(t, err, "NoSuchEntity", 404)
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: pol.Policy.Arn, VersionId: aws.String("v2")})
	apiError(t, err, "NoSuchEntity", 404)
}
