package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/sink/snssink"
	"github.com/lambdawarden/lambdawarden/internal/trail"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

// watchFlags are watch's flags.
type watchFlags struct {
	cloudtrail  string
	follow      bool
	poll        time.Duration
	lookup      bool
	lookupSince time.Duration
	regions     []string
	offline     bool

	profile     string
	endpointURL string
	roleName    string
	externalID  string
	sessionName string
	pace        string

	webhook       string
	webhookSecret string
	snsTopic      string
	queueDir      string
	queueMax      int
	drain         time.Duration

	dedupe      time.Duration
	minSeverity string
	failOn      string
	state       string
	quiet       bool
}

func (f *watchFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cloudtrail, "cloudtrail", "", "CloudTrail input: a log file (gzip or not), a folder of them, or - for standard input")
	fl.BoolVar(&f.follow, "follow", false, "keep reading: new files in the folder, lines appended to the file or stdin, or new LookupEvents (with --lookup)")
	fl.DurationVar(&f.poll, "poll", 0, "how often --follow looks again (default 5s for files, 30s for --lookup)")
	fl.BoolVar(&f.lookup, "lookup", false, "read events with cloudtrail:LookupEvents (paced to its 2 requests/s quota) instead of --cloudtrail")
	fl.DurationVar(&f.lookupSince, "lookup-since", 15*time.Minute, "how far back the first LookupEvents poll looks")
	fl.StringSliceVar(&f.regions, "regions", nil, "Regions to poll with --lookup, comma-separated (default: the profile's Region)")
	fl.BoolVar(&f.offline, "offline", false, "no AWS calls: judge each event's own statement or policy (the verdict is the statement's, not the resource's)")
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile for re-reading changed resources")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator)")
	fl.StringVar(&f.roleName, "role-name", "OrganizationAccountAccessRole", "role assumed to re-read resources in accounts other than the caller's")
	fl.StringVar(&f.externalID, "external-id", "", "external id for the assumed role")
	fl.StringVar(&f.sessionName, "session-name", "lambdawarden-watch", "role session name for the assumed role")
	fl.StringVar(&f.pace, "pace", "aws", "client-side pacing: aws (Lambda's and CloudTrail's quotas) or none (only for an emulator without quotas)")
	fl.StringVar(&f.webhook, "webhook", "", "also POST each alert as JSON to this URL (queued on disk, retried until delivered)")
	fl.StringVar(&f.webhookSecret, "webhook-secret", "", "sign webhook bodies with HMAC-SHA256 (default: $LAMBDAWARDEN_WEBHOOK_SECRET)")
	fl.StringVar(&f.snsTopic, "sns-topic", "", "also publish each alert to this SNS topic ARN (queued on disk, retried until delivered)")
	fl.StringVar(&f.queueDir, "queue-dir", "", "folder for the webhook and SNS delivery queues (default ~/.lambdawarden/queue)")
	fl.IntVar(&f.queueMax, "queue-max", 10000, "most alerts each delivery queue holds while its receiver is down")
	fl.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on exit, how long to keep delivering queued alerts (the rest stay queued for the next run)")
	fl.DurationVar(&f.dedupe, "dedupe-window", time.Hour, "alert the same finding once within this window (0 alerts every time)")
	fl.StringVar(&f.minSeverity, "min-severity", "medium", "alert findings at or above this severity: critical, high, medium, low, info")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when an alert is at or above this severity: critical, high, medium, low, info, none")
	fl.StringVar(&f.state, "state", "", "file keeping handled events and the dedupe window across restarts")
	fl.BoolVar(&f.quiet, "quiet", false, "no summary line on stderr")
}

// watchPlan is the validated command line.
type watchPlan struct {
	minSeverity, failOn finding.Severity
	secret              string
	queueRoot           string
}

