package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
)

// TestReportSchemaDescribesPaths: a scan that finds an access path through
// a role, and one whose roles cannot be read, both validate, and every
// field they carry (path, rules_not_judged) is documented.
func TestReportSchemaDescribesPaths(t *testing.T) {
	s, doc := reportSchema(t)
	trust := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"k"}}}]}`)
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID:      "111122223333",
		Regions: map[string]emulator.SeedRegion{"us-east-1": {Functions: []emulator.SeedFunction{{Name: "intake", Role: "arn:aws:iam::111122223333:role/partner"}}}},
		Roles: []emulator.SeedRole{{Name: "partner", AssumeRolePolicy: trust, InlinePolicies: map[string]json.RawMessage{
			"invoke": json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)}}},
	}}}
	for _, faults := range []string{"", "iam:GetAccountAuthorizationDetails:denied=1"} {
		var opts emulator.Options
		if faults != "" {
			f, err := emulator.ParseFaults(faults)
			if err != nil {
				t.Fatal(err)
			}
			opts.Faults = f
		}
		_, url := emulatortest.Serve(t, seed, opts, "111122223333")
		_, out, errOut := runCLI(t, "", "scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "-o", "json")
		what := "a scan with an access path"
		want := `"via_role": "arn:aws:iam::111122223333:role/partner"`
		if faults != "" {
			what, want = "a scan whose roles cannot be read", `"rules_not_judged"`
		}
		if !strings.Contains(out, want) {
			t.Fatalf("%s: output lacks %s (stderr %s)", what, want, errOut)
		}
		v := validateJSON(t, s, what, out)
		checkDocumented(t, what, v, doc)
	}
}
