package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// ASFFRequired lists the attributes AWS Security Hub requires on every
// finding in BatchImportFindings; every finding the asff writer emits has
// them all.
var ASFFRequired = []string{
	"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
	"Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt",
}

// ASFFType is the finding type every lambdawarden finding carries.
const ASFFType = "Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls"

// The asff writer renders the document as a JSON array of AWS Security
// Finding Format findings, ready for
//
//	aws securityhub batch-import-findings --region R --findings file://r.asff.json
//
// BatchImportFindings takes at most 100 findings a call, of one account
// (the caller's, for the default product) and one Region (the
// endpoint's): written to a file, a report that does not fit is split
// into one file per account, Region and batch of 100 (see ASFFBatches,
// WriteFiles). Choices:
//
//   - One finding per resource and rule, with Id
//     "lambdawarden/<rule_id>/<resource ARN>": a re-import updates the
//     same finding instead of adding one, and because the Id does not
//     depend on the statement, a later scan that finds the resource clean
//     turns the very finding that was FAILED into PASSED. When several
//     statements trip one rule, the finding lists them all.
//   - PASSED findings for every rule that applies to an evaluated resource
//     and did not fire, so fixed problems are resolved on re-import; the
//     document records findings, not which rules ran, and the scan runs the
//     whole catalog on every evaluated resource.
//   - An unknown resource is one finding with Compliance.Status
//     NOT_AVAILABLE and Severity MEDIUM (Id
//     "lambdawarden/resource-unknown/<ARN>"): an unassessed resource is a
//     gap in the HIPAA risk analysis, never a pass.
//   - A suppressed finding keeps Compliance.Status FAILED and carries
//     Workflow.Status SUPPRESSED. Security Hub honours Workflow only when it
//     creates a finding; later changes go through BatchUpdateFindings.
//   - ProductArn is the account's default product in the resource's
//     region: import each region's findings into that region (or use
//     Security Hub's cross-region aggregation), from the resource's
//     account, as BatchImportFindings requires for the default product.
//   - Severity and Types are repeated in FindingProviderFields, the only
//     place a provider may change them after creation.
type asffWriter struct{}

func (asffWriter) Name() string { return "asff" }
func (asffWriter) Description() string {
	return "AWS Security Finding Format array for 'aws securityhub batch-import-findings' (one per resource and rule)"
}

type asffFinding struct {
	SchemaVersion         string             `json:"SchemaVersion"`
	ID                    string             `json:"Id"`
	ProductArn            string             `json:"ProductArn"`
	ProductName           string             `json:"ProductName"`
	CompanyName           string             `json:"CompanyName"`
	GeneratorID           string             `json:"GeneratorId"`
	AwsAccountID          string             `json:"AwsAccountId"`
	Region                string             `json:"Region,omitempty"`
	Types                 []string           `json:"Types"`
	CreatedAt             string             `json:"CreatedAt"`
	UpdatedAt             string             `json:"UpdatedAt"`
	Severity              asffSeverity       `json:"Severity"`
	Title                 string             `json:"Title"`
	Description           string             `json:"Description"`
	Remediation           asffRemediation    `json:"Remediation"`
	ProductFields         map[string]string  `json:"ProductFields,omitempty"`
	Resources             []asffResource     `json:"Resources"`
	Compliance            asffCompliance     `json:"Compliance"`
	Workflow              *asffWorkflow      `json:"Workflow,omitempty"`
	RecordState           string             `json:"RecordState"`
	FindingProviderFields asffProviderFields `json:"FindingProviderFields"`
}

type asffSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

type asffRemediation struct {
	Recommendation asffRecommendation `json:"Recommendation"`
}

type asffRecommendation struct {
	Text string `json:"Text"`
}

type asffResource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition,omitempty"`
	Region    string            `json:"Region,omitempty"`
	Details   *asffResourceInfo `json:"Details,omitempty"`
}

