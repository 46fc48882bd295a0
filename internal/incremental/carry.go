package incremental

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// carry rebuilds a resource as the base scan recorded it, marked carried
// forward. The history keeps the verdict (status, exposure, URL, policy
// texts, findings), not the per-statement grants or notes, so those are
// left out; the findings keep their identities (rule, statement), so the
// history's lifecycle keeps them open rather than resolving them.
func carry(ctx context.Context, st history.ResourceState, finds []history.SnapshotFinding, scanID int64, policy PolicyText) (report.Resource, error) {
	r := report.Resource{ARN: st.ARN, Kind: st.Kind, Account: st.Account, Region: st.Region, Status: st.Status, UnknownReason: st.UnknownReason,
		Exposure: st.Exposure, RevisionID: st.RevisionID, CarriedForward: true, CarriedFrom: scanID, Findings: []finding.Finding{}}
	if st.URL != "" || st.URLAuth != "" {
		r.FunctionURL = &report.FunctionURL{AuthType: st.URLAuth, URL: st.URL}
	}
	var err error
	if st.PolicySHA != "" {
		if r.Policy, err = policy(ctx, st.PolicySHA); err != nil {
			return r, err
		}
	}
	if st.FunctionSHA != "" {
		if r.FunctionPolicy, err = policy(ctx, st.FunctionSHA); err != nil {
			return r, err
		}
	}
	r.Notes = []string{"carried forward from scan " + strconv.FormatInt(scanID, 10) + ": no exposure-changing event since, so it was not read again"}
	for _, f := range finds {
		sev, _ := finding.ParseSeverity(f.Severity)
		nf := finding.Finding{RuleID: f.RuleID, Title: f.Title, Severity: sev, Exposure: f.Exposure, Explanation: f.Explanation,
			Suppressed: f.Suppressed, SuppressedBy: f.SuppressedBy, Compliance: rules.Compliance(f.RuleID),
			Statement: statementOf(f, r.Policy, r.FunctionPolicy)}
		if rule, err := rules.ByID(f.RuleID); err == nil {
			nf.Remediation = finding.Remediation{Text: rule.Remediation}
		}
		r.Findings = append(r.Findings, nf)
	}
	// The rules list their findings most severe first; the history keeps
	// them in key order.
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].Severity > r.Findings[j].Severity })
	return r, nil
}

// statementOf turns a recorded statement reference back into the
// statement it names, so the finding's history key is the same.
func statementOf(f history.SnapshotFinding, policyText, functionPolicy string) *finding.StatementRef {
	ref := f.StatementRef
	if ref == "" {
		return nil
	}
	st := &finding.StatementRef{Sid: f.Sid, Index: -1}
	text := policyText
	if rest, ok := strings.CutPrefix(ref, "function/"); ok {
		ref, st.Policy, text = rest, "function", functionPolicy
	}
	if sid, ok := strings.CutPrefix(ref, "sid:"); ok {
		st.Sid = sid
	} else if n, ok := strings.CutPrefix(ref, "index:"); ok {
		st.Index, _ = strconv.Atoi(n)
		return st
	}
	if list, err := history.Statements(text); err == nil {
		for i, s := range list {
			if s.ID() == ref {
				st.Index = i
				break
			}
		}
	}
	return st
}
