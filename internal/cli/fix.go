package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/remediate/awsexec"
	"github.com/lambdawarden/lambdawarden/internal/remediate/fixdoc"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// fixFlags are fix's own flags; it also takes every scan flag.
type fixFlags struct {
	from          string
	apply         bool
	dryRun        bool
	yes           bool
	backupDir     string
	rules         []string
	severity      string
	resources     []string
	exposures     []string
	narrowOrg     bool
	narrowAccount bool
	remove        bool
	urlAuth       string
	output        docOutput
}

func (f *fixFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "act on the findings of a saved scan report (-o json) instead of scanning; each policy is read again first")
	fl.BoolVar(&f.apply, "apply", false, "carry the plan out (asks for confirmation on a terminal unless --yes)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan only, change nothing (the default)")
	fl.BoolVar(&f.yes, "yes", false, "with --apply: do not ask for confirmation")
	fl.StringVar(&f.backupDir, "backup-dir", "", "where backups are written before each change (default ./lambdawarden-backups/<timestamp>/)")
	fl.StringArrayVar(&f.rules, "rule", nil, "only fix findings of this rule id (repeatable)")
	fl.StringVar(&f.severity, "severity", "", "only fix findings at or above this severity: critical, high, medium, low, info")
	fl.StringArrayVar(&f.resources, "resource", nil, "only fix findings on resources whose ARN matches this pattern (* and ?; repeatable)")
	fl.StringArrayVar(&f.exposures, "exposure", nil, "only fix findings of this exposure: public, cross-account, service-unscoped (repeatable)")
	fl.BoolVar(&f.narrowOrg, "narrow-to-org", false, "narrow grants to everyone with a StringEquals aws:PrincipalOrgID condition instead of removing them")
	fl.BoolVar(&f.narrowAccount, "narrow-to-account", false, "narrow grants to everyone with a StringEquals AWS:SourceAccount (owner) condition instead of removing them (service grants are narrowed that way by default)")
	fl.BoolVar(&f.remove, "remove", false, "remove flagged service grants instead of pinning them to the owner account with AWS:SourceAccount (their triggers stop)")
	fl.StringVar(&f.urlAuth, "url-auth", "", "aws-iam: switch function URLs with AuthType NONE and a public grant to AWS_IAM (breaks unsigned callers); without it they are only reported")
	f.output.register(cmd, false)
}

// options turns the filters into planner options.
func (f *fixFlags) options(tr rules.Trust) (remediate.Options, error) {
	if f.remove && f.narrowAccount {
		return remediate.Options{}, usagef("--remove and --narrow-to-account are exclusive: one removes service grants, the other pins them")
	}
	opt := remediate.Options{Trust: tr, NarrowToOrg: f.narrowOrg, NarrowToAccount: f.narrowAccount, Remove: f.remove}
	for _, id := range f.rules {
		if _, err := rules.ByID(id); err != nil {
			return opt, usagef("--rule: %s", err)
		}
		opt.Filter.Rules = append(opt.Filter.Rules, id)
	}
	if f.severity != "" {
		s, err := finding.ParseSeverity(f.severity)
		if err != nil || s > finding.Critical {
			return opt, usagef("--severity %q: want critical, high, medium, low or info", f.severity)
		}
		opt.Filter.MinSeverity = s
	}
	for _, x := range f.exposures {
		c, err := policy.ParseClass(x)
		if err != nil || !c.Exposed() {
			return opt, usagef("--exposure %q: want public, cross-account or service-unscoped (org and private grants are never changed)", x)
		}
		opt.Filter.Exposures = append(opt.Filter.Exposures, c.String())
	}
	for _, r := range f.resources {
		if !strings.HasPrefix(r, "arn:") && r != "*" {
			return opt, usagef("--resource %q: give an ARN pattern, for example 'arn:aws:lambda:*:111122223333:function:intake*'", r)
		}
		opt.Filter.Resources = append(opt.Filter.Resources, r)
	}
	switch strings.ToLower(strings.ReplaceAll(f.urlAuth, "_", "-")) {
	case "":
	case "aws-iam":
		opt.URLAuthIAM = true
	default:
		return opt, usagef("--url-auth %q: the only choice is aws-iam", f.urlAuth)
	}
	return opt, nil
}

