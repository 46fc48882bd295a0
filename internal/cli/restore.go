package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/remediate/awsexec"
	"github.com/lambdawarden/lambdawarden/internal/remediate/fixdoc"
)

func (e *env) restoreCommand() *cobra.Command {
	var (
		endpointURL, profile, roleName, externalID, region string
		regions                                            []string
		out                                                docOutput
	)
	cmd := &cobra.Command{
		Use:   "restore BACKUP",
		Short: "Put back what 'fix --apply' removed or changed, from its backups",
		Long: `Reads a backup file written by 'fix --apply', or a whole backup directory (newest
first), and puts the saved statements back: with AddPermission and the original
parameters when that reproduces the policy exactly, otherwise with
PutResourcePolicy of the saved document, guarded by the current RevisionId.
A statement narrowed with remove-permission + add-permission is put back the
same way (the narrowed one removed, the original added under its Sid, at the
end of the policy). A function URL switched to AWS_IAM goes back to its old
auth type.

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
			if err := out.parse(e); err != nil {
				return err
			}
			format := out.format
			only, err := restoreRegions(region, regions, cmd.Flags().Changed)
			if err != nil {
				return err
			}
			if err := e.checkProfile(profile); err != nil {
				return err
			}
			if err := e.checkEndpoint(endpointURL); err != nil {
				return err
			}
			backups, files, err := loadBackups(args[0])
			if err != nil {
				return err
			}
			if backups, files, err = backupsIn(backups, files, only, args[0]); err != nil {
				return err
			}
			stsRegion := backups[0].Resource.Region
			if len(only) > 0 {
				stsRegion = only[0]
			}
			exec, err := awsexec.New(e.ctx, awsexec.Config{Profile: profile, EndpointURL: endpointURL, RoleName: roleName, ExternalID: externalID, Region: stsRegion})
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
	fl.StringVar(&region, "region", "", "restore only the backups of resources in this Region")
	fl.StringSliceVar(&regions, "regions", nil, "restore only the backups of resources in these Regions, comma-separated")
	out.register(cmd, false)
	return cmd
}

// restoreRegions reads --region/--regions: the Regions whose backups are
// restored (nil: all of them).
func restoreRegions(region string, regions []string, changed func(string) bool) ([]string, error) {
	if region != "" && changed("regions") {
		return nil, usagef("--region and --regions are exclusive: give one Region with --region, or several with --regions a,b")
	}
	if region != "" {
		regions = []string{region}
	}
	for _, r := range regions {
		if !looksLikeRegion(r) {
			return nil, usagef("--region: %q is not a Region name (for example us-east-1)", r)
		}
	}
	return regions, nil
}

// loadBackups reads a backup file, or every .json file of a folder; in a
// folder, each file that is not a backup is named, and nothing is
// restored until they are moved out (a damaged backup must not be
// skipped quietly).
func loadBackups(path string) ([]*remediate.Backup, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, usagef("%s: no such backup file or folder", path)
		}
		return nil, nil, usagef("%s: %s", path, unwrapPathError(err))
	}
	if !st.IsDir() {
		b, f, err := remediate.LoadBackups(path)
		if err != nil {
			return nil, nil, usagef("%s", err)
		}
		return b, f, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, nil, usagef("%s: %s", path, unwrapPathError(err))
	}
	var backups []*remediate.Backup
	var files, others []string
	for _, en := range entries {
		if en.IsDir() || !strings.HasSuffix(en.Name(), ".json") || strings.HasPrefix(en.Name(), ".") {
			continue
		}
		b, f, err := remediate.LoadBackups(filepath.Join(path, en.Name()))
		if err != nil {
			others = append(others, en.Name())
			continue
		}
		backups, files = append(backups, b...), append(files, f...)
	}
	switch {
	case len(others) > 0:
		return nil, nil, usagef("%s: %d file(s) there are not lambdawarden backups: %s; move them out, or restore backup files one by one", path, len(others), strings.Join(capList(others, 10), ", "))
	case len(backups) == 0:
		return nil, nil, usagef("%s holds no backup files (fix --apply writes them to lambdawarden-backups/<time>/)", path)
	}
	// Newest first, as remediate.LoadBackups orders a folder.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return files[order[a]] > files[order[b]] })
	sb, sf := make([]*remediate.Backup, len(order)), make([]string, len(order))
	for i, j := range order {
		sb[i], sf[i] = backups[j], files[j]
	}
	return sb, sf, nil
}

// backupsIn keeps the backups of resources in the given Regions.
func backupsIn(backups []*remediate.Backup, files, regions []string, path string) ([]*remediate.Backup, []string, error) {
	if len(regions) == 0 {
		return backups, files, nil
	}
	var kb []*remediate.Backup
	var kf []string
	seen := map[string]bool{}
	var have []string
	for i, b := range backups {
		if slices.Contains(regions, b.Resource.Region) {
			kb, kf = append(kb, b), append(kf, files[i])
		}
		if !seen[b.Resource.Region] {
			seen[b.Resource.Region] = true
			have = append(have, b.Resource.Region)
		}
	}
	if len(kb) == 0 {
		return nil, nil, usagef("%s: no backup is for %s (they are for %s)", path, strings.Join(regions, ", "), strings.Join(have, ", "))
	}
	return kb, kf, nil
}
