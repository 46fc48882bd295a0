package report_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
)

// The schema describes an incremental scan's report too: scan.incremental
// and the carried-forward resources' fields.
func TestReportSchemaDescribesIncrementalScan(t *testing.T) {
	s, doc := reportSchema(t)
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	_, url := emulatortest.Serve(t, seed, emulator.Options{CloudTrailDir: t.TempDir()}, "111122223333")
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