func (e *env) fixCommand() *cobra.Command {
	var (
		sf    scanFlags
		ff    fixFlags
		trust trustFlags
	)
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Plan (and with --apply, make) the changes that close reported exposures",
		Long: `Scans like 'scan' (same flags, --demo included) or reads a saved report (--from,
each policy is read again), then prints a plan: per resource, each statement to
remove or narrow, why, what stops working, the exact AWS CLI equivalent, and
the exposure before and after, computed by the engine on the planned policy.
Nothing changes without --apply.

Only statements the scan flagged as public, cross-account or service-unscoped
are touched; every other statement is kept byte for byte. The least disruptive
change that closes the exposure is chosen: a service grant without a pin is
pinned to the owner account (AWS:SourceAccount added, AWS:SourceArn kept) so
the owner's triggers keep working (--remove removes it instead); public and
other-account grants are removed (--narrow-to-org keeps them for the
organization). A statement that is an organization or private grant for some
resource it reaches is never removed: when its aliases inherit it without the
function's Deny, the Deny's limit is written into it, or its Resource narrowed.
Policies written by AddPermission are changed with RemovePermission (and
AddPermission of the narrowed statement under the same Sid); full JSON policies
are rewritten with PutResourcePolicy; layer statements are removed with
RemoveLayerVersionPermission. Every write carries the RevisionId just read.

With --apply each resource is read again and re-planned, its whole policy (and
URL configuration) is written to a backup file and fsynced before the first
call, and a 412 PreconditionFailed (someone changed the policy) makes it
re-read and re-plan, never retry blindly; the JSON output lists every attempt.
A failure stops that resource (what it had already changed is rolled back) and
the others go on. Resources that could not be assessed are never touched.
'lambdawarden restore DIR' puts the backed-up statements back.

Exit codes: 0 plan printed or everything applied; 1 a reported exposure cannot
be closed (the plan says which and why) or a change failed; 2 usage error; 3
the scan was incomplete (unknown resources were left alone).`,
		Example: `  lambdawarden fix --demo
  lambdawarden fix --profile prod --regions us-east-1 --exposure public
  lambdawarden fix --from report.json --apply --backup-dir ./backups
  lambdawarden fix --org --narrow-to-org --url-auth aws-iam --apply --yes`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runFix(sf, ff, trust, cmd.Flags().Changed)
		},
	}
	sf.register(cmd)
	trust.register(cmd)
	ff.register(cmd)
	return cmd
}

// fixConn is how fix reaches AWS: the collector and the executor share
// the endpoint and credentials. For --demo it owns the emulator, kept
// alive for the whole command so the apply changes what was scanned.
type fixConn struct {
	collect awscollect.Options
	exec    awsexec.Config
	org     bool
	close   func()
}

func (e *env) fixConnection(sf scanFlags) (*fixConn, error) {
	c := &fixConn{
		collect: sf.collectOptions(),
		exec:    awsexec.Config{Profile: sf.profile, EndpointURL: sf.endpointURL, RoleName: sf.roleName, ExternalID: sf.externalID},
		org:     sf.org,
		close:   func() {},
	}
	if len(sf.regions) > 0 {
		c.exec.Region = sf.regions[0]
	}
	// fix acts on resource policies and URLs only.
	c.collect.SkipRoles = true
	if sf.demo {
		est, err := demo.Start(emulator.Options{})
		if err != nil {
			return nil, err
		}
		c.close = func() { est.Server.Close() }
		creds := credentials.NewStaticCredentialsProvider("AKIA"+est.ManagementAccount, "demo-secret", "")
		c.collect.EndpointURL, c.collect.Credentials, c.collect.Regions, c.collect.Thorough = est.URL, creds, est.Regions, true
		c.exec.EndpointURL, c.exec.Credentials, c.exec.Region = est.URL, creds, est.Regions[0]
		c.org = true
	}
	return c, nil
}

// fixInput is what the plan is made from.
type fixInput struct {
	resources  []*inventory.Resource
	unknown    []remediate.UnknownResource
	scanErrors []string
	only       func(remediate.Candidate) bool
	exec       *awsexec.Executor
}

