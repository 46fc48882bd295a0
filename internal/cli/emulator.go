package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/bench"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func (e *env) emulatorCommand() *cobra.Command {
	var (
		listen     string
		seedFile   string
		latency    time.Duration
		quotas     []string
		faults     string
		faultSeed  int64
		requestLog string
		benchShape string
		trailDir   string
		trailEvery time.Duration
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Lambda, STS, Organizations and Account API for tests and demos",
		Long: `Serves an in-memory AWS Lambda control plane (plus STS, Organizations, the
Account API's ListRegions and IAM reads) that the AWS SDKs and the aws CLI talk
to with --endpoint-url. Without --seed it serves the built-in demo estate.

Any static credentials work; the access key id selects the account
(AKIA + 12-digit account id, or a key returned by sts:AssumeRole).

  --quota aws                  Lambda's quotas: GetFunction 100/s, GetPolicy 15/s,
                               every other control-plane call 15/s shared
  --quota GetPolicy=15 ...     one budget per flag ("shared" for the rest)
  --faults 'GetPolicy:throttle=0.3,ListAliases:500=0.05,timeout=0.01'
                               kinds: throttle, 500, 503, timeout, denied
  --cloudtrail-dir DIR         every Lambda write (AddPermission, PutResourcePolicy,
                               URL configs, layer permissions, ...) is written as a
                               CloudTrail record under DIR/AWSLogs/..., and served by
                               cloudtrail:LookupEvents (2 requests/s)`,
		Example: `  lambdawarden emulator --listen 127.0.0.1:4566 --seed estate.json --quota aws --latency 20ms
  AWS_ACCESS_KEY_ID=AKIA111122223333 AWS_SECRET_ACCESS_KEY=x aws lambda list-functions --endpoint-url http://127.0.0.1:4566 --region us-east-1`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var seed *emulator.Seed
			var err error
			switch {
			case benchShape != "":
				shape, err := bench.ParseSpec(benchShape)
				if err != nil {
					return usagef("%s", err)
				}
				seed = shape.Seed()
			case seedFile == "":
				seed, err = demo.Seed()
			default:
				var data []byte
				data, err = os.ReadFile(seedFile)
				if err != nil {
					return usagef("--seed: %s", unwrapPathError(err))
				}
				seed, err = emulator.ParseSeed(data)
				if err != nil {
					return usagef("--seed %s: %s", seedFile, err)
				}
			}
			if err != nil {
				return err
			}
			opts := emulator.Options{Latency: latency, FaultSeed: faultSeed, CloudTrailDir: trailDir, CloudTrailInterval: trailEvery}
			if len(quotas) > 0 {
				if opts.Quotas, err = emulator.ParseQuotas(quotas); err != nil {
					return usagef("--quota: %s", err)
				}
			}
			if opts.Faults, err = emulator.ParseFaults(faults); err != nil {
				return usagef("--faults: %s", err)
			}
			if requestLog != "" {
				f, err := os.OpenFile(requestLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					return usagef("--request-log: %s", unwrapPathError(err))
				}
				defer f.Close()
				opts.RequestLog = f
			}
			srv, err := emulator.New(seed, opts)
			if err != nil {
				return usagef("%s", err)
			}
			url, err := srv.Start(listen)
			if err != nil {
				return usagef("--listen %s: %s", listen, err)
			}
			defer srv.Close()
			fmt.Fprintf(e.stderr, "lambdawarden emulator: serving %d account(s) on %s (Ctrl-C to stop)\n", len(seed.Accounts), url)
			<-e.ctx.Done()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on")
	fl.StringVar(&seedFile, "seed", "", "seed file (CONTRACT.md format); default: the demo estate")
	fl.DurationVar(&latency, "latency", 0, "delay added to every request, e.g. 20ms")
	fl.StringArrayVar(&quotas, "quota", nil, "request quota: aws, or OP=RPS / shared=RPS (repeatable)")
	fl.StringVar(&faults, "faults", "", "fault injection spec, e.g. 'GetPolicy:throttle=0.3,timeout=0.01'")
	fl.Int64Var(&faultSeed, "fault-seed", 1, "seed for fault injection, so runs repeat")
	fl.StringVar(&requestLog, "request-log", "", "append one JSON line per request to this file")
	fl.StringVar(&trailDir, "cloudtrail-dir", "", "write every Lambda write served as CloudTrail log files (S3 delivery layout) under this folder")
	fl.DurationVar(&trailEvery, "cloudtrail-interval", 0, "batch CloudTrail records into one file per interval (default: one file per write, at once)")
	// bench builds its estate in the emulator process, so the scanner's
	// memory is measured alone.
	fl.StringVar(&benchShape, "bench-shape", "", "serve a generated bench estate (accounts,regions,functions,aliases,versions,skewed)")
	_ = fl.MarkHidden("bench-shape")
	return cmd
}
