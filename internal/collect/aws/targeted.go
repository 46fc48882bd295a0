package awscollect

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// targetAPI is the part of the Lambda client the targeted reader uses:
// single-resource Get* calls only.
type targetAPI interface {
	GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	GetAlias(context.Context, *lambda.GetAliasInput, ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	GetFunctionUrlConfig(context.Context, *lambda.GetFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
	GetLayerVersion(context.Context, *lambda.GetLayerVersionInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionOutput, error)
	GetLayerVersionPolicy(context.Context, *lambda.GetLayerVersionPolicyInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionPolicyOutput, error)
	ListAliases(context.Context, *lambda.ListAliasesInput, ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
	ListVersionsByFunction(context.Context, *lambda.ListVersionsByFunctionInput, ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
	ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
}

// Reader reads one resource at a time — a function, alias, version or
// layer version named by its ARN — with the few calls that resource needs,
// and returns the same inventory a scan builds for it, so the same rules
// judge it. It is what watch and the Config rule use after an event: a
// change to one resource costs a handful of calls, not a scan.
//
// A Reader lives as long as its user (a watch may run for weeks): it keeps
// one pacer per account and Region, so bursts of events stay inside
// Lambda's quotas, and it enters other accounts by assuming
// Options.RoleName, once per account. All methods are safe for concurrent
// use.
type Reader struct {
	opt       Options
	base      aws.Config
	region    string // the profile's (or first --regions) Region; "" if none
	sts       *sts.Client
	caller    string
	callerARN string
	partition string
	stats     *stats

	mu       sync.Mutex
	accounts map[string]*targetAccount
	lanes    map[[2]string]*targetLane
	trails   map[[2]string]*trailLane // LookupEvents, per account and Region
}

// targetAccount is one account the reader can enter (or why not).
type targetAccount struct {
	cfg    aws.Config
	err    error
	failed time.Time
	roles  *roleReader
}

// accountRetry is how long an account that could not be entered is left
// alone before the role is tried again.
const accountRetry = time.Minute

// targetLane is one account and Region: a client and its budgets.
type targetLane struct {
	account, region string
	client          targetAPI
	pacer           *pacer
	r               *Reader
}

func (l *targetLane) bucketFor(op string) *bucket { return l.pacer.bucket(BudgetOf(op)) }

// breakerFor is nil: a scan's breakers stay open for the rest of its run,
// but a reader outlives any outage; each call's retries are bounded.
func (l *targetLane) breakerFor(string) *breaker { return nil }
func (l *targetLane) countCall(op string)        { l.r.stats.count(l.account, l.region, op) }
func (l *targetLane) retryPolicy() RetryPolicy   { return l.r.opt.Retry }
func (l *targetLane) throttled()                 { l.r.stats.throttled.Add(1) }
func (l *targetLane) stopped()                   { l.r.stats.cut.Add(1) }
func (l *targetLane) clock() time.Time           { return l.r.opt.Now() }

// Read is what one targeted read found.
type Read struct {
	// Resource is the resource as a scan would have emitted it; nil when
	// Gone.
	Resource *inventory.Resource
	// Gone is set when the resource no longer exists (the function, alias,
	// version or layer version answered 404): nothing there can be
	// exposed any more.
	Gone bool
	// Calls is the number of API calls this read made (retries included).
	Calls int64
}

// NewReader prepares a reader: it loads the AWS configuration and
// identifies the caller (one sts:GetCallerIdentity), so missing
// credentials are reported before the first event, not at it.
func NewReader(ctx context.Context, opt Options) (*Reader, error) {
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
	region := cfg.Region
	if cfg.Region == "" {
		// Lambda calls name their Region per resource; STS needs one.
		cfg.Region = "us-east-1"
	}
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, opt.EndpointURL) })
	ident, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if isCredentialError(err) {
			return nil, fmt.Errorf("%w (set AWS_PROFILE or pass --profile): %v", ErrNoCredentials, err)
		}
		return nil, fmt.Errorf("cannot identify the caller with sts:GetCallerIdentity: %v", err)
	}
	r := &Reader{opt: opt, base: cfg, region: region, sts: stsClient, caller: aws.ToString(ident.Account), callerARN: aws.ToString(ident.Arn), partition: "aws", stats: newStats(),
		accounts: map[string]*targetAccount{}, lanes: map[[2]string]*targetLane{}}
	if a, err := inventory.ParseARN(aws.ToString(ident.Arn)); err == nil && a.Partition != "" {
		r.partition = a.Partition
	}
	return r, nil
}

