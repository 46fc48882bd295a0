package awscollect

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// lambdaAPI is the part of the Lambda client a lane uses; only List* and
// Get* calls, so a scan cannot change anything.
type lambdaAPI interface {
	ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	ListAliases(context.Context, *lambda.ListAliasesInput, ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	GetResourcePolicy(context.Context, *lambda.GetResourcePolicyInput, ...func(*lambda.Options)) (*lambda.GetResourcePolicyOutput, error)
	ListFunctionUrlConfigs(context.Context, *lambda.ListFunctionUrlConfigsInput, ...func(*lambda.Options)) (*lambda.ListFunctionUrlConfigsOutput, error)
	ListLayers(context.Context, *lambda.ListLayersInput, ...func(*lambda.Options)) (*lambda.ListLayersOutput, error)
	ListLayerVersions(context.Context, *lambda.ListLayerVersionsInput, ...func(*lambda.Options)) (*lambda.ListLayerVersionsOutput, error)
	GetLayerVersionPolicy(context.Context, *lambda.GetLayerVersionPolicyInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionPolicyOutput, error)
}

// lane collects one account in one Region, on that pair's own request
// budgets.
type lane struct {
	account   string
	region    string
	partition string
	client    lambdaAPI
	pacer     *pacer
	breakers  map[Budget]*breaker
	stats     *stats
	retry     RetryPolicy
	opt       *Options
	emit      func(*inventory.Resource)

	found, done atomic.Int64

	errMu     sync.Mutex
	errors    []string
	notListed []NotListed
	notes     []string
	// GetResourcePolicy's "no policy" answers under confirmation:
	// confirmed agreed with GetPolicy, confirming are being checked;
	// disagreed is set once one did not agree.
	verifyMu   sync.Mutex
	verifyCond *sync.Cond
	confirmed  int
	confirming int
	disagreed  bool

	sched    *scheduler
	roles    *roleReader // nil when role posture is not collected
	inFlight *limiter    // functions listed but not yet emitted

	fnMu      sync.Mutex
	functions map[string]*fnState
}

// fnState gathers one function's resources until they can be judged: an
// alias or version needs the unqualified function's policy, and a URL
// lookup needs every policy that could grant URL invoke.
type fnState struct {
	mu          sync.Mutex
	name        string
	unqualified string
	// config is what the rules need of $LATEST's configuration; the full
	// SDK struct is not kept (a large estate holds many functions at once).
	config        *fnConfig
	policy        *inventory.Policy
	policyUnknown string
	policyDone    bool
	waiting       []*inventory.Resource // versions read before the function policy
	aliases       []*inventory.Resource
	aliasesListed bool
	aliasReads    int
	urlStage      bool
	// versionsPending counts versions listed but not yet emitted; they
	// need the function policy.
	versionsPending int
	// emitted is set once the function and its aliases are out; done once
	// nothing more needs its policy, which is then dropped (a version
	// listed even later re-reads it).
	emitted, done bool
}

// fnConfig is the part of a function configuration lambdawarden keeps.
type fnConfig struct {
	runtime, role string
	vpc           *inventory.VPCConfig
}

func compactConfig(cfg *types.FunctionConfiguration) *fnConfig {
	c := &fnConfig{runtime: string(cfg.Runtime), role: aws.ToString(cfg.Role)}
	if v := cfg.VpcConfig; v != nil && len(v.SubnetIds) > 0 {
		c.vpc = &inventory.VPCConfig{VPCID: aws.ToString(v.VpcId), SubnetIDs: v.SubnetIds, SecurityGroupIDs: v.SecurityGroupIds}
	}
	return c
}

func (l *lane) fail(msg string) {
	l.errMu.Lock()
	l.errors = append(l.errors, l.account+" "+l.region+": "+msg)
	l.errMu.Unlock()
}

// unlisted records a listing that did not finish, as a scan error and as
// a "not listed" entry of the summary.
func (l *lane) unlisted(what, why string) {
	l.fail("listing " + what + " stopped; " + what + " not listed are missing from this report: " + why)
	l.errMu.Lock()
	l.notListed = append(l.notListed, NotListed{Account: l.account, Region: l.region, What: what, Reason: why})
	l.errMu.Unlock()
}

func (l *lane) run(ctx context.Context) {
	l.functions = map[string]*fnState{}
	l.verifyCond = sync.NewCond(&l.verifyMu)
	l.sched = newScheduler(!l.opt.GetPolicyOnly)
	l.inFlight = newLimiter(maxFunctionsInFlight)
	var workers sync.WaitGroup
	n := l.opt.Concurrency
	if n <= 0 {
		// Enough that calls waiting out a 429's Retry-After or a 5xx
		// backoff leave others to keep the budget busy; the pacer, not
		// the worker count, sets the rate.
		n = 8
	}
	// The listing may wait for functions to finish (inFlight), which takes
	// another shared worker: never fewer than two.
	n = max(n, 2)
	l.sched.serve(BudgetGetPolicy, n, &workers)
	l.sched.serve(BudgetShared, n, &workers)

	l.sched.shared(true, func() { l.listFunctions(ctx, nil) })
	l.sched.shared(false, func() { l.listLayers(ctx, nil) })

	l.sched.pending.Wait()
	l.sched.close()
	workers.Wait()
}

// emitWithRole emits a resource; an unqualified function first gets its
// execution role from IAM, off the lane's workers so Lambda budgets keep
// flowing while IAM answers.
func (l *lane) emitWithRole(ctx context.Context, r *inventory.Resource) {
	if l.roles == nil || r.Kind != inventory.KindFunction || r.Role == "" {
		l.emitResource(r)
		return
	}
	l.sched.pending.Add(1)
	go func() {
		defer l.sched.pending.Done()
		r.ExecutionRole = l.roles.get(ctx, r.Role)
		l.emitResource(r)
	}()
}

// maxFunctionsInFlight bounds how many functions a lane holds between
// listing and emitting: enough to keep every budget busy, few enough to
// keep memory flat whatever the account's size.
const maxFunctionsInFlight = 500

// limiter is a counting semaphore that gives up when ctx ends.
type limiter struct{ slots chan struct{} }

func newLimiter(n int) *limiter { return &limiter{slots: make(chan struct{}, n)} }

func (l *limiter) acquire(ctx context.Context) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		// A cancelled scan stops waiting; release() must not block.
		select {
		case l.slots <- struct{}{}:
		default:
		}
	}
}

