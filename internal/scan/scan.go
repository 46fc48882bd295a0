// Package scan runs the rule catalog over inventory resources and builds
// the output document. It is where "could not read" becomes an unknown
// resource, never a pass.
package scan

import (
	"sort"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Options configure an assessment.
type Options struct {
	Trust rules.Trust
	// Rules to run; nil means the whole catalog.
	Rules []*rules.Rule
	// OmitPolicyText leaves policy documents out of the output (large
	// estates, or when no writer shows them).
	OmitPolicyText bool
}

// Assess judges one resource. A resource whose policy could not be read
// or parsed is "unknown" with the reason; it carries no findings and is
// never counted as compliant.
func Assess(res *inventory.Resource, opt Options) report.Resource {
	out := report.Resource{
		ARN:      res.ARN,
		Kind:     string(res.Kind),
		Account:  res.Account,
		Region:   res.Region,
		Status:   "evaluated",
		Findings: []finding.Finding{},
	}
	if res.Source.File != "" {
		out.Source = &finding.Location{File: res.Source.File, Line: res.Source.Line, Address: res.Source.Address}
	}
	if res.URL != nil {
		out.FunctionURL = &report.FunctionURL{AuthType: res.URL.AuthType, URL: res.URL.URL}
	}
	if !opt.OmitPolicyText {
		if res.Policy != nil {
			out.Policy = res.Policy.Document
			out.RevisionID = res.Policy.RevisionID
		}
		if res.FunctionPolicy != nil {
			out.FunctionPolicy = res.FunctionPolicy.Document
		}
	}
	if reason := res.UnknownReason(); reason != "" {
		return unknown(out, reason)
	}
	subj, err := rules.NewSubject(res, opt.Trust)
	if err != nil {
		return unknown(out, "policy does not parse: "+err.Error())
	}
	out.Exposure = subj.Result.Exposure.String()
	for _, g := range subj.Result.Grants {
		ref := report.Grant{Exposure: g.Class.String(), Actions: g.Actions(), Explanation: g.Explanation()}
		ref.Statement.Sid, ref.Statement.Index = g.Statement.Sid, g.Statement.Index
		if g.Inherited {
			ref.Statement.Policy = "function"
		}
		for _, gr := range g.Groups() {
			ref.Groups = append(ref.Groups, string(gr))
		}
		out.Grants = append(out.Grants, ref)
	}
	out.Notes = append(subj.Result.Notes, subj.Notes...)
	for _, g := range subj.Gaps {
		out.RulesNotJudged = append(out.RulesNotJudged, report.RuleGap{Rule: g.Rule, Reason: g.Reason, Unknown: g.Unknown})
		if g.Unknown && g.Rule == "lambda-external-path-via-role" {
			out.Unchecked = append(out.Unchecked, "access paths through roles: "+g.Reason)
		}
	}
	if res.Unresolved != "" {
		out.Notes = append(out.Notes, "Parts of its configuration could not be resolved ("+res.Unresolved+"); the statements that could be read already make it public, and what could not be read can only add grants.")
		out.Unchecked = append(out.Unchecked, "unresolved configuration: "+res.Unresolved)
	}
	if res.URLUnknown != "" {
		out.Notes = append(out.Notes, "The function URL configuration could not be read ("+res.URLUnknown+"); URL rules were not applied.")
		out.Unchecked = append(out.Unchecked, "function URL rules: the URL configuration could not be read: "+res.URLUnknown)
	}
	if role := res.ExecutionRole; role != nil && role.Unknown != "" {
		out.Unchecked = append(out.Unchecked, "execution-role rules: "+role.ARN+" could not be read: "+role.Unknown)
	}
	list := opt.Rules
	if list == nil {
		list = rules.All()
	}
	for _, r := range list {
		out.Findings = append(out.Findings, r.Findings(subj)...)
	}
	sort.SliceStable(out.Findings, func(i, j int) bool { return out.Findings[i].Severity > out.Findings[j].Severity })
	if out.Source != nil {
		for i := range out.Findings {
			out.Findings[i].Source = statementSource(res, out.Findings[i].Statement, out.Source)
		}
	}
	return out
}

// statementSource is where code declares the statement a finding rests
// on (the aws_lambda_permission block, say), else the resource's place.
func statementSource(res *inventory.Resource, st *finding.StatementRef, def *finding.Location) *finding.Location {
	p := res.Policy
	if st != nil && st.Policy == "function" {
		p = res.FunctionPolicy
	}
	if st == nil || p == nil || st.Index < 0 || st.Index >= len(p.Statements) || p.Statements[st.Index].File == "" {
		return def
	}
	s := p.Statements[st.Index]
	return &finding.Location{File: s.File, Line: s.Line, Address: s.Address}
}

// URLReachable reports whether a resource's policies let anyone beyond
// the owner call lambda:InvokeFunctionUrl, so its URL config matters. A
// policy that does not parse counts as reachable: read more, not less.
func URLReachable(r *inventory.Resource, trust rules.Trust) bool {
	s, err := rules.NewSubject(r, trust)
	if err != nil {
		return true
	}
	return s.Result.ClassFor("lambda:InvokeFunctionUrl") > policy.Private
}

func unknown(out report.Resource, reason string) report.Resource {
	out.Status = "unknown"
	out.UnknownReason = reason
	out.Exposure = "unknown"
	return out
}