// Region is the configured Region (profile, AWS_REGION or the first of
// Options.Regions), or "" when none is.
func (r *Reader) Region() string { return r.region }

// Caller is the account the reader's own credentials belong to.
func (r *Reader) Caller() string { return r.caller }

// CallerARN is the identity the reader's own credentials are
// (sts:GetCallerIdentity's Arn).
func (r *Reader) CallerARN() string { return r.callerARN }

// Calls is the number of API calls made so far, per account, Region and
// operation.
func (r *Reader) Calls() map[LaneOp]int64 {
	r.stats.mu.Lock()
	defer r.stats.mu.Unlock()
	out := make(map[LaneOp]int64, len(r.stats.perLane))
	for k, v := range r.stats.perLane {
		out[k] = v
	}
	return out
}

// TotalCalls is the number of API calls made so far.
func (r *Reader) TotalCalls() int64 { return r.stats.calls.Load() }

// account returns the configuration for an account, assuming the role
// into it the first time (and again a minute after a failure).
func (r *Reader) account(ctx context.Context, id string) *targetAccount {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.accounts[id]
	if a != nil && (a.err == nil || r.opt.Now().Sub(a.failed) < accountRetry) {
		return a
	}
	a = &targetAccount{cfg: r.base}
	if id != r.caller {
		global := &globalCaller{stats: r.stats, retry: r.opt.Retry, now: r.opt.Now}
		a.cfg, a.err = assumeInto(ctx, r.base, r.sts, r.partition, id, &r.opt, global)
		if a.err != nil {
			a.failed = r.opt.Now()
		}
	}
	if a.err == nil && !r.opt.SkipRoles {
		client := iam.NewFromConfig(a.cfg, func(o *iam.Options) {
			setEndpoint(&o.BaseEndpoint, r.opt.EndpointURL)
			o.Region = "us-east-1" // IAM is global
		})
		var bk *bucket
		if len(r.opt.Quotas) > 0 {
			bk = newBucket(IAMRate, r.opt.Now)
		}
		a.roles = newRoleReader(id, client, r.stats, r.opt.Retry, r.opt.Now, bk)
	}
	r.accounts[id] = a
	return a
}

func (r *Reader) lane(a *targetAccount, account, region string) *targetLane {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := [2]string{account, region}
	if l := r.lanes[key]; l != nil {
		return l
	}
	client := lambda.NewFromConfig(a.cfg, func(o *lambda.Options) {
		o.Region = region
		setEndpoint(&o.BaseEndpoint, r.opt.EndpointURL)
	})
	l := &targetLane{account: account, region: region, client: client, pacer: newPacer(r.opt.Quotas, r.opt.Now), r: r}
	r.lanes[key] = l
	return l
}

// Read reads the resource an ARN names: a function (unqualified), an
// alias, a published version or a layer version. It returns an error only
// for an ARN that names none of these; everything that could not be read
// is in the resource, as unknown, never as "nothing there".
func (r *Reader) Read(ctx context.Context, arn string) (Read, error) {
	la, err := inventory.ParseLambdaARN(arn)
	if err != nil {
		return Read{}, err
	}
	if la.Qualifier == "$LATEST" {
		// $LATEST carries no policy of its own: it is the function.
		la.Qualifier, la.Kind = "", inventory.KindFunction
		arn = la.Unqualified()
	}
	if la.Region == "" || la.Account == "" {
		return Read{}, fmt.Errorf("%q does not name its account and Region", arn)
	}
	before := r.stats.calls.Load()
	res := &inventory.Resource{ARN: arn, Kind: la.Kind, Account: la.Account, Region: la.Region, Name: la.Name, Qualifier: la.Qualifier}
	out := Read{Resource: res}
	a := r.account(ctx, la.Account)
	if a.err != nil {
		res.Unknown = "the account could not be entered with role " + roleName(&r.opt) + ", so the resource was not read: " + a.err.Error()
		return out, nil
	}
	l := r.lane(a, la.Account, la.Region)
	switch la.Kind {
	case inventory.KindLayerVersion:
		out.Gone = l.readLayerVersion(ctx, res)
	default:
		out.Gone = l.readFunction(ctx, res, la)
		if !out.Gone && a.roles != nil && res.Kind == inventory.KindFunction && res.Role != "" {
			res.ExecutionRole = a.roles.get(ctx, res.Role)
		}
	}
	if out.Gone {
		out.Resource = nil
	}
	out.Calls = r.stats.calls.Load() - before
	return out, nil
}