func (e *env) runFix(sf scanFlags, ff fixFlags, trust trustFlags, changed func(string) bool) error {
	tr, err := trust.parse()
	if err != nil {
		return err
	}
	if err := sf.validate(e, changed); err != nil {
		return err
	}
	opt, err := ff.options(tr)
	if err != nil {
		return err
	}
	if err := ff.output.parse(e); err != nil {
		return err
	}
	format := ff.output.format
	if ff.apply && ff.dryRun {
		return usagef("--apply and --dry-run are exclusive (--dry-run is the default)")
	}
	if ff.apply && !ff.yes && !stdinIsTerminal(e.stdin) {
		return usagef("--apply asks for confirmation, but standard input is not a terminal (a pipe, /dev/null, cron); pass --yes to apply without asking")
	}
	var saved *report.Document
	if ff.from != "" {
		if saved, err = readReport(ff.from); err != nil {
			return err
		}
	}

	conn, err := e.fixConnection(sf)
	if err != nil {
		return err
	}
	defer conn.close()
	if conn.org {
		if err := e.joinOrganization(&conn.collect, &tr); err != nil {
			return err
		}
		opt.Trust = tr
	}
	if ff.narrowOrg && tr.OrgID == "" {
		return usagef("--narrow-to-org needs your organization id: pass --org-id o-... (or --org to read it from AWS Organizations)")
	}

	var in *fixInput
	if saved != nil {
		in, err = e.fixFromReport(conn, saved, opt.Filter)
	} else {
		in, err = e.fixFromScan(conn, tr, sf.quiet)
	}
	if err != nil {
		return err
	}
	opt.Only = in.only
	plan := remediate.MakePlan(in.resources, opt)
	plan.Unknown = mergeUnknown(plan.Unknown, in.unknown)
	incomplete := len(plan.Unknown) > 0 || len(in.scanErrors) > 0

	mode := fixdoc.ModeDryRun
	if ff.apply {
		mode = fixdoc.ModeApply
	}
	doc := fixdoc.New(plan, toolInfo(), in.scanErrors, mode)
	if !ff.apply || doc.Summary.Calls == 0 {
		if err := e.writeFix(format, doc, ""); err != nil {
			return err
		}
		return fixExit(doc, 0, incomplete)
	}

	dir := ff.backupDir
	if dir == "" {
		dir = filepath.Join("lambdawarden-backups", time.Now().UTC().Format("20060102T150405Z"))
	}
	if format == "text" {
		if err := e.writeFix(format, doc, dir); err != nil {
			return err
		}
	}
	if !ff.yes {
		ok, err := confirm(e.stdin, e.stderr, fmt.Sprintf("Apply %d call(s) to %d resource(s)? Backups go to %s. Type yes to continue: ", doc.Summary.Calls, doc.Summary.Resources, dir))
		if err != nil {
			return err
		}
		if !ok {
			// Declining is not a failure: the plan was printed and
			// nothing changed.
			fmt.Fprintln(e.stderr, "lambdawarden: not applied; nothing was changed")
			return fixExit(doc, 0, incomplete)
		}
	}
	if in.exec == nil {
		if in.exec, err = awsexec.New(e.ctx, withCollectorCredentials(conn)); err != nil {
			return err
		}
	}
	store := &remediate.DirStore{Dir: dir}
	progress := func(r *remediate.Result) {}
	if format == "text" {
		progress = func(r *remediate.Result) { fixdoc.WriteResult(e.stdout, r) }
		fmt.Fprintf(e.stdout, "\nApplying; backups in %s\n", dir)
	}
	sum := remediate.Apply(e.ctx, in.exec, plan, remediate.ApplyOptions{Store: store, Tool: "lambdawarden " + version(), Progress: progress})
	doc.Attach(sum)
	if e.ctx.Err() != nil {
		if sf.demo {
			return interrupted("fix was stopped while applying: %d applied, %d failed, the rest not started (the demo estate lived only for this run)", sum.Applied, sum.Failed)
		}
		return interrupted("fix was stopped while applying: %d applied, %d failed, the rest not started; what changed is backed up (lambdawarden restore %s)", sum.Applied, sum.Failed, dir)
	}
	if format == "text" {
		// A --demo estate lives only as long as this command: restore
		// would run against whatever AWS the environment points at.
		fixdoc.WriteApplied(e.stdout, doc, sum, dir, !sf.demo)
	} else if err := fixdoc.WriteJSON(e.stdout, doc); err != nil {
		return err
	}
	return fixExit(doc, sum.Failed, incomplete)
}

// fixExit maps a fix run to its exit code: 1 when a change failed or a
// reported exposure cannot be closed, else 3 when the scan was
// incomplete.
func fixExit(d *fixdoc.Document, failed int, incomplete bool) error {
	switch {
	case failed > 0 || d.Summary.Unresolved > 0:
		return exitCode(exitFindings)
	case incomplete:
		return exitCode(exitIncomplete)
	}
	return nil
}

