package history

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

func TestFindingLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		keyA := fnARN("a") + "|lambda-public-access|sid:open"
		keyB := fnARN("b") + "|lambda-cross-account-access|sid:partner"
		pubA, privA := policyWith("a", publicStmt), policyWith("a")
		pb := policyWith("b", partnerStmt)
		t0 := c.now()

		// Scan 1: a is public, b cross-account.
		record(t, s, doc(nil, fn("a", pubA, "public", publicFinding("open", 0)), fn("b", pb, "cross-account", crossFinding(0))))
		fa := findingByKey(t, s, keyA)
		if !fa.Open() || !fa.FirstSeen.Equal(t0) || fa.FirstScan != 1 || fa.Reopened != 0 || len(fa.HIPAA) != 1 {
			t.Fatalf("new finding: %+v", fa)
		}

		// Scan 2, a day later: a is fixed; b could not be read.
		c.add(24 * time.Hour)
		record(t, s, doc(nil, fn("a", privA, "private"), unknownFn("b")))
		fa = findingByKey(t, s, keyA)
		if fa.Open() || fa.ResolvedScan != 2 || fa.TimeToFix == nil || time.Duration(*fa.TimeToFix) != 24*time.Hour || fa.ResolvedBy == "" {
			t.Fatalf("fixed finding: %+v", fa)
		}
		fb := findingByKey(t, s, keyB)
		if !fb.Open() || !fb.NotRechecked || fb.LastScan != 1 {
			t.Fatalf("finding of an unreadable resource must stay open, not re-checked: %+v", fb)
		}

		// Scan 3: a Region failed (not covered), a public again but b
		// read and fixed: b must not resolve in a scan that did not cover
		// its scope; a reopens all the same (it was seen).
		c.add(24 * time.Hour)
		record(t, s, doc([]string{"us-east-1: ListFunctions: throttled"}, fn("a", pubA, "public", publicFinding("open", 0)), fn("b", policyWith("b"), "private")))
		fa = findingByKey(t, s, keyA)
		if !fa.Open() || fa.Reopened != 1 || fa.ReopenedAt == nil || !fa.ReopenedAt.Equal(c.now()) || fa.TimeToFix != nil {
			t.Fatalf("reopened finding: %+v", fa)
		}
		if fb = findingByKey(t, s, keyB); !fb.Open() || !fb.NotRechecked {
			t.Fatalf("a scan with errors resolved a finding: %+v", fb)
		}

		// Scan 4: another Region only: nothing of us-east-1 changes.
		c.add(time.Hour)
		other := doc(nil)
		other.Scan.Regions = []string{"eu-west-1"}
		record(t, s, other)
		if fb = findingByKey(t, s, keyB); !fb.Open() {
			t.Fatalf("a scan of another Region resolved a finding: %+v", fb)
		}

		// Scan 5: covered, b fixed, a deleted (gone from the estate).
		c.add(24 * time.Hour)
		record(t, s, doc(nil, fn("b", policyWith("b"), "private")))
		fa, fb = findingByKey(t, s, keyA), findingByKey(t, s, keyB)
		if fa.Open() || fa.ResolvedScan != 5 || time.Duration(*fa.TimeToFix) != 25*time.Hour {
			t.Errorf("a finding whose resource vanished in a covered scan: %+v", fa)
		}
		if fb.Open() || fb.NotRechecked || time.Duration(*fb.TimeToFix) != 73*time.Hour {
			t.Errorf("b fixed: %+v", fb)
		}

		// Intervals: a was open twice.
		ivs, err := s.Intervals(ctx, t0, c.now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ofA []Interval
		for _, iv := range ivs {
			if iv.Finding.Key == keyA {
				ofA = append(ofA, iv)
			}
		}
		if len(ofA) != 2 || ofA[0].ResolvedScan != 2 || ofA[1].OpenedScan != 3 || ofA[1].ResolvedScan != 5 {
			t.Errorf("intervals of a: %+v", ofA)
		}
		if ivs, _ := s.Intervals(ctx, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)); len(ivs) != 0 {
			t.Errorf("intervals before anything was recorded: %+v", ivs)
		}
	})
}

