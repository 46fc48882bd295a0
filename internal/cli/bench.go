package cli

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/bench"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func (e *env) benchCommand() *cobra.Command {
	var (
		shape         bench.Shape
		latency       time.Duration
		noQuota       bool
		getPolicyOnly bool
		inProcess     bool
		org           bool
		region        string
		regions       string
		faults        string
		faultSeed     int64
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a scan of an emulated estate against the quota lower bound",
		Long: `Serves a generated estate with Lambda's request quotas (GetFunction 100/s,
GetPolicy 15/s, every other control-plane call 15/s, per account and Region)
and scans it. Prints the wall time, the lower bound the quotas impose (per
lane: calls per budget / rate; the slowest lane bounds the estate), their
ratio, calls per operation, 429s met, and the scanner's peak RSS (the
emulator runs as a child process unless --in-process).`,
		Example: `  lambdawarden bench                                  # 200 functions x (2 aliases + 3 versions), 20ms latency
  lambdawarden bench --org                            # 20 accounts x 3 Regions, skewed sizes
  lambdawarden bench --functions 100000 --aliases 0 --versions 0 --no-quota --latency 0   # memory
  lambdawarden bench --faults 'throttle=0.2,500=0.1'  # 20% 429s and 10% 500s on every call`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if org {
				shape = bench.Shape{Accounts: 20, Regions: 3, Functions: 300, Aliases: 2, Versions: 3, Skewed: true}
			}
			if err := benchRegions(&shape, region, regions, cmd.Flags().Changed); err != nil {
				return err
			}
			if shape.Accounts < 1 || shape.Regions < 1 || shape.Regions > 6 || shape.Functions < 0 || shape.Aliases < 0 || shape.Versions < 0 {
				return usagef("bench: need at least 1 account, 1 to 6 regions and non-negative counts")
			}
			if _, err := emulator.ParseFaults(faults); err != nil {
				return usagef("--faults: %s", err)
			}
			cfg := bench.Config{Shape: shape, Latency: latency, Quotas: !noQuota, GetPolicyOnly: getPolicyOnly, Faults: faults, FaultSeed: faultSeed}
			if !inProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("bench: cannot find this program to run the emulator: %v (use --in-process)", err)
				}
				cfg.Executable = exe
			}
			fmt.Fprintf(e.stderr, "lambdawarden bench: serving %d policy-bearing resources and scanning them...\n", shape.Policies())
			res, err := bench.Run(e.ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprint(e.stdout, res.Report())
			if len(res.Errors) > 0 || res.Unknown > 0 {
				return exitCode(exitIncomplete)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&shape.Accounts, "accounts", 1, "accounts in the estate")
	fl.StringVar(&regions, "regions", "1", "Regions per account: a count (1-6) or names, comma-separated")
	fl.StringVar(&region, "region", "", "serve and scan this one Region")
	fl.IntVar(&shape.Functions, "functions", 200, "functions per region (in the largest account)")
	fl.IntVar(&shape.Aliases, "aliases", 2, "aliases per function")
	fl.IntVar(&shape.Versions, "versions", 3, "published versions per function")
	fl.BoolVar(&shape.Skewed, "skewed", false, "give accounts other than the first 5 to 50 functions per region")
	fl.BoolVar(&org, "org", false, "the organization preset: 20 accounts x 3 regions, 300 functions in the largest, skewed")
	fl.DurationVar(&latency, "latency", 20*time.Millisecond, "emulator latency per request")
	fl.BoolVar(&noQuota, "no-quota", false, "serve without request quotas (for memory and CPU measurements)")
	fl.BoolVar(&getPolicyOnly, "getpolicy-only", false, "read every policy with GetPolicy, as most scanners do")
	fl.BoolVar(&inProcess, "in-process", false, "run the emulator inside this process (RSS then includes it)")
	fl.StringVar(&faults, "faults", "", "inject faults as the emulator's --faults does, e.g. 'throttle=0.2,500=0.1' (how the scan holds up)")
	fl.Int64Var(&faultSeed, "fault-seed", 1, "seed for --faults, so runs repeat")
	return cmd
}

// benchRegions reads --region and --regions (a count, as before, or the
// Regions' names) into the shape.
func benchRegions(shape *bench.Shape, region, regions string, changed func(string) bool) error {
	if region != "" && changed("regions") {
		return usagef("--region and --regions are exclusive: give one Region with --region, or several with --regions a,b")
	}
	if region != "" {
		regions = region
	} else if !changed("regions") {
		if shape.Regions == 0 { // not the --org preset
			shape.Regions = 1
		}
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimSpace(regions)); err == nil {
		shape.Regions, shape.RegionNames = n, nil
		return nil
	}
	var names []string
	for _, r := range strings.Split(regions, ",") {
		r = strings.TrimSpace(r)
		if !looksLikeRegion(r) {
			return usagef("--regions: %q is neither a count nor a Region name (for example us-east-1)", r)
		}
		if !slices.Contains(names, r) {
			names = append(names, r)
		}
	}
	shape.Regions, shape.RegionNames = len(names), names
	return nil
}