// validate checks every flag before any work is done.
func (f *watchFlags) validate(e *env) (*watchPlan, error) {
	p := &watchPlan{}
	switch {
	case f.cloudtrail == "" && !f.lookup:
		return nil, usagef("watch needs --cloudtrail FILE|DIR|- or --lookup")
	case f.cloudtrail != "" && f.lookup:
		return nil, usagef("--cloudtrail and --lookup are exclusive: read files or poll LookupEvents, not both")
	case f.lookup && f.offline:
		return nil, usagef("--lookup calls AWS (cloudtrail:LookupEvents); it cannot be combined with --offline")
	case f.offline && (f.profile != "" || f.endpointURL != "") && f.snsTopic == "":
		// With --sns-topic they say where the alerts are published, the
		// one AWS call an offline watch makes.
		return nil, usagef("--offline makes no AWS calls (but the --sns-topic Publish); drop --profile and --endpoint-url")
	}
	if f.cloudtrail != "" && f.cloudtrail != "-" {
		if _, err := os.Stat(f.cloudtrail); err != nil {
			return nil, usagef("--cloudtrail %s: %s (give a CloudTrail log file, a folder of them, or - for standard input)", f.cloudtrail, unwrapPathError(err))
		}
	}
	for _, r := range f.regions {
		if !looksLikeRegion(r) {
			return nil, usagef("--regions: %q is not a Region name (for example us-east-1)", r)
		}
	}
	if len(f.regions) > 0 && !f.lookup {
		return nil, usagef("--regions is for --lookup; with --cloudtrail the Regions are those of the events")
	}
	if f.pace != "aws" && f.pace != "none" {
		return nil, usagef("--pace %q: want aws or none", f.pace)
	}
	for name, d := range map[string]time.Duration{"--poll": f.poll, "--lookup-since": f.lookupSince, "--dedupe-window": f.dedupe, "--drain-timeout": f.drain} {
		if d < 0 {
			return nil, usagef("%s %s: a duration cannot be negative", name, d)
		}
	}
	var err error
	if p.minSeverity, err = finding.ParseSeverity(f.minSeverity); err != nil || p.minSeverity > finding.Critical {
		return nil, usagef("--min-severity %q: want critical, high, medium, low or info", f.minSeverity)
	}
	if p.failOn, err = finding.ParseSeverity(f.failOn); err != nil {
		return nil, usagef("--fail-on: %s", err)
	}
	p.secret = f.webhookSecret
	if p.secret == "" {
		p.secret = e.getenv("LAMBDAWARDEN_WEBHOOK_SECRET")
	}
	if f.webhook == "" && f.webhookSecret != "" {
		return nil, usagef("--webhook-secret needs --webhook")
	}
	if f.webhook != "" {
		if _, err := sink.ParseWebhookURL(f.webhook); err != nil {
			return nil, usagef("--webhook: %s", err)
		}
	}
	if f.snsTopic != "" {
		if a, err := inventory.ParseARN(f.snsTopic); err != nil || a.Service != "sns" || a.Region == "" || !isAccountID(a.Account) || a.Resource == "" || strings.Contains(a.Resource, ":") {
			return nil, usagef("--sns-topic %q: want a topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME", f.snsTopic)
		}
	}
	if f.queueMax < 1 {
		return nil, usagef("--queue-max %d: must be at least 1", f.queueMax)
	}
	if f.webhook != "" || f.snsTopic != "" {
		p.queueRoot = f.queueDir
		if p.queueRoot == "" {
			home, err := os.UserHomeDir()
			if err != nil || home == "" {
				return nil, usagef("no home folder for the delivery queue; pass --queue-dir DIR")
			}
			p.queueRoot = filepath.Join(home, ".lambdawarden", "queue")
		}
	}
	return p, nil
}

func (f *watchFlags) collectOptions() awscollect.Options {
	opt := awscollect.Options{Profile: f.profile, EndpointURL: f.endpointURL, Regions: f.regions, RoleName: f.roleName,
		ExternalID: f.externalID, SessionName: f.sessionName, SkipRoles: true}
	if f.pace == "none" {
		opt.Quotas = map[awscollect.Budget]float64{}
	}
	return opt
}

func (e *env) watchCommand() *cobra.Command {
	var (
		f     watchFlags
		trust trustFlags
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Alert on CloudTrail events that change a Lambda resource's exposure",
		Long: `Reads CloudTrail records and, for every event that can change who can reach a
Lambda resource (AddPermission, RemovePermission, PutResourcePolicy, function URL
and alias changes, new versions, layer permissions; names matched by prefix), reads
that one resource again — a few Get calls, not a scan — and judges it with the
same rules as scan. Each alert is one JSON line on stdout naming the finding and
who made the change (userIdentity ARN, access key, session issuer), when, from
which IP and user agent, the request, and the event id. A change that cannot be
judged (a denied re-read, an unreadable policy) is an alert with status
"unknown", never silence. Failed calls in the trail (errorCode) are counted, not
treated as changes.

Input: CloudTrail log files as delivered to S3 ({"Records":[...]}, gzip or not),
a folder of them (recursively), EventBridge events wrapping a record, one record
per line, or LookupEvents output; or --lookup to poll cloudtrail:LookupEvents.

Exit codes: 0 no alert at or above --fail-on; 1 such an alert; 2 usage error;
3 incomplete (unknown alerts, unreadable records, alerts a sink did not take).`,
		Example: `  lambdawarden watch --cloudtrail ./AWSLogs --follow
  lambdawarden watch --lookup --follow --regions us-east-1,eu-west-1 --webhook https://hooks.example.com/lw
  aws s3 cp s3://trail-bucket/AWSLogs/.../file.json.gz - | lambdawarden watch --cloudtrail - --offline`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := f.validate(e)
			if err != nil {
				return err
			}
			tr, err := trust.parse()
			if err != nil {
				return err
			}
			return e.runWatch(&f, plan, watch.Options{Trust: tr})
		},
	}
	f.register(cmd)
	trust.register(cmd)
	return cmd
}

