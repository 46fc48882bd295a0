package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/remediate/fixdoc"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// classEstate serves testdata/fix-estate.json: one resource of every
// exposure class (public, URL-public, cross-account by account and by
// network, service-unscoped S3 and EventBridge triggers, org, alias-only,
// a layer, a full JSON policy whose Deny limits the function to the
// organization while its aliases inherit the Allow alone, and a full JSON
// policy with an unscoped S3 trigger beside a Deny).
func classEstate(t *testing.T) (*emulator.Server, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fix-estate.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := emulator.ParseSeed(data)
	if err != nil {
		t.Fatal(err)
	}
	srv, url := serveSeedServer(t, seed, emulator.Options{}, "111122223333")
	return srv, []string{"--endpoint-url", url, "--org-id", "o-abc123def4", "--regions", "us-east-1", "--thorough", "--pace", "none"}
}

func scanEstate(t *testing.T, args []string) *report.Document {
	t.Helper()
	code, out, errOut := runCLI(t, "", append([]string{"scan", "-o", "json", "--fail-on", "none", "--no-roles"}, args...)...)
	if code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// serviceStatements maps each service grant's Sid to its statement, over
// every policy of the estate.
func serviceStatements(t *testing.T, docs map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for arn, doc := range docs {
		var p struct {
			Statement []json.RawMessage
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			t.Fatal(err)
		}
		for _, raw := range p.Statement {
			var st struct {
				Sid       string
				Effect    string
				Principal json.RawMessage
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			if st.Effect == "Allow" && strings.Contains(string(st.Principal), `"Service"`) {
				out[arn+" "+st.Sid] = compactJSON(raw)
			}
		}
	}
	return out
}

// TestFixRoundTripOnEveryExposureClass: scan → fix --apply → scan →
// restore → scan on an estate of every exposure class. After the fix
// nothing is exposed and every service trigger is still there, pinned to
// the owner; fix reports nothing it could not close; restore brings every
// verdict back.
func TestFixRoundTripOnEveryExposureClass(t *testing.T) {
	srv, args := classEstate(t)
	first := scanEstate(t, args)
	classes := map[string]bool{}
	for _, r := range first.Resources {
		classes[r.Exposure] = true
	}
	for _, c := range []string{"public", "cross-account", "service-unscoped", "org", "private"} {
		if !classes[c] {
			t.Fatalf("the estate has no %s resource: %v", c, classes)
		}
	}
	if len(exposedFindings(first)) == 0 {
		t.Fatal("the estate must start with exposed findings")
	}
	before := policies(srv, first)
	triggers := serviceStatements(t, before)

	backups := filepath.Join(t.TempDir(), "backups")
	code, out, errOut := runCLI(t, "", append([]string{"fix", "-o", "json", "--apply", "--yes", "--backup-dir", backups}, args...)...)
	if code != exitOK {
		t.Fatalf("fix --apply: exit %d\n%s\n%s", code, errOut, out)
	}
	var applied fixdoc.Document
	if err := json.Unmarshal([]byte(out), &applied); err != nil {
		t.Fatal(err)
	}
	if len(applied.Unresolved) != 0 || *applied.Summary.Failed != 0 || *applied.Summary.Applied == 0 {
		t.Fatalf("fix left exposures or failed: unresolved %+v, summary %+v", applied.Unresolved, applied.Summary)
	}

	second := scanEstate(t, args)
	if left := exposedFindings(second); len(left) > 0 {
		t.Errorf("exposed findings left after the fix: %v", left)
	}
	for _, r := range second.Resources {
		if r.Status != "evaluated" {
			t.Errorf("%s is %s after the fix: %s", r.ARN, r.Status, r.UnknownReason)
		}
	}
	after := policies(srv, second)
	kept := serviceStatements(t, after)
	for key, was := range triggers {
		now, ok := kept[key]
		switch {
		case !ok:
			t.Errorf("service trigger %s was removed", key)
		case now != was && !strings.Contains(now, `"AWS:SourceAccount":"111122223333"`):
			t.Errorf("service trigger %s changed without being pinned to the owner:\n%s", key, now)
		case strings.Contains(was, "AWS:SourceArn") && !strings.Contains(now, "AWS:SourceArn"):
			t.Errorf("service trigger %s lost its SourceArn:\n%s", key, now)
		}
	}
	// The organization's grant is untouched; the aliases of the full JSON
	// policy are closed by writing its Deny's limit into the Allow.
	const orgFn = "arn:aws:lambda:us-east-1:111122223333:function:org-fn"
	if after[orgFn] != before[orgFn] {
		t.Errorf("the org grant changed:\n%s", after[orgFn])
	}
	for _, r := range second.Resources {
		if strings.Contains(r.ARN, ":function:json-org-fn") && r.Exposure != "org" {
			t.Errorf("%s is %s after the fix, want org (the organization keeps its access)", r.ARN, r.Exposure)
		}
	}

	code, out, errOut = runCLI(t, "", "restore", backups, "--endpoint-url", args[1], "-o", "json")
	if code != exitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, errOut, out)
	}
	var rd fixdoc.RestoreDocument
	if err := json.Unmarshal([]byte(out), &rd); err != nil {
		t.Fatal(err)
	}
	if rd.Summary.CouldNot != 0 || rd.Summary.Restored == 0 {
		t.Errorf("restore summary %+v", rd.Summary)
	}
	third := scanEstate(t, args)
	if got, want := verdicts(third), verdicts(first); got != want {
		t.Errorf("the verdicts after restore differ from the first scan:\n%s\n---\n%s", got, want)
	}
	for arn, doc := range policies(srv, third) {
		if statementSet(t, doc) != statementSet(t, before[arn]) {
			t.Errorf("%s does not hold the same statements again:\n%s\nwant\n%s", arn, doc, before[arn])
		}
	}
}