// readFunction reads an unqualified function, an alias or a version. It
// reports whether the resource is gone.
func (l *targetLane) readFunction(ctx context.Context, res *inventory.Resource, la inventory.LambdaARN) bool {
	name := aws.String(res.Name)
	var qualifier *string
	if res.Qualifier != "" {
		qualifier = aws.String(res.Qualifier)
	}
	// Existence and configuration first: GetPolicy's 404 means "no
	// policy" only for a resource known to exist.
	if res.Kind == inventory.KindAlias {
		_, err := call(ctx, l, "GetAlias", func(c context.Context) (*lambda.GetAliasOutput, error) {
			return l.client.GetAlias(c, &lambda.GetAliasInput{FunctionName: name, Name: qualifier})
		})
		switch {
		case isNotFound(err):
			return true
		case err != nil:
			res.Unknown = "the alias could not be read: " + reason("GetAlias", err)
			return false
		}
		res.Source = inventory.Source{API: "GetAlias"}
	} else {
		cfg, err := call(ctx, l, "GetFunctionConfiguration", func(c context.Context) (*lambda.GetFunctionConfigurationOutput, error) {
			return l.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: name, Qualifier: qualifier})
		})
		switch {
		case isNotFound(err):
			return true
		case err == nil:
			res.Runtime, res.Role = string(cfg.Runtime), aws.ToString(cfg.Role)
			if v := cfg.VpcConfig; v != nil && len(v.SubnetIds) > 0 {
				res.VPC = &inventory.VPCConfig{VPCID: aws.ToString(v.VpcId), SubnetIDs: v.SubnetIds, SecurityGroupIDs: v.SecurityGroupIds}
			}
			res.ConfigKnown = true
		}
		// A configuration that could not be read only leaves the
		// configuration rules out; the policy still decides exposure.
		res.Source = inventory.Source{API: "GetFunctionConfiguration"}
	}
	res.Policy, res.PolicyUnknown = l.functionPolicy(ctx, name, qualifier)
	if res.Kind != inventory.KindFunction {
		// The unqualified policy's Allow statements can reach a qualified
		// ARN (the stricter reading, as the scan does).
		res.FunctionPolicy, res.FunctionPolicyUnknown = l.functionPolicy(ctx, name, nil)
	}
	if res.Kind != inventory.KindVersion {
		// Only $LATEST and aliases can carry a URL.
		l.readURL(ctx, res, name, qualifier)
	}
	return false
}

func (l *targetLane) functionPolicy(ctx context.Context, name, qualifier *string) (*inventory.Policy, string) {
	out, err := call(ctx, l, "GetPolicy", func(c context.Context) (*lambda.GetPolicyOutput, error) {
		return l.client.GetPolicy(c, &lambda.GetPolicyInput{FunctionName: name, Qualifier: qualifier})
	})
	switch {
	case err == nil:
		return &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetPolicy"}}, ""
	case isNotFound(err):
		return nil, ""
	}
	return nil, reason("GetPolicy", err)
}

// readURL reads the function URL on $LATEST or an alias; 404 means none.
func (l *targetLane) readURL(ctx context.Context, res *inventory.Resource, name, qualifier *string) {
	out, err := call(ctx, l, "GetFunctionUrlConfig", func(c context.Context) (*lambda.GetFunctionUrlConfigOutput, error) {
		return l.client.GetFunctionUrlConfig(c, &lambda.GetFunctionUrlConfigInput{FunctionName: name, Qualifier: qualifier})
	})
	res.URLChecked = true
	switch {
	case isNotFound(err):
		return
	case err != nil:
		res.URLUnknown = reason("GetFunctionUrlConfig", err)
		return
	}
	res.URL = &inventory.FunctionURL{URL: aws.ToString(out.FunctionUrl), AuthType: string(out.AuthType)}
	if c := out.Cors; c != nil {
		res.URL.CORS = &inventory.CORS{AllowOrigins: c.AllowOrigins, AllowCredentials: aws.ToBool(c.AllowCredentials), AllowMethods: c.AllowMethods}
	}
}

