// Package awscollect reads Lambda resources from AWS accounts: every
// function, alias, published version, function URL and layer version in
// every Region asked for, with their resource policies. It is the only
// package that imports the AWS SDK. It only calls List* and Get* APIs,
// paces itself to Lambda's request quotas per account and Region, and
// turns anything it could not read into an unknown resource with the
// reason, never into "nothing there".
package awscollect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Options say what to collect and how.
type Options struct {
	// Profile selects a shared-config profile; empty uses the default
	// credential chain (environment, SSO, IMDS, ...).
	Profile string
	// EndpointURL sends every call to one endpoint (an emulator, a VPC
	// endpoint). Empty: the SDK's normal resolution, which honours
	// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_LAMBDA.
	EndpointURL string
	// Regions to scan; AllRegions asks the Account API for the enabled
	// ones. With neither, the profile's Region is scanned.
	Regions    []string
	AllRegions bool
	// Accounts to scan by assuming RoleName in each (the caller's own
	// account is scanned with the caller's credentials). Empty: only the
	// caller's account.
	Accounts []string
	// RoleName is the role assumed in each account (default
	// OrganizationAccountAccessRole).
	RoleName    string
	ExternalID  string
	SessionName string
	// Thorough reads every function URL config, not only those a policy
	// could expose.
	Thorough bool
	// NeedsURL reports whether a resource's policies could let someone
	// beyond the owner call lambda:InvokeFunctionUrl; only then is its URL
	// config read. Nil reads every URL config.
	NeedsURL func(*inventory.Resource) bool
	// Quotas are requests per second per budget; nil means AWS's quotas,
	// an empty map means no pacing.
	Quotas map[Budget]float64
	// SkipRoles leaves out execution-role posture (IAM reads).
	SkipRoles bool
	// Paths reads each account's roles, trust policies, permissions
	// policies and boundaries once (iam:GetAccountAuthorizationDetails)
	// for access paths through assumable roles, and attaches them to every
	// function, alias and version. Execution roles then come from the same
	// read instead of per-role calls.
	Paths bool
	// GetPolicyOnly reads every function policy with GetPolicy
	// (--policy-api getpolicy). By default reads also go through
	// GetResourcePolicy when the shared budget has room, which nearly
	// doubles policy throughput; each lane then confirms the first
	// "no policy" answers of GetResourcePolicy with GetPolicy and, if they
	// ever disagree, reads everything with GetPolicy (Summary.Notes says
	// so).
	GetPolicyOnly bool
	// Retry bounds retries per call and sets the breakers; its zero
	// fields take DefaultRetry's values.
	Retry RetryPolicy
	// Concurrency is the number of calls in flight per budget per lane
	// (default 8).
	Concurrency int
	// MaxLanes bounds how many account-Region lanes run at once.
	MaxLanes int
	// Credentials overrides the credential chain (used by --demo).
	Credentials aws.CredentialsProvider
	// HTTPClient overrides the SDK's HTTP client.
	HTTPClient *http.Client
	// Progress, when set, receives a line per lane now and then.
	Progress io.Writer
	// LaneDone, when set, is called as each account-Region lane ends,
	// with how many lanes have ended and how many there are (progress).
	LaneDone func(account, region string, ended, lanes int)
	// Now is the clock (tests).
	Now func() time.Time
}

// Summary is what a collection did.
type Summary struct {
	// Caller is the identity that ran the scan (sts:GetCallerIdentity).
	Caller    string
	Accounts  []string
	Regions   []string
	APICalls  int64
	Throttled int64 // 429s met
	// Errors lists what could not be read beyond single resources; any
	// entry makes the scan incomplete.
	Errors []string
	// NotListed are the listings that did not finish: resources there
	// were never seen, so they are neither judged nor unknown.
	NotListed []NotListed
	// Notes say how the collection adapted without losing anything (a
	// lane that switched to GetPolicy).
	Notes []string
	// Calls counts attempts per operation per lane (retries included).
	Calls map[LaneOp]int64
}

// Complete reports whether everything asked for was read.
func (s *Summary) Complete() bool { return len(s.Errors) == 0 && len(s.NotListed) == 0 }

// NotListed is a listing of one account and Region that did not finish.
type NotListed struct {
	Account, Region string
	// What was not (fully) listed: "functions" or "layers".
	What   string
	Reason string
}