func (l *limiter) release() {
	select {
	case <-l.slots:
	default:
	}
}

func (l *lane) emitResource(r *inventory.Resource) {
	l.done.Add(1)
	l.emit(r)
}

func (l *lane) functionARN(name string) string {
	return "arn:" + l.partition + ":lambda:" + l.region + ":" + l.account + ":function:" + name
}

// listFunctions reads one page of ListFunctions with FunctionVersion=ALL,
// which lists every published version 50 at a time instead of one
// ListVersionsByFunction call per function.
func (l *lane) listFunctions(ctx context.Context, marker *string) {
	out, err := call(ctx, l, "ListFunctions", func(c context.Context) (*lambda.ListFunctionsOutput, error) {
		return l.client.ListFunctions(c, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, Marker: marker, MaxItems: aws.Int32(50)})
	})
	if err != nil {
		why := reason("ListFunctions", err)
		if marker != nil {
			why = "a later page failed: " + why
		}
		l.unlisted("functions", why)
		return
	}
	if out.NextMarker != nil && *out.NextMarker != "" {
		next := out.NextMarker
		l.sched.shared(true, func() { l.listFunctions(ctx, next) })
	}
	for i := range out.Functions {
		cfg := out.Functions[i]
		name := aws.ToString(cfg.FunctionName)
		st := l.function(ctx, name)
		version := aws.ToString(cfg.Version)
		if version == "" || version == "$LATEST" {
			st.mu.Lock()
			st.config = compactConfig(&cfg)
			st.mu.Unlock()
			continue
		}
		st.mu.Lock()
		st.versionsPending++
		st.mu.Unlock()
		r := l.baseResource(st, compactConfig(&cfg))
		r.ARN = st.unqualified + ":" + version
		r.Kind = inventory.KindVersion
		r.Qualifier = version
		l.found.Add(1)
		l.sched.policyRead(func(via Budget) {
			l.readPolicy(ctx, r, via)
			l.attachToFunction(ctx, st, r)
		})
	}
}