type asffResourceInfo struct {
	Other map[string]string `json:"Other"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

type asffWorkflow struct {
	Status string `json:"Status"`
}

type asffProviderFields struct {
	Severity asffSeverity `json:"Severity"`
	Types    []string     `json:"Types"`
}

// Security Hub's limits on the fields we fill from free text.
const (
	asffMaxTitle        = 256
	asffMaxDescription  = 1024
	asffMaxRemediation  = 512
	asffMaxRequirements = 32
	asffMaxFieldValue   = 2048
)

// asffLabel maps a severity to Security Hub's Severity.Label.
func asffLabel(s finding.Severity) string {
	if s == finding.Info {
		return "INFORMATIONAL"
	}
	return strings.ToUpper(s.String())
}

// ASFFID is the stable Security Hub finding Id for a rule on a resource.
func ASFFID(ruleID, arn string) string { return "lambdawarden/" + ruleID + "/" + arn }

func (asffWriter) Write(out io.Writer, d *Document, opt Options) error {
	x := d.index()
	return writeASFF(out, d, x, opt, asffRange{items: x.placed(), to: -1})
}

// asffRange is a run of the index's items (in placed order) and, of the
// findings they yield, numbered from 0 in that order, those in [from,
// to); to < 0 means all.
type asffRange struct {
	items    []int32
	from, to int
}

// writeASFF writes the findings of one range as a JSON array.
func writeASFF(out io.Writer, d *Document, x *index, opt Options, rg asffRange) error {
	now := reportTime(d, opt).Format("2006-01-02T15:04:05.000Z07:00")
	list := newJSONArray(out, "")
	counts := asffCounter{}
	n := 0 // findings of the range's items before the current one
	for _, i := range rg.items {
		c := counts.of(&x.items[i])
		if rg.to >= 0 && (n+c <= rg.from || n >= rg.to) {
			n += c
			continue
		}
		r, err := x.load(int(i))
		if err != nil {
			return err
		}
		fs := asffFindings(d, r, now)
		if len(fs) != c {
			return fmt.Errorf("asff: %s yields %d findings, %d counted", r.ARN, len(fs), c)
		}
		for j := range fs {
			if rg.to >= 0 && (n+j < rg.from || n+j >= rg.to) {
				continue
			}
			if err := list.add(fs[j]); err != nil {
				return err
			}
		}
		n += c
	}
	if err := list.close(); err != nil {
		return err
	}
	_, err := io.WriteString(out, "\n")
	return err
}

// asffFindings are one resource's findings: one for an unknown resource,
// else one per rule that fired (FAILED) and one per other rule that
// applies to its kind (PASSED).
func asffFindings(d *Document, r *Resource, now string) []asffFinding {
	base := func(id, generator string) asffFinding {
		region := r.Region
		return asffFinding{
			SchemaVersion: "2018-10-08",
			ID:            id,
			ProductArn:    "arn:" + partition(r.ARN) + ":securityhub:" + region + ":" + r.Account + ":product/" + r.Account + "/default",
			ProductName:   toolName(d),
			CompanyName:   toolName(d),
			GeneratorID:   generator,
			AwsAccountID:  r.Account,
			Region:        region,
			Types:         []string{ASFFType},
			CreatedAt:     now,
			UpdatedAt:     now,
			Resources: []asffResource{{
				Type:      asffResourceType(r.Kind),
				ID:        r.ARN,
				Partition: partition(r.ARN),
				Region:    region,
				Details:   &asffResourceInfo{Other: map[string]string{"kind": r.Kind, "exposure": r.Exposure}},
			}},
			RecordState: "ACTIVE",
		}
	}
	if r.Status == "unknown" {
		f := base("lambdawarden/resource-unknown/"+r.ARN, "lambdawarden-resource-unknown")
		f.Severity = asffSeverity{Label: "MEDIUM", Original: "unknown"}
		f.Title = "Lambda resource could not be assessed"
		f.Description = truncate("lambdawarden could not read or parse "+r.ARN+": "+r.UnknownReason+". Its exposure is unknown and it is not counted as compliant.", asffMaxDescription)
		f.Remediation.Recommendation.Text = truncate("Give the scanning role lambda:GetPolicy, lambda:GetFunction and lambda:GetFunctionUrlConfig on the resource (or fix the policy that does not parse) and scan again.", asffMaxRemediation)
		f.Compliance = asffCompliance{Status: "NOT_AVAILABLE"}
		f.ProductFields = map[string]string{"lambdawarden/unknown_reason": truncate(r.UnknownReason, asffMaxFieldValue)}
		f.FindingProviderFields = asffProviderFields{Severity: f.Severity, Types: f.Types}
		return []asffFinding{f}
	}
	byRule := map[string][]finding.Finding{}
	var order []string
	for _, f := range r.Findings {
		if _, ok := byRule[f.RuleID]; !ok {
			order = append(order, f.RuleID)
		}
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	var out []asffFinding
	seen := map[string]bool{}
	for _, id := range order {
		seen[id] = true
		out = append(out, asffFailed(base(ASFFID(id, r.ARN), id), r, byRule[id]))
	}
	for _, rule := range applicableRules(r.Kind) {
		if seen[rule.ID] {
			continue
		}
		f := base(ASFFID(rule.ID, r.ARN), rule.ID)
		f.Severity = asffSeverity{Label: "INFORMATIONAL", Original: rule.Severity.String()}
		f.Title = truncate(rule.Title, asffMaxTitle)
		f.Description = truncate("Passed: "+rule.Title+". "+rule.Rationale, asffMaxDescription)
		f.Remediation.Recommendation.Text = truncate(rule.Remediation, asffMaxRemediation)
		f.Compliance = asffCompliance{Status: "PASSED", RelatedRequirements: asffRequirements(rules.Compliance(rule.ID))}
		f.FindingProviderFields = asffProviderFields{Severity: f.Severity, Types: f.Types}
		out = append(out, f)
	}
	return out
}

// asffCounter counts the findings a resource yields from the index alone
// (asffFindings must agree, and writeASFF checks that it does), so the
// batches are known before any resource is read.
type asffCounter map[string]map[string]bool // applicable rule ids by kind

func (c asffCounter) of(it *item) int {
	if it.Status == "unknown" {
		return 1
	}
	applies, ok := c[it.Kind]
	if !ok {
		applies = map[string]bool{}
		for _, r := range applicableRules(it.Kind) {
			applies[r.ID] = true
		}
		c[it.Kind] = applies
	}
	n := len(applies)
	var extra map[string]bool
	for _, h := range it.hits {
		if !applies[h.rule] && !extra[h.rule] {
			if extra == nil {
				extra = map[string]bool{}
			}
			extra[h.rule] = true
			n++
		}
	}
	return n
}

// asffFailed folds one rule's findings on one resource into a FAILED
// finding.
func asffFailed(a asffFinding, r *Resource, fs []finding.Finding) asffFinding {
	first := fs[0]
	sev := first.Severity
	allSuppressed := true
	var desc, cmds, stmts, supp, notes []string
	for _, f := range fs {
		if f.Severity > sev {
			sev = f.Severity
		}
		if !f.Suppressed {
			allSuppressed = false
		}
		d := f.Explanation
		if f.Suppressed {
			d = "[suppressed] " + d
			supp = append(supp, f.SuppressedBy)
		}
		desc = append(desc, d)
		cmds = append(cmds, f.Remediation.Commands...)
		if f.Statement != nil {
			stmts = append(stmts, statementLabel(f.Statement))
		}
		if f.Note != "" {
			notes = append(notes, f.Note)
		}
	}
	a.Severity = asffSeverity{Label: asffLabel(sev), Original: sev.String()}
	a.Title = truncate(first.Title, asffMaxTitle)
	a.Description = truncate(strings.Join(desc, " "), asffMaxDescription)
	rec := first.Remediation.Text
	if len(cmds) > 0 {
		rec += " Run: " + strings.Join(cmds, " ; ")
	}
	a.Remediation.Recommendation.Text = truncate(rec, asffMaxRemediation)
	a.Compliance = asffCompliance{Status: "FAILED", RelatedRequirements: asffRequirements(first.Compliance)}
	a.ProductFields = map[string]string{"lambdawarden/exposure": r.Exposure}
	if first.Exposure != "" {
		a.ProductFields["lambdawarden/finding_exposure"] = first.Exposure
	}
	if len(stmts) > 0 {
		a.ProductFields["lambdawarden/statements"] = truncate(strings.Join(stmts, "; "), asffMaxFieldValue)
	}
	if len(cmds) > 0 {
		a.ProductFields["lambdawarden/fix_commands"] = truncate(strings.Join(cmds, "\n"), asffMaxFieldValue)
	}
	if len(supp) > 0 {
		a.ProductFields["lambdawarden/suppressed_by"] = truncate(strings.Join(supp, "\n"), asffMaxFieldValue)
	}
	if len(notes) > 0 {
		a.ProductFields["lambdawarden/note"] = truncate(strings.Join(notes, " "), asffMaxFieldValue)
	}
	if allSuppressed {
		a.Workflow = &asffWorkflow{Status: "SUPPRESSED"}
	}
	a.FindingProviderFields = asffProviderFields{Severity: a.Severity, Types: a.Types}
	return a
}

// asffRequirements renders a mapping as "HIPAA 164.312(a)(1)" entries,
// HIPAA first, within Security Hub's limit of 32.
func asffRequirements(c finding.Compliance) []string {
	reqs := frameworkRequirements(c)
	if len(reqs) > asffMaxRequirements {
		reqs = reqs[:asffMaxRequirements]
	}
	return reqs
}

// asffResourceType is Security Hub's resource type for a Lambda kind.
func asffResourceType(kind string) string {
	if kind == "layer-version" {
		return "AwsLambdaLayerVersion"
	}
	return "AwsLambdaFunction"
}
