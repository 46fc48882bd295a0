package report_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// The schema describes an incremental scan's report too: scan.incremental
// and the carried-forward resources' fields.
func TestReportSchemaDescribesIncrementalScan(t *testing.T) {
	s, doc := reportSchema(t)
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(seed, emulator.Options{CloudTrailDir: t.TempDir()})
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
	db := filepath.Join(t.TempDir(), "h.db")
	args := []string{"scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--history", db, "--fail-on", "none", "-o", "json"}
	if code, _, errOut := runCLI(t, "", args...); code != 0 && code != 3 {
		t.Fatalf("full scan: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "", append(args, "--since", "last")...)
	if code != 0 && code != 3 {
		t.Fatalf("scan --since last: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"carried_forward": true`) || !strings.Contains(out, `"incremental"`) {
		t.Fatalf("not an incremental report:\n%.2000s", out)
	}
	v := validateJSON(t, s, "scan --since last -o json", out)
	checkDocumented(t, "scan --since last -o json", v, doc)
}
