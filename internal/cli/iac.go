package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/iac"
	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

func (e *env) iacCommand() *cobra.Command {
	var (
		out     outputFlags
		trust   trustFlags
		files   settingsFlags
		account string
	)
	cmd := &cobra.Command{
		Use:   "iac PATH...",
		Short: "Judge Lambda exposure in Terraform, terraform plans, CloudFormation, SAM and CDK before deploy",
		Long: `Reads infrastructure code and judges it with the same engine and rules as scan:
  - Terraform modules (*.tf and *.tf.json, local modules followed with their
    inputs, variables valued from terraform.tfvars and *.auto.tfvars);
  - terraform show -json plans (the most exact input: every value resolved);
  - CloudFormation templates (YAML or JSON), SAM templates, and CDK's
    cdk.out/*.template.json.
Folders are walked (.terraform/ and node_modules/ are skipped). Every resource
and finding names the file, line and address it comes from. A value the code
does not fix (a variable without default, a parameter without Default, an
output of a registry module) makes the resource unknown, with the expression
and its line;
it is never judged private. A file that does not parse is listed as unknown
and the others are still judged.

--account is the account the code deploys to: without it every account id
written in the code counts as foreign (the deploying account shows as OWNER).`,
		Example: `  lambdawarden iac ./infra --account 111122223333
  lambdawarden iac ./infra --account 111122223333 -o sarif=results.sarif -o text
  terraform show -json plan.out > plan.json && lambdawarden iac plan.json --account 111122223333`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("iac needs at least one PATH (a folder, a .tf or .tf.json file, a plan or a template); see 'lambdawarden iac --help'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := files.load(e, cmd, &out, &trust, nil, false)
			if err != nil {
				return err
			}
			targets, failOn, err := out.parse(e)
			if err != nil {
				return err
			}
			tr, err := trust.parse()
			if err != nil {
				return err
			}
			if account != "" && !isAccountID(account) {
				return usagef("--account %q: an account id is 12 digits", account)
			}
			started := time.Now().UTC()
			est, stats, err := loadIaC(args, account)
			if err != nil {
				return err
			}
			owner := account
			if owner == "" {
				owner = estate.OwnerPlaceholder
				fmt.Fprintln(e.stderr, "lambdawarden: no --account given: the deploying account shows as OWNER and every account id written in the code counts as foreign")
			}
			resources := estate.Build(est, estate.Options{Owner: owner})
			d := &report.Document{SchemaVersion: report.SchemaVersion, Tool: toolInfo(), FailOn: failOn}
			for _, r := range resources {
				checkPolicy(r)
				res := scan.Assess(r, scan.Options{Trust: tr})
				if account == "" {
					res.Notes = append(res.Notes, "No --account given: the deploying account is shown as OWNER; every account id written in the code counts as foreign.")
				}
				codeRemediation(&res)
				d.Resources = append(d.Resources, res)
			}
			d.Scan = &report.ScanInfo{
				StartedAt: started.Format(time.RFC3339), FinishedAt: time.Now().UTC().Format(time.RFC3339),
				Accounts: []string{owner}, Regions: regionsOf(resources), Complete: true,
			}
			d.Summarize()
			d.Scan.Complete = d.Summary.Unknown == 0 && d.Summary.Unchecked == 0
			_ = stats
			e.suppress(st, d)
			if err := e.write(targets, d, st.writer); err != nil {
				return err
			}
			return verdict(d, failOn)
		},
	}
	out.register(cmd)
	trust.register(cmd)
	files.register(cmd)
	cmd.Flags().StringVar(&account, "account", "", "the account id the code deploys to (default: none, every account in the code is foreign)")
	return cmd
}

