// Package snssink is the sink.Transport that publishes alerts to an
// Amazon SNS topic through aws-sdk-go-v2. It is a subpackage so that
// package sink stays free of the SDK.
package snssink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/sink"
)

// Config says where to publish.
type Config struct {
	Topic       string // arn:aws:sns:REGION:ACCOUNT:NAME
	Profile     string
	EndpointURL string
	Credentials aws.CredentialsProvider
}

// Publisher publishes each alert as one SNS message: the alert JSON as
// the message, its one-line summary as the subject, its id as the
// "alert_id" message attribute.
type Publisher struct {
	topic  string
	client *sns.Client
}

// New prepares a publisher for the topic, in the topic's Region.
func New(ctx context.Context, c Config) (*Publisher, error) {
	arn, err := inventory.ParseARN(c.Topic)
	if err != nil || arn.Service != "sns" {
		return nil, fmt.Errorf("%q is not an SNS topic ARN", c.Topic)
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(arn.Region), config.WithLogger(logging.Nop{})}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	// The durable queue retries with its own backoff.
	opts = append(opts, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("SNS: load AWS configuration: %v", err)
	}
	client := sns.NewFromConfig(cfg, func(o *sns.Options) {
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
	})
	return &Publisher{topic: c.Topic, client: client}, nil
}

// Name implements sink.Transport.
func (p *Publisher) Name() string { return "SNS " + p.topic }

// Deliver publishes one alert. Throttling, 5xx and network errors are
// retried by the queue; a refusal (no such topic, not authorized, invalid
// parameter) is permanent.
func (p *Publisher) Deliver(ctx context.Context, m sink.Message) error {
	_, err := p.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.topic),
		Message:  aws.String(string(m.Body)),
		Subject:  aws.String(subject(m.Subject)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"alert_id": {DataType: aws.String("String"), StringValue: aws.String(m.ID)},
		},
	})
	if err == nil {
		return nil
	}
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
		err = fmt.Errorf("%s: %s", code, ae.ErrorMessage())
	}
	switch {
	case code == "Throttled" || code == "Throttling" || code == "ThrottlingException" || status == http.StatusTooManyRequests || status >= 500:
		return err
	case status >= 400:
		return &sink.Permanent{Err: err}
	}
	return err
}

// subject fits SNS's rule: at most 100 printable ASCII characters, no
// line breaks.
func subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 100 {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	if b.Len() == 0 {
		return "lambdawarden alert"
	}
	return b.String()
}