// function returns the state of a function, creating it (and starting its
// policy read and alias listing) the first time the name is seen.
func (l *lane) function(ctx context.Context, name string) *fnState {
	l.fnMu.Lock()
	st, ok := l.functions[name]
	l.fnMu.Unlock()
	if ok {
		return st
	}
	// Hold the listing back while many functions are in flight, so a
	// large account streams through instead of piling up in memory.
	l.inFlight.acquire(ctx)
	l.fnMu.Lock()
	st = &fnState{name: name, unqualified: l.functionARN(name)}
	l.functions[name] = st
	l.fnMu.Unlock()
	l.found.Add(1)
	l.sched.policyRead(func(via Budget) {
		r := &inventory.Resource{ARN: st.unqualified, Name: name}
		l.readPolicy(ctx, r, via)
		st.mu.Lock()
		st.policy, st.policyUnknown, st.policyDone = r.Policy, r.PolicyUnknown, true
		waiting := st.waiting
		st.waiting = nil
		st.mu.Unlock()
		for _, w := range waiting {
			l.withFunctionPolicy(st, w)
			l.emitResource(w)
			l.versionEmitted(st)
		}
		l.maybeURLStage(ctx, st)
	})
	l.sched.shared(true, func() { l.listAliases(ctx, st, nil) })
	return st
}

func (l *lane) baseResource(st *fnState, cfg *fnConfig) *inventory.Resource {
	r := &inventory.Resource{Account: l.account, Region: l.region, Name: st.name, Source: inventory.Source{API: "ListFunctions"}}
	if cfg != nil {
		r.Runtime, r.Role, r.VPC = cfg.runtime, cfg.role, cfg.vpc
		r.ConfigKnown = true
	}
	return r
}

func (l *lane) withFunctionPolicy(st *fnState, r *inventory.Resource) {
	st.mu.Lock()
	r.FunctionPolicy, r.FunctionPolicyUnknown = st.policy, st.policyUnknown
	st.mu.Unlock()
}

// attachToFunction emits a version once the function's policy is known.
// A version listed after its function was finished (and its policy
// dropped) reads the function policy again rather than going without.
func (l *lane) attachToFunction(ctx context.Context, st *fnState, r *inventory.Resource) {
	st.mu.Lock()
	switch {
	case st.done:
		st.mu.Unlock()
		l.sched.policyRead(func(via Budget) {
			fn := &inventory.Resource{ARN: st.unqualified, Name: st.name}
			l.readPolicy(ctx, fn, via)
			r.FunctionPolicy, r.FunctionPolicyUnknown = fn.Policy, fn.PolicyUnknown
			l.emitResource(r)
		})
		return
	case !st.policyDone:
		st.waiting = append(st.waiting, r)
		st.mu.Unlock()
		return
	}
	st.mu.Unlock()
	l.withFunctionPolicy(st, r)
	l.emitResource(r)
	l.versionEmitted(st)
}

// versionEmitted counts a version out and releases the function when
// nothing else needs it.
func (l *lane) versionEmitted(st *fnState) {
	st.mu.Lock()
	st.versionsPending--
	st.mu.Unlock()
	l.maybeRelease(st)
}

// maybeRelease drops a finished function's state once its function,
// aliases and every version listed so far are out.
func (l *lane) maybeRelease(st *fnState) {
	st.mu.Lock()
	if st.done || !st.emitted || st.versionsPending > 0 {
		st.mu.Unlock()
		return
	}
	st.done, st.policy, st.aliases, st.config = true, nil, nil, nil
	st.mu.Unlock()
	l.inFlight.release()
}

