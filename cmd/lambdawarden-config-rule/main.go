// Command lambdawarden-config-rule is lambdawarden as an AWS Lambda
// function behind an AWS Config custom rule (and an EventBridge rule for
// CloudTrail Lambda API calls). Build it for the provided.al2023 runtime:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/lambdawarden-config-rule
//
// Environment: AWS_REGION (set by Lambda), LAMBDAWARDEN_ROLE_NAME (role
// assumed in member accounts, default OrganizationAccountAccessRole),
// LAMBDAWARDEN_SNS_TOPIC (alerts of the real-time path, optional).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/configrule/awsconfig"
)

func main() {
	var (
		mu      sync.Mutex
		handler *configrule.Handler
	)
	lambda.Start(func(ctx context.Context, event json.RawMessage) (*configrule.Result, error) {
		mu.Lock()
		if handler == nil {
			// Built on the first invocation that succeeds in building it:
			// a failure (STS unreachable) is retried by the next one.
			h, err := awsconfig.NewHandler(ctx, awsconfig.Settings{
				Region:   os.Getenv("AWS_REGION"),
				RoleName: os.Getenv("LAMBDAWARDEN_ROLE_NAME"),
				SNSTopic: os.Getenv("LAMBDAWARDEN_SNS_TOPIC"),
			})
			if err != nil {
				mu.Unlock()
				return nil, err
			}
			h.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
			handler = h
		}
		h := handler
		mu.Unlock()
		return h.Handle(ctx, event)
	})
}
