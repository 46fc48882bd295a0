package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/spf13/cobra"
)

// ruleDoc is the JSON shape of one catalog entry.
type ruleDoc struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Severity    finding.Severity   `json:"severity"`
	Resources   []string           `json:"resource_kinds"`
	Rationale   string             `json:"rationale"`
	Remediation string             `json:"remediation"`
	Compliance  finding.Compliance `json:"compliance"`
}

func (e *env) rulesCommand() *cobra.Command {
	var out docOutput
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalog with its framework mappings (HIPAA first)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.parse(e); err != nil {
				return err
			}
			return out.write(e, func(w io.Writer) error { return writeRules(w, out.format) })
		},
	}
	out.register(cmd, true)
	return cmd
}

func writeRules(w io.Writer, format string) error {
	all := rules.All()
	switch format {
	case "json":
		docs := make([]ruleDoc, 0, len(all))
		for _, r := range all {
			d := ruleDoc{ID: r.ID, Title: r.Title, Severity: r.Severity, Rationale: r.Rationale, Remediation: r.Remediation, Compliance: rules.Compliance(r.ID)}
			for _, k := range r.Kinds {
				d.Resources = append(d.Resources, string(k))
			}
			docs = append(docs, d)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"schema_version": "1", "frameworks": rules.Frameworks(), "rules": docs})
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
		for _, r := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		for _, r := range all {
			fmt.Fprintf(w, "%s  (%s)\n  %s\n", r.ID, r.Severity, r.Rationale)
			for _, req := range rules.Compliance(r.ID) {
				fmt.Fprintf(w, "  %-24s %s\n", req.Framework, strings.Join(req.IDs, ", "))
			}
			fmt.Fprintln(w)
		}
		return nil
	}
}