func (l *lane) listAliases(ctx context.Context, st *fnState, marker *string) {
	out, err := call(ctx, l, "ListAliases", func(c context.Context) (*lambda.ListAliasesOutput, error) {
		return l.client.ListAliases(c, &lambda.ListAliasesInput{FunctionName: aws.String(st.name), Marker: marker})
	})
	if err != nil {
		why := reason("ListAliases", err)
		l.fail("aliases of " + st.name + " could not be listed: " + why)
		l.found.Add(1)
		l.emitResource(&inventory.Resource{ARN: st.unqualified + ":*", Kind: inventory.KindAlias, Account: l.account, Region: l.region, Name: st.name, Qualifier: "*",
			Unknown: "the function's aliases could not be listed, so their policies were not read: " + why})
		st.mu.Lock()
		st.aliasesListed = true
		st.mu.Unlock()
		l.maybeURLStage(ctx, st)
		return
	}
	for _, a := range out.Aliases {
		r := &inventory.Resource{ARN: aws.ToString(a.AliasArn), Kind: inventory.KindAlias, Account: l.account, Region: l.region, Name: st.name, Qualifier: aws.ToString(a.Name), Source: inventory.Source{API: "ListAliases"}}
		if r.ARN == "" {
			r.ARN = st.unqualified + ":" + r.Qualifier
		}
		l.found.Add(1)
		st.mu.Lock()
		st.aliases = append(st.aliases, r)
		st.aliasReads++
		st.mu.Unlock()
		l.sched.policyRead(func(via Budget) {
			l.readPolicy(ctx, r, via)
			st.mu.Lock()
			st.aliasReads--
			st.mu.Unlock()
			l.maybeURLStage(ctx, st)
		})
	}
	if out.NextMarker != nil && *out.NextMarker != "" {
		next := out.NextMarker
		l.sched.shared(true, func() { l.listAliases(ctx, st, next) })
		return
	}
	st.mu.Lock()
	st.aliasesListed = true
	st.mu.Unlock()
	l.maybeURLStage(ctx, st)
}

// maybeURLStage runs once the function's own and alias policies are all
// read: it looks up function URLs only when some policy could let someone
// beyond the owner call one (or always with --thorough), then emits the
// function and its aliases.
func (l *lane) maybeURLStage(ctx context.Context, st *fnState) {
	st.mu.Lock()
	if st.urlStage || !st.policyDone || !st.aliasesListed || st.aliasReads > 0 {
		st.mu.Unlock()
		return
	}
	st.urlStage = true
	unq := l.baseResource(st, st.config)
	unq.ARN, unq.Kind = st.unqualified, inventory.KindFunction
	unq.Policy, unq.PolicyUnknown = st.policy, st.policyUnknown
	if st.config == nil {
		unq.ConfigKnown = false
	}
	resources := append([]*inventory.Resource{unq}, st.aliases...)
	st.mu.Unlock()
	for _, a := range resources[1:] {
		l.withFunctionPolicy(st, a)
	}
	need := l.opt.Thorough || l.opt.NeedsURL == nil
	for _, r := range resources {
		if need {
			break
		}
		need = l.opt.NeedsURL(r)
	}
	finish := func() {
		for _, r := range resources {
			l.emitWithRole(ctx, r)
		}
		st.mu.Lock()
		st.emitted = true
		st.mu.Unlock()
		l.maybeRelease(st)
	}
	if !need {
		finish()
		return
	}
	l.sched.shared(false, func() {
		l.readURLs(ctx, st, resources)
		finish()
	})
}

// readURLs lists the function's URL configs ($LATEST and aliases) in one
// paged call and attaches them.
func (l *lane) readURLs(ctx context.Context, st *fnState, resources []*inventory.Resource) {
	byQualifier := map[string]*inventory.Resource{}
	for _, r := range resources {
		r.URLChecked = true
		byQualifier[r.Qualifier] = r
	}
	var marker *string
	for {
		out, err := call(ctx, l, "ListFunctionUrlConfigs", func(c context.Context) (*lambda.ListFunctionUrlConfigsOutput, error) {
			return l.client.ListFunctionUrlConfigs(c, &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String(st.name), Marker: marker})
		})
		if err != nil {
			why := reason("ListFunctionUrlConfigs", err)
			l.fail("function URLs of " + st.name + " could not be read: " + why)
			for _, r := range resources {
				r.URLUnknown = why
			}
			return
		}
		for _, u := range out.FunctionUrlConfigs {
			q := ""
			if parsed, err := inventory.ParseLambdaARN(aws.ToString(u.FunctionArn)); err == nil && parsed.Qualifier != "$LATEST" {
				q = parsed.Qualifier
			}
			r := byQualifier[q]
			if r == nil {
				continue
			}
			r.URL = &inventory.FunctionURL{URL: aws.ToString(u.FunctionUrl), AuthType: string(u.AuthType)}
			if c := u.Cors; c != nil {
				r.URL.CORS = &inventory.CORS{AllowOrigins: c.AllowOrigins, AllowCredentials: aws.ToBool(c.AllowCredentials), AllowMethods: c.AllowMethods}
			}
		}
		if out.NextMarker == nil || *out.NextMarker == "" {
			return
		}
		marker = out.NextMarker
	}
}

