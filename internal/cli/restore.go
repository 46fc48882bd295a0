package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/remediate/awsexec"
)

// restoreDocument is restore's JSON output (schema_version "1").
type restoreDocument struct {
	SchemaVersion string          `json:"schema_version"`
	Results       []restoreResult `json:"results"`
	Summary       restoreSummary  `json:"summary"`
}

type restoreResult struct {
	Backup string `json:"backup"`
	*remediate.RestoreResult
}

type restoreSummary struct {
	Restored      int `json:"restored"`
	AlreadyExists int `json:"already_exists"`
	CouldNot      int `json:"could_not_restore"`
}

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
			doc := restoreDocument{SchemaVersion: "1", Results: []restoreResult{}}
			for i, b := range backups {
				rr := remediate.Restore(e.ctx, exec, b)
				doc.Results = append(doc.Results, restoreResult{Backup: files[i], RestoreResult: rr})
				for _, it := range rr.Items {
					switch it.Status {
					case remediate.Restored:
						doc.Summary.Restored++
					case remediate.AlreadyThere:
						doc.Summary.AlreadyExists++
					default:
						doc.Summary.CouldNot++
					}
				}
				if format == "text" {
					fmt.Fprintf(e.stdout, "%s (%s)\n", rr.Resource.ARN, filepath.Base(files[i]))
					for _, it := range rr.Items {
						line := fmt.Sprintf("  %-18s %s", it.Status, it.What)
						if it.Detail != "" {
							line += ": " + it.Detail
						}
						fmt.Fprintln(e.stdout, line)
					}
					for _, n := range rr.Notes {
						fmt.Fprintf(e.stdout, "  %-18s %s\n", "note", n)
					}
					for _, c := range rr.Calls {
						fmt.Fprintf(e.stdout, "  %-18s %s\n", "ran", c)
					}
				}
			}
			if format == "json" {
				if err := writeJSON(e.stdout, doc); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(e.stdout, "\nSummary: %d restored, %d already existed, %d could not be restored.\n", doc.Summary.Restored, doc.Summary.AlreadyExists, doc.Summary.CouldNot)
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
