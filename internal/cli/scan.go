package cli

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
	"github.com/lambdawarden/lambdawarden/internal/suppress"
)

// scanFlags are the flags of scan (and later fix) that say what to read.
type scanFlags struct {
	profile     string
	regions     []string
	allRegions  bool
	endpointURL string
	org         bool
	roleName    string
	accounts    []string
	externalID  string
	sessionName string
	thorough    bool
	demo        bool
	quiet       bool
	getPolicy   bool
	noRoles     bool
	pace        string
}

func (f *scanFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile (default: the standard credential chain)")
	fl.StringSliceVar(&f.regions, "regions", nil, "Regions to scan, comma-separated (default: the profile's Region)")
	fl.BoolVar(&f.allRegions, "all-regions", false, "scan every Region enabled for the account")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator)")
	fl.BoolVar(&f.org, "org", false, "scan every active account of the organization (from the management or a delegated-admin account)")
	fl.StringVar(&f.roleName, "role-name", "OrganizationAccountAccessRole", "role to assume in each scanned account")
	fl.StringSliceVar(&f.accounts, "accounts", nil, "account ids to scan by assuming --role-name in each, comma-separated")
	fl.StringVar(&f.externalID, "external-id", "", "external id for the assumed role")
	fl.StringVar(&f.sessionName, "session-name", "lambdawarden", "role session name for the assumed role (shows in the accounts' CloudTrail)")
	fl.BoolVar(&f.thorough, "thorough", false, "read every function URL config, not only those a policy could expose")
	fl.BoolVar(&f.demo, "demo", false, "scan the built-in demo estate on a local emulator (no AWS account needed)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress on the terminal")
	fl.StringVar(&f.pace, "pace", "aws", "client-side pacing: aws (Lambda's quotas per account and Region) or none (only for an emulator without quotas)")
	fl.BoolVar(&f.noRoles, "no-roles", false, "skip execution-role posture (IAM reads of each function's role)")
	fl.BoolVar(&f.getPolicy, "getpolicy-only", false, "read policies only with GetPolicy (by default GetResourcePolicy also carries reads when its quota is free)")
}

func (f *scanFlags) validate() error {
	for _, r := range f.regions {
		if !looksLikeRegion(r) {
			return usagef("--regions: %q is not a Region name (for example us-east-1)", r)
		}
	}
	if f.allRegions && len(f.regions) > 0 {
		return usagef("--regions and --all-regions are exclusive")
	}
	for _, a := range f.accounts {
		if !isAccountID(strings.TrimSpace(a)) {
			return usagef("--accounts: %q is not a 12-digit account id", a)
		}
	}
	if f.pace != "aws" && f.pace != "none" {
		return usagef("--pace %q: want aws or none", f.pace)
	}
	if f.demo && (f.endpointURL != "" || f.profile != "") {
		return usagef("--demo scans the built-in estate; it cannot be combined with --endpoint-url or --profile")
	}
	return nil
}

// collectOptions turns the scan flags into collector options; scan and
// fix share it so they read the same estate the same way.
func (f *scanFlags) collectOptions() awscollect.Options {
	opt := awscollect.Options{
		Profile:       f.profile,
		EndpointURL:   f.endpointURL,
		Regions:       f.regions,
		AllRegions:    f.allRegions,
		Accounts:      f.accounts,
		RoleName:      f.roleName,
		ExternalID:    f.externalID,
		SessionName:   f.sessionName,
		Thorough:      f.thorough,
		GetPolicyOnly: f.getPolicy,
		SkipRoles:     f.noRoles,
	}
	if f.pace == "none" {
		opt.Quotas = map[awscollect.Budget]float64{}
	}
	return opt
}

// joinOrganization lists the organization's active accounts (unless
// --accounts named some) and puts the organization and its accounts
// inside the trust boundary.
func (e *env) joinOrganization(opt *awscollect.Options, tr *rules.Trust) error {
	org, err := awscollect.DiscoverOrganization(e.ctx, *opt)
	if err != nil {
		return err
	}
	if len(opt.Accounts) == 0 {
		opt.Accounts = org.Accounts
	}
	if tr.OrgID == "" {
		tr.OrgID = org.ID
	}
	tr.Trusted = append(tr.Trusted, org.Accounts...)
	return nil
}

func looksLikeRegion(r string) bool {
	parts := strings.Split(strings.TrimSpace(r), "-")
	if len(parts) < 3 {
		return false
	}
	last := parts[len(parts)-1]
	return len(last) > 0 && last[0] >= '0' && last[0] <= '9'
}

