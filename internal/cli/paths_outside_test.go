package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// Outside tests of the paths command: the reverse view must say what the
// scan's findings say, role by role and account by account.

const outsideAcct = "111122223333"

func outsideFn(name string) string {
	return "arn:aws:lambda:us-east-1:" + outsideAcct + ":function:" + name
}

func outsideRole(name string) string { return "arn:aws:iam::" + outsideAcct + ":role/" + name }

// outsideEstate has four roles outsiders may assume, each reaching
// different resources, and returns the server with the flags to reach it.
func outsideEstate(t *testing.T, faults string) (*emulator.Server, []string) {
	t.Helper()
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	trust := func(principal, cond string) json.RawMessage {
		s := `{"Version":"2012-10-17","Statement":[{"Sid":"T","Effect":"Allow","Principal":` + principal + `,"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return raw(s + `}]}`)
	}
	grant := func(action, resource string) map[string]json.RawMessage {
		return map[string]json.RawMessage{"p": raw(`{"Version":"2012-10-17","Statement":[{"Sid":"G","Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`)}
	}
	lambdaTrust := trust(`{"Service":"lambda.amazonaws.com"}`, "")
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: outsideAcct,
		Regions: map[string]emulator.SeedRegion{"us-east-1": {Functions: []emulator.SeedFunction{
			{Name: "intake", Aliases: []emulator.SeedAlias{{Name: "prod"}}}, {Name: "billing"}, {Name: "claims"},
		}}},
		Roles: []emulator.SeedRole{
			{Name: "intake", AssumeRolePolicy: lambdaTrust}, {Name: "billing", AssumeRolePolicy: lambdaTrust}, {Name: "claims", AssumeRolePolicy: lambdaTrust},
			{Name: "partner", AssumeRolePolicy: trust(`{"AWS":"arn:aws:iam::444455556666:root"}`, ""), InlinePolicies: grant("lambda:InvokeFunction", "*")},
			{Name: "ci", AssumeRolePolicy: trust(`{"Federated":"arn:aws:iam::`+outsideAcct+`:oidc-provider/token.actions.githubusercontent.com"}`, `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`),
				InlinePolicies: grant("lambda:UpdateFunctionCode", outsideFn("billing"))},
			{Name: "other-org", AssumeRolePolicy: trust(`"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}`), InlinePolicies: grant("lambda:GetFunction", outsideFn("claims"))},
			{Name: "vendor", AssumeRolePolicy: trust(`{"AWS":"777788889999"}`, `{"StringEquals":{"sts:ExternalId":"v-1"}}`), InlinePolicies: grant("lambda:InvokeFunction", outsideFn("intake")+":*")},
			{Name: "pinned", AssumeRolePolicy: trust(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":"888877776666"}}`), InlinePolicies: grant("lambda:InvokeFunction", outsideFn("billing"))},
			{Name: "inside", AssumeRolePolicy: trust(`{"AWS":"arn:aws:iam::`+outsideAcct+`:root"}`, ""), InlinePolicies: grant("lambda:*", "*")},
		},
	}}}
	var opts emulator.Options
	if faults != "" {
		f, err := emulator.ParseFaults(faults)
		if err != nil {
			t.Fatal(err)
		}
		opts.Faults = f
	}
	srv, url := emulatortest.Serve(t, seed, opts, outsideAcct)
	return srv, []string{"--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--org-id", "o-abc123def4"}
}

// reach is role -> sorted resource ARNs.
type reach map[string][]string

func (r reach) String() string {
	var roles []string
	for k := range r {
		roles = append(roles, k)
	}
	sort.Strings(roles)
	var b strings.Builder
	for _, k := range roles {
		b.WriteString(strings.TrimPrefix(k, "arn:aws:iam::"+outsideAcct+":role/") + "=" + strings.Join(r[k], ",") + " ")
	}
	return b.String()
}

func scanReach(t *testing.T, args []string, from string) reach {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"scan", "-o", "json"}, args...)...)
	if code != exitFindings {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	got := reach{}
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if f.RuleID != "lambda-external-path-via-role" {
				continue
			}
			keep := from == ""
			for _, p := range f.Path.From {
				keep = keep || p.Account == from || p.Kind == "everyone" && (p.Accounts == nil || slices.Contains(p.Accounts, from))
			}
			if keep {
				got[f.Path.ViaRole] = append(got[f.Path.ViaRole], strings.TrimPrefix(r.ARN, "arn:aws:lambda:us-east-1:"+outsideAcct+":function:"))
			}
		}
	}
	for k := range got {
		sort.Strings(got[k])
	}
	return got
}

