package cli

import (
	"context"
	"errors"
	"fmt"
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
	region      string
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
	policyAPI   string
	noRoles     bool
	pace        string
	// timeout bounds the whole scan (scan only; zero: none).
	timeout time.Duration
	// paths are the access-path flags (registered by scan and paths).
	paths pathFlags
	// rules, when set, limits the rules run (paths runs only its own).
	rules []*rules.Rule
}

func (f *scanFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile (default: the standard credential chain)")
	fl.StringVar(&f.region, "region", "", "the Region to scan (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's Region)")
	fl.StringSliceVar(&f.regions, "regions", nil, "Regions to scan, comma-separated (default: as --region)")
	fl.BoolVar(&f.allRegions, "all-regions", false, "scan every Region enabled for the account")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator)")
	fl.BoolVar(&f.org, "org", false, "scan every active account of the organization (from the management or a delegated-admin account)")
	fl.StringVar(&f.roleName, "role-name", "OrganizationAccountAccessRole", "role to assume in each scanned account")
	fl.StringSliceVar(&f.accounts, "accounts", nil, "account ids to scan by assuming --role-name in each, comma-separated")
	fl.StringVar(&f.externalID, "external-id", "", "external id for the assumed role")
	fl.StringVar(&f.sessionName, "session-name", "lambdawarden", "role session name for the assumed role (shows in the accounts' CloudTrail)")
	fl.BoolVar(&f.thorough, "thorough", false, "read every function URL config, not only those a policy could expose")
	fl.BoolVar(&f.demo, "demo", false, "scan the built-in demo estate on a local emulator (no AWS account needed)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fl.StringVar(&f.pace, "pace", "aws", "client-side pacing: aws (Lambda's quotas per account and Region) or none (only for an emulator without quotas)")
	fl.BoolVar(&f.noRoles, "no-roles", false, "skip execution-role posture (IAM reads of each function's role)")
	fl.StringVar(&f.policyAPI, "policy-api", "balanced", "how policies are read: balanced (GetPolicy and GetResourcePolicy, each on its own quota; the first \"no policy\" answers are confirmed with GetPolicy) or getpolicy (GetPolicy only)")
	fl.BoolVar(&f.getPolicy, "getpolicy-only", false, "the same as --policy-api getpolicy")
	_ = fl.MarkHidden("getpolicy-only")
}

// registerTimeout adds --timeout (scan only: fix must not stop between
// reading a policy and changing it).
func (f *scanFlags) registerTimeout(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "stop reading after this long (e.g. 10m) and write the report: whatever was not read is unknown, and the exit code says incomplete (default: no limit)")
}

// validate checks the flags and what they name (profile, endpoint)
// before any work; changed tells which flags the user gave.
func (f *scanFlags) validate(e *env, changed func(string) bool) error {
	if f.region != "" && !looksLikeRegion(f.region) {
		return usagef("--region: %q is not a Region name (for example us-east-1)", f.region)
	}
	for _, r := range f.regions {
		if !looksLikeRegion(r) {
			return usagef("--regions: %q is not a Region name (for example us-east-1)", r)
		}
	}
	if f.demo {
		for _, fl := range []string{"region", "regions", "all-regions", "profile", "endpoint-url"} {
			if changed(fl) {
				return usagef("--demo scans the built-in estate in its own Regions and accounts; it cannot be combined with --%s (drop one of them)", fl)
			}
		}
	}
	switch {
	case f.region != "" && changed("regions"):
		return usagef("--region and --regions are exclusive: give one Region with --region, or several with --regions a,b")
	case f.region != "" && f.allRegions:
		return usagef("--region and --all-regions are exclusive")
	case f.allRegions && changed("regions"):
		return usagef("--regions and --all-regions are exclusive")
	}
	if f.region != "" {
		f.regions = []string{f.region}
	}
	if f.allRegions {
		f.regions = nil // the config file's regions do not narrow --all-regions
	}
	for _, a := range f.accounts {
		if !isAccountID(strings.TrimSpace(a)) {
			return usagef("--accounts: %q is not a 12-digit account id", a)
		}
	}
	if f.pace != "aws" && f.pace != "none" {
		return usagef("--pace %q: want aws or none", f.pace)
	}
	switch f.policyAPI {
	case "balanced", "getpolicy":
	default:
		return usagef("--policy-api %q: want balanced or getpolicy", f.policyAPI)
	}
	if f.timeout < 0 {
		return usagef("--timeout %s: want a positive duration such as 10m", f.timeout)
	}
	if f.demo {
		return nil
	}
	if len(f.regions) == 0 && !f.allRegions {
		if err := e.checkRegionEnv(); err != nil {
			return err
		}
	}
	if err := e.checkProfile(f.profile); err != nil {
		return err
	}
	return e.checkEndpoint(f.endpointURL)
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
		GetPolicyOnly: f.getPolicy || f.policyAPI == "getpolicy",
		SkipRoles:     f.noRoles,
		Paths:         !f.paths.noPaths,
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
	tr.ManagementAccount = org.ManagementAccount
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
		since sinceFlags
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
  lambdawarden scan --org --role-name SecurityAudit --regions us-east-1,eu-west-1
  lambdawarden scan --all-regions --history --since last   # only what CloudTrail says changed`,
		Args: hist.args(exactArgs(0, "no arguments")),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := files.load(e, cmd, &out, &trust, &sf.regions, true)
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
			if err := sf.validate(e, cmd.Flags().Changed); err != nil {
				return err
			}
			if err := e.checkSpool(); err != nil {
				return err
			}
			if tr.SCPs, err = sf.paths.load(); err != nil {
				return err
			}
			dsn, err := hist.resolve(cmd, st)
			if err != nil {
				return err
			}
			if err := since.validate(cmd.Flags().Changed, sf, dsn); err != nil {
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
			var inc *history.Incremental
			var d *report.Document
			if since.set() {
				var run sinceRun
				run, err = e.runSince(since, sf, tr, targets, mark, store)
				d, inc = run.doc, run.inc
			} else {
				d, err = e.runScan(sf, tr, targets, mark, store != nil)
			}
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
			if d.Scan.Interrupted {
				// Not recorded in the history either: a partial scan
				// must not look like a finished one there.
				return interrupted("the scan was stopped before it read everything; the report written is partial (complete: false), what was not read is listed as unknown")
			}
			if store != nil {
				if err := e.recordScan(store, d, sf, inc); err != nil {
					return err
				}
			}
			return verdict(d, failOn)
		},
	}
	sf.register(cmd)
	sf.registerTimeout(cmd)
	sf.paths.register(cmd, true)
	out.register(cmd)
	trust.register(cmd)
	files.register(cmd)
	hist.register(cmd)
	since.register(cmd)
	return cmd
}

