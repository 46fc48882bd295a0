package cli

import (
	"encoding/json"
	"fmt"
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
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalog with its framework mappings (HIPAA first)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			all := rules.All()
			switch strings.ToLower(format) {
			case "json":
				docs := make([]ruleDoc, 0, len(all))
				for _, r := range all {
					d := ruleDoc{ID: r.ID, Title: r.Title, Severity: r.Severity, Rationale: r.Rationale, Remediation: r.Remediation, Compliance: rules.Compliance(r.ID)}
					for _, k := range r.Kinds {
						d.Resources = append(d.Resources, string(k))
					}
					docs = append(docs, d)
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"schema_version": "1", "frameworks": rules.Frameworks(), "rules": docs})
			case "text", "":
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
				for _, r := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout)
				for _, r := range all {
					fmt.Fprintf(e.stdout, "%s  (%s)\n  %s\n", r.ID, r.Severity, r.Rationale)
					for _, req := range rules.Compliance(r.ID) {
						fmt.Fprintf(e.stdout, "  %-24s %s\n", req.Framework, strings.Join(req.IDs, ", "))
					}
					fmt.Fprintln(e.stdout)
				}
				return nil
			}
			return usagef("rules -o %q: want text or json", format)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "text or json")
	return cmd
}
