package report_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
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
		srv, err := emulator.New(seed, opts)
		if err != nil {
			t.Fatal(err)
		}
		url, err := srv.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		none := filepath.Join(t.TempDir(), "none")
		for k, v := range map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIA111122223333", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1",
			"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
			"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_LAMBDA": "",
		} {
			t.Setenv(k, v)
		}
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
