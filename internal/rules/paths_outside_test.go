package rules

import (
	"strings"
	"testing"
)

// A trust policy the collector could not decode reaches the rules as an
// empty document with the role's Unknown set: its paths are unknown, not
// "nobody may assume it".
func TestPathUndecodableTrustPolicyIsUnknown(t *testing.T) {
	cache := NewPathCache()
	e := withPath("x", true, "", `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`, "")
	e.Resource.AccountIAM.Roles[0].Unknown = "iam:GetAccountAuthorizationDetails: trust policy: the document is not URL-encoded JSON"
	fs, s := pathFindings(t, e.Resource, Trust{Paths: cache})
	if len(fs) != 0 {
		t.Fatalf("no verdict from an unreadable trust policy: %+v", fs)
	}
	if !strings.Contains(strings.Join(s.Notes, " "), "access paths through it are unknown") {
		t.Errorf("notes %v", s.Notes)
	}
	if p := cache.Problems(); len(p) != 1 || !strings.Contains(p[0], "role/partner") || !strings.Contains(p[0], "trust policy") {
		t.Errorf("the scan must learn it is incomplete: %v", p)
	}
	unknown := false
	for _, g := range s.Gaps {
		unknown = unknown || g.Rule == pathRuleID && g.Unknown
	}
	if !unknown {
		t.Errorf("the path rule must be unknown: %+v", s.Gaps)
	}
}

// A path that rests on a condition of the grant itself says which
// actions do, never "()".
func TestPathConditionalGrantSaysWhatRestsOnIt(t *testing.T) {
	e := withPath("x", true, trustAWS("444455556666"), `{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`, "")
	fs, _ := pathFindings(t, e.Resource, Trust{})
	if len(fs) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	x := fs[0].Explanation
	if strings.Contains(x, "()") || !strings.Contains(x, "not known at scan time (those of the grants above, for lambda:InvokeFunction)") ||
		!strings.Contains(x, `Bool aws:MultiFactorAuthPresent "true"`) {
		t.Errorf("explanation: %s", x)
	}
	if strings.Join(fs[0].Path.ConditionalActions, ",") != "lambda:InvokeFunction" {
		t.Errorf("conditional actions %v", fs[0].Path.ConditionalActions)
	}
}
