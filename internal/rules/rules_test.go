package rules

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

func TestMappingsLoadAndNameOnlyRealRules(t *testing.T) {
	m, err := loadMappings(mappingsJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rules) == 0 {
		t.Fatal("no mappings loaded")
	}
	for id := range m.Rules {
		if _, err := ByID(id); err != nil {
			t.Errorf("mappings.json maps %q, which is not a rule: %v", id, err)
		}
	}
	if m.Frameworks[0] != "HIPAA" {
		t.Errorf("HIPAA must be listed first, got %v", m.Frameworks)
	}
}

func TestLoadMappingsRejectsUndeclaredFramework(t *testing.T) {
	_, err := loadMappings([]byte(`{"frameworks":["HIPAA"],"rules":{"x":{"SOC2":["CC6.1"]}}}`))
	if err == nil || !strings.Contains(err.Error(), "SOC2") {
		t.Fatalf("want an error naming the undeclared framework, got %v", err)
	}
}

func TestEveryRuleIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Rationale == "" || r.Remediation == "" || r.Check == nil || len(r.Kinds) == 0 {
			t.Errorf("rule %s lacks metadata", r.ID)
		}
		if len(Compliance(r.ID).IDs("HIPAA")) == 0 {
			t.Errorf("rule %s has no HIPAA mapping", r.ID)
		}
		var good, bad int
		for _, e := range r.Examples {
			if e.Bad {
				bad++
			} else {
				good++
			}
		}
		if good == 0 || bad == 0 {
			t.Errorf("rule %s needs good and bad examples (has %d good, %d bad)", r.ID, good, bad)
		}
	}
	for _, id := range []string{"lambda-public-access", "lambda-public-function-url", "lambda-cross-account-access", "lambda-service-unscoped", "lambda-layer-public", "lambda-url-dormant-none-auth", "lambda-url-cors-wildcard-credentials", "lambda-not-in-vpc"} {
		if !seen[id] {
			t.Errorf("required rule %s is missing", id)
		}
	}
}

func TestSeedRule(t *testing.T) {
	r, err := ByID("lambda-public-access")
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "Lambda functions should restrict public access" || r.Severity != finding.Critical {
		t.Fatalf("seed rule changed: %q %s", r.Title, r.Severity)
	}
	if got := Compliance(r.ID); got[0].Framework != "HIPAA" || len(got.IDs("NIST-800-53-r5")) != 14 || got.IDs("PCI-DSS-v4.0.1")[0] != "7.2.1" {
		t.Fatalf("seed rule mapping: %+v", got)
	}
}

// TestRuleExamples runs every rule's good and bad examples.
func TestRuleExamples(t *testing.T) {
	for _, r := range All() {
		for _, e := range r.Examples {
			t.Run(r.ID+"/"+e.Name, func(t *testing.T) {
				res := e.Resource
				s, err := NewSubject(&res, Trust{OrgID: "o-abc123def4"})
				if err != nil {
					t.Fatal(err)
				}
				fs := r.Findings(s)
				if e.Bad && len(fs) == 0 {
					t.Fatalf("bad example not flagged")
				}
				if !e.Bad && len(fs) > 0 {
					t.Fatalf("good example flagged: %s", fs[0].Explanation)
				}
				for _, f := range fs {
					if f.Explanation == "" || f.Remediation.Text == "" || len(f.Compliance) == 0 {
						t.Errorf("incomplete finding: %+v", f)
					}
				}
			})
		}
	}
}

func TestRemediationCommands(t *testing.T) {
	pub, _ := ByID("lambda-public-access")
	e := example("x", true, `{"Sid":"oops","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s"}`)
	e.Resource.ARN += ":prod"
	e.Resource.Kind, e.Resource.Qualifier = "alias", "prod"
	e.Resource.Policy.Document = strings.ReplaceAll(e.Resource.Policy.Document, "intake\"", "intake:prod\"")
	s, err := NewSubject(&e.Resource, Trust{})
	if err != nil {
		t.Fatal(err)
	}
	fs := pub.Findings(s)
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %d", len(fs))
	}
	want := "aws lambda remove-permission --function-name intake --qualifier prod --statement-id oops --region us-east-1"
	if fs[0].Remediation.Commands[0] != want {
		t.Errorf("command = %q\nwant      %q", fs[0].Remediation.Commands[0], want)
	}

	// A full JSON policy statement (no Sid, several principals) is fixed
	// with put-resource-policy.
	e2 := example("y", true, `{"Effect":"Allow","Principal":{"AWS":["*","111122223333"]},"Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"%s"}`)
	s2, _ := NewSubject(&e2.Resource, Trust{})
	fs2 := pub.Findings(s2)
	if len(fs2) != 1 || !strings.Contains(strings.Join(fs2[0].Remediation.Commands, "\n"), "put-resource-policy --resource-arn") {
		t.Fatalf("full-policy fix: %+v", fs2)
	}

	// Layer statements are removed with remove-layer-version-permission.
	lay, _ := ByID("lambda-layer-public")
	e3 := layerExample("z", true, `{"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"%s"}`)
	s3, _ := NewSubject(&e3.Resource, Trust{})
	want3 := "aws lambda remove-layer-version-permission --layer-name shared-libs --version-number 3 --statement-id all --region us-east-1"
	if fs3 := lay.Findings(s3); len(fs3) != 1 || fs3[0].Remediation.Commands[0] != want3 {
		t.Fatalf("layer fix: %+v", fs3)
	}
}

func TestShellQuoteKeepsHostileSidsInert(t *testing.T) {
	for in, want := range map[string]string{
		"oops":                      "oops",
		"$LATEST":                   "'$LATEST'",
		"a b":                       "'a b'",
		"x';rm -rf /;'":             `'x'\'';rm -rf /;'\'''`,
		"<script>alert(1)</script>": "'<script>alert(1)</script>'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCatalogVersionIsStable(t *testing.T) {
	v := CatalogVersion()
	if v != CatalogVersion() || len(v) != len("sha256:")+16 {
		t.Fatalf("catalog version %q", v)
	}
	saved := catalog[0].Severity
	catalog[0].Severity = saved + 1
	changed := CatalogVersion()
	catalog[0].Severity = saved
	if changed == v {
		t.Errorf("a rule's severity changed and the catalog version did not")
	}
}