func (e *env) scanCommand() *cobra.Command {
	var (
		sf    scanFlags
		out   outputFlags
		trust trustFlags
		files settingsFlags
		hist  scanHistoryFlag
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan live accounts (or the built-in demo estate) for Lambda exposure",
		Long: `Reads every function, alias, published version, function URL and layer version
in the Regions asked for, judges each resource policy, and reports who outside
your accounts and organization can reach what. Only List* and Get* APIs are
called. Anything that cannot be read is reported as unknown and makes the
exit code 3; it is never counted as compliant.`,
		Example: `  lambdawarden scan --demo
  lambdawarden scan --profile audit --all-regions -o text -o json=report.json
  lambdawarden scan --org --role-name SecurityAudit --regions us-east-1,eu-west-1`,
		Args: hist.args(exactArgs(0, "no arguments")),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := files.load(cmd, &out, &trust, &sf.regions)
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
			if err := sf.validate(); err != nil {
				return err
			}
			dsn, err := hist.resolve(cmd, st)
			if err != nil {
				return err
			}
			var store history.Store
			if dsn != "" {
				// Opened before the scan, so a wrong DSN costs nothing.
				if store, err = e.openHistory(dsn, false); err != nil {
					return err
				}
				defer store.Close()
			}
			mark := st.marker()
			d, err := e.runScan(sf, tr, targets, mark, store != nil)
			if err != nil {
				return err
			}
			defer d.Close() // removes the spool
			d.FailOn = failOn
			if mark != nil {
				e.warnSuppressions(mark.Outcome())
			}
			if err := e.write(targets, d, st.writer); err != nil {
				return err
			}
			if store != nil {
				if err := e.recordScan(store, d, sf); err != nil {
					return err
				}
			}
			return verdict(d, failOn)
		},
	}
	sf.register(cmd)
	out.register(cmd)
	trust.register(cmd)
	files.register(cmd)
	hist.register(cmd)
	return cmd
}

// runScan collects, judges and returns the document, its resources in a
// spool: the caller closes it. mark, when not nil, applies the
// suppressions to each resource before it is spooled. keepPolicy keeps
// policy texts in the document (the history stores them).
func (e *env) runScan(sf scanFlags, tr rules.Trust, targets []outputTarget, mark *suppress.Marker, keepPolicy bool) (*report.Document, error) {
	opt := sf.collectOptions()
	if sf.demo {
		est, err := demo.Start(emulator.Options{})
		if err != nil {
			return nil, err
		}
		defer est.Server.Close()
		opt.EndpointURL = est.URL
		opt.Credentials = credentials.NewStaticCredentialsProvider("AKIA"+est.ManagementAccount, "demo-secret", "")
		opt.Regions = est.Regions
		opt.Thorough = true
		sf.org = true
	}
	if sf.org {
		if err := e.joinOrganization(&opt, &tr); err != nil {
			return nil, err
		}
	}
	opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, tr) }
	if !sf.quiet && isTerminal(e.stderr) {
		opt.Progress = e.stderr
	}

	for _, t := range targets {
		if t.writer.Name() == "html" {
			keepPolicy = true
		}
	}
	sopt := scan.Options{Trust: tr, OmitPolicyText: !keepPolicy}
	d := &report.Document{SchemaVersion: report.SchemaVersion, Tool: toolInfo()}
	// Judged resources go to a spool on disk as they come, not to memory:
	// a scan of 100,000 functions would otherwise hold them all until the
	// writers are done.
	sp, err := report.NewSpool("")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var spoolErr error
	started := time.Now().UTC()
	sum, err := awscollect.Collect(ctx, opt, func(r *inventory.Resource) {
		if spoolErr != nil {
			return
		}
		res := scan.Assess(r, sopt)
		if mark != nil {
			mark.Mark(&res)
		}
		if spoolErr = sp.Add(&res); spoolErr != nil {
			cancel() // the report cannot be written: stop reading
		}
	})
	if spoolErr != nil {
		err = spoolErr // the cause, rather than the cancellation it led to
	}
	if err == nil {
		// In ARN order, as the report lists resources.
		err = d.UseSpool(sp)
	}
	if err != nil {
		sp.Close()
		if errors.Is(err, awscollect.ErrNoCredentials) {
			return nil, usagef("%s", err)
		}
		return nil, err
	}
	d.Scan = &report.ScanInfo{
		StartedAt:  started.Format(time.RFC3339),
		FinishedAt: time.Now().UTC().Format(time.RFC3339),
		Accounts:   sum.Accounts,
		Regions:    sum.Regions,
		APICalls:   int(sum.APICalls),
		Complete:   sum.Complete(),
		Errors:     sum.Errors,
		Caller:     sum.Caller,
	}
	d.Summarize()
	d.Scan.Complete = d.Scan.Complete && d.Summary.Unknown == 0
	return d, nil
}
