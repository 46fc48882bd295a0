// Package bench measures a live scan against an emulated estate served
// with Lambda's request quotas, and compares its wall time with the lower
// bound those quotas impose: for each account-Region lane, the calls it
// must make on each budget, less the burst the budget starts with,
// divided by the budget's rate; the estate's bound is its slowest lane.
// Faults can be injected to measure how the scan holds up.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// Shape describes the emulated estate.
type Shape struct {
	Accounts  int // accounts (the first is the organization's management account)
	Regions   int
	Functions int // functions per region in the largest account
	Aliases   int // per function
	Versions  int // published versions per function
	// Skewed gives the other accounts 5 to 50 functions per region
	// instead of Functions.
	Skewed bool
	// RegionNames, when set, are the Regions served (Regions is then
	// their count); otherwise the first Regions of a fixed list.
	RegionNames []string
}

var regionNames = []string{"us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-2", "ca-central-1"}

// regionList is the Regions the estate has.
func (s Shape) regionList() []string {
	if len(s.RegionNames) > 0 {
		return s.RegionNames
	}
	return regionNames[:min(max(s.Regions, 0), len(regionNames))]
}

func accountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i*1111) }

// functionsIn returns how many functions account i has per region.
func (s Shape) functionsIn(i int) int {
	if i == 0 || !s.Skewed {
		return s.Functions
	}
	// A fixed spread between 5 and 50, so runs repeat.
	return 5 + (i*37)%46
}

// Policies returns the number of policy-bearing function resources.
func (s Shape) Policies() int {
	n := 0
	for a := 0; a < s.Accounts; a++ {
		n += s.functionsIn(a) * s.Regions * (1 + s.Aliases + s.Versions)
	}
	return n
}