// runScan collects, judges and returns the document, its resources in a
// spool: the caller closes it. mark, when not nil, applies the
// suppressions to each resource before it is spooled. keepPolicy keeps
// policy texts in the document (the history stores them).
func (e *env) runScan(sf scanFlags, tr rules.Trust, targets []outputTarget, mark *suppress.Marker, keepPolicy bool) (*report.Document, error) {
	// --timeout bounds the whole run; its cause words every unread
	// resource's reason.
	runCtx, stopRun := e.ctx, func() {}
	if sf.timeout > 0 {
		runCtx, stopRun = context.WithTimeoutCause(e.ctx, sf.timeout, fmt.Errorf("--timeout %s was reached", sf.timeout))
	}
	defer stopRun()
	signalCtx := e.ctx // Ctrl-C or SIGTERM, as opposed to --timeout
	se := *e
	se.ctx = runCtx
	e = &se
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
	prog := e.startProgress(sf.quiet)
	opt.LaneDone = prog.laneDone

	for _, t := range targets {
		if t.writer.Name() == "html" {
			keepPolicy = true
		}
	}
	if opt.Paths {
		// Each account's roles are judged once, for all its resources.
		tr.Paths = rules.NewPathCache()
	}
	sopt := scan.Options{Trust: tr, OmitPolicyText: !keepPolicy, Rules: sf.rules}
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
		prog.resource(r.Account, r.Region)
		res := scan.Assess(r, sopt)
		if mark != nil {
			mark.Mark(&res)
		}
		if spoolErr = sp.Add(&res); spoolErr != nil {
			cancel() // the report cannot be written: stop reading
		}
	})
	prog.finish()
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
		Complete:   sum.Complete() && len(tr.Paths.Problems()) == 0,
		Errors:     append(sum.Errors, tr.Paths.Problems()...),
		Notes:      sum.Notes,
		Caller:     sum.Caller,
	}
	for _, nl := range sum.NotListed {
		d.Summary.NotListed = append(d.Summary.NotListed, report.NotListed{Account: nl.Account, Region: nl.Region, What: nl.What, Reason: nl.Reason})
	}
	d.Summarize()
	d.Scan.Complete = d.Scan.Complete && d.Summary.Unknown == 0 && d.Summary.Unchecked == 0
	if signalCtx.Err() != nil {
		// The partial report is written, marked interrupted and
		// incomplete: what was not read is unknown or not listed.
		d.Scan.Interrupted, d.Scan.Complete = true, false
	}
	if runCtx.Err() != nil && !d.Scan.Complete {
		fmt.Fprintf(e.stderr, "lambdawarden: %s; the report lists what was not read as unknown or not listed\n", awscollect.StopCause(runCtx))
	}
	return d, nil
}
