package report

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// SARIFSchemaURI is the $schema the sarif writer declares: the SARIF
// 2.1.0 schema as GitHub code scanning and most consumers expect it.
const SARIFSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// The sarif writer renders the document as SARIF 2.1.0, in the subset
// GitHub code scanning ingests:
//   - tool.driver.rules is the whole catalog (help text and markdown,
//     default level, GitHub's security-severity, tags with HIPAA and
//     security), so consumers can show rules that did not fire, then the
//     resource-unknown rule;
//   - one result per finding. Code scanning wants a file and a line, and a
//     live resource has neither, so each resource gets a stable artifact
//     URI of its own, relative like a path in the repository
//     (lambda/ACCOUNT/REGION/NAME[/QUALIFIER], layer versions
//     lambda-layer/ACCOUNT/REGION/NAME/VERSION; see SARIFArtifactURI) at
//     line 1, beside a logical location that is the ARN;
//   - partialFingerprints identify a finding by rule, resource and
//     statement (its Sid; the index only for a statement without one), so
//     an alert survives rescans and edits to other statements;
//   - suppressed findings stay, with an external, accepted suppression
//     carrying the justification;
//   - an unknown resource is a result of the resource-unknown rule (code
//     scanning shows nothing else) and a tool execution notification of
//     level error (SARIF's own way to say "could not analyse this"), never
//     a silent omission;
//   - at most SARIFMaxResults results (code scanning rejects more): the
//     most severe open ones first; a notification and the run's
//     omittedResults property count the rest, which json and csv have.
type sarifWriter struct{}

func (sarifWriter) Name() string { return "sarif" }
func (sarifWriter) Description() string {
	return "SARIF 2.1.0 (code scanning): the rule catalog and one result per finding, the resource ARN as logical location"
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	AutomationDetails sarifAutomation   `json:"automationDetails"`
	Invocations       []sarifInvocation `json:"invocations"`
	// Results is a spliceMark: the results are streamed.
	Results    any            `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifToolComponent `json:"driver"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifToolComponent struct {
	Name           string                `json:"name"`
	FullName       string                `json:"fullName,omitempty"`
	Version        string                `json:"version,omitempty"`
	InformationURI string                `json:"informationUri,omitempty"`
	Rules          []sarifReportingDescr `json:"rules"`
}

type sarifReportingDescr struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name,omitempty"`
	ShortDescription     *sarifMessage    `json:"shortDescription,omitempty"`
	FullDescription      *sarifMessage    `json:"fullDescription,omitempty"`
	Help                 *sarifMessage    `json:"help,omitempty"`
	DefaultConfiguration *sarifRuleConfig `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any   `json:"properties,omitempty"`
}

type sarifDescriptorRef struct {
	ID string `json:"id"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string `json:"endTimeUtc,omitempty"`
	// ToolExecutionNotifications is a spliceMark when there are any
	// (one per unknown resource can be many), else nil.
	ToolExecutionNotifications any `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Descriptor *sarifDescriptorRef `json:"descriptor,omitempty"`
	Level      string              `json:"level"`
	Message    sarifMessage        `json:"message"`
	Locations  []sarifLocation     `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLoc `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations"`
}