// ErrNoCredentials is returned when no AWS credentials could be found.
var ErrNoCredentials = errors.New("no AWS credentials found")

// Collect reads the estate and calls emit for every resource, from
// several goroutines but never two at once. It returns an error only when
// nothing could be scanned at all (no credentials, no Region); partial
// failures are in Summary.Errors and in unknown resources.
func Collect(ctx context.Context, opt Options, emit func(*inventory.Resource)) (*Summary, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Quotas == nil {
		opt.Quotas = AWSQuotas
	}
	opt.Retry = opt.Retry.withDefaults()
	cfg, err := loadConfig(ctx, &opt)
	if err != nil {
		return nil, err
	}
	st := newStats()
	global := &globalCaller{stats: st, retry: opt.Retry, now: opt.Now}
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, opt.EndpointURL) })
	ident, err := call(ctx, global, "sts:GetCallerIdentity", func(c context.Context) (*sts.GetCallerIdentityOutput, error) {
		return stsClient.GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		if isCredentialError(err) {
			return nil, fmt.Errorf("%w (set AWS_PROFILE or pass --profile, or try the built-in estate with --demo): %v", ErrNoCredentials, err)
		}
		return nil, fmt.Errorf("cannot identify the caller with sts:GetCallerIdentity: %s", reason("sts:GetCallerIdentity", err))
	}
	acct := aws.ToString(ident.Account)
	partition := "aws"
	if a, err := inventory.ParseARN(aws.ToString(ident.Arn)); err == nil && a.Partition != "" {
		partition = a.Partition
	}

	regions, err := resolveRegions(ctx, cfg, &opt, global)
	if err != nil {
		return nil, err
	}

	var emitMu sync.Mutex
	safeEmit := func(r *inventory.Resource) {
		emitMu.Lock()
		defer emitMu.Unlock()
		emit(r)
	}
	accounts := dedupe(opt.Accounts)
	if len(accounts) == 0 {
		accounts = []string{acct}
	}
	var lanes []*lane
	var readers []*roleReader
	var auths []*authReader
	var setupErrors []string
	var notListed []NotListed
	for _, target := range accounts {
		tcfg := cfg
		if target != acct {
			var err error
			tcfg, err = assumeInto(ctx, cfg, stsClient, partition, target, &opt, global)
			if err != nil {
				msg := "account " + target + ": cannot assume role " + roleName(&opt) + ": " + err.Error()
				setupErrors = append(setupErrors, msg)
				for _, region := range regions {
					notListed = append(notListed, NotListed{Account: target, Region: region, What: "functions and layers", Reason: "the account could not be entered: " + err.Error()})
				}
				safeEmit(&inventory.Resource{ARN: "arn:" + partition + ":lambda:*:" + target + ":function:*", Kind: inventory.KindFunction, Account: target, Name: "*",
					Unknown: "the account could not be entered, so none of its resources were read: " + err.Error()})
				continue
			}
		}
		var roles *roleReader
		var auth *authReader
		if !opt.SkipRoles || opt.Paths {
			client := iam.NewFromConfig(tcfg, func(o *iam.Options) {
				setEndpoint(&o.BaseEndpoint, opt.EndpointURL)
				o.Region = "us-east-1" // IAM is global
			})
			// One budget for every IAM read of the account.
			var bk *bucket
			if len(opt.Quotas) > 0 {
				bk = newBucket(IAMRate, opt.Now)
			}
			if !opt.SkipRoles {
				roles = newRoleReader(target, client, st, opt.Retry, opt.Now, bk)
				readers = append(readers, roles)
			}
			if opt.Paths {
				auth = newAuthReader(target, client, bk, st, opt.Retry, opt.Now)
				auth.start(ctx)
				auths = append(auths, auth)
			}
		}
		for _, region := range regions {
			client := lambda.NewFromConfig(tcfg, func(o *lambda.Options) {
				o.Region = region
				setEndpoint(&o.BaseEndpoint, opt.EndpointURL)
			})
			where := target + " " + region
			lanes = append(lanes, &lane{
				account: target, region: region, partition: partition, roles: roles, auth: auth,
				client: client, pacer: newPacer(opt.Quotas, opt.Now), stats: st, retry: opt.Retry, opt: &opt, emit: safeEmit,
				breakers: map[Budget]*breaker{
					BudgetGetPolicy: newBreaker("the GetPolicy budget of "+where, opt.Retry.BreakAfter, opt.Now),
					BudgetShared:    newBreaker("the shared request budget (every List call, GetResourcePolicy) of "+where, opt.Retry.BreakAfter, opt.Now),
				},
			})
		}
	}
	runLanes(ctx, lanes, opt.MaxLanes, opt.Progress)

	sum := &Summary{Caller: aws.ToString(ident.Arn), Accounts: accounts, Regions: regions, Errors: setupErrors, NotListed: notListed, APICalls: st.calls.Load(), Throttled: st.throttled.Load(),
		Calls: st.perLane}
	for _, l := range lanes {
		sum.Errors = append(sum.Errors, l.errors...)
		sum.NotListed = append(sum.NotListed, l.notListed...)
		sum.Notes = append(sum.Notes, l.notes...)
	}
	for _, r := range readers {
		sum.Errors = append(sum.Errors, r.errors()...)
	}
	for _, a := range auths {
		sum.Errors = append(sum.Errors, a.errors()...)
	}
	// The run ended early only if that cost a read: a signal that comes
	// after the last answer changes nothing.
	if n := st.cut.Load(); n > 0 {
		sum.Errors = append(sum.Errors, fmt.Sprintf("%s before everything was read: %d call(s) were not made; what they would have read is unknown or not listed", StopCause(ctx), n))
	}
	sort.Strings(sum.Errors)
	sort.Strings(sum.Notes)
	sort.Slice(sum.NotListed, func(i, j int) bool {
		a, b := sum.NotListed[i], sum.NotListed[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.What < b.What
	})
	return sum, nil
}

func roleName(opt *Options) string {
	if opt.RoleName != "" {
		return opt.RoleName
	}
	return "OrganizationAccountAccessRole"
}

// assumeInto returns a configuration whose credentials come from assuming
// the scan role in another account, checked with GetCallerIdentity so an
// account that cannot be entered is reported once, up front.
func assumeInto(ctx context.Context, base aws.Config, stsClient *sts.Client, partition, account string, opt *Options, global *globalCaller) (aws.Config, error) {
	roleARN := "arn:" + partition + ":iam::" + account + ":role/" + roleName(opt)
	session := opt.SessionName
	if session == "" {
		session = "lambdawarden"
	}
	provider := stscreds.NewAssumeRoleProvider(stsClient, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = session
		if opt.ExternalID != "" {
			o.ExternalID = aws.String(opt.ExternalID)
		}
	})
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	check := sts.NewFromConfig(cfg, func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, opt.EndpointURL) })
	ident, err := call(ctx, global, "sts:GetCallerIdentity", func(c context.Context) (*sts.GetCallerIdentityOutput, error) {
		return check.GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		var g *gaveUp
		if errors.As(err, &g) {
			return cfg, g
		}
		return cfg, errors.New(shortError(err))
	}
	if got := aws.ToString(ident.Account); got != account {
		return cfg, fmt.Errorf("assumed role reports account %s, not %s", got, account)
	}
	return cfg, nil
}

