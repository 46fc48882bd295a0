package emulator_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// The short example seed (every kind of resource, placeholders for
// policy contents) is a valid seed.
func TestParseSeedExample(t *testing.T) {
	seed := loadSeed(t, "seed_example.json")
	if seed.Organization.ID != "o-abc123def4" || len(seed.Accounts) != 1 {
		t.Fatalf("parsed %+v", seed)
	}
	fn := seed.Accounts[0].Regions["us-east-1"].Functions[0]
	if fn.Name != "intake" || fn.URL.AuthType != "NONE" || fn.URL.Cors.AllowOrigins[0] != "*" || *fn.URL.Cors.AllowCredentials ||
		fn.Versions[0].Version != "1" || fn.Aliases[0].Version != "1" || fn.Aliases[0].URL != nil || fn.VPC.SubnetIDs[0] != "subnet-1" {
		t.Errorf("function: %+v", fn)
	}
	if l := seed.Accounts[0].Regions["us-east-1"].Layers[0]; l.Name != "shared-libs" || l.Versions[0].Version != 3 {
		t.Errorf("layer: %+v", l)
	}
	if _, err := emulator.New(seed, emulator.Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestParseSeedErrors(t *testing.T) {
	fn := func(body string) string {
		return `{"accounts":[{"id":"111122223333","regions":{"us-east-1":{"functions":[` + body + `]}}}]}`
	}
	cases := []struct{ name, seed, want string }{
		{"unknown top-level field", `{"acounts":[]}`, `acounts: unknown field (did you mean "accounts"?)`},
		{"unknown nested field", fn(`{"name":"a"},{"name":"b","polcy":{}}`), `accounts[0].regions.us-east-1.functions[1].polcy: unknown field (did you mean "policy"?)`},
		{"unknown field in vpc", fn(`{"name":"a","vpc":{"subnets":[]}}`), `accounts[0].regions.us-east-1.functions[0].vpc.subnets: unknown field`},
		{"unknown field in cors", fn(`{"name":"a","url":{"cors":{"AllowOrigin":["*"]}}}`), `functions[0].url.cors.AllowOrigin: unknown field (did you mean "AllowOrigins"?)`},
		{"wrong type", fn(`{"name":"a","memory_size":"big"}`), `functions[0].memory_size: expected a whole number, got string "big"`},
		{"array for object", `{"organization":[]}`, `organization: expected an object, got an array`},
		{"not an object", `[]`, `top level: expected an object`},
		{"syntax error", "{\n  \"accounts\": [,]\n}", `invalid JSON at line 2`},
		{"truncated", `{"accounts":[`, `unexpected end of input`},
		{"empty", ``, `empty input`},
		{"trailing data", `{} {}`, `unexpected data after`},
		{"trailing garbage", `{} ]`, `unexpected data after`},
		{"bad account id", `{"accounts":[{"id":"1234"}]}`, `accounts[0].id: "1234" is not a 12-digit account id`},
		{"duplicate account", `{"accounts":[{"id":"111122223333"},{"id":"111122223333"}]}`, `accounts[1].id: account 111122223333 appears twice`},
		{"bad region", `{"accounts":[{"id":"111122223333","regions":{"mars":{}}}]}`, `accounts[0].regions.mars: "mars" is not a region name`},
		{"missing function name", fn(`{}`), `functions[0].name: "" is not a function name`},
		{"duplicate function", fn(`{"name":"a"},{"name":"a"}`), `functions[1].name: function "a" appears twice`},
		{"bad version", fn(`{"name":"a","versions":[{"version":"$LATEST"}]}`), `functions[0].versions[0].version: "$LATEST" is not a published version number`},
		{"dangling alias", fn(`{"name":"a","versions":[{"version":"1"}],"aliases":[{"name":"prod","version":"2"}]}`), `functions[0].aliases[0].version: "2" is neither $LATEST nor one of the function's versions`},
		{"numeric alias", fn(`{"name":"a","aliases":[{"name":"12"}]}`), `aliases[0].name: "12" is not an alias name`},
		{"policy not an object", fn(`{"name":"a","policy":"allow all"}`), `functions[0].policy: must be a policy document (a JSON object) or null`},
		{"bad policy_error", fn(`{"name":"a","policy_error":"Kaboom"}`), `functions[0].policy_error: "Kaboom" is not one of AccessDeniedException, malformed`},
		{"bad auth type", fn(`{"name":"a","url":{"auth_type":"OPEN"}}`), `functions[0].url.auth_type: "OPEN" is not NONE or AWS_IAM`},
		{"bad layer version", `{"accounts":[{"id":"111122223333","regions":{"us-east-1":{"layers":[{"name":"l","versions":[{"version":0}]}]}}}]}`, `layers[0].versions[0].version: 0 is not a positive layer version number`},
		{"bad org id", `{"organization":{"id":"org1","management_account":"111122223333"},"accounts":[{"id":"111122223333"}]}`, `organization.id: "org1" is not an organization id`},
		{"unknown management account", `{"organization":{"id":"o-abc123def4","management_account":"999999999999"},"accounts":[{"id":"111122223333"}]}`, `organization.management_account: "999999999999" is not one of the seeded accounts`},
		{"bad status", `{"accounts":[{"id":"111122223333","status":"CLOSED"}]}`, `accounts[0].status: "CLOSED" is not ACTIVE or SUSPENDED`},
		{"bad disabled region", `{"accounts":[{"id":"111122223333","disabled_regions":["x"]}]}`, `accounts[0].disabled_regions[0]: "x" is not a region name`},
		{"dangling attached policy", `{"accounts":[{"id":"111122223333","roles":[{"name":"r","attached_policies":["arn:aws:iam::aws:policy/X"]}]}]}`, `accounts[0].roles[0].attached_policies[0]: "arn:aws:iam::aws:policy/X" is not one of the account's managed_policies`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emulator.ParseSeed([]byte(tc.seed))
			if err == nil {
				t.Fatalf("accepted %s", tc.seed)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "seed: ") {
				t.Errorf("error %q does not say it is about the seed", err)
			}
		})
	}
}

func TestParseSeedDefaultsAndAdditions(t *testing.T) {
	seed := loadSeed(t, "estate.json")
	if a := seed.Accounts[4]; a.ExternalID != "s3cret" || !a.PublicAccessBlock.BlockPublicPolicy {
		t.Errorf("additions not parsed: %+v", a)
	}
	// Numeric and string function versions are the same thing.
	if v := seed.Accounts[0].Regions["us-east-1"].Functions[0].Versions[1].Version; v != "2" {
		t.Errorf("numeric version parsed as %q", v)
	}
	// New validates seeds built in Go too.
	bad := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: "x"}}}
	if _, err := emulator.New(bad, emulator.Options{}); err == nil || !strings.Contains(err.Error(), "accounts[0].id") {
		t.Errorf("New accepted an invalid seed: %v", err)
	}
	if _, err := emulator.New(nil, emulator.Options{}); err != nil {
		t.Errorf("New(nil): %v", err)
	}
}

func TestSeedFilesInTestdataParse(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			loadSeed(t, e.Name())
			n++
		}
	}
	if n < 2 {
		t.Fatalf("only %d seed files in testdata", n)
	}
}
