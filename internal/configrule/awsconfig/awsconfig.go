// Package awsconfig wires the Config rule handler to AWS: AWS Config
// (PutEvaluations, GetResourceConfigHistory) through aws-sdk-go-v2, the
// collector's readers, and an SNS publisher for the real-time path. The
// Lambda function and `lambdawarden config-rule` both build their handler
// here.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/sink"
	"github.com/lambdawarden/lambdawarden/internal/sink/snssink"
)

// Settings say how to reach AWS.
type Settings struct {
	Profile     string
	EndpointURL string
	// Region is where the rule runs (the Lambda function's AWS_REGION).
	Region string
	// RoleName is assumed in the event's account when it is not the
	// function's own (organization rules), for reads and PutEvaluations.
	RoleName    string
	SessionName string
	// SNSTopic receives the real-time path's alerts ("" = none).
	SNSTopic    string
	Credentials aws.CredentialsProvider
	// NoPacing turns the collector's pacing off (an emulator without
	// quotas).
	NoPacing bool
}

// NewHandler builds the rule handler.
func NewHandler(ctx context.Context, s Settings) (*configrule.Handler, error) {
	if s.Region == "" {
		return nil, errors.New("no Region: set AWS_REGION (the Lambda runtime does) or pass --region")
	}
	if s.RoleName == "" {
		s.RoleName = "OrganizationAccountAccessRole"
	}
	if s.SessionName == "" {
		s.SessionName = "lambdawarden-config-rule"
	}
	copt := awscollect.Options{Profile: s.Profile, EndpointURL: s.EndpointURL, Regions: []string{s.Region}, RoleName: s.RoleName,
		SessionName: s.SessionName, Credentials: s.Credentials, SkipRoles: true, Thorough: true,
		// GetResourcePolicy would add a permission IAM policy linters do
		// not know yet; GetPolicy reads the same documents.
		GetPolicyOnly: true}
	if s.NoPacing {
		copt.Quotas = map[awscollect.Budget]float64{}
	}
	reader, err := awscollect.NewReader(ctx, copt)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	svc := &Service{base: cfg, settings: s, caller: reader.Caller(), clients: map[string]*configservice.Client{}}
	h := &configrule.Handler{Reader: reader, Config: svc, Region: s.Region,
		Scan: func(ctx context.Context, account, region string, emit func(*inventory.Resource)) ([]string, error) {
			opt := copt
			opt.Regions = []string{region}
			if account != "" && account != reader.Caller() {
				opt.Accounts = []string{account}
			}
			sum, err := awscollect.Collect(ctx, opt, emit)
			if err != nil {
				return nil, err
			}
			return sum.Errors, nil
		}}
	if s.SNSTopic != "" {
		pub, err := snssink.New(ctx, snssink.Config{Topic: s.SNSTopic, Profile: s.Profile, EndpointURL: s.EndpointURL, Credentials: s.Credentials})
		if err != nil {
			return nil, err
		}
		h.Alerts = append(h.Alerts, &direct{t: pub})
	}
	return h, nil
}

func loadConfig(ctx context.Context, s Settings) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.Region), config.WithLogger(logging.Nop{})}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if s.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(s.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %v", err)
	}
	return cfg, nil
}

// Service is AWS Config in each account the rule evaluates.
type Service struct {
	base     aws.Config
	settings Settings
	caller   string

	mu      sync.Mutex
	clients map[string]*configservice.Client
}

func (s *Service) client(account string) *configservice.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[account]; c != nil {
		return c
	}
	cfg := s.base.Copy()
	if account != "" && account != s.caller {
		stsClient := sts.NewFromConfig(s.base, func(o *sts.Options) {
			if s.settings.EndpointURL != "" {
				o.BaseEndpoint = aws.String(s.settings.EndpointURL)
			}
		})
		role := "arn:aws:iam::" + account + ":role/" + s.settings.RoleName
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = s.settings.SessionName
		}))
	}
	c := configservice.NewFromConfig(cfg, func(o *configservice.Options) {
		if s.settings.EndpointURL != "" {
			o.BaseEndpoint = aws.String(s.settings.EndpointURL)
		}
	})
	s.clients[account] = c
	return c
}

// PutEvaluations implements configrule.ConfigService.
func (s *Service) PutEvaluations(ctx context.Context, account, token string, testMode bool, evs []configrule.Evaluation) error {
	in := &configservice.PutEvaluationsInput{ResultToken: aws.String(token), TestMode: testMode}
	for _, e := range evs {
		ce := cstypes.Evaluation{ComplianceResourceType: aws.String(e.ResourceType), ComplianceResourceId: aws.String(e.ResourceID),
			ComplianceType: cstypes.ComplianceType(e.Compliance), OrderingTimestamp: aws.Time(e.OrderingTimestamp)}
		if e.Annotation != "" {
			ce.Annotation = aws.String(e.Annotation)
		}
		in.Evaluations = append(in.Evaluations, ce)
	}
	out, err := s.client(account).PutEvaluations(ctx, in)
	if err != nil {
		return short(err)
	}
	if n := len(out.FailedEvaluations); n > 0 {
		return fmt.Errorf("AWS Config refused %d evaluation(s), the first for %s", n, aws.ToString(out.FailedEvaluations[0].ComplianceResourceId))
	}
	return nil
}

// ConfigurationItem implements configrule.ConfigService.
func (s *Service) ConfigurationItem(ctx context.Context, account, resourceType, resourceID string) (*configrule.Item, error) {
	out, err := s.client(account).GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{
		ResourceType: cstypes.ResourceType(resourceType), ResourceId: aws.String(resourceID), Limit: 1})
	if err != nil {
		return nil, short(err)
	}
	if len(out.ConfigurationItems) == 0 {
		return nil, fmt.Errorf("no configuration item for %s", resourceID)
	}
	ci := out.ConfigurationItems[0]
	return &configrule.Item{ResourceType: string(ci.ResourceType), ResourceID: aws.ToString(ci.ResourceId), ResourceName: aws.ToString(ci.ResourceName),
		ARN: aws.ToString(ci.Arn), Account: aws.ToString(ci.AccountId), Region: aws.ToString(ci.AwsRegion), Status: string(ci.ConfigurationItemStatus),
		CaptureTime: aws.ToTime(ci.ConfigurationItemCaptureTime)}, nil
}

func short(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

// direct publishes at once, a few attempts, no disk queue: a Lambda
// invocation has no disk that outlives it, and a failure fails the
// invocation, which Lambda retries.
type direct struct{ t sink.Transport }

func (d *direct) Name() string { return d.t.Name() }

func (d *direct) Send(ctx context.Context, m sink.Message) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = d.t.Deliver(ctx, m); err == nil {
			return nil
		}
		var perm *sink.Permanent
		if errors.As(err, &perm) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(200*(attempt+1)) * time.Millisecond):
		}
	}
	return err
}

func (d *direct) Close(context.Context) error { return nil }
