package history

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDiffScans(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		c := newClock()
		s := open(t, b.dsn(t), c)
		record(t, s, doc(nil,
			fn("a", policyWith("a", partnerStmt), "cross-account", crossFinding(0)),
			fn("gone", "", "private"),
			fn("b", policyWith("b", publicStmt), "public", publicFinding("open", 0)),
			fn("c", "", "private")))
		c.add(24 * time.Hour)
		record(t, s, doc(nil,
			// a: a public statement added, the partner's changed.
			fn("a", policyWith("a", `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:*","Resource":"%s"}`, publicStmt), "public", crossFinding(0), publicFinding("open", 1)),
			fn("b", policyWith("b"), "private"),
			unknownFn("c"),
			fn("new", "", "private")))
		from, to, err := DefaultPair(ctx, s)
		if err != nil || from != 1 || to != 2 {
			t.Fatalf("default pair: %d %d %v", from, to, err)
		}
		d, err := Diff(ctx, s, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Worse {
			t.Error("a new public statement and a new unknown: not worse")
		}
		if len(d.NewFindings) != 1 || d.NewFindings[0].Key != fnARN("a")+"|lambda-public-access|sid:open" {
			t.Errorf("new findings: %+v", d.NewFindings)
		}
		if len(d.Resolved) != 1 || d.Resolved[0].ARN != fnARN("b") {
			t.Errorf("resolved: %+v", d.Resolved)
		}
		if len(d.ChangedPolicies) != 2 {
			t.Fatalf("changed policies: %+v", d.ChangedPolicies)
		}
		kinds := map[string]string{}
		for _, ch := range d.ChangedPolicies[0].Statements {
			kinds[ch.ID] = ch.Kind
		}
		if d.ChangedPolicies[0].ARN != fnARN("a") || kinds["sid:open"] != "added" || kinds["sid:partner"] != "changed" || len(kinds) != 2 {
			t.Errorf("statements of a: %+v", d.ChangedPolicies[0])
		}
		if ch := d.ChangedPolicies[1].Statements; len(ch) != 1 || ch[0].Kind != "removed" {
			t.Errorf("statements of b: %+v", ch)
		}
		if len(d.Appeared) != 1 || d.Appeared[0].ARN != fnARN("new") || len(d.Vanished) != 1 || d.Vanished[0].ARN != fnARN("gone") {
			t.Errorf("appeared %+v, vanished %+v", d.Appeared, d.Vanished)
		}
		if len(d.NewUnknowns) != 1 || d.NewUnknowns[0].ARN != fnARN("c") {
			t.Errorf("new unknowns: %+v", d.NewUnknowns)
		}
		if len(d.ExposureChanges) != 2 || !d.ExposureChanges[0].Worse || d.ExposureChanges[1].Worse {
			t.Errorf("exposure changes: %+v", d.ExposureChanges)
		}

		// Only better: not worse.
		better, err := Diff(ctx, s, 1, 1)
		if err != nil || better.Worse || len(better.NewFindings)+len(better.Resolved)+len(better.ChangedPolicies) != 0 {
			t.Errorf("a scan against itself: %+v %v", better, err)
		}
	})
}

func TestDefaultPairNeedsTwoCoveredScansOfOneScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.dsn(t), newClock())
		record(t, s, doc(nil, fn("a", "", "private")))
		if _, _, err := DefaultPair(ctx, s); !errors.Is(err, ErrNoPair) {
			t.Fatalf("one scan: %v", err)
		}
		record(t, s, doc([]string{"eu-west-1: failed"}, fn("a", "", "private")))
		other := doc(nil)
		other.Scan.Regions = []string{"eu-west-1"}
		record(t, s, other)
		if _, _, err := DefaultPair(ctx, s); !errors.Is(err, ErrNoPair) {
			t.Fatalf("no two covered scans of one scope: %v", err)
		}
		record(t, s, doc(nil, fn("a", "", "private")))
		from, to, err := DefaultPair(ctx, s)
		if err != nil || from != 1 || to != 4 {
			t.Errorf("pair: %d %d %v", from, to, err)
		}
	})
}

func TestDiffStatements(t *testing.T) {
	cases := []struct {
		name          string
		before, after string
		want          []string // kind id
	}{
		{"same statements reordered and reformatted", policyWith("a", partnerStmt, noSidStmt),
			`{"Statement": [` + sprintfARN(noSidStmt, "a") + `, ` + sprintfARN(partnerStmt, "a") + `], "Version": "2012-10-17"}`, nil},
		{"statement as object vs list", `{"Statement":{"Sid":"x","Effect":"Allow"}}`, `{"Statement":[{"Effect":"Allow","Sid":"x"}]}`, nil},
		{"added", policyWith("a"), policyWith("a", publicStmt), []string{"added sid:open"}},
		{"no policy to one", "", policyWith("a", publicStmt), []string{"added sid:open"}},
		{"removed", policyWith("a", publicStmt), "", []string{"removed sid:open"}},
		{"unparsable policies still differ", "not json", "also not", []string{"added", "removed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DiffStatements(tc.before, tc.after)
			if len(got) != len(tc.want) {
				t.Fatalf("changes %+v, want %v", got, tc.want)
			}
			for i, w := range tc.want {
				kind, id, hasID := strings.Cut(w, " ")
				if got[i].Kind != kind || hasID && got[i].ID != id {
					t.Errorf("change %d: %s %s, want %s", i, got[i].Kind, got[i].ID, w)
				}
			}
		})
	}
}

func sprintfARN(stmt, name string) string { return fmt.Sprintf(stmt, fnARN(name)) }
