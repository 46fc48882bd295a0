package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// OCSF identifiers the ocsf writer uses (OCSF 1.1.0, Findings category).
const (
	OCSFVersion           = "1.1.0"
	OCSFCategoryFindings  = 2
	OCSFClassDetection    = 2004
	OCSFTypeDetection     = 200401 // Detection Finding: Create
	OCSFClassCompliance   = 2003
	OCSFTypeCompliance    = 200301 // Compliance Finding: Create
	ocsfActivityCreate    = 1
	ocsfAnalyticTypeRule  = 1
	ocsfStatusNew         = 1
	ocsfStatusSuppressed  = 3
	ocsfCompliancePass    = 1
	ocsfComplianceWarning = 2
	ocsfComplianceFail    = 3
)

// The ocsf writer renders the document as a JSON array of OCSF 1.1.0
// events:
//
//   - one Detection Finding (class_uid 2004, type_uid 200401) per finding,
//     suppressed ones with status Suppressed. OCSF 1.1's Detection Finding
//     has no compliance attribute, so the mapping travels in
//     unmapped.compliance, shaped like OCSF's Compliance object (standards,
//     requirements, status), and as finding_info.types;
//   - one Detection Finding per unknown resource, severity Unknown (0), so
//     an unassessed resource never disappears from the feed;
//   - with Options.OCSFCompliance, one Compliance Finding (class_uid 2003,
//     type_uid 200301) per framework requirement the catalog maps to: Fail
//     when an unsuppressed finding maps to it, Warning when none does but a
//     resource could not be assessed (or the scan is incomplete), Pass
//     otherwise. Its resources are the failing (or unassessed) ones.
type ocsfWriter struct{}

func (ocsfWriter) Name() string { return "ocsf" }
func (ocsfWriter) Description() string {
	return "OCSF 1.1.0 Detection Findings (2004) as a JSON array; --ocsf-compliance adds a Compliance Finding (2003) per requirement"
}

type ocsfEvent struct {
	ActivityID   int              `json:"activity_id"`
	ActivityName string           `json:"activity_name"`
	CategoryUID  int              `json:"category_uid"`
	CategoryName string           `json:"category_name"`
	ClassUID     int              `json:"class_uid"`
	ClassName    string           `json:"class_name"`
	TypeUID      int              `json:"type_uid"`
	TypeName     string           `json:"type_name"`
	SeverityID   int              `json:"severity_id"`
	Severity     string           `json:"severity"`
	StatusID     int              `json:"status_id,omitempty"`
	Status       string           `json:"status,omitempty"`
	Time         int64            `json:"time"`
	Message      string           `json:"message"`
	Metadata     ocsfMetadata     `json:"metadata"`
	Cloud        *ocsfCloud       `json:"cloud,omitempty"`
	FindingInfo  ocsfFindingInfo  `json:"finding_info"`
	Compliance   *ocsfCompliance  `json:"compliance,omitempty"`
	Resources    any              `json:"resources"` // []ocsfResource, or a spliceMark
	Remediation  *ocsfRemediation `json:"remediation,omitempty"`
	Unmapped     map[string]any   `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version  string      `json:"version"`
	Product  ocsfProduct `json:"product"`
	Profiles []string    `json:"profiles,omitempty"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

type ocsfCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *ocsfAccount `json:"account,omitempty"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

type ocsfFindingInfo struct {
	UID              string         `json:"uid"`
	Title            string         `json:"title"`
	Desc             string         `json:"desc"`
	Types            []string       `json:"types,omitempty"`
	CreatedTime      int64          `json:"created_time"`
	Analytic         *ocsfAnalytic  `json:"analytic,omitempty"`
	RelatedAnalytics []ocsfAnalytic `json:"related_analytics,omitempty"`
}

type ocsfAnalytic struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

type ocsfCompliance struct {
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements,omitempty"`
	Control      string   `json:"control,omitempty"`
	Status       string   `json:"status"`
	StatusID     int      `json:"status_id"`
	StatusDetail string   `json:"status_detail,omitempty"`
}

