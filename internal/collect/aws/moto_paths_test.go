package awscollect_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// TestPathsDifferentialAgainstMoto builds the same roles in moto (through
// the IAM API) and in our emulator (from a seed), scans both with access
// paths on, and compares which functions each role reaches: moto's
// GetAccountAuthorizationDetails is a second opinion on the wire format.
func TestPathsDifferentialAgainstMoto(t *testing.T) {
	motoURL := startMoto(t)
	ctx := context.Background()
	lambdaTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	partnerTrust := `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`
	invokeAll := `{"Version":"2012-10-17","Statement":[{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`
	invokeOne := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:` + motoAccount + `:function:p-billing"}]}`
	s3Only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	type role struct {
		name, trust, inline, managed, boundary string
	}
	roles := []role{
		{name: "fn", trust: lambdaTrust},
		{name: "partner-inline", trust: partnerTrust, inline: invokeAll},
		{name: "partner-managed", trust: partnerTrust, managed: invokeOne},
		{name: "partner-bounded", trust: partnerTrust, inline: invokeAll, boundary: s3Only},
	}
	functions := []string{"p-intake", "p-billing"}

	// Our emulator, from a seed.
	acct := emulator.SeedAccount{ID: motoAccount, Regions: map[string]emulator.SeedRegion{"us-east-1": {}}}
	region := acct.Regions["us-east-1"]
	for _, f := range functions {
		region.Functions = append(region.Functions, emulator.SeedFunction{Name: f, Role: "arn:aws:iam::" + motoAccount + ":role/fn"})
	}
	acct.Regions["us-east-1"] = region
	for _, r := range roles {
		sr := emulator.SeedRole{Name: r.name, AssumeRolePolicy: json.RawMessage(r.trust)}
		if r.inline != "" {
			sr.InlinePolicies = map[string]json.RawMessage{"app": json.RawMessage(r.inline)}
		}
		if r.managed != "" {
			acct.ManagedPolicies = append(acct.ManagedPolicies, emulator.SeedManagedPolicy{Name: r.name + "-policy", Document: json.RawMessage(r.managed)})
			sr.AttachedPolicies = []string{"arn:aws:iam::" + motoAccount + ":policy/" + r.name + "-policy"}
		}
		if r.boundary != "" {
			acct.ManagedPolicies = append(acct.ManagedPolicies, emulator.SeedManagedPolicy{Name: r.name + "-boundary", Document: json.RawMessage(r.boundary)})
			sr.PermissionsBoundary = "arn:aws:iam::" + motoAccount + ":policy/" + r.name + "-boundary"
		}
		acct.Roles = append(acct.Roles, sr)
	}
	_, ourURL := startEmulator(t, &emulator.Seed{Accounts: []emulator.SeedAccount{acct}}, emulator.Options{})

	// moto, through the API.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA"+motoAccount, "secret", "")}
	mi := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(motoURL) })
	ml := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(motoURL) })
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range roles {
		in := &iam.CreateRoleInput{RoleName: aws.String(r.name), AssumeRolePolicyDocument: aws.String(r.trust)}
		if r.boundary != "" {
			p, err := mi.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(r.name + "-boundary"), PolicyDocument: aws.String(r.boundary)})
			must(p, err)
			in.PermissionsBoundary = p.Policy.Arn
		}
		must(mi.CreateRole(ctx, in))
		if r.inline != "" {
			must(mi.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String("app"), PolicyDocument: aws.String(r.inline)}))
		}
		if r.managed != "" {
			p, err := mi.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(r.name + "-policy"), PolicyDocument: aws.String(r.managed)})
			must(p, err)
			must(mi.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(r.name), PolicyArn: p.Policy.Arn}))
		}
	}
	code := zipped(t, "index.py", "def handler(e, c):\n    return 1\n")
	for _, f := range functions {
		must(ml.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(f), Runtime: types.RuntimePython312,
			Role: aws.String("arn:aws:iam::" + motoAccount + ":role/fn"), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: code}}))
	}

	reach := func(url string) string {
		opt := options(url, motoAccount, "us-east-1")
		opt.Paths, opt.SkipRoles, opt.Thorough = true, false, false
		// moto serves no function URLs; no policy here grants URL invoke.
		opt.NeedsURL = func(*inventory.Resource) bool { return false }
		got, sum := collect(t, opt, rules.Trust{})
		for _, e := range sum.Errors {
			t.Errorf("%s: scan error %s", url, e)
		}
		var out []string
		for arn, r := range got {
			for _, f := range r.Findings {
				if f.Path != nil {
					out = append(out, arn[strings.LastIndex(arn, ":")+1:]+"<-"+f.Path.ViaRole[strings.LastIndex(f.Path.ViaRole, "/")+1:])
				}
			}
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	want := "p-billing<-partner-inline p-billing<-partner-managed p-intake<-partner-inline"
	if got := reach(ourURL); got != want {
		t.Errorf("our emulator: %s\nwant          %s", got, want)
	}
	if got := reach(motoURL); got != want {
		t.Errorf("moto: %s\nwant %s", got, want)
	}
}