// loadIaC reads every PATH. A path that does not exist, or inputs that are
// all broken, are usage errors (exit 2, the first problem with its file
// and line); a broken file among good ones stays in the estate, unknown.
func loadIaC(args []string, account string) (*estate.Estate, iac.Stats, error) {
	all := &estate.Estate{}
	var total iac.Stats
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, total, usagef("%s: no such file or folder", arg)
			}
			return nil, total, usagef("cannot read %s: %s", arg, unwrapPathError(err))
		}
		dir, root, prefix := arg, ".", filepath.ToSlash(filepath.Clean(arg))
		if !info.IsDir() {
			dir, root = filepath.Dir(arg), filepath.Base(arg)
			prefix = filepath.ToSlash(filepath.Clean(filepath.Dir(arg)))
		}
		prefix = repoRelative(prefix)
		if prefix == "." {
			prefix = ""
		}
		est, stats, err := iac.Load(os.DirFS(dir), root, prefix, iac.Options{Owner: account})
		if err != nil {
			return nil, total, usagef("%s", err)
		}
		all.Add(est)
		total.TerraformModules += stats.TerraformModules
		total.Plans += stats.Plans
		total.Templates += stats.Templates
		total.Broken += stats.Broken
	}
	if total.Inputs() == 0 {
		return nil, total, usagef("found no Terraform (*.tf, *.tf.json), terraform show -json plan or CloudFormation/SAM template under %s", strings.Join(args, ", "))
	}
	// A part of a readable file that cannot be followed (a nested stack
	// or module that is not in the tree) is judged unknown, not an
	// input error.
	var unreadable []estate.Broken
	for _, b := range all.Broken {
		if b.Address == "" {
			unreadable = append(unreadable, b)
		}
	}
	if len(unreadable) > 0 && len(unreadable) == len(all.Broken) && declarations(all) == 0 {
		b := unreadable[0]
		msg := b.Where() + ": " + b.Reason
		if len(unreadable) > 1 {
			msg += fmt.Sprintf(" (and %d more unreadable files)", len(unreadable)-1)
		}
		return nil, total, usagef("%s; fix the file, or pass it with others to list it as unknown", msg)
	}
	return all, total, nil
}

func declarations(e *estate.Estate) int {
	return len(e.Functions) + len(e.Aliases) + len(e.Versions) + len(e.URLs) + len(e.Permissions) +
		len(e.ResourcePolicies) + len(e.Layers) + len(e.LayerPermissions)
}

// checkPolicy parses a resource's assembled policy with the engine's
// strict reader first, so a policy it refuses makes the resource unknown
// pointing at the code that wrote it, not only at the function.
func checkPolicy(r *inventory.Resource) {
	if r.Policy == nil || r.UnknownReason() != "" {
		return
	}
	if _, err := policy.Parse([]byte(r.Policy.Document)); err != nil {
		src := r.Policy.Source
		where := src.File
		if src.Line > 0 {
			where += fmt.Sprintf(":%d", src.Line)
		}
		if src.Address != "" {
			where += " (" + src.Address + ")"
		}
		r.PolicyUnknown = where + ": the policy does not parse: " + err.Error()
		r.Source = src
	}
}

// codeRemediation rewrites a finding's fix for code: the change goes in
// the file and line that declare the statement, not in a live account
// (a CLI command would be undone by the next deploy).
func codeRemediation(r *report.Resource) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Source == nil {
			continue
		}
		where := f.Source.File
		if f.Source.Line > 0 {
			where += fmt.Sprintf(":%d", f.Source.Line)
		}
		if f.Source.Address != "" {
			where = f.Source.Address + " at " + where
		}
		f.Remediation.Text = "Change " + where + " in the code: " + f.Remediation.Text
		f.Remediation.Commands = nil
	}
}

func regionsOf(rs []*inventory.Resource) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if r.Region != "" && !seen[r.Region] {
			seen[r.Region] = true
			out = append(out, r.Region)
		}
	}
	return out
}

// repoRelative writes a path relative to the working directory when it is
// under it, so reports (SARIF above all) name files as the repository
// does; a path outside stays as given.
func repoRelative(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return filepath.ToSlash(rel)
}
