package cli

import (
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/remediate/awsexec"
	"github.com/lambdawarden/lambdawarden/internal/remediate/fixdoc"
)

func (e *env) restoreCommand() *cobra.Command {
	var (
		endpointURL, profile, roleName, externalID, output string
	)
	cmd := &cobra.Command{
		Use:   "restore BACKUP",
		Short: "Put back what 'fix --apply' removed or changed, from its backups",
		Long: `Reads a backup file written by 'fix --apply', or a whole backup directory (newest
first), and puts the saved statements back: with AddPermission and the original
parameters when that reproduces the policy exactly, otherwise with
PutResourcePolicy of the saved document, guarded by the current RevisionId.
A function URL switched to AWS_IAM goes back to its old auth type.

Restore works from what is there now: a statement still present is reported
as already existing; one whose Sid another statement now uses is reported and
left alone; when the policy changed since the fix, the statements are added
to it rather than overwriting the change.

Exit codes: 0 everything restored or already there; 1 something could not be
restored; 2 usage error (no such backup, not a backup).`,
		Example: `  lambdawarden restore lambdawarden-backups/20260101T120000Z/
  lambdawarden restore lambdawarden-backups/20260101T120000Z/001-111122223333-us-east-1-intake.json --profile prod`,
		Args: exactArgs(1, "a backup file or directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := strings.ToLower(output)
			if format == "" {
				format = "json"
				if e.isTerminal {
					format = "text"
				}
			}
			if format != "text" && format != "json" {
				return usagef("restore -o %q: want text or json", output)
			}
			backups, files, err := remediate.LoadBackups(args[0])
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usagef("%s: no such backup file or directory", args[0])
				}
				return usagef("%s", err)
			}
			exec, err := awsexec.New(e.ctx, awsexec.Config{Profile: profile, EndpointURL: endpointURL, RoleName: roleName, ExternalID: externalID, Region: backups[0].Resource.Region})
			if err != nil {
				return err
			}
			doc := fixdoc.NewRestore()
			for i, b := range backups {
				rr := remediate.Restore(e.ctx, exec, b)
				doc.Add(files[i], rr)
				if format == "text" {
					fixdoc.WriteRestoreResult(e.stdout, files[i], rr)
				}
			}
			if format == "json" {
				if err := fixdoc.WriteJSON(e.stdout, doc); err != nil {
					return err
				}
			} else {
				fixdoc.WriteRestoreSummary(e.stdout, doc)
			}
			if doc.Summary.CouldNot > 0 {
				return exitCode(exitFindings)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator)")
	fl.StringVar(&profile, "profile", "", "AWS shared-config profile (default: the standard credential chain)")
	fl.StringVar(&roleName, "role-name", "OrganizationAccountAccessRole", "role to assume in accounts other than the caller's")
	fl.StringVar(&externalID, "external-id", "", "external id for the assumed role")
	fl.StringVarP(&output, "output", "o", "", "text or json (default: text on a terminal, json otherwise)")
	return cmd
}