type ocsfResource struct {
	UID            string         `json:"uid"`
	Name           string         `json:"name,omitempty"`
	Type           string         `json:"type"`
	Region         string         `json:"region,omitempty"`
	CloudPartition string         `json:"cloud_partition,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
}

type ocsfRemediation struct {
	Desc string `json:"desc"`
}

// ocsfSeverity maps a severity to OCSF's severity_id and caption.
func ocsfSeverity(s finding.Severity) (int, string) {
	switch s {
	case finding.Critical:
		return 5, "Critical"
	case finding.High:
		return 4, "High"
	case finding.Medium:
		return 3, "Medium"
	case finding.Low:
		return 2, "Low"
	default:
		return 1, "Informational"
	}
}

// ocsfResourceType is the CloudFormation-style type OCSF consumers such
// as Security Lake use for cloud resources.
func ocsfResourceType(kind string) string {
	if kind == "layer-version" {
		return "AWS::Lambda::LayerVersion"
	}
	return "AWS::Lambda::Function"
}

func (ocsfWriter) Write(out io.Writer, d *Document, opt Options) error {
	ms := reportTime(d, opt).UnixMilli()
	meta := ocsfMetadata{
		Version:  OCSFVersion,
		Product:  ocsfProduct{Name: toolName(d), VendorName: toolName(d), Version: toolVersion(d)},
		Profiles: []string{"cloud"},
	}
	event := func(class, typ int, className string, r *Resource) ocsfEvent {
		e := ocsfEvent{
			ActivityID: ocsfActivityCreate, ActivityName: "Create",
			CategoryUID: OCSFCategoryFindings, CategoryName: "Findings",
			ClassUID: class, ClassName: className,
			TypeUID: typ, TypeName: className + ": Create",
			Time: ms, Metadata: meta, Resources: []ocsfResource{},
		}
		if r != nil {
			e.Cloud = &ocsfCloud{Provider: "AWS", Region: r.Region, Account: &ocsfAccount{UID: r.Account, Type: "AWS Account", TypeID: 10}}
		}
		return e
	}
	resource := func(r *Resource, data map[string]any) ocsfResource {
		base := map[string]any{"kind": r.Kind, "account": r.Account, "status": r.Status, "exposure": r.Exposure}
		for k, v := range data {
			base[k] = v
		}
		return ocsfResource{UID: r.ARN, Name: resourceName(r.ARN), Type: ocsfResourceType(r.Kind), Region: r.Region, CloudPartition: partition(r.ARN), Data: base}
	}

	events := newJSONArray(out, "")
	x := d.index()
	err := x.each(x.placed(), func(_ int, r *Resource) error {
		if r.Status == "unknown" {
			e := event(OCSFClassDetection, OCSFTypeDetection, "Detection Finding", r)
			e.SeverityID, e.Severity = 0, "Unknown"
			e.StatusID, e.Status = ocsfStatusNew, "New"
			e.Message = "Could not assess " + r.ARN + ": " + r.UnknownReason
			e.FindingInfo = ocsfFindingInfo{
				UID:         "lambdawarden/resource-unknown/" + r.ARN,
				Title:       "Lambda resource could not be assessed",
				Desc:        "lambdawarden could not read or parse the resource (" + r.UnknownReason + "); its exposure is unknown and it is not counted as compliant.",
				Types:       []string{"Incomplete Assessment"},
				CreatedTime: ms,
				Analytic:    &ocsfAnalytic{UID: "lambdawarden-resource-unknown", Name: "Resource could not be assessed", Type: "Rule", TypeID: ocsfAnalyticTypeRule},
			}
			e.Resources = []ocsfResource{resource(r, map[string]any{"unknown_reason": r.UnknownReason})}
			e.Unmapped = map[string]any{"unknown_reason": r.UnknownReason}
			return events.add(e)
		}
		for _, f := range r.Findings {
			e := event(OCSFClassDetection, OCSFTypeDetection, "Detection Finding", r)
			e.SeverityID, e.Severity = ocsfSeverity(f.Severity)
			e.StatusID, e.Status = ocsfStatusNew, "New"
			if f.Suppressed {
				e.StatusID, e.Status = ocsfStatusSuppressed, "Suppressed"
			}
			e.Message = f.Explanation
			e.FindingInfo = ocsfFindingInfo{
				UID:         ocsfFindingUID(r, &f),
				Title:       f.Title,
				Desc:        f.Explanation,
				Types:       ocsfTypes(f.Compliance),
				CreatedTime: ms,
				Analytic:    &ocsfAnalytic{UID: f.RuleID, Name: f.Title, Type: "Rule", TypeID: ocsfAnalyticTypeRule},
			}
			data := map[string]any{}
			if f.Statement != nil {
				data["statement"] = f.Statement
			}
			if len(f.Actions) > 0 {
				data["actions"] = f.Actions
			}
			e.Resources = []ocsfResource{resource(r, data)}
			e.Remediation = &ocsfRemediation{Desc: remediationText(f.Remediation)}
			um := map[string]any{
				"compliance": ocsfCompliance{
					Standards:    ocsfStandards(f.Compliance),
					Requirements: frameworkRequirements(f.Compliance),
					Status:       "Fail",
					StatusID:     ocsfComplianceFail,
				},
				"hipaa":        nonNil(f.Compliance.IDs("HIPAA")),
				"fix_commands": nonNil(f.Remediation.Commands),
				"suppressed":   f.Suppressed,
			}
			if f.Exposure != "" {
				um["exposure"] = f.Exposure
			}
			if f.SuppressedBy != "" {
				um["suppressed_by"] = f.SuppressedBy
			}
			if f.Note != "" {
				um["note"] = f.Note
			}
			e.Unmapped = um
			if err := events.add(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if opt.OCSFCompliance {
		if err := ocsfComplianceFindings(d, x, events, event, resource); err != nil {
			return err
		}
	}
	if err := events.close(); err != nil {
		return err
	}
	_, err = io.WriteString(out, "\n")
	return err
}

// ocsfComplianceFindings writes one Compliance Finding per requirement
// of every framework, in the catalog's framework order. It works from the
// index: a requirement's failing resources are streamed into its event
// from the index alone, and only unknown resources are read back (for
// their reason).
func ocsfComplianceFindings(d *Document, x *index, list *jsonArray, event func(int, int, string, *Resource) ocsfEvent, resource func(*Resource, map[string]any) ocsfResource) error {
	type req struct {
		framework, id string
		rules         []*rules.Rule
	}
	var reqs []*req
	byKey := map[string]*req{}
	for _, fw := range rules.Frameworks() {
		for _, r := range rules.All() {
			for _, id := range rules.Compliance(r.ID).IDs(fw) {
				k := fw + "\x00" + id
				q := byKey[k]
				if q == nil {
					q = &req{framework: fw, id: id}
					byKey[k] = q
					reqs = append(reqs, q)
				}
				q.rules = append(q.rules, r)
			}
		}
	}
	incomplete := d.Scan != nil && (!d.Scan.Complete || len(d.Scan.Errors) > 0)
	placed := x.placed()
	for _, q := range reqs {
		ruleSet := map[string]bool{}
		var analytics []ocsfAnalytic
		for _, r := range q.rules {
			ruleSet[r.ID] = true
			analytics = append(analytics, ocsfAnalytic{UID: r.ID, Name: r.Title, Type: "Rule", TypeID: ocsfAnalyticTypeRule})
		}
		applies := func(it *item) bool {
			for _, rule := range q.rules {
				if rule.Applies(inventory.Kind(it.Kind)) {
					return true
				}
			}
			return false
		}
		// openHits are the requirement's rules that fired unsuppressed on
		// an evaluated resource, in finding order.
		openHits := func(it *item) []string {
			var hits []string
			for _, h := range it.hits {
				if ruleSet[h.rule] && !h.suppressed {
					hits = append(hits, h.rule)
				}
			}
			return hits
		}
		e := event(OCSFClassCompliance, OCSFTypeCompliance, "Compliance Finding", nil)
		failing, unknown := 0, 0
		worst := finding.Severity(-1)
		findings, suppressed := 0, 0
		// gapUnknown reports whether a rule of the requirement could not
		// read its input on an evaluated resource.
		gapUnknown := func(it *item) (string, bool) {
			for _, g := range it.gaps {
				if g.unknown && ruleSet[g.rule] {
					return g.rule, true
				}
			}
			return "", false
		}
		for _, i := range placed {
			it := &x.items[i]
			if it.Status == "unknown" {
				if applies(it) {
					unknown++
				}
				continue
			}
			if _, ok := gapUnknown(it); ok {
				unknown++
			}
			open := false
			for _, h := range it.hits {
				if !ruleSet[h.rule] {
					continue
				}
				if h.suppressed {
					suppressed++
					continue
				}
				findings++
				open = true
				if h.severity > worst {
					worst = h.severity
				}
			}
			if open {
				failing++
			}
		}
		var fill func(*jsonArray) error
		c := ocsfCompliance{Standards: []string{q.framework}, Requirements: []string{q.id}, Control: q.framework + " " + q.id}
		switch {
		case failing > 0:
			c.Status, c.StatusID = "Fail", ocsfComplianceFail
			c.StatusDetail = plural(failing, "resource") + " failing with " + plural(findings, "finding")
			e.SeverityID, e.Severity = ocsfSeverity(worst)
			e.StatusID, e.Status = ocsfStatusNew, "New"
			fill = func(a *jsonArray) error {
				for _, i := range placed {
					it := &x.items[i]
					if it.Status == "unknown" {
						continue
					}
					if hits := openHits(it); len(hits) > 0 {
						if err := a.add(resource(it.stub(), map[string]any{"rules": dedupe(hits)})); err != nil {
							return err
						}
					}
				}
				return nil
			}
		case unknown > 0 || incomplete:
			c.Status, c.StatusID = "Warning", ocsfComplianceWarning
			c.StatusDetail = "no finding, but " + plural(unknown, "resource") + " could not be assessed"
			if incomplete {
				c.StatusDetail += " and the scan is incomplete"
			}
			e.SeverityID, e.Severity = 0, "Unknown"
			e.StatusID, e.Status = ocsfStatusNew, "New"
			fill = func(a *jsonArray) error {
				for _, i := range placed {
					it := &x.items[i]
					rule, gap := gapUnknown(it)
					if !(it.Status == "unknown" && applies(it)) && !(it.Status != "unknown" && gap) {
						continue
					}
					r, err := x.load(int(i))
					if err != nil {
						return err
					}
					why := r.UnknownReason
					if it.Status != "unknown" {
						why = rule + ": " + r.gap(rule).Reason
					}
					if err := a.add(resource(r, map[string]any{"unknown_reason": why})); err != nil {
						return err
					}
				}
				return nil
			}
		default:
			c.Status, c.StatusID = "Pass", ocsfCompliancePass
			c.StatusDetail = "no resource fails"
			e.SeverityID, e.Severity = 1, "Informational"
		}
		if suppressed > 0 {
			c.StatusDetail += " (" + plural(suppressed, "suppressed finding") + " not counted)"
		}
		e.Compliance = &c
		e.Message = q.framework + " " + q.id + ": " + c.Status + ", " + c.StatusDetail
		e.FindingInfo = ocsfFindingInfo{
			UID:              "lambdawarden/compliance/" + q.framework + "/" + q.id,
			Title:            q.framework + " " + q.id,
			Desc:             "Lambda resource exposure checks mapped to " + q.framework + " " + q.id + ": " + c.StatusDetail + ".",
			Types:            []string{standardType(q.framework)},
			CreatedTime:      e.Time,
			RelatedAnalytics: analytics,
		}
		var err error
		if fill == nil {
			err = list.add(e)
		} else {
			e.Resources = spliceMark(0)
			err = list.addSpliced(e, fill)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ocsfFindingUID is a stable id for one finding: rule, resource and
// statement.
func ocsfFindingUID(r *Resource, f *finding.Finding) string {
	uid := ASFFID(f.RuleID, r.ARN)
	if s := f.Statement; s != nil {
		if s.Policy == "function" {
			uid += "/function-policy"
		}
		uid += "/statement/" + strconv.Itoa(s.Index)
	}
	return uid
}

func ocsfStandards(c finding.Compliance) []string {
	out := []string{}
	for _, r := range c {
		out = append(out, r.Framework)
	}
	return out
}

// standardType is the finding type for a framework's requirement.
func standardType(framework string) string {
	if framework == "HIPAA" {
		return ASFFType
	}
	return "Software and Configuration Checks/Industry and Regulatory Standards"
}

func ocsfTypes(c finding.Compliance) []string {
	if len(c.IDs("HIPAA")) > 0 {
		return []string{ASFFType}
	}
	return []string{"Software and Configuration Checks"}
}

// remediationText is the fix in words followed by the exact commands.
func remediationText(r finding.Remediation) string {
	if len(r.Commands) == 0 {
		return r.Text
	}
	return r.Text + "\n" + strings.Join(r.Commands, "\n")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