func (e *env) runWatch(f *watchFlags, plan *watchPlan, wopt watch.Options) error {
	ctx := e.ctx
	logf := func(format string, args ...any) {
		fmt.Fprintf(e.stderr, "lambdawarden watch: %s\n", printable(fmt.Sprintf(format, args...)))
	}
	var reader *awscollect.Reader
	if !f.offline {
		var err error
		reader, err = awscollect.NewReader(ctx, f.collectOptions())
		if err != nil {
			if errors.Is(err, awscollect.ErrNoCredentials) {
				return usagef("%s (or pass --offline to judge the events' own statements without AWS)", err)
			}
			return err
		}
		wopt.Reader = reader
	}
	sinks := []sink.Sink{sink.NewLines(e.stdout)}
	var durables []*sink.Durable
	openDurable := func(kind, key string, t sink.Transport) error {
		sum := sha256.Sum256([]byte(key))
		q, err := sink.OpenQueue(filepath.Join(plan.queueRoot, kind+"-"+hex.EncodeToString(sum[:6])), f.queueMax)
		if err != nil {
			return usagef("--queue-dir: %s", err)
		}
		if n := q.Len(); n > 0 {
			logf("%s: %d alert(s) queued by an earlier run are delivered first", t.Name(), n)
		}
		d := sink.NewDurable(q, t, sink.DurableOptions{Logf: logf})
		durables = append(durables, d)
		sinks = append(sinks, d)
		return nil
	}
	if f.webhook != "" {
		hook := &sink.Webhook{URL: f.webhook, Secret: []byte(plan.secret), UserAgent: "lambdawarden/" + version()}
		if err := openDurable("webhook", f.webhook, hook); err != nil {
			return err
		}
	}
	if f.snsTopic != "" {
		pub, err := snssink.New(ctx, snssink.Config{Topic: f.snsTopic, Profile: f.profile, EndpointURL: f.endpointURL})
		if err != nil {
			return err
		}
		if err := openDurable("sns", f.snsTopic, pub); err != nil {
			return err
		}
	}
	wopt.Offline = f.offline
	wopt.MinSeverity = plan.minSeverity
	wopt.Dedupe = f.dedupe
	wopt.StatePath = f.state
	wopt.Sinks = sinks
	wopt.Logf = logf
	w, err := watch.New(wopt)
	if err != nil {
		return usagef("--state: %s", err)
	}
	emit := func(r trail.Result) { w.Handle(ctx, r) }
	var source interface {
		Run(context.Context, watch.Emit) error
	}
	switch {
	case f.lookup:
		regions := f.regions
		if len(regions) == 0 {
			if reader.Region() == "" {
				return usagef("--lookup needs a Region: pass --regions us-east-1,eu-west-1 or set AWS_REGION")
			}
			regions = []string{reader.Region()}
		}
		source = &watch.Lookup{Regions: regions, Fetch: reader.LookupEvents, Follow: f.follow, Poll: f.poll, Since: f.lookupSince, Logf: logf}
	case f.cloudtrail == "-":
		source = &watch.Stream{R: e.stdin, Name: "standard input", Follow: f.follow}
	default:
		source = &watch.Files{Path: f.cloudtrail, Follow: f.follow, Poll: f.poll, Logf: logf}
	}
	// A read of standard input cannot be interrupted: on Ctrl-C the watch
	// stops waiting for it and drains.
	done := make(chan error, 1)
	go func() { done <- source.Run(ctx, emit) }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		select {
		case runErr = <-done:
		case <-time.After(2 * time.Second):
		}
	}
	// Deliver what is queued, within the bound, even after Ctrl-C.
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.drain)
	defer cancel()
	undelivered := false
	for _, d := range durables {
		if err := d.Close(drainCtx); err != nil {
			undelivered = true
		}
	}
	st := w.Stats()
	if !f.quiet {
		calls := int64(0)
		if reader != nil {
			calls = reader.TotalCalls()
		}
		logf("%d change(s) read (%d repeat(s)), %d failed call(s) ignored, %d other record(s); %d resource(s) re-read with %d API call(s), %d gone; %d alert(s) (%d unknown), %d repeat alert(s) held back; %d problem(s)",
			st.Events, st.Repeats, st.Failed, st.Ignored, st.Reads, calls, st.Gone, st.Alerts, st.Unknown, st.Deduped, st.Problems)
	}
	if ctx.Err() != nil {
		// Ctrl-C is how a --follow watch ends: exit 130 like every
		// interrupted command, saying what was done.
		return interrupted("watch stopped after %d alert(s) (%d unknown); queued alerts not delivered stay queued", st.Alerts, st.Unknown)
	}
	if runErr != nil {
		return fmt.Errorf("reading CloudTrail input: %v", runErr)
	}
	switch {
	case st.Worst >= 0 && st.Worst >= plan.failOn:
		return exitCode(exitFindings)
	case st.Unknown > 0 || st.Problems > 0 || st.SinkErrors > 0 || undelivered:
		return exitCode(exitIncomplete)
	}
	return nil
}

// printable escapes what a terminal would interpret (control characters,
// escape sequences) in a line that may quote AWS or file strings.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
