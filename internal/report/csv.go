package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVColumns is the csv format's header, in order. The order is part of
// the output contract: add columns only at the end, never reorder.
//
//	account          AWS account id of the resource
//	region           the resource's region
//	resource_arn     the resource ARN (function, alias, version or layer version)
//	resource_kind    function | alias | version | layer-version
//	status           evaluated | unknown
//	exposure         the resource's worst exposure class (public, cross-account,
//	                 service-unscoped, org, private, unknown)
//	rule_id          the rule that fired (empty on an unknown resource's row)
//	severity         critical | high | medium | low | info (empty when unknown)
//	title            the rule's title
//	statement_sid    Sid of the offending statement ("" when it has none)
//	statement_index  0-based position of the statement in the policy's Statement list
//	                 (empty when the finding rests on no statement)
//	statement_policy "function" when the statement is in the unqualified function's
//	                 policy and counts for an alias or version; else empty
//	explanation      why the finding matters, in one sentence
//	fix_command      the exact commands that fix it, one per line
//	remediation      the fix in words
//	hipaa            HIPAA Security Rule sections, separated by "; "
//	compliance       every framework's requirements as "FRAMEWORK ID", separated by "; "
//	suppressed       true | false
//	suppressed_by    which suppression matched, with its reason, approver and expiry
//	note             context, e.g. that a suppression expired
//	unknown_reason   why an unknown resource could not be assessed
//
// There is one row per finding, suppressed or not, and one per unknown
// resource; evaluated resources without findings have no row. Control
// and invisible characters in a cell are escaped (\n, \u001b, \u202e),
// so a Sid cannot break a row or drive a terminal that shows the file;
// fix_command's commands are separated by real newlines. A cell that
// starts with = + - @ or a tab or carriage return is prefixed with a
// single quote, so a spreadsheet shows it as text instead of running it
// as a formula (estate data such as Sids and names is not ours to trust).
var CSVColumns = []string{
	"account", "region", "resource_arn", "resource_kind", "status", "exposure",
	"rule_id", "severity", "title", "statement_sid", "statement_index", "statement_policy",
	"explanation", "fix_command", "remediation", "hipaa", "compliance",
	"suppressed", "suppressed_by", "note", "unknown_reason",
}

type csvWriter struct{}

func (csvWriter) Name() string { return "csv" }
func (csvWriter) Description() string {
	return "one row per finding and per unknown resource, fixed column order (see report.CSVColumns)"
}

func (csvWriter) Write(out io.Writer, d *Document, opt Options) error {
	w := csv.NewWriter(out)
	if err := w.Write(CSVColumns); err != nil {
		return err
	}
	x := d.index()
	err := x.each(x.placed(), func(_ int, r *Resource) error {
		base := func() map[string]string {
			return map[string]string{
				"account": r.Account, "region": r.Region, "resource_arn": r.ARN,
				"resource_kind": r.Kind, "status": r.Status, "exposure": r.Exposure,
				"suppressed": "false", "unknown_reason": r.UnknownReason,
			}
		}
		if r.Status == "unknown" {
			if err := w.Write(csvRow(base())); err != nil {
				return err
			}
		}
		for _, f := range r.Findings {
			row := base()
			row["rule_id"] = f.RuleID
			row["severity"] = f.Severity.String()
			row["title"] = f.Title
			if f.Statement != nil {
				row["statement_sid"] = f.Statement.Sid
				row["statement_index"] = strconv.Itoa(f.Statement.Index)
				row["statement_policy"] = f.Statement.Policy
			}
			row["explanation"] = f.Explanation
			cmds := make([]string, len(f.Remediation.Commands))
			for i, c := range f.Remediation.Commands {
				cmds[i] = Inert(c, 0)
			}
			row["fix_command"] = strings.Join(cmds, "\n")
			row["remediation"] = f.Remediation.Text
			row["hipaa"] = strings.Join(f.Compliance.IDs("HIPAA"), "; ")
			row["compliance"] = strings.Join(frameworkRequirements(f.Compliance), "; ")
			row["suppressed"] = strconv.FormatBool(f.Suppressed)
			row["suppressed_by"] = f.SuppressedBy
			row["note"] = f.Note
			if err := w.Write(csvRow(row)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// csvRow orders a row's cells and makes each inert: control and
// invisible characters escaped (Inert, uncapped: the csv has every
// finding whole), formulas defused. fix_command holds one command per
// line, each already escaped.
func csvRow(m map[string]string) []string {
	out := make([]string, len(CSVColumns))
	for i, c := range CSVColumns {
		v := m[c]
		if c != "fix_command" {
			v = Inert(v, 0)
		}
		out[i] = csvCell(v)
	}
	return out
}

// csvCell defuses spreadsheet formulas (OWASP "CSV injection").
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