func (l *lane) listLayers(ctx context.Context, marker *string) {
	out, err := call(ctx, l, "ListLayers", func(c context.Context) (*lambda.ListLayersOutput, error) {
		return l.client.ListLayers(c, &lambda.ListLayersInput{Marker: marker})
	})
	if err != nil {
		why := reason("ListLayers", err)
		if marker != nil {
			why = "a later page failed: " + why
		}
		l.unlisted("layers", why)
		return
	}
	for _, ly := range out.Layers {
		name := aws.ToString(ly.LayerName)
		l.sched.shared(false, func() { l.listLayerVersions(ctx, name, nil) })
	}
	if out.NextMarker != nil && *out.NextMarker != "" {
		next := out.NextMarker
		l.sched.shared(false, func() { l.listLayers(ctx, next) })
	}
}

func (l *lane) layerARN(name string, version int64) string {
	return "arn:" + l.partition + ":lambda:" + l.region + ":" + l.account + ":layer:" + name + ":" + strconv.FormatInt(version, 10)
}

func (l *lane) listLayerVersions(ctx context.Context, name string, marker *string) {
	out, err := call(ctx, l, "ListLayerVersions", func(c context.Context) (*lambda.ListLayerVersionsOutput, error) {
		return l.client.ListLayerVersions(c, &lambda.ListLayerVersionsInput{LayerName: aws.String(name), Marker: marker})
	})
	if err != nil {
		why := reason("ListLayerVersions", err)
		l.fail("versions of layer " + name + " could not be listed: " + why)
		l.found.Add(1)
		l.emitResource(&inventory.Resource{ARN: "arn:" + l.partition + ":lambda:" + l.region + ":" + l.account + ":layer:" + name + ":*", Kind: inventory.KindLayerVersion,
			Account: l.account, Region: l.region, Name: name, Qualifier: "*", Unknown: "the layer's versions could not be listed: " + why})
		return
	}
	for _, v := range out.LayerVersions {
		num := v.Version
		r := &inventory.Resource{ARN: aws.ToString(v.LayerVersionArn), Kind: inventory.KindLayerVersion, Account: l.account, Region: l.region, Name: name,
			Qualifier: strconv.FormatInt(num, 10), LayerVersion: num, Source: inventory.Source{API: "ListLayerVersions"}}
		if r.ARN == "" || !strings.Contains(r.ARN, ":layer:") {
			r.ARN = l.layerARN(name, num)
		}
		l.found.Add(1)
		l.sched.shared(false, func() {
			l.readLayerPolicy(ctx, r)
			l.emitResource(r)
		})
	}
	if out.NextMarker != nil && *out.NextMarker != "" {
		next := out.NextMarker
		l.sched.shared(false, func() { l.listLayerVersions(ctx, name, next) })
	}
}

func (l *lane) readLayerPolicy(ctx context.Context, r *inventory.Resource) {
	out, err := call(ctx, l, "GetLayerVersionPolicy", func(c context.Context) (*lambda.GetLayerVersionPolicyOutput, error) {
		return l.client.GetLayerVersionPolicy(c, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(r.Name), VersionNumber: aws.Int64(r.LayerVersion)})
	})
	switch {
	case err == nil:
		r.Policy = &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetLayerVersionPolicy"}}
	case isNotFound(err):
	default:
		r.PolicyUnknown = reason("GetLayerVersionPolicy", err)
	}
}
