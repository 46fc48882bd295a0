package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/configrule/awsconfig"
)

func (e *env) configRuleCommand() *cobra.Command {
	var (
		eventFile string
		s         awsconfig.Settings
		pace      string
	)
	cmd := &cobra.Command{
		Use:   "config-rule",
		Short: "Run the AWS Config custom rule handler locally on an event file",
		Long: `Runs the handler of the lambdawarden-config-rule Lambda function on one event — an
AWS Config rule event (ConfigurationItemChangeNotification,
OversizedConfigurationItemChangeNotification or ScheduledNotification) or an
EventBridge event of a CloudTrail Lambda API call — against the account your
credentials (or --endpoint-url) reach, and prints what it did as JSON: the
evaluations it put with PutEvaluations (in batches of at most 100), or the
alerts it raised. A resultToken of "" or "TESTMODE" puts them in test mode.

Exit codes: 0 all COMPLIANT or NOT_APPLICABLE; 1 some NON_COMPLIANT (or an alert
with a finding); 2 the event file is missing or malformed; 3 the evaluation was
incomplete (or every alert was on a change that could not be judged).`,
		Example: `  lambdawarden config-rule --event scheduled.json --region us-east-1
  lambdawarden config-rule --event change.json --endpoint-url http://127.0.0.1:4566`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if eventFile == "" {
				return usagef("config-rule needs --event FILE (an AWS Config rule event or an EventBridge event)")
			}
			if pace != "aws" && pace != "none" {
				return usagef("--pace %q: want aws or none", pace)
			}
			raw, err := e.readInput(eventFile)
			if err != nil {
				return err
			}
			if !json.Valid(raw) {
				return usagef("--event %s: not JSON", displayName(eventFile))
			}
			if s.Region == "" {
				s.Region = e.getenv("AWS_REGION")
			}
			if s.Region == "" {
				s.Region = os.Getenv("AWS_REGION")
			}
			if s.Region == "" {
				return usagef("config-rule needs a Region: pass --region or set AWS_REGION")
			}
			s.NoPacing = pace == "none"
			h, err := awsconfig.NewHandler(e.ctx, s)
			if err != nil {
				if errors.Is(err, awscollect.ErrNoCredentials) {
					return usagef("%s", err)
				}
				return err
			}
			h.Logf = func(format string, args ...any) {
				fmt.Fprintf(e.stderr, "lambdawarden config-rule: %s\n", printable(fmt.Sprintf(format, args...)))
			}
			res, runErr := h.Handle(e.ctx, raw)
			if res != nil {
				out, _ := json.MarshalIndent(res, "", "  ")
				fmt.Fprintln(e.stdout, string(out))
			}
			if runErr != nil {
				if res == nil {
					return usagef("--event %s: %s", displayName(eventFile), runErr)
				}
				fmt.Fprintf(e.stderr, "lambdawarden config-rule: %s\n", printable(runErr.Error()))
			}
			for _, ev := range res.Evaluations {
				if ev.Compliance == configrule.NonCompliant {
					return exitCode(exitFindings)
				}
			}
			// An alert on a change that could not be judged is not a
			// finding: alone, it makes the run incomplete.
			if res.Alerts > res.UnknownAlerts {
				return exitCode(exitFindings)
			}
			if runErr != nil || res.UnknownAlerts > 0 || len(res.Errors) > 0 {
				return exitCode(exitIncomplete)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&eventFile, "event", "", "the event: an AWS Config rule event or an EventBridge event (- for standard input)")
	fl.StringVar(&s.EndpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator)")
	fl.StringVar(&s.Profile, "profile", "", "AWS shared-config profile")
	fl.StringVar(&s.Region, "region", "", "the Region the rule runs in (default $AWS_REGION)")
	fl.StringVar(&s.RoleName, "role-name", "OrganizationAccountAccessRole", "role assumed in the event's account when it is not the caller's")
	fl.StringVar(&s.SNSTopic, "sns-topic", "", "publish the real-time path's alerts to this SNS topic")
	fl.StringVar(&pace, "pace", "aws", "client-side pacing: aws or none (only for an emulator without quotas)")
	return cmd
}