func TestSkippedRulesAreNotResolved(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := open(t, b.dsn(t), newClock())
		role := finding.Finding{RuleID: "lambda-role-admin", Title: "admin role", Severity: finding.High, Explanation: "AdministratorAccess"}
		record(t, s, doc(nil, fn("a", "", "private", role)))
		if _, err := s.RecordScan(context.Background(), doc(nil, fn("a", "", "private")), Meta{SkippedRules: []string{"lambda-role-admin"}}); err != nil {
			t.Fatal(err)
		}
		f := findingByKey(t, s, fnARN("a")+"|lambda-role-admin|")
		if !f.Open() || !f.NotRechecked {
			t.Errorf("a finding of a rule the scan did not run: %+v", f)
		}
	})
}

func TestFindingIdentity(t *testing.T) {
	// Without a Sid the statement's content is its identity: moving it
	// in the list keeps it; changing it makes another finding.
	pol := policyWith("a", partnerStmt, noSidStmt)
	moved := policyWith("a", noSidStmt, partnerStmt)
	changed := policyWith("a", partnerStmt, strings.Replace(noSidStmt, "GetFunction", "InvokeFunction", 1))
	key := func(policy string, index int) string {
		r := fn("a", policy, "public")
		f := publicFinding("", index)
		return FindingKey(&r, &f)
	}
	if key(pol, 1) != key(moved, 0) {
		t.Errorf("moving a statement changed its identity: %s vs %s", key(pol, 1), key(moved, 0))
	}
	if key(pol, 1) == key(changed, 1) {
		t.Errorf("changing a statement kept its identity")
	}
	if !strings.Contains(key(pol, 1), "|stmt:") {
		t.Errorf("key without a Sid: %s", key(pol, 1))
	}
	r := report.Resource{ARN: fnARN("a") + ":prod", FunctionPolicy: pol}
	f := publicFinding("partner", 0)
	f.Statement.Policy = "function"
	if k := FindingKey(&r, &f); !strings.HasSuffix(k, "|function/sid:partner") {
		t.Errorf("an alias's finding from the function policy: %s", k)
	}
	r = report.Resource{ARN: fnARN("a"), Policy: "not json"}
	f = publicFinding("", 2)
	if k := FindingKey(&r, &f); !strings.HasSuffix(k, "|index:2") {
		t.Errorf("a statement of an unparsable policy: %s", k)
	}
}

func TestFindingsFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		record(t, s, doc(nil, fn("a", policyWith("a", publicStmt), "public", publicFinding("open", 0)), fn("b", policyWith("b", partnerStmt), "cross-account", crossFinding(0))))
		c.add(48 * time.Hour)
		record(t, s, doc(nil, fn("a", policyWith("a"), "private"), fn("b", policyWith("b", partnerStmt), "cross-account", crossFinding(0))))
		cases := []struct {
			name string
			f    FindingFilter
			want int
		}{
			{"all", FindingFilter{}, 2},
			{"open", FindingFilter{Open: true}, 1},
			{"rule", FindingFilter{Rule: "lambda-public-access"}, 1},
			{"account", FindingFilter{Account: acct}, 2},
			{"other account", FindingFilter{Account: "999999999999"}, 0},
			{"resource", FindingFilter{Resource: fnARN("b")}, 1},
			{"open at some time since after the fix", FindingFilter{Since: c.now().Add(time.Hour)}, 1},
			{"open at some time since before it", FindingFilter{Since: c.now().Add(-72 * time.Hour)}, 2},
		}
		for _, tc := range cases {
			got, err := s.Findings(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("%s: %d findings, want %d: %+v", tc.name, len(got), tc.want, got)
			}
		}
	})
}

func TestResourceHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		record(t, s, doc(nil, fn("a", policyWith("a", partnerStmt), "cross-account")))
		c.add(time.Hour)
		record(t, s, doc(nil, fn("a", policyWith("a", partnerStmt, publicStmt), "public", publicFinding("open", 1))))
		c.add(time.Hour)
		record(t, s, doc(nil, fn("other", "", "private")))
		h, err := s.ResourceHistory(ctx, fnARN("a"))
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[0].Scan.ID != 1 || h[1].Resource.Exposure != "public" {
			t.Fatalf("history of a: %+v", h)
		}
		before, _ := s.Policy(ctx, h[0].Resource.PolicySHA)
		after, _ := s.Policy(ctx, h[1].Resource.PolicySHA)
		ch := DiffStatements(before, after)
		if len(ch) != 1 || ch[0].Kind != "added" || ch[0].ID != "sid:open" {
			t.Errorf("statement diff: %+v", ch)
		}
		if _, err := s.ResourceHistory(ctx, fnARN("never")); err == nil {
			t.Errorf("history of a resource never seen")
		}
	})
}
