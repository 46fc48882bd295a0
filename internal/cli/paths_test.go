package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// partnerEstate is one account (111122223333) with three functions, one
// with an alias, their execution roles, and a role "partner" with the
// given trust policy and lambda:InvokeFunction on "*".
func partnerEstate(t *testing.T, trust string) []string {
	t.Helper()
	lambdaTrust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: "111122223333",
		Regions: map[string]emulator.SeedRegion{"us-east-1": {Functions: []emulator.SeedFunction{
			{Name: "intake", Aliases: []emulator.SeedAlias{{Name: "prod"}}}, {Name: "billing"}, {Name: "claims"},
		}}},
		Roles: []emulator.SeedRole{
			{Name: "intake", AssumeRolePolicy: lambdaTrust}, {Name: "billing", AssumeRolePolicy: lambdaTrust}, {Name: "claims", AssumeRolePolicy: lambdaTrust},
			{Name: "partner", AssumeRolePolicy: json.RawMessage(trust), InlinePolicies: map[string]json.RawMessage{
				"invoke": json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`)}},
		},
	}}}
	_, url := emulatortest.Serve(t, seed, emulator.Options{}, "111122223333")
	return []string{"--endpoint-url", url, "--regions", "us-east-1", "--pace", "none"}
}

const partnerTrust = `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`

// pathResources scans and returns the resources with a path finding,
// with each one's explanation.
func pathResources(t *testing.T, args ...string) (map[string]string, int) {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"scan", "-o", "json"}, args...)...)
	if code != exitOK && code != exitFindings {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("scan output: %v", err)
	}
	got := map[string]string{}
	for _, r := range d.Resources {
		for _, f := range r.Findings {
			if f.RuleID != "lambda-external-path-via-role" {
				continue
			}
			if f.Path == nil || f.Path.ViaRole != "arn:aws:iam::111122223333:role/partner" || f.Path.From[0].Account != "444455556666" {
				t.Errorf("%s: path %+v", r.ARN, f.Path)
			}
			got[strings.TrimPrefix(r.ARN, "arn:aws:lambda:us-east-1:111122223333:function:")] = f.Explanation
		}
	}
	return got, code
}

func keys(m map[string]string) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestScanNamesTheOutsideAccountTheRoleAndEveryFunction is the issue's
// "done when": a role trusted by 444455556666 with lambda:InvokeFunction
// on "*" reaches every function; without the trust, or under an SCP
// denying invoke, nothing does.
func TestScanNamesTheOutsideAccountTheRoleAndEveryFunction(t *testing.T) {
	args := partnerEstate(t, partnerTrust)
	got, code := pathResources(t, args...)
	if code != exitFindings || keys(got) != "billing claims intake intake:prod" {
		t.Fatalf("exit %d, paths reach %q", code, keys(got))
	}
	for arn, expl := range got {
		if !strings.Contains(expl, "account 444455556666") || !strings.Contains(expl, "arn:aws:iam::111122223333:role/partner") || !strings.Contains(expl, "lambda:InvokeFunction") {
			t.Errorf("%s: %s", arn, expl)
		}
	}

	scp := filepath.Join(t.TempDir(), "deny-invoke.json")
	if err := os.WriteFile(scp, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := pathResources(t, append(args, "--scp", scp)...); len(got) != 0 {
		t.Errorf("an SCP denying invoke must remove the paths: %q", keys(got))
	}
	// The form aws organizations describe-policy prints works too.
	wrapped := filepath.Join(t.TempDir(), "describe-policy.json")
	content, _ := json.Marshal(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*"}]}`)
	if err := os.WriteFile(wrapped, []byte(`{"Policy":{"PolicySummary":{"Id":"p-1"},"Content":`+string(content)+`}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := pathResources(t, append(args, "--scp", wrapped)...); len(got) != 0 {
		t.Errorf("describe-policy output as --scp: %q", keys(got))
	}
	if got, _ := pathResources(t, append(args, "--no-paths")...); len(got) != 0 {
		t.Errorf("--no-paths: %q", keys(got))
	}
	if got, _ := pathResources(t, append(args, "--trusted-account", "444455556666")...); len(got) != 0 {
		t.Errorf("a trusted partner is no path: %q", keys(got))
	}

	args = partnerEstate(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	if got, code := pathResources(t, args...); len(got) != 0 || code != exitOK {
		t.Errorf("removing the trust must remove the finding: exit %d, %q", code, keys(got))
	}
}

func TestPathsCommandReverseView(t *testing.T) {
	args := partnerEstate(t, partnerTrust)
	code, out, errOut := runCLI(t, "", append([]string{"paths", "--from", "444455556666", "-o", "json"}, args...)...)
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v pathsView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Roles) != 1 || v.Roles[0].Role != "arn:aws:iam::111122223333:role/partner" || len(v.Roles[0].Reaches) != 4 || !v.Complete ||
		v.Roles[0].Severity.String() != "high" || v.Roles[0].Reaches[0].PermissionStatement.Sid != "Invoke" {
		t.Fatalf("view %+v", v)
	}
	code, out, _ = runCLI(t, "", append([]string{"paths", "--from", "777788889999", "-o", "text"}, args...)...)
	if code != exitOK || !strings.Contains(out, "No role lets anyone outside") {
		t.Errorf("another account reaches nothing: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", append([]string{"paths", "--role", "arn:aws:iam::111122223333:role/partner", "-o", "text"}, args...)...)
	if code != exitFindings || !strings.Contains(out, "assumable by arn:aws:iam::444455556666:root (account, cross-account, trust statement \"Partner\")") ||
		!strings.Contains(out, "reaches 4 resource(s)") || !strings.Contains(out, "function:intake:prod  lambda:InvokeFunction") {
		t.Errorf("role view: exit %d\n%s", code, out)
	}
}

func TestPathsCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Statement":[{"Effect":"deny","Action":"*","Resource":"*"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"paths", "--role", "arn:aws:iam::111122223333:role/x", "--from", "444455556666"}, "exclusive"},
		{[]string{"paths", "--role", "partner"}, "want a role ARN"},
		{[]string{"paths", "--from", "4444"}, "12 digits"},
		{[]string{"paths", "-o", "html"}, "paths writes text or json"},
		{[]string{"paths", "--scp", filepath.Join(dir, "nope.json")}, "--scp " + filepath.Join(dir, "nope.json") + ": no such file"},
		{[]string{"scan", "--scp", bad}, "not an SCP policy document"},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}

func TestInertKeepsTerminalsSafe(t *testing.T) {
	if got := inertField("role/\x1b[31mred"); strings.ContainsRune(got, 0x1b) {
		t.Errorf("inert = %q", got)
	}
}
