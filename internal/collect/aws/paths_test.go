package awscollect_test

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

const partnerAcct = "444455556666"

// pathEstate is one account with three functions (intake with an alias
// and a version) and the given roles and managed policies.
func pathEstate(roles []emulator.SeedRole, managed ...emulator.SeedManagedPolicy) *emulator.Seed {
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: mgmt,
		Regions: map[string]emulator.SeedRegion{"us-east-1": {Functions: []emulator.SeedFunction{
			{Name: "intake", Versions: []emulator.SeedVersion{{Version: "1"}}, Aliases: []emulator.SeedAlias{{Name: "prod", Version: "1"}}},
			{Name: "billing"},
			{Name: "claims"},
		}}},
		// The functions' execution roles, plus the roles under test.
		Roles: append([]emulator.SeedRole{
			{Name: "intake", AssumeRolePolicy: trustedBy(`{"Service":"lambda.amazonaws.com"}`, "")},
			{Name: "billing", AssumeRolePolicy: trustedBy(`{"Service":"lambda.amazonaws.com"}`, "")},
			{Name: "claims", AssumeRolePolicy: trustedBy(`{"Service":"lambda.amazonaws.com"}`, "")},
		}, roles...),
		ManagedPolicies: managed,
	}}}
}

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func trustedBy(principal, cond string) json.RawMessage {
	s := `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"`
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return rawJSON(s + `}]}`)
}

func invokeOn(resource string) map[string]json.RawMessage {
	return map[string]json.RawMessage{"invoke": rawJSON(`{"Version":"2012-10-17","Statement":[{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"` + resource + `"}]}`)}
}

// pathFindings collects the estate with access paths on and returns, per
// resource ARN, its lambda-external-path-via-role findings.
func pathFindings(t *testing.T, seed *emulator.Seed, trust rules.Trust, faults string) (map[string][]finding.Finding, map[string]report.Resource, []string) {
	t.Helper()
	var opts emulator.Options
	if faults != "" {
		f, err := emulator.ParseFaults(faults)
		if err != nil {
			t.Fatal(err)
		}
		opts.Faults = f
	}
	_, url := startEmulator(t, seed, opts)
	opt := options(url, mgmt, "us-east-1")
	opt.Paths = true
	opt.SkipRoles = false
	got, sum := collect(t, opt, trust)
	out := map[string][]finding.Finding{}
	for arn, r := range got {
		for _, f := range r.Findings {
			if f.RuleID == "lambda-external-path-via-role" {
				out[arn] = append(out[arn], f)
			}
		}
	}
	return out, got, sum.Errors
}

func arns(m map[string][]finding.Finding) string {
	var out []string
	for a := range m {
		out = append(out, strings.TrimPrefix(a, "arn:aws:lambda:us-east-1:"+mgmt+":function:"))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestPathForeignAccountInvokeOnStarReachesEveryFunction(t *testing.T) {
	seed := pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"arn:aws:iam::`+partnerAcct+`:root"}`, ""), InlinePolicies: invokeOn("*")}})
	got, all, errs := pathFindings(t, seed, rules.Trust{}, "")
	if want := "billing claims intake intake:1 intake:prod"; arns(got) != want {
		t.Fatalf("paths reach %q, want %q", arns(got), want)
	}
	for arn, fs := range got {
		f := fs[0]
		if len(fs) != 1 || f.Severity != finding.High || f.Path == nil || f.Path.ViaRole != "arn:aws:iam::"+mgmt+":role/partner" ||
			f.Path.From[0].Account != partnerAcct || strings.Join(f.Path.Actions, ",") != "lambda:InvokeFunction" {
			t.Errorf("%s: %+v", arn, fs)
		}
		if !strings.Contains(f.Explanation, "account "+partnerAcct) || !strings.Contains(f.Explanation, "role/partner") {
			t.Errorf("%s: the explanation must name the account and the role: %s", arn, f.Explanation)
		}
	}
	if len(errs) != 0 {
		t.Errorf("scan errors: %v", errs)
	}
	// The functions' own execution roles came from the same read.
	if r := all[fnARN(mgmt, "us-east-1", "intake")]; r.Status != "evaluated" {
		t.Errorf("intake: %+v", r)
	}

	// Without the trust, no path.
	seed = pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"Service":"lambda.amazonaws.com"}`, ""), InlinePolicies: invokeOn("*")}})
	if got, _, _ := pathFindings(t, seed, rules.Trust{}, ""); len(got) != 0 {
		t.Errorf("removing the trust must remove the finding: %v", arns(got))
	}
}