func pathsReach(t *testing.T, args []string, wantCode int, filter ...string) (reach, *pathsView) {
	t.Helper()
	code, out, errOut := runCLI(t, "", append(append([]string{"paths", "-o", "json"}, filter...), args...)...)
	if code != wantCode {
		t.Fatalf("paths %v: exit %d, want %d: %s", filter, code, wantCode, errOut)
	}
	var v pathsView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	got := reach{}
	for _, r := range v.Roles {
		for _, x := range r.Reaches {
			got[r.Role] = append(got[r.Role], strings.TrimPrefix(x.ARN, "arn:aws:lambda:us-east-1:"+outsideAcct+":function:"))
		}
		sort.Strings(got[r.Role])
	}
	return got, &v
}

func TestPathsOutsideReverseViewAgreesWithTheScan(t *testing.T) {
	_, args := outsideEstate(t, "")
	scan := scanReach(t, args, "")
	want := "ci=billing other-org=claims partner=billing,claims,intake,intake:prod pinned=billing vendor=intake:prod "
	if scan.String() != want {
		t.Fatalf("scan reaches %q, want %q", scan, want)
	}
	all, v := pathsReach(t, args, exitFindings)
	if all.String() != scan.String() || !v.Complete {
		t.Errorf("paths: %q, scan: %q (complete %v)", all, scan, v.Complete)
	}
	if v.Roles[0].Role != outsideRole("ci") || v.Roles[0].Severity.String() != "critical" {
		t.Errorf("the public GitHub trust comes first, critical: %+v", v.Roles[0])
	}
	for role, resources := range scan {
		one, _ := pathsReach(t, args, exitFindings, "--role", role)
		if len(one) != 1 || strings.Join(one[role], ",") != strings.Join(resources, ",") {
			t.Errorf("--role %s: %q, scan says %v", role, one, resources)
		}
	}
	for acct, want := range map[string]string{
		// "*" pinned to another organization may include them; "*"
		// pinned to 888877776666 does not.
		"444455556666": "other-org=claims partner=billing,claims,intake,intake:prod ",
		"777788889999": "other-org=claims vendor=intake:prod ",
		"888877776666": "other-org=claims pinned=billing ",
	} {
		from, _ := pathsReach(t, args, exitFindings, "--from", acct)
		if s := scanReach(t, args, acct); from.String() != s.String() || from.String() != want {
			t.Errorf("--from %s: %q, scan says %q, want %q", acct, from, s, want)
		}
	}
	if none, _ := pathsReach(t, args, exitOK, "--role", outsideRole("inside")); len(none) != 0 {
		t.Errorf("a role only the owner may assume reaches nothing from outside: %q", none)
	}
}

func TestPathsOutsideUnreadableRolesAreIncomplete(t *testing.T) {
	_, args := outsideEstate(t, "iam:GetAccountAuthorizationDetails:denied=1")
	got, v := pathsReach(t, args, exitIncomplete)
	if len(got) != 0 || v.Complete || !strings.Contains(strings.Join(v.Unknown, "\n"), "access paths through assumable roles are unknown") {
		t.Fatalf("GetAccountAuthorizationDetails denied: reach %q, view %+v", got, v)
	}
	_, out, _ := runCLI(t, "", append([]string{"paths", "-o", "text"}, args...)...)
	if !strings.Contains(out, "Incomplete:") || strings.Contains(out, "No role lets anyone outside") && !strings.Contains(out, "paths may be missing") {
		t.Errorf("the text must say the view is incomplete:\n%s", out)
	}
}

// An SCP that does not parse is bad input: exit 2 before any AWS call.
func TestPathsOutsideBadSCPStopsBeforeWork(t *testing.T) {
	srv, args := outsideEstate(t, "")
	dir := t.TempDir()
	for name, body := range map[string]string{
		"lower-case-effect.json":     `{"Version":"2012-10-17","Statement":[{"Effect":"deny","Action":"*","Resource":"*"}]}`,
		"not-json.json":              `Version: 2012-10-17`,
		"deny-without-resource.json": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*"}]}`,
		"wrapped-bad.json":           `{"Policy":{"Content":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}],\"Bogus\":1}"}}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"paths", "scan"} {
			code, out, errOut := runCLI(t, "", append([]string{cmd, "--scp", p}, args...)...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, "--scp "+p) {
				t.Errorf("%s --scp %s: exit %d, stdout %q, stderr %q", cmd, name, code, out, errOut)
			}
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a bad --scp must stop before any call; the emulator saw %d", n)
	}
}