// Seed builds the estate: every function has a policy pinned to its own
// account, one in ten aliases is public, and the organization spans all
// accounts.
func (s Shape) Seed() *emulator.Seed {
	seed := &emulator.Seed{Organization: &emulator.SeedOrganization{ID: "o-benchmark01", ManagementAccount: accountID(0)}}
	for a := 0; a < s.Accounts; a++ {
		acct := emulator.SeedAccount{ID: accountID(a), Regions: map[string]emulator.SeedRegion{}}
		for _, region := range s.regionList() {
			var sr emulator.SeedRegion
			for f := 0; f < s.functionsIn(a); f++ {
				name := fmt.Sprintf("fn-%05d", f)
				arn := "arn:aws:lambda:" + region + ":" + acct.ID + ":function:" + name
				fn := emulator.SeedFunction{Name: name}
				fn.Policy = json.RawMessage(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"` + acct.ID + `"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket-` + name + `"}}}]}`)
				for v := 1; v <= s.Versions; v++ {
					fn.Versions = append(fn.Versions, emulator.SeedVersion{Version: emulator.FunctionVersion(strconv.Itoa(v))})
				}
				for al := 0; al < s.Aliases; al++ {
					alias := emulator.SeedAlias{Name: fmt.Sprintf("live%d", al), Version: "$LATEST"}
					if f%10 == 0 && al == 0 {
						alias.Policy = json.RawMessage(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"oops","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `:live0"}]}`)
					}
					fn.Aliases = append(fn.Aliases, alias)
				}
				sr.Functions = append(sr.Functions, fn)
			}
			acct.Regions[region] = sr
		}
		seed.Accounts = append(seed.Accounts, acct)
	}
	return seed
}

// Config is one benchmark run.
type Config struct {
	Shape
	Latency time.Duration
	// Quotas serves AWS's quotas (GetFunction 100/s, GetPolicy 15/s,
	// shared 15/s per account and Region); false serves none.
	Quotas        bool
	GetPolicyOnly bool
	// Executable, when set, runs the emulator as a child process of this
	// binary (`Executable emulator ...`), so the scanner's peak RSS is its
	// own. Empty runs it in-process.
	Executable string
	// Faults is an emulator --faults spec (e.g. "GetPolicy:throttle=0.2,
	// GetPolicy:500=0.1"), FaultSeed its seed.
	Faults    string
	FaultSeed int64
}

// LaneCalls is what one lane did.
type LaneCalls struct {
	Account, Region string
	PolicyReads     int64 // GetPolicy + GetResourcePolicy
	GetPolicy       int64
	SharedOnly      int64 // every other shared-budget call
	Bound           time.Duration
	BoundGetPolicy  time.Duration // the bound of a GetPolicy-only plan
}

// Result is what a run measured.
type Result struct {
	Config    Config
	Resources int
	Unknown   int
	Wall      time.Duration
	// Bound is the quota lower bound of our call plan (policy reads
	// split over GetPolicy and GetResourcePolicy): the slowest lane's
	// max(shared-only / shared rate, all reads / both rates).
	Bound time.Duration
	// BoundGetPolicyOnly is what a scanner that reads every policy with
	// GetPolicy needs at best.
	BoundGetPolicyOnly time.Duration
	Ratio              float64
	CallsPerOp         map[string]int64
	Throttled          int64
	APICalls           int64
	PeakRSSBytes       int64
	Slowest            LaneCalls
	Errors             []string
}

// Spec renders the shape for the emulator's hidden --bench-shape flag,
// so a child process builds the estate and the scanner never holds it.
func (s Shape) Spec() string {
	spec := fmt.Sprintf("%d,%d,%d,%d,%d,%t", s.Accounts, s.Regions, s.Functions, s.Aliases, s.Versions, s.Skewed)
	if len(s.RegionNames) > 0 {
		spec += "," + strings.Join(s.RegionNames, ";")
	}
	return spec
}

// ParseSpec reads what Spec wrote.
func ParseSpec(spec string) (Shape, error) {
	var s Shape
	var skewed string
	parts := strings.Split(spec, ",")
	if len(parts) == 7 {
		s.RegionNames = strings.Split(parts[6], ";")
		parts = parts[:6]
	}
	if len(parts) != 6 {
		return s, fmt.Errorf("bench shape %q: want accounts,regions,functions,aliases,versions,skewed[,region;region...]", spec)
	}
	nums := []*int{&s.Accounts, &s.Regions, &s.Functions, &s.Aliases, &s.Versions}
	for i, p := range nums {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return s, fmt.Errorf("bench shape %q: %q is not a count", spec, parts[i])
		}
		*p = n
	}
	skewed = parts[5]
	s.Skewed = skewed == "true"
	return s, nil
}

// Run serves the estate, scans it and measures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	url, stop, err := serve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()

	mgmt := accountID(0)
	var accounts, regions []string
	for a := 0; a < cfg.Accounts; a++ {
		accounts = append(accounts, accountID(a))
	}
	regions = append(regions, cfg.regionList()...)
	opt := awscollect.Options{
		EndpointURL:   url,
		Credentials:   credentials.NewStaticCredentialsProvider("AKIA"+mgmt, "bench", ""),
		Regions:       regions,
		Accounts:      accounts,
		GetPolicyOnly: cfg.GetPolicyOnly,
		MaxLanes:      len(accounts) * len(regions),
		// Lambda's quotas are what is measured; IAM role reads are not.
		SkipRoles: true,
	}
	trust := rules.Trust{OrgID: "o-benchmark01", Trusted: accounts}
	opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, trust) }
	if !cfg.Quotas {
		opt.Quotas = map[awscollect.Budget]float64{}
	}
	res := &Result{Config: cfg}
	start := time.Now()
	sum, err := awscollect.Collect(ctx, opt, func(r *inventory.Resource) {
		a := scan.Assess(r, scan.Options{Trust: trust, OmitPolicyText: true})
		res.Resources++
		if a.Status == "unknown" {
			res.Unknown++
		}
	})
	if err != nil {
		return nil, err
	}
	res.Wall = time.Since(start)
	res.Throttled = sum.Throttled
	res.APICalls = sum.APICalls
	res.Errors = sum.Errors
	res.PeakRSSBytes = peakRSS()
	res.CallsPerOp = map[string]int64{}
	lanes := map[[2]string]*LaneCalls{}
	for k, n := range sum.Calls {
		res.CallsPerOp[k.Op] += n
		key := [2]string{k.Account, k.Region}
		lc := lanes[key]
		if lc == nil {
			lc = &LaneCalls{Account: k.Account, Region: k.Region}
			lanes[key] = lc
		}
		switch k.Op {
		case "GetPolicy":
			lc.PolicyReads += n
			lc.GetPolicy += n
		case "GetResourcePolicy":
			lc.PolicyReads += n
		default:
			if awscollect.BudgetOf(k.Op) == awscollect.BudgetShared {
				lc.SharedOnly += n
			}
		}
	}
	rp, rs := awscollect.AWSQuotas[awscollect.BudgetGetPolicy], awscollect.AWSQuotas[awscollect.BudgetShared]
	for _, lc := range lanes {
		sharedOnly := quotaTime(lc.SharedOnly, rs)
		both := quotaTime(lc.PolicyReads+lc.SharedOnly, rp, rs)
		getPolicyOnly := max(sharedOnly, quotaTime(lc.PolicyReads, rp))
		if cfg.GetPolicyOnly {
			lc.Bound = getPolicyOnly
		} else {
			lc.Bound = max(sharedOnly, both)
		}
		lc.BoundGetPolicy = getPolicyOnly
		if lc.Bound > res.Bound {
			res.Bound = lc.Bound
			res.Slowest = *lc
		}
		res.BoundGetPolicyOnly = max(res.BoundGetPolicyOnly, lc.BoundGetPolicy)
	}
	if res.Bound > 0 {
		res.Ratio = res.Wall.Seconds() / res.Bound.Seconds()
	}
	return res, nil
}

// quotaTime is the least time in which budgets of these rates serve
// calls requests. Each emulated budget starts full, holding one second's
// worth of requests (at least one), so that many are served at once; the
// rest arrive no faster than the rates allow. No run can beat it.
func quotaTime(calls int64, rates ...float64) time.Duration {
	var rate, burst float64
	for _, r := range rates {
		rate += r
		burst += max(r, 1)
	}
	if rate <= 0 {
		return 0
	}
	return time.Duration(max(0, float64(calls)-burst) / rate * float64(time.Second))
}

// serve starts the emulator in-process or as a child process.
func serve(ctx context.Context, cfg Config) (string, func(), error) {
	var quotas map[string]float64
	if cfg.Quotas {
		quotas, _ = emulator.ParseQuotas([]string{"aws"})
	}
	faults, err := emulator.ParseFaults(cfg.Faults)
	if err != nil {
		return "", nil, err
	}
	if cfg.Executable == "" {
		srv, err := emulator.New(cfg.Seed(), emulator.Options{Quotas: quotas, Latency: cfg.Latency, Faults: faults, FaultSeed: cfg.FaultSeed})
		if err != nil {
			return "", nil, err
		}
		url, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		return url, func() { srv.Close() }, nil
	}
	args := []string{"emulator", "--bench-shape", cfg.Shape.Spec(), "--listen", "127.0.0.1:0", "--latency", cfg.Latency.String()}
	if cfg.Quotas {
		args = append(args, "--quota", "aws")
	}
	if cfg.Faults != "" {
		args = append(args, "--faults", cfg.Faults, "--fault-seed", strconv.FormatInt(cfg.FaultSeed, 10))
	}
	cmd := exec.CommandContext(ctx, cfg.Executable, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "http://"); i >= 0 {
			url := strings.Fields(line[i:])[0]
			go func() {
				for sc.Scan() {
				}
			}()
			return url, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("the emulator child process did not start")
}

// peakRSS reads the process's peak resident set size (Linux).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// Report renders a result for people.
func (r *Result) Report() string {
	var b strings.Builder
	c := r.Config
	q := "none"
	if c.Quotas {
		q = "aws (GetFunction 100/s, GetPolicy 15/s, shared 15/s per account and Region)"
	}
	fmt.Fprintf(&b, "estate            %d account(s) x %d region(s), %d functions per region in the largest account (skewed: %v), %d aliases and %d versions each: %d policy-bearing resources\n",
		c.Accounts, c.Regions, c.Functions, c.Skewed, c.Aliases, c.Versions, c.Policies())
	fmt.Fprintf(&b, "emulator          latency %s, quotas %s\n", c.Latency, q)
	if c.Faults != "" {
		fmt.Fprintf(&b, "faults            %s (seed %d)\n", c.Faults, c.FaultSeed)
	}
	fmt.Fprintf(&b, "resources judged  %d (%d unknown)\n", r.Resources, r.Unknown)
	fmt.Fprintf(&b, "wall time         %.1f s (%.1f resources/s)\n", r.Wall.Seconds(), float64(r.Resources)/max(r.Wall.Seconds(), 1e-9))
	if c.Quotas {
		plan := "GetPolicy + GetResourcePolicy (balanced over both budgets)"
		if c.GetPolicyOnly {
			plan = "GetPolicy only"
		}
		fmt.Fprintf(&b, "quota lower bound %.1f s for the calls made (retries included; each budget's initial burst counted): %s; slowest lane %s/%s: %d policy reads, %d other shared calls\n",
			r.Bound.Seconds(), plan, r.Slowest.Account, r.Slowest.Region, r.Slowest.PolicyReads, r.Slowest.SharedOnly)
		fmt.Fprintf(&b, "ratio             %.3f (wall time / bound)\n", r.Ratio)
		fmt.Fprintf(&b, "GetPolicy-only    %.1f s is the best a scanner reading every policy with GetPolicy can do\n", r.BoundGetPolicyOnly.Seconds())
	}
	var ops []string
	for op := range r.CallsPerOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	fmt.Fprintf(&b, "calls             %d in all:", r.APICalls)
	for _, op := range ops {
		fmt.Fprintf(&b, " %s %d (%s);", op, r.CallsPerOp[op], awscollect.BudgetOf(op))
	}
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "429s met          %d\n", r.Throttled)
	fmt.Fprintf(&b, "peak RSS          %.1f MB (scanner process%s)\n", float64(r.PeakRSSBytes)/(1<<20), map[bool]string{true: "; the emulator runs as a child process", false: ", emulator included"}[c.Executable != ""])
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error             %s\n", e)
	}
	return b.String()
}