// shortError keeps the AWS error code and message of an SDK error.
func shortError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// Organization is what AWS Organizations says about the caller's
// organization.
type Organization struct {
	ID string
	// ManagementAccount is the organization's management account: SCPs do
	// not restrict it.
	ManagementAccount string
	Accounts          []string // active member accounts
	Skipped           []string // suspended or otherwise inactive accounts
}

// DiscoverOrganization lists the organization's active accounts; it must
// run in the management account or a delegated administrator.
func DiscoverOrganization(ctx context.Context, opt Options) (*Organization, error) {
	cfg, err := loadConfig(ctx, &opt)
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	global := &globalCaller{stats: newStats(), retry: opt.Retry.withDefaults(), now: opt.Now}
	client := organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		setEndpoint(&o.BaseEndpoint, opt.EndpointURL)
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	})
	desc, err := call(ctx, global, "DescribeOrganization", func(c context.Context) (*organizations.DescribeOrganizationOutput, error) {
		return client.DescribeOrganization(c, &organizations.DescribeOrganizationInput{})
	})
	if err != nil {
		return nil, fmt.Errorf("--org: cannot describe the organization: %s", reason("DescribeOrganization", err))
	}
	org := &Organization{ID: aws.ToString(desc.Organization.Id), ManagementAccount: aws.ToString(desc.Organization.MasterAccountId)}
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := call(ctx, global, "ListAccounts", func(c context.Context) (*organizations.ListAccountsOutput, error) { return p.NextPage(c) })
		if err != nil {
			return nil, fmt.Errorf("--org: cannot list the organization's accounts (run from the management account or a delegated administrator): %s", reason("ListAccounts", err))
		}
		for _, a := range page.Accounts {
			if a.State == orgtypes.AccountStateActive || (a.State == "" && a.Status == orgtypes.AccountStatusActive) {
				org.Accounts = append(org.Accounts, aws.ToString(a.Id))
			} else {
				org.Skipped = append(org.Skipped, aws.ToString(a.Id))
			}
		}
	}
	return org, nil
}

