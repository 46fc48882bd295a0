package report

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// What GitHub code scanning needs beyond the SARIF schema ("SARIF support
// for code scanning" in GitHub's documentation): a physical location with
// a relative artifact URI and a start line on every result, fingerprints
// that match a result across uploads, rule help and a numeric
// security-severity, at most 20 tags a rule, and at most 25,000 results a
// run.

// SARIFMaxResults is the most results one run may carry: GitHub code
// scanning rejects an upload with more (and shows the first 5,000 by
// severity).
var SARIFMaxResults = 25000

// SARIFMaxTags is the most tags GitHub accepts on one rule.
const SARIFMaxTags = 20

// sarifFingerprintKey names our partial fingerprint. Bump its version if
// what it hashes changes: code scanning would otherwise close every alert
// and open it again.
const sarifFingerprintKey = "lambdawarden/v1"

// resourceUnknownRule is the rule of a result that stands for a resource
// that could not be assessed. It is not in the catalog (no check runs
// it), but code scanning shows only results, and an unknown resource must
// not look like a pass.
var resourceUnknownRule = &rules.Rule{
	ID:       "resource-unknown",
	Title:    "Lambda resources should be assessable",
	Severity: finding.Medium,
	Rationale: "lambdawarden could not read or parse this resource's policy (access denied, throttled past its retries, " +
		"or a policy that does not parse), so its exposure is unknown. It is not counted as compliant: an unassessed " +
		"resource is a gap in a HIPAA risk analysis.",
	Remediation: "Give the scanning role lambda:GetPolicy, lambda:GetFunction and lambda:GetFunctionUrlConfig on the " +
		"resource (or fix the policy that does not parse) and scan again.",
}

// SARIFArtifactURI is the artifact a live resource's results point at: a
// relative URI, stable for the resource, unique across accounts and
// Regions, that reads like a path —
//
//	lambda/ACCOUNT/REGION/NAME             a function
//	lambda/ACCOUNT/REGION/NAME/QUALIFIER   an alias or a version
//	lambda-layer/ACCOUNT/REGION/NAME/VERSION  a layer version
//
// Each part is percent-encoded. A resource whose ARN is not a Lambda ARN
// becomes aws/ACCOUNT/REGION/ followed by the encoded ARN.
func SARIFArtifactURI(r *Resource) string {
	account, region := arnPart(r.ARN, 4), arnPart(r.ARN, 3)
	if account == "" {
		account = r.Account
	}
	if region == "" {
		region = r.Region
	}
	typ, rest := arnPart(r.ARN, 5), strings.Split(arnPart(r.ARN, 6), ":")
	var top string
	switch {
	case arnPart(r.ARN, 2) == "lambda" && typ == "function" && rest[0] != "" && len(rest) <= 2:
		top = "lambda"
	case arnPart(r.ARN, 2) == "lambda" && typ == "layer" && rest[0] != "" && len(rest) == 2:
		top = "lambda-layer"
	default:
		return "aws/" + url.PathEscape(account) + "/" + url.PathEscape(region) + "/" + url.PathEscape(r.ARN)
	}
	segs := append([]string{top, account, region}, rest...)
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// sarifResourceLocation is a resource as a SARIF location: its artifact
// at line 1 (for code scanning) and its ARN (for everyone else).
func sarifResourceLocation(r *Resource) sarifLocation {
	return sarifLocation{
		PhysicalLocation: &sarifPhysicalLoc{ArtifactLocation: sarifArtifactLoc{URI: SARIFArtifactURI(r)}, Region: sarifRegion{StartLine: 1}},
		LogicalLocations: []sarifLogicalLoc{{Name: resourceName(r.ARN), FullyQualifiedName: r.ARN, Kind: "resource"}},
	}
}

// statementKeys names each finding's statement for its fingerprint: the
// policy it is in and its Sid, so removing another statement (which
// shifts indexes) keeps the alert; the index only when the statement has
// no Sid, or when two findings of one rule would otherwise share a key
// (a policy with a repeated Sid).
func statementKeys(fs []finding.Finding) []string {
	keys := make([]string, len(fs))
	seen := map[string]bool{}
	for i, f := range fs {
		if f.Statement == nil {
			continue
		}
		s := f.Statement
		key := s.Policy + "\x00sid:" + s.Sid
		if s.Sid == "" || seen[f.RuleID+"\x00"+key] {
			key = s.Policy + "\x00index:" + strconv.Itoa(s.Index) + "\x00sid:" + s.Sid
		}
		seen[f.RuleID+"\x00"+key] = true
		keys[i] = key
	}
	return keys
}

// fingerprint identifies a result across scans: rule, resource and
// statement key, nothing that changes between runs (times, wording).
func fingerprint(ruleID, arn, statement string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + arn + "\x00" + statement))
	return hex.EncodeToString(sum[:16])
}

// sarifTags are a rule's tags: security (code scanning shows
// security-severity only on security results), aws, lambda, then each
// framework the rule maps to, HIPAA first; at most SARIFMaxTags.
func sarifTags(r *rules.Rule) []string {
	tags := []string{"security", "aws", "lambda"}
	seen := map[string]bool{}
	c := rules.Compliance(r.ID)
	if r == resourceUnknownRule {
		tags = append(tags, "HIPAA")
	}
	for _, req := range c {
		if !seen[req.Framework] {
			seen[req.Framework] = true
			tags = append(tags, req.Framework)
		}
	}
	return tags[:min(len(tags), SARIFMaxTags)]
}

// sarifText is a message as code scanning shows it: one line, capped.
func sarifText(s string) string { return Inert(s, InertSentence) }

func sarifUnknownText(r *Resource) string {
	return "Could not assess " + Inert(r.ARN, InertField) + ": " + Inert(r.UnknownReason, InertSentence) + ". It is not counted as compliant."
}

// Ranks order results for the SARIFMaxResults cut: open findings by
// severity with unknown resources among the high ones (an unassessed
// resource may be anything), then suppressed findings by severity.
const sarifUnknownRank = 2

func sarifRank(s finding.Severity, suppressed bool) int {
	open := map[finding.Severity]int{finding.Critical: 0, finding.High: 1, finding.Medium: 3, finding.Low: 4, finding.Info: 5}
	r, ok := open[s]
	if !ok {
		r = 5
	}
	if suppressed {
		r += 6
	}
	return r
}

// sarifBudget decides, before anything is written, which results fit in
// a run: every result of a rank below the cut, and the first ones (in
// the order the writer walks) of the rank at the cut.
type sarifBudget struct {
	cut, atCut      int // ranks below cut all go in; atCut more of rank cut
	total, omitted  int
	takenAtCut, max int
}

func newSarifBudget(x *index, max int) *sarifBudget {
	var count [12]int
	total := 0
	for i := range x.items {
		it := &x.items[i]
		if it.Status == "unknown" {
			count[sarifUnknownRank]++
			total++
		}
		for _, h := range it.hits {
			count[sarifRank(h.severity, h.suppressed)]++
			total++
		}
	}
	b := &sarifBudget{cut: len(count), total: total, max: max}
	if total <= max {
		return b
	}
	b.omitted = total - max
	left := max
	for rank, n := range count {
		if n > left {
			b.cut, b.atCut = rank, left
			break
		}
		left -= n
	}
	return b
}

// take reports whether the next result of this rank goes in.
func (b *sarifBudget) take(rank int) bool {
	switch {
	case rank < b.cut:
		return true
	case rank == b.cut && b.takenAtCut < b.atCut:
		b.takenAtCut++
		return true
	}
	return false
}