func withCollectorCredentials(c *fixConn) awsexec.Config {
	cfg := c.exec
	cfg.Credentials = c.collect.Credentials
	if cfg.Region == "" && len(c.collect.Regions) > 0 {
		cfg.Region = c.collect.Regions[0]
	}
	return cfg
}

// fixFromScan collects the estate like scan does, keeping the resources
// (policy text and RevisionId) the planner needs.
func (e *env) fixFromScan(c *fixConn, tr rules.Trust, quiet bool) (*fixInput, error) {
	opt := c.collect
	opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, tr) }
	prog := e.startProgress(quiet)
	opt.LaneDone = prog.laneDone
	var resources []*inventory.Resource
	sum, err := awscollect.Collect(e.ctx, opt, func(r *inventory.Resource) {
		prog.resource(r.Account, r.Region)
		resources = append(resources, r)
	})
	prog.finish()
	if e.ctx.Err() != nil {
		return nil, interrupted("the scan was stopped before it read everything; nothing was planned or changed")
	}
	if err != nil {
		if errors.Is(err, awscollect.ErrNoCredentials) {
			return nil, usagef("%s", err)
		}
		return nil, err
	}
	sort.Slice(resources, func(i, j int) bool { return resources[i].ARN < resources[j].ARN })
	return &fixInput{resources: resources, scanErrors: sum.Errors}, nil
}

func readReport(path string) (*report.Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--from: cannot read %s: %s", path, unwrapPathError(err))
	}
	if what := fixdoc.NotAReport(data); what != "" {
		return nil, usagef("--from %s: this is %s, not a scan report; write one with 'lambdawarden scan -o json=report.json'", path, what)
	}
	var d report.Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, usagef("--from %s: not a lambdawarden JSON report (scan -o json): %s", path, err)
	}
	if d.SchemaVersion != report.SchemaVersion {
		return nil, usagef("--from %s: schema_version %q is not %q (write the report with scan -o json)", path, d.SchemaVersion, report.SchemaVersion)
	}
	return &d, nil
}

// fixFromReport reads again every resource the report flagged, and limits
// the plan to the statements the report named.
func (e *env) fixFromReport(c *fixConn, d *report.Document, filter remediate.Filter) (*fixInput, error) {
	in := &fixInput{}
	if d.Scan != nil {
		in.scanErrors = d.Scan.Errors
	}
	flagged := map[string][]finding.Finding{}
	var arns []string
	for _, r := range d.Resources {
		if r.Status == "unknown" {
			in.unknown = append(in.unknown, remediate.UnknownResource{ARN: r.ARN, Reason: "unknown in the report: " + r.UnknownReason})
			continue
		}
		for _, f := range r.Findings {
			if filter.Match(r.ARN, f) {
				flagged[r.ARN] = append(flagged[r.ARN], f)
			}
		}
		if len(flagged[r.ARN]) > 0 {
			arns = append(arns, r.ARN)
		}
	}
	in.only = remediate.OnlyReported(flagged)
	if len(arns) == 0 {
		return in, nil
	}
	exec, err := awsexec.New(e.ctx, withCollectorCredentials(c))
	if err != nil {
		return nil, err
	}
	in.exec = exec
	in.resources = remediate.ReadResources(e.ctx, exec, arns)
	return in, nil
}

func mergeUnknown(a, b []remediate.UnknownResource) []remediate.UnknownResource {
	seen := map[string]bool{}
	var out []remediate.UnknownResource
	for _, u := range append(append([]remediate.UnknownResource(nil), a...), b...) {
		if !seen[u.ARN] {
			seen[u.ARN] = true
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// confirm asks on stderr and reads one line; only "yes" goes ahead.
func confirm(in io.Reader, out io.Writer, prompt string) (bool, error) {
	fmt.Fprint(out, prompt)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	return strings.EqualFold(strings.TrimSpace(line), "yes"), nil
}

func (e *env) writeFix(format string, d *fixdoc.Document, backupDir string) error {
	if format == "json" {
		return fixdoc.WriteJSON(e.stdout, d)
	}
	fixdoc.WritePlan(e.stdout, d, backupDir)
	return nil
}

// writeJSON writes v as indented JSON without HTML escaping.
func writeJSON(w io.Writer, v any) error { return fixdoc.WriteJSON(w, v) }
