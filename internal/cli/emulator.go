package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
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
                               kinds: throttle, 500, 503, timeout, denied, 404 (answers
                               ResourceNotFoundException whatever is there, e.g.
                               GetResourcePolicy:404=1 says "no policy" while
                               GetPolicy returns it); --fault-seed makes runs repeat
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
					if errors.Is(err, fs.ErrNotExist) {
						return usagef("--seed %s: no such file (give a seed file, or leave --seed out to serve the demo estate)", seedFile)
					}
					return usagef("--seed %s: %s", seedFile, unwrapPathError(err))
				}
				seed, err = emulator.ParseSeed(data)
				if err != nil {
					return usagef("--seed %s: %s", seedFile, err)
				}
				if what := seedServesNothing(seed); what != "" {
					fmt.Fprintf(e.stderr, "lambdawarden emulator: warning: --seed %s %s\n", seedFile, what)
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
			if warning := exposedListen(listen); warning != "" {
				fmt.Fprintf(e.stderr, "lambdawarden emulator: warning: %s\n", warning)
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
	fl.StringVar(&seedFile, "seed", "", "seed file (format: docs/emulator-seed.md); default: the demo estate")
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

// seedServesNothing says what is missing when a seed defines no
// account, or no function or layer in any of them; "" otherwise.
func seedServesNothing(seed *emulator.Seed) string {
	if len(seed.Accounts) == 0 {
		return "defines no accounts: the emulator serves nothing"
	}
	for _, a := range seed.Accounts {
		for _, r := range a.Regions {
			if len(r.Functions) > 0 || len(r.Layers) > 0 {
				return ""
			}
		}
	}
	return "defines no function or layer in any Region: a scan will find nothing"
}

// exposedListen warns when the emulator would be reachable from other
// machines: it accepts any credentials and serves write APIs.
func exposedListen(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	if host == "" {
		host = "every interface"
	}
	return "--listen " + addr + " is not a loopback address (" + host + "): anyone who can reach it can call its write APIs (AddPermission, PutResourcePolicy, ...) without signing; use 127.0.0.1 unless that is what you want"
}