// readLayerVersion reads a layer version's policy; it reports whether the
// version is gone.
func (l *targetLane) readLayerVersion(ctx context.Context, res *inventory.Resource) bool {
	n, err := strconv.ParseInt(res.Qualifier, 10, 64)
	if err != nil || n < 1 {
		res.Unknown = "the layer version " + strconv.Quote(res.Qualifier) + " is not a version number"
		return false
	}
	res.LayerVersion = n
	name := aws.String(res.Name)
	_, err = call(ctx, l, "GetLayerVersion", func(c context.Context) (*lambda.GetLayerVersionOutput, error) {
		return l.client.GetLayerVersion(c, &lambda.GetLayerVersionInput{LayerName: name, VersionNumber: aws.Int64(n)})
	})
	if isNotFound(err) {
		return true
	}
	// Any other failure only leaves existence unconfirmed: the policy
	// read below still decides.
	res.Source = inventory.Source{API: "GetLayerVersion"}
	out, err := call(ctx, l, "GetLayerVersionPolicy", func(c context.Context) (*lambda.GetLayerVersionPolicyOutput, error) {
		return l.client.GetLayerVersionPolicy(c, &lambda.GetLayerVersionPolicyInput{LayerName: name, VersionNumber: aws.Int64(n)})
	})
	switch {
	case err == nil:
		res.Policy = &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetLayerVersionPolicy"}}
	case isNotFound(err):
	default:
		res.PolicyUnknown = reason("GetLayerVersionPolicy", err)
	}
	return false
}

// ReadFunction reads a function whole: the unqualified function, every
// alias and every published version (AWS Config's item for a function
// carries none of their policies). A listing that fails is one unknown
// resource standing for what it would have listed.
func (r *Reader) ReadFunction(ctx context.Context, functionARN string) ([]Read, error) {
	la, err := inventory.ParseLambdaARN(functionARN)
	if err != nil {
		return nil, err
	}
	if la.Kind != inventory.KindFunction && !(la.Kind == inventory.KindVersion && la.Qualifier == "$LATEST") {
		return nil, fmt.Errorf("%q is not an unqualified function ARN", functionARN)
	}
	unq := la.Unqualified()
	first, err := r.Read(ctx, unq)
	if err != nil || first.Gone {
		return []Read{first}, err
	}
	out := []Read{first}
	a := r.account(ctx, la.Account)
	if a.err != nil {
		return out, nil // the function itself already says why
	}
	l := r.lane(a, la.Account, la.Region)
	var qualified []string
	var marker *string
	for {
		page, err := call(ctx, l, "ListAliases", func(c context.Context) (*lambda.ListAliasesOutput, error) {
			return l.client.ListAliases(c, &lambda.ListAliasesInput{FunctionName: aws.String(la.Name), Marker: marker})
		})
		if err != nil {
			out = append(out, Read{Resource: &inventory.Resource{ARN: unq + ":*", Kind: inventory.KindAlias, Account: la.Account, Region: la.Region, Name: la.Name, Qualifier: "*",
				Unknown: "the function's aliases could not be listed, so their policies were not read: " + reason("ListAliases", err)}})
			break
		}
		for _, al := range page.Aliases {
			qualified = append(qualified, unq+":"+aws.ToString(al.Name))
		}
		if page.NextMarker == nil || *page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	marker = nil
	for {
		page, err := call(ctx, l, "ListVersionsByFunction", func(c context.Context) (*lambda.ListVersionsByFunctionOutput, error) {
			return l.client.ListVersionsByFunction(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(la.Name), Marker: marker})
		})
		if err != nil {
			out = append(out, Read{Resource: &inventory.Resource{ARN: unq + ":*", Kind: inventory.KindVersion, Account: la.Account, Region: la.Region, Name: la.Name, Qualifier: "*",
				Unknown: "the function's versions could not be listed, so their policies were not read: " + reason("ListVersionsByFunction", err)}})
			break
		}
		for _, v := range page.Versions {
			if n := aws.ToString(v.Version); n != "" && n != "$LATEST" {
				qualified = append(qualified, unq+":"+n)
			}
		}
		if page.NextMarker == nil || *page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	for _, arn := range qualified {
		got, err := r.Read(ctx, arn)
		if err != nil {
			return out, err
		}
		if !got.Gone {
			out = append(out, got)
		}
	}
	return out, nil
}
