package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/remediate/guardrails"
)

func (e *env) guardrailsCommand() *cobra.Command {
	var orgID, role string
	var out docOutput
	cmd := &cobra.Command{
		Use:   "guardrails",
		Short: "Print preventive service control policies (SCPs) that stop new Lambda exposure",
		Long: `Prints SCPs that deny, across an organization: function URLs without AWS_IAM
authentication; add-permission grants to "*" by anyone but a deployment role;
and PutResourcePolicy by anyone but that role. Each comes with what it blocks,
what it does not, and which of its conditions AWS documentation does not
confirm. Each policy is checked with lambdawarden's own policy parser first.

Resource Control Policies do not cover Lambda, so they cannot do this.`,
		Example: `  lambdawarden guardrails --org-id o-abc123def4
  lambdawarden guardrails --deployment-role 'arn:aws:iam::*:role/ci-deployer' -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if orgID != "" && !strings.HasPrefix(orgID, "o-") {
				return usagef("--org-id %q: an organization id starts with o- (for example o-abc123def4)", orgID)
			}
			if err := out.parse(e); err != nil {
				return err
			}
			gs, err := guardrails.Generate(guardrails.Options{OrgID: orgID, DeploymentRole: role})
			if err != nil {
				return usagef("%s", err)
			}
			return out.write(e, func(w io.Writer) error {
				if out.format == "json" {
					return writeJSON(w, map[string]any{"schema_version": "1", "notes": guardrails.Notes, "guardrails": gs})
				}
				writeGuardrailsText(w, gs)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&orgID, "org-id", "", "the organization the SCPs are for (o-...)")
	cmd.Flags().StringVar(&role, "deployment-role", guardrails.DefaultDeploymentRole, "ARN pattern of the role still allowed to grant \"*\" and write resource policies")
	out.register(cmd, true)
	return cmd
}

func writeGuardrailsText(w io.Writer, gs []guardrails.Guardrail) {
	for i, g := range gs {
		fmt.Fprintf(w, "== %d. %s (%s) ==\n", i+1, g.Title, g.Name)
		fmt.Fprintf(w, "Blocks: %s\n", g.Blocks)
		fmt.Fprintln(w, "Does not stop:")
		for _, d := range g.DoesNotStop {
			fmt.Fprintf(w, "  - %s\n", d)
		}
		fmt.Fprintln(w, "Unconfirmed by AWS documentation:")
		for _, u := range g.Unconfirmed {
			fmt.Fprintf(w, "  - %s\n", u)
		}
		fmt.Fprintf(w, "Sources: %s\n", strings.Join(g.Sources, "; "))
		fmt.Fprintf(w, "%s\n\n", g.Policy)
	}
	fmt.Fprintln(w, "Notes:")
	for _, n := range guardrails.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
}