type sarifPhysicalLoc struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           sarifRegion      `json:"region"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLoc struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// sarifLevel maps a severity to a SARIF level: what breaks a build is an
// error, what deserves a look a warning, the rest a note.
func sarifLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is GitHub's numeric security-severity, chosen inside
// the band GitHub maps back to the same name (critical >= 9.0, high
// 7.0-8.9, medium 4.0-6.9, low 0.1-3.9).
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	default:
		return "0.0"
	}
}

// sarifRuleName turns a rule id into the PascalCase friendly name SARIF
// recommends ("lambda-public-access" -> "LambdaPublicAccess").
func sarifRuleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifRuleHelp(r *rules.Rule) *sarifMessage {
	text := r.Rationale + "\n\nFix: " + r.Remediation
	md := r.Rationale + "\n\n**Fix:** " + r.Remediation
	if c := rules.Compliance(r.ID); len(c) > 0 {
		var lines []string
		for _, req := range c {
			lines = append(lines, req.Framework+": "+strings.Join(req.IDs, ", "))
		}
		text += "\n\nCompliance:\n" + strings.Join(lines, "\n")
		md += "\n\n**Compliance:**\n\n- " + strings.Join(lines, "\n- ")
	}
	return &sarifMessage{Text: text, Markdown: md}
}

func (sarifWriter) Write(out io.Writer, d *Document, opt Options) error {
	x := d.index()
	catalog, err := ruleCatalog(x)
	if err != nil {
		return err
	}
	catalog = append(catalog, resourceUnknownRule)
	index := map[string]int{}
	driver := sarifToolComponent{
		Name:           toolName(d),
		FullName:       toolName(d) + " " + toolVersion(d),
		Version:        toolVersion(d),
		InformationURI: "https://github.com/lambdawarden/lambdawarden",
		Rules:          []sarifReportingDescr{},
	}
	for i, r := range catalog {
		if _, dup := index[r.ID]; !dup {
			index[r.ID] = i
		}
		driver.Rules = append(driver.Rules, sarifRule(r))
	}

	inv := sarifInvocation{
		ExecutionSuccessful: !d.Incomplete(),
		StartTimeUTC:        scanStart(d, opt).Format(time.RFC3339),
		EndTimeUTC:          reportTime(d, opt).Format(time.RFC3339),
	}
	budget := newSarifBudget(x, SARIFMaxResults)
	// Notifications (one per unknown resource, the scan errors, what was
	// left out) and results are streamed into the run in two passes:
	// unknown resources carry no findings, so the first reads only them.
	unknowns := 0
	for i := range x.items {
		if x.items[i].Status == "unknown" {
			unknowns++
		}
	}
	var scanErrors []string
	if d.Scan != nil {
		scanErrors = d.Scan.Errors
	}
	notifications := func(a *jsonArray) error {
		for _, i := range x.placed() {
			if x.items[i].Status != "unknown" {
				continue
			}
			r, err := x.load(int(i))
			if err != nil {
				return err
			}
			err = a.add(sarifNotification{
				Descriptor: &sarifDescriptorRef{ID: resourceUnknownRule.ID},
				Level:      "error",
				Message:    sarifMessage{Text: sarifUnknownText(r)},
				Locations:  []sarifLocation{withPhysical(sarifResourceLocation(r), r.Source)},
			})
			if err != nil {
				return err
			}
		}
		for _, e := range scanErrors {
			err := a.add(sarifNotification{
				Descriptor: &sarifDescriptorRef{ID: "scan-incomplete"},
				Level:      "error",
				Message:    sarifMessage{Text: Inert(e, InertSentence)},
			})
			if err != nil {
				return err
			}
		}
		if budget.omitted > 0 {
			return a.add(sarifNotification{
				Descriptor: &sarifDescriptorRef{ID: "results-omitted"},
				Level:      "warning",
				Message: sarifMessage{Text: fmt.Sprintf("%d of %d results are left out: GitHub code scanning rejects a run of more than %d. The most severe open findings are in; every finding is in -o json and -o csv.",
					budget.omitted, budget.total, SARIFMaxResults)},
			})
		}
		return nil
	}
	results := func(a *jsonArray) error {
		return x.each(x.placed(), func(_ int, r *Resource) error {
			loc := sarifResourceLocation(r)
			if r.Status == "unknown" {
				if !budget.take(sarifUnknownRank) {
					return nil
				}
				return a.add(sarifResult{
					RuleID:              resourceUnknownRule.ID,
					RuleIndex:           index[resourceUnknownRule.ID],
					Kind:                "fail",
					Level:               sarifLevel(resourceUnknownRule.Severity),
					Message:             sarifMessage{Text: sarifUnknownText(r)},
					Locations:           []sarifLocation{withPhysical(loc, r.Source)},
					PartialFingerprints: map[string]string{sarifFingerprintKey: fingerprint(resourceUnknownRule.ID, r.ARN, "")},
					Properties: map[string]any{
						"account": r.Account, "region": r.Region, "resourceKind": r.Kind,
						"severity": resourceUnknownRule.Severity.String(), "unknownReason": capRunes(r.UnknownReason, InertSentence),
					},
				})
			}
			keys := statementKeys(r.Findings)
			for j, f := range r.Findings {
				if !budget.take(sarifRank(f.Severity, f.Suppressed)) {
					continue
				}
				msg := f.Explanation
				if f.Note != "" {
					msg += " Note: " + f.Note
				}
				// Free text is capped (code scanning takes 10 MB gzipped a
				// file, and an estate's strings have no length limit of
				// their own); -o json has all of it.
				cmds := make([]string, len(f.Remediation.Commands))
				for i, c := range f.Remediation.Commands {
					cmds[i] = capRunes(c, InertSentence)
				}
				props := map[string]any{
					"account":       r.Account,
					"region":        r.Region,
					"resourceKind":  r.Kind,
					"severity":      f.Severity.String(),
					"compliance":    f.Compliance,
					"remediation":   capRunes(f.Remediation.Text, InertSentence),
					"fixCommands":   cmds,
					"hipaa":         nonNil(f.Compliance.IDs("HIPAA")),
					"resourceState": r.Exposure,
				}
				if f.Exposure != "" {
					props["exposure"] = f.Exposure
				}
				if f.Statement != nil {
					s := *f.Statement
					s.Sid = capRunes(s.Sid, InertField)
					props["statement"] = s
				}
				if f.Note != "" {
					props["note"] = capRunes(f.Note, InertSentence)
				}
				res := sarifResult{
					RuleID:              f.RuleID,
					RuleIndex:           index[f.RuleID],
					Kind:                "fail",
					Level:               sarifLevel(f.Severity),
					Message:             sarifMessage{Text: sarifText(msg)},
					Locations:           []sarifLocation{withPhysical(loc, f.Source)},
					PartialFingerprints: map[string]string{sarifFingerprintKey: fingerprint(f.RuleID, r.ARN, keys[j])},
					Properties:          props,
				}
				if f.Suppressed {
					by := capRunes(f.SuppressedBy, InertSentence)
					res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: by}}
					props["suppressedBy"] = by
				}
				if err := a.add(res); err != nil {
					return err
				}
			}
			return nil
		})
	}
	fills := []func(*jsonArray) error{}
	if unknowns+len(scanErrors) > 0 || budget.omitted > 0 {
		inv.ToolExecutionNotifications = spliceMark(len(fills))
		fills = append(fills, notifications)
	}

	run := sarifRun{
		Tool: sarifTool{Driver: driver},
		// The category code scanning files this run under (the part
		// before the last slash), so uploads from lambdawarden replace
		// each other instead of mixing with other tools' alerts.
		AutomationDetails: sarifAutomation{ID: "lambdawarden/lambda-exposure/"},
		Invocations:       []sarifInvocation{inv},
		Results:           spliceMark(len(fills)),
	}
	fills = append(fills, results)
	if d.Scan != nil || budget.omitted > 0 {
		run.Properties = map[string]any{}
	}
	if d.Scan != nil {
		run.Properties["accounts"] = nonNil(d.Scan.Accounts)
		run.Properties["regions"] = nonNil(d.Scan.Regions)
		run.Properties["complete"] = d.Scan.Complete
	}
	if budget.omitted > 0 {
		run.Properties["omittedResults"] = budget.omitted
	}
	return writeSpliced(out, sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}, fills...)
}

// sarifRule is a catalog rule as a SARIF reporting descriptor.
func sarifRule(r *rules.Rule) sarifReportingDescr {
	return sarifReportingDescr{
		ID:                   r.ID,
		Name:                 sarifRuleName(r.ID),
		ShortDescription:     &sarifMessage{Text: r.Title},
		FullDescription:      &sarifMessage{Text: r.Rationale},
		Help:                 sarifRuleHelp(r),
		DefaultConfiguration: &sarifRuleConfig{Level: sarifLevel(r.Severity)},
		Properties: map[string]any{
			"security-severity": securitySeverity(r.Severity),
			"severity":          r.Severity.String(),
			"tags":              sarifTags(r),
			"precision":         "very-high",
			"problem.severity":  sarifProblemSeverity(r.Severity),
			"compliance":        rules.Compliance(r.ID),
		},
	}
}

// sarifProblemSeverity is the CodeQL-style problem.severity tag some
// consumers read instead of the level.
func sarifProblemSeverity(s finding.Severity) string {
	switch sarifLevel(s) {
	case "error":
		return "error"
	case "warning":
		return "warning"
	default:
		return "recommendation"
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// withPhysical points a result judged from infrastructure code at its file
// (relative to the repository root) and line, where code scanning
// annotates it; live resources keep their resource URI.
func withPhysical(loc sarifLocation, src *finding.Location) sarifLocation {
	if src == nil || src.File == "" {
		return loc
	}
	loc.PhysicalLocation = &sarifPhysicalLoc{
		ArtifactLocation: sarifArtifactLoc{URI: sarifURI(src.File), URIBaseID: "%SRCROOT%"},
		Region:           sarifRegion{StartLine: max(src.Line, 1)},
	}
	return loc
}

// sarifURI writes a file path as a relative URI reference: forward
// slashes, no leading "./", reserved characters escaped.
func sarifURI(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return (&url.URL{Path: p}).EscapedPath()
}
