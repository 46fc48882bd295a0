package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// DiffResult is what changed from one scan to another.
type DiffResult struct {
	From Scan `json:"from"`
	To   Scan `json:"to"`
	// NewFindings are findings the later scan has and the earlier one did
	// not ("new exposures"); suppressed ones are listed but do not make
	// the diff worse.
	NewFindings []SnapshotFinding `json:"new_findings"`
	// Resolved are findings of the earlier scan the later one read the
	// resource for and no longer found (or the resource is gone).
	Resolved []SnapshotFinding `json:"resolved_findings"`
	// NotRechecked are findings of the earlier scan the later one could
	// not re-check: their resource unreadable (or missing from a scan
	// with errors), or their rule not run: nobody knows.
	NotRechecked    []SnapshotFinding `json:"not_rechecked"`
	ExposureChanges []ExposureChange  `json:"exposure_changes"`
	ChangedPolicies []PolicyChange    `json:"changed_policies"`
	Appeared        []ResourceState   `json:"appeared"`
	Vanished        []ResourceState   `json:"vanished"`
	NewUnknowns     []ResourceState   `json:"new_unknowns"`
	// Worse: a new unsuppressed finding, a new unknown or a wider
	// exposure — what a nightly job fails on.
	Worse bool `json:"worse"`
}

// ExposureChange is a resource whose exposure class changed.
type ExposureChange struct {
	ARN    string `json:"arn"`
	Before string `json:"before"`
	After  string `json:"after"`
	Worse  bool   `json:"worse"`
}

// PolicyChange is a resource whose own policy changed, statement by
// statement.
type PolicyChange struct {
	ARN        string            `json:"arn"`
	BeforeSHA  string            `json:"before_sha256,omitempty"`
	AfterSHA   string            `json:"after_sha256,omitempty"`
	Statements []StatementChange `json:"statements"`
}

// exposureRank orders classes, widest first being the highest.
var exposureRank = map[string]int{"private": 1, "org": 2, "service-unscoped": 3, "cross-account": 4, "public": 5}

// Diff compares two recorded scans.
func Diff(ctx context.Context, s Store, fromID, toID int64) (*DiffResult, error) {
	a, err := s.Snapshot(ctx, fromID)
	if err != nil {
		return nil, err
	}
	b, err := s.Snapshot(ctx, toID)
	if err != nil {
		return nil, err
	}
	return DiffSnapshots(a, b, func(sha string) (string, error) { return s.Policy(ctx, sha) })
}

// DiffSnapshots compares two snapshots; policy fetches a stored policy
// text by SHA-256 (only those that changed are fetched).
func DiffSnapshots(a, b *Snapshot, policy func(sha string) (string, error)) (*DiffResult, error) {
	out := &DiffResult{From: a.Scan, To: b.Scan, NewFindings: []SnapshotFinding{}, Resolved: []SnapshotFinding{}, NotRechecked: []SnapshotFinding{},
		ExposureChanges: []ExposureChange{}, ChangedPolicies: []PolicyChange{}, Appeared: []ResourceState{}, Vanished: []ResourceState{}, NewUnknowns: []ResourceState{}}
	ar, br := indexResources(a), indexResources(b)
	for _, r := range b.Resources {
		old, had := ar[r.ARN]
		if !had {
			out.Appeared = append(out.Appeared, r)
		}
		if r.Status == "unknown" && (!had || old.Status != "unknown") {
			out.NewUnknowns = append(out.NewUnknowns, r)
			out.Worse = true
		}
		if !had || r.Status == "unknown" || old.Status == "unknown" {
			continue
		}
		if r.Exposure != old.Exposure {
			worse := exposureRank[r.Exposure] > exposureRank[old.Exposure]
			out.ExposureChanges = append(out.ExposureChanges, ExposureChange{ARN: r.ARN, Before: old.Exposure, After: r.Exposure, Worse: worse})
			out.Worse = out.Worse || worse
		}
		if r.PolicySHA != old.PolicySHA {
			before, err := fetch(policy, old.PolicySHA)
			if err != nil {
				return nil, err
			}
			after, err := fetch(policy, r.PolicySHA)
			if err != nil {
				return nil, err
			}
			out.ChangedPolicies = append(out.ChangedPolicies, PolicyChange{ARN: r.ARN, BeforeSHA: old.PolicySHA, AfterSHA: r.PolicySHA, Statements: nonNilChanges(DiffStatements(before, after))})
		}
	}
	for _, r := range a.Resources {
		if _, ok := br[r.ARN]; !ok {
			out.Vanished = append(out.Vanished, r)
		}
	}
	af, bf := indexFindings(a), indexFindings(b)
	for _, f := range b.Findings {
		if _, ok := af[f.Key]; !ok {
			out.NewFindings = append(out.NewFindings, f)
			out.Worse = out.Worse || !f.Suppressed
		}
	}
	for _, f := range a.Findings {
		if _, ok := bf[f.Key]; ok {
			continue
		}
		r, present := br[f.ARN]
		if present && r.Status == "unknown" || !present && !b.Scan.Covered || slices.Contains(b.Scan.SkippedRules, f.RuleID) {
			out.NotRechecked = append(out.NotRechecked, f)
			continue
		}
		out.Resolved = append(out.Resolved, f)
	}
	return out, nil
}

func nonNilChanges(c []StatementChange) []StatementChange {
	if c == nil {
		return []StatementChange{}
	}
	return c
}

func fetch(policy func(string) (string, error), sha string) (string, error) {
	if sha == "" {
		return "", nil
	}
	text, err := policy(sha)
	if err != nil {
		return "", fmt.Errorf("policy %s: %w", sha, err)
	}
	return text, nil
}

func indexResources(s *Snapshot) map[string]ResourceState {
	m := make(map[string]ResourceState, len(s.Resources))
	for _, r := range s.Resources {
		m[r.ARN] = r
	}
	return m
}

func indexFindings(s *Snapshot) map[string]SnapshotFinding {
	m := make(map[string]SnapshotFinding, len(s.Findings))
	for _, f := range s.Findings {
		m[f.Key] = f
	}
	return m
}

// ErrNoPair is returned when no two comparable scans exist.
var ErrNoPair = errors.New("fewer than two covered scans of the same scope")

// DefaultPair picks the latest two covered scans (every account and
// Region read) of the newest such scan's scope.
func DefaultPair(ctx context.Context, s Store) (int64, int64, error) {
	scans, err := s.Scans(ctx, ScanFilter{})
	if err != nil {
		return 0, 0, err
	}
	var later *Scan
	for i := len(scans) - 1; i >= 0; i-- {
		sc := &scans[i]
		if !sc.Covered {
			continue
		}
		if later == nil {
			later = sc
			continue
		}
		if sc.Scope() == later.Scope() {
			return sc.ID, later.ID, nil
		}
	}
	return 0, 0, ErrNoPair
}
