package report

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// SARIFSchemaURI is the $schema the sarif writer declares: the SARIF
// 2.1.0 schema as GitHub code scanning and most consumers expect it.
const SARIFSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// The sarif writer renders the document as SARIF 2.1.0:
//   - tool.driver.rules is the whole catalog (help text, default level and
//     GitHub's security-severity), so consumers can show rules that did not
//     fire;
//   - one result per finding; its location is logical (the resource ARN,
//     kind "resource"), since a live resource has no file;
//   - suppressed findings stay, with an external, accepted suppression
//     carrying the justification;
//   - an unknown resource is a tool execution notification of level error
//     on the invocation (SARIF's way of saying "could not analyse this"),
//     never a silent omission.
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
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations"`
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
	index := map[string]int{}
	driver := sarifToolComponent{
		Name:           toolName(d),
		FullName:       toolName(d) + " " + toolVersion(d),
		Version:        toolVersion(d),
		InformationURI: "https://github.com/lambdawarden/lambdawarden",
		Rules:          []sarifReportingDescr{},
	}
	for i, r := range catalog {
		index[r.ID] = i
		tags := []string{"security", "aws", "lambda"}
		for _, req := range rules.Compliance(r.ID) {
			tags = append(tags, req.Framework)
		}
		driver.Rules = append(driver.Rules, sarifReportingDescr{
			ID:                   r.ID,
			Name:                 sarifRuleName(r.ID),
			ShortDescription:     &sarifMessage{Text: r.Title},
			FullDescription:      &sarifMessage{Text: r.Rationale},
			Help:                 sarifRuleHelp(r),
			DefaultConfiguration: &sarifRuleConfig{Level: sarifLevel(r.Severity)},
			Properties: map[string]any{
				"security-severity": securitySeverity(r.Severity),
				"severity":          r.Severity.String(),
				"tags":              tags,
				"precision":         "very-high",
				"problem.severity":  sarifProblemSeverity(r.Severity),
				"compliance":        rules.Compliance(r.ID),
			},
		})
	}

	inv := sarifInvocation{
		ExecutionSuccessful: !d.Incomplete(),
		StartTimeUTC:        scanStart(d, opt).Format(time.RFC3339),
		EndTimeUTC:          reportTime(d, opt).Format(time.RFC3339),
	}
	// Notifications (one per unknown resource, then the scan errors) and
	// results are streamed into the run in two passes: unknown resources
	// carry no findings, so the first reads only them.
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
				Descriptor: &sarifDescriptorRef{ID: "resource-unknown"},
				Level:      "error",
				Message:    sarifMessage{Text: "Could not assess " + r.ARN + ": " + r.UnknownReason + ". It is not counted as compliant."},
				Locations:  []sarifLocation{sarifResourceLocation(r)},
			})
			if err != nil {
				return err
			}
		}
		for _, e := range scanErrors {
			err := a.add(sarifNotification{
				Descriptor: &sarifDescriptorRef{ID: "scan-incomplete"},
				Level:      "error",
				Message:    sarifMessage{Text: e},
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	results := func(a *jsonArray) error {
		return x.each(x.placed(), func(_ int, r *Resource) error {
			loc := sarifResourceLocation(r)
			for _, f := range r.Findings {
				msg := f.Explanation
				if f.Note != "" {
					msg += " Note: " + f.Note
				}
				props := map[string]any{
					"account":       r.Account,
					"region":        r.Region,
					"resourceKind":  r.Kind,
					"severity":      f.Severity.String(),
					"compliance":    f.Compliance,
					"remediation":   f.Remediation.Text,
					"fixCommands":   nonNil(f.Remediation.Commands),
					"hipaa":         nonNil(f.Compliance.IDs("HIPAA")),
					"resourceState": r.Exposure,
				}
				if f.Exposure != "" {
					props["exposure"] = f.Exposure
				}
				if f.Statement != nil {
					props["statement"] = f.Statement
				}
				if f.Note != "" {
					props["note"] = f.Note
				}
				res := sarifResult{
					RuleID:              f.RuleID,
					RuleIndex:           index[f.RuleID],
					Kind:                "fail",
					Level:               sarifLevel(f.Severity),
					Message:             sarifMessage{Text: msg},
					Locations:           []sarifLocation{loc},
					PartialFingerprints: map[string]string{"lambdawarden/v1": findingFingerprint(r, &f)},
					Properties:          props,
				}
				if f.Suppressed {
					res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.SuppressedBy}}
					props["suppressedBy"] = f.SuppressedBy
				}
				if err := a.add(res); err != nil {
					return err
				}
			}
			return nil
		})
	}
	fills := []func(*jsonArray) error{}
	if unknowns+len(scanErrors) > 0 {
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
	if d.Scan != nil {
		run.Properties = map[string]any{
			"accounts": nonNil(d.Scan.Accounts),
			"regions":  nonNil(d.Scan.Regions),
			"complete": d.Scan.Complete,
		}
	}
	return writeSpliced(out, sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}, fills...)
}

// sarifResourceLocation is a resource as a SARIF logical location.
func sarifResourceLocation(r *Resource) sarifLocation {
	return sarifLocation{LogicalLocations: []sarifLogicalLoc{{Name: resourceName(r.ARN), FullyQualifiedName: r.ARN, Kind: "resource"}}}
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

// findingFingerprint identifies a finding across scans (rule, resource,
// statement), so code-scanning tools track one alert instead of opening a
// new one per run.
func findingFingerprint(r *Resource, f *finding.Finding) string {
	key := f.RuleID + "\x00" + r.ARN
	if f.Statement != nil {
		key += "\x00" + f.Statement.Policy + "\x00" + f.Statement.Sid + "\x00" + strconv.Itoa(f.Statement.Index)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