func runLanes(ctx context.Context, lanes []*lane, max int, progress io.Writer) {
	if max <= 0 {
		max = 16
	}
	sem := make(chan struct{}, max)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ended atomic.Int64
	if progress != nil {
		go reportProgress(progress, lanes, stop)
	}
	for _, l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			l.run(ctx)
			if l.opt.LaneDone != nil {
				l.opt.LaneDone(l.account, l.region, int(ended.Add(1)), len(lanes))
			}
		}()
	}
	wg.Wait()
	close(stop)
	if progress != nil {
		printProgress(progress, lanes, true)
	}
}

func reportProgress(w io.Writer, lanes []*lane, stop chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			printProgress(w, lanes, false)
		}
	}
}

func printProgress(w io.Writer, lanes []*lane, final bool) {
	var parts []string
	var done, found int64
	for _, l := range lanes {
		d, f := l.done.Load(), l.found.Load()
		done += d
		found += f
		if len(lanes) <= 4 {
			parts = append(parts, fmt.Sprintf("%s %d/%d", l.region, d, f))
		}
	}
	line := fmt.Sprintf("scanning: %d/%d resources", done, found)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(w, "\r\x1b[K%s%s", line, end)
}

func setEndpoint(dst **string, url string) {
	if url != "" {
		*dst = aws.String(url)
	}
}

func loadConfig(ctx context.Context, opt *Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if opt.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opt.Profile))
	}
	// The pacer and call() retry with Lambda's Retry-After; the SDK's own
	// retryer would not, so it is off.
	fns = append(fns, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	// The SDK's own warnings (IMDS fallbacks) would interleave with the
	// report; failures reach the user through errors instead.
	fns = append(fns, config.WithLogger(logging.Nop{}))
	if opt.Credentials != nil {
		fns = append(fns, config.WithCredentialsProvider(opt.Credentials))
	}
	if opt.HTTPClient != nil {
		fns = append(fns, config.WithHTTPClient(opt.HTTPClient))
	}
	if len(opt.Regions) > 0 {
		fns = append(fns, config.WithRegion(opt.Regions[0]))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %v", err)
	}
	return cfg, nil
}

func resolveRegions(ctx context.Context, cfg aws.Config, opt *Options, global *globalCaller) ([]string, error) {
	if len(opt.Regions) > 0 {
		return dedupe(opt.Regions), nil
	}
	if opt.AllRegions {
		client := account.NewFromConfig(cfg, func(o *account.Options) {
			setEndpoint(&o.BaseEndpoint, opt.EndpointURL)
			if o.Region == "" {
				o.Region = "us-east-1"
			}
		})
		var regions []string
		p := account.NewListRegionsPaginator(client, &account.ListRegionsInput{
			RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault},
		})
		for p.HasMorePages() {
			page, err := call(ctx, global, "ListRegions", func(c context.Context) (*account.ListRegionsOutput, error) { return p.NextPage(c) })
			if err != nil {
				return nil, fmt.Errorf("--all-regions: cannot list the account's enabled Regions (account:ListRegions): %s; pass --regions instead", reason("ListRegions", err))
			}
			for _, r := range page.Regions {
				regions = append(regions, aws.ToString(r.RegionName))
			}
		}
		if len(regions) == 0 {
			return nil, fmt.Errorf("--all-regions: the account reports no enabled Regions")
		}
		sort.Strings(regions)
		return regions, nil
	}
	if cfg.Region != "" {
		return []string{cfg.Region}, nil
	}
	return nil, fmt.Errorf("no Region to scan: pass --regions us-east-1,eu-west-1 or --all-regions, or set AWS_REGION")
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func isCredentialError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "static credentials are empty") ||
		strings.Contains(msg, "AnonymousCredentials")
}