func TestPathOnOneFunctionARNReachesOnlyIt(t *testing.T) {
	seed := pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"`+partnerAcct+`"}`, ""), InlinePolicies: invokeOn(fnARN(mgmt, "us-east-1", "billing"))}})
	got, _, _ := pathFindings(t, seed, rules.Trust{}, "")
	if arns(got) != "billing" {
		t.Fatalf("paths reach %q, want only billing", arns(got))
	}
}

func TestPathBoundaryWithoutLambdaRemovesIt(t *testing.T) {
	boundary := emulator.SeedManagedPolicy{Name: "s3-only", Document: rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}
	seed := pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"`+partnerAcct+`"}`, ""), InlinePolicies: invokeOn("*"),
		PermissionsBoundary: "arn:aws:iam::" + mgmt + ":policy/s3-only"}}, boundary)
	if got, _, _ := pathFindings(t, seed, rules.Trust{}, ""); len(got) != 0 {
		t.Fatalf("a boundary without lambda must remove the path: %v", arns(got))
	}
}

func TestPathSCPDenyingInvokeRemovesIt(t *testing.T) {
	seed := pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"`+partnerAcct+`"}`, ""),
		AttachedPolicies: []string{"arn:aws:iam::" + mgmt + ":policy/invoke-all"}}},
		emulator.SeedManagedPolicy{Name: "invoke-all", Document: rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:Invoke*","Resource":"*"}]}`)})
	got, _, _ := pathFindings(t, seed, rules.Trust{}, "")
	if len(got) != 5 || got[fnARN(mgmt, "us-east-1", "claims")][0].Path.PermissionStatement.Policy != "arn:aws:iam::"+mgmt+":policy/invoke-all" {
		t.Fatalf("a managed policy grants the path: %v", got)
	}
	scp, err := policy.ParseIdentity([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ = pathFindings(t, seed, rules.Trust{SCPs: []rules.SCP{{Name: "deny-invoke.json", Doc: scp}}}, "")
	for arn, fs := range got {
		// lambda:InvokeAsync and InvokeFunctionUrl are left: the path
		// stays, with fewer actions.
		if strings.Contains(strings.Join(fs[0].Path.Actions, ","), "lambda:InvokeFunction,") || strings.HasSuffix(strings.Join(fs[0].Path.Actions, ","), "lambda:InvokeFunction") {
			t.Errorf("%s: the SCP's denied action is still listed: %v", arn, fs[0].Path.Actions)
		}
	}
	all, err := policy.ParseIdentity([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:Invoke*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := pathFindings(t, seed, rules.Trust{SCPs: []rules.SCP{{Name: "deny-invoke.json", Doc: all}}}, ""); len(got) != 0 {
		t.Fatalf("an SCP denying invoke must remove the path: %v", arns(got))
	}
}

func TestPathGitHubOIDCWithoutSubIsPublic(t *testing.T) {
	trust := rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + mgmt + `:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`)
	seed := pathEstate([]emulator.SeedRole{{Name: "deploy", AssumeRolePolicy: trust, InlinePolicies: map[string]json.RawMessage{"deploy": rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:UpdateFunctionCode","lambda:GetFunction"],"Resource":"*"}]}`)}}})
	got, _, _ := pathFindings(t, seed, rules.Trust{}, "")
	f := got[fnARN(mgmt, "us-east-1", "intake")]
	if len(f) != 1 || f[0].Severity != finding.Critical || f[0].Exposure != "public" || f[0].Path.From[0].Kind != "oidc" ||
		!strings.Contains(f[0].Explanation, "no condition pins the subject") || !strings.Contains(f[0].Explanation, "change its code") {
		t.Fatalf("GitHub OIDC without sub: %+v", f)
	}
}

func TestPathExternalIDKeepsItForeignButNarrowed(t *testing.T) {
	seed := pathEstate([]emulator.SeedRole{{Name: "vendor", AssumeRolePolicy: trustedBy(`{"AWS":"arn:aws:iam::`+partnerAcct+`:root"}`, `{"StringEquals":{"sts:ExternalId":"vendor-7f3a"}}`), InlinePolicies: invokeOn("*")}})
	got, _, _ := pathFindings(t, seed, rules.Trust{}, "")
	f := got[fnARN(mgmt, "us-east-1", "billing")]
	if len(f) != 1 || f[0].Severity != finding.High || f[0].Exposure != "cross-account" || !strings.Contains(f[0].Path.From[0].Narrowed, "narrowed by ExternalId") ||
		!strings.Contains(f[0].Explanation, "narrowed by ExternalId") {
		t.Fatalf("ExternalId: %+v", f)
	}
}

func TestPathUnreadableRolesMakeTheScanIncomplete(t *testing.T) {
	seed := pathEstate([]emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"`+partnerAcct+`"}`, ""), InlinePolicies: invokeOn("*")}})
	got, all, errs := pathFindings(t, seed, rules.Trust{}, "iam:GetAccountAuthorizationDetails:denied=1")
	if len(got) != 0 {
		t.Fatalf("no verdict without the roles: %v", arns(got))
	}
	if !strings.Contains(strings.Join(errs, "\n"), "access paths through assumable roles are unknown") {
		t.Fatalf("the scan must be incomplete: %v", errs)
	}
	r := all[fnARN(mgmt, "us-east-1", "intake")]
	if !strings.Contains(strings.Join(r.Notes, " "), "Access paths through assumable roles are unknown") {
		t.Errorf("the resource must say its paths are unknown: %v", r.Notes)
	}
}

// TestPathsReadIsPagedReadOnlyAndReplacesPerRoleCalls: one account's
// roles come in pages of GetAccountAuthorizationDetails, execution roles
// come from them (no iam:GetRole), and nothing but reads is called.
func TestPathsReadIsPagedReadOnlyAndReplacesPerRoleCalls(t *testing.T) {
	var roles []emulator.SeedRole
	for i := range 1100 {
		roles = append(roles, emulator.SeedRole{Name: "r" + strconv.Itoa(i), AssumeRolePolicy: trustedBy(`{"Service":"ec2.amazonaws.com"}`, "")})
	}
	roles = append(roles, emulator.SeedRole{Name: "partner", AssumeRolePolicy: trustedBy(`{"AWS":"`+partnerAcct+`"}`, ""), InlinePolicies: invokeOn("*")})
	srv, url := startEmulator(t, pathEstate(roles), emulator.Options{})
	opt := options(url, mgmt, "us-east-1")
	opt.Paths, opt.SkipRoles = true, false
	got, sum := collect(t, opt, rules.Trust{})
	if len(sum.Errors) != 0 {
		t.Fatalf("errors: %v", sum.Errors)
	}
	n := 0
	for _, f := range got[fnARN(mgmt, "us-east-1", "claims")].Findings {
		if f.RuleID == "lambda-external-path-via-role" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the role after the first page was missed: %d findings", n)
	}
	ops := map[string]int{}
	for _, r := range srv.Requests() {
		ops[r.Op]++
		op := strings.TrimPrefix(r.Op, "iam:")
		if !strings.HasPrefix(op, "List") && !strings.HasPrefix(op, "Get") {
			t.Errorf("scan called %s", r.Op)
		}
	}
	if ops["iam:GetAccountAuthorizationDetails"] != 2 || ops["iam:GetRole"] != 0 {
		t.Errorf("IAM calls: %v", ops)
	}
}
