// Package awsexec is the remediate.Executor that talks to AWS Lambda
// through aws-sdk-go-v2. It resolves endpoints and credentials the way the
// collector does (a profile or the default chain, an optional endpoint
// URL, the role assumed in accounts other than the caller's), and maps
// Lambda's 412, 404 and 409 answers to remediate's sentinel errors.
package awsexec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
)

// Config says how to reach AWS.
type Config struct {
	// Profile selects a shared-config profile; empty uses the default
	// credential chain.
	Profile string
	// EndpointURL sends every call to one endpoint (an emulator).
	EndpointURL string
	// Credentials overrides the credential chain (used by --demo).
	Credentials aws.CredentialsProvider
	// RoleName is assumed in accounts other than the caller's (default
	// OrganizationAccountAccessRole), as the scan did.
	RoleName   string
	ExternalID string
	// Region is used for STS; each call uses its resource's Region.
	Region     string
	HTTPClient *http.Client
}

// Executor implements remediate.Executor with the Lambda API.
type Executor struct {
	cfg       Config
	base      aws.Config
	stsClient *sts.Client
	caller    string
	partition string

	mu       sync.Mutex
	accounts map[string]aws.Config
	clients  map[string]*lambda.Client
}

var _ remediate.Executor = (*Executor)(nil)

// New loads the configuration and identifies the caller.
func New(ctx context.Context, c Config) (*Executor, error) {
	var fns []func(*config.LoadOptions) error
	if c.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(c.Profile))
	}
	// Only throttles are retried: they are refused before anything
	// happens. A timeout or 5xx may or may not have been applied, so it is
	// reported instead; the RevisionId guard and a fresh read decide what
	// to do next, never a blind retry.
	fns = append(fns, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableErrorCode{Codes: map[string]struct{}{
				"TooManyRequestsException": {}, "ThrottlingException": {}, "Throttling": {},
			}}}
		})
	}))
	fns = append(fns, config.WithLogger(logging.Nop{}))
	if c.Credentials != nil {
		fns = append(fns, config.WithCredentialsProvider(c.Credentials))
	}
	if c.HTTPClient != nil {
		fns = append(fns, config.WithHTTPClient(c.HTTPClient))
	}
	if c.Region != "" {
		fns = append(fns, config.WithRegion(c.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	e := &Executor{cfg: c, base: cfg, accounts: map[string]aws.Config{}, clients: map[string]*lambda.Client{}}
	e.stsClient = sts.NewFromConfig(cfg, func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, c.EndpointURL) })
	ident, err := e.stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("cannot identify the caller with sts:GetCallerIdentity: %s", shortError(err))
	}
	e.caller = aws.ToString(ident.Account)
	e.partition = "aws"
	if a, err := inventory.ParseARN(aws.ToString(ident.Arn)); err == nil && a.Partition != "" {
		e.partition = a.Partition
	}
	return e, nil
}

// Caller returns the caller's account id.
func (e *Executor) Caller() string { return e.caller }

func setEndpoint(dst **string, url string) {
	if url != "" {
		*dst = aws.String(url)
	}
}

// client returns the Lambda client for the resource's account and Region,
// assuming the role in another account once.
func (e *Executor) client(ctx context.Context, ref remediate.Ref) (*lambda.Client, error) {
	key := ref.Account + "/" + ref.Region
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.clients[key]; ok {
		return c, nil
	}
	cfg, ok := e.accounts[ref.Account]
	if !ok {
		cfg = e.base
		if ref.Account != "" && ref.Account != e.caller {
			role := e.cfg.RoleName
			if role == "" {
				role = "OrganizationAccountAccessRole"
			}
			roleARN := "arn:" + e.partition + ":iam::" + ref.Account + ":role/" + role
			provider := stscreds.NewAssumeRoleProvider(e.stsClient, roleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = "lambdawarden-fix"
				if e.cfg.ExternalID != "" {
					o.ExternalID = aws.String(e.cfg.ExternalID)
				}
			})
			cfg = e.base.Copy()
			cfg.Credentials = aws.NewCredentialsCache(provider)
			if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
				return nil, fmt.Errorf("account %s: cannot assume role %s: %s", ref.Account, role, shortError(err))
			}
		}
		e.accounts[ref.Account] = cfg
	}
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if ref.Region != "" {
			o.Region = ref.Region
		}
		setEndpoint(&o.BaseEndpoint, e.cfg.EndpointURL)
	})
	e.clients[key] = c
	return c, nil
}

// Read returns the policy (GetPolicy, or GetLayerVersionPolicy) and, for
// functions and aliases, the function URL configuration. A 404 means
// none; any other error is returned.
func (e *Executor) Read(ctx context.Context, ref remediate.Ref) (remediate.State, error) {
	var st remediate.State
	c, err := e.client(ctx, ref)
	if err != nil {
		return st, err
	}
	if ref.Kind == inventory.KindLayerVersion {
		out, err := c.GetLayerVersionPolicy(ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(ref.Name), VersionNumber: aws.Int64(ref.LayerVersion)})
		switch {
		case err == nil:
			st.Policy = &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetLayerVersionPolicy"}}
		case !isCode(err, "ResourceNotFoundException"):
			return st, wrap("GetLayerVersionPolicy", err)
		}
		return st, nil
	}
	out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(ref.Name), Qualifier: optional(ref.Qualifier)})
	switch {
	case err == nil:
		st.Policy = &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetPolicy"}}
	case !isCode(err, "ResourceNotFoundException"):
		return st, wrap("GetPolicy", err)
	}
	if ref.Kind == inventory.KindFunction || ref.Kind == inventory.KindAlias {
		u, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(ref.Name), Qualifier: optional(ref.Qualifier)})
		switch {
		case err == nil:
			st.URL = &inventory.FunctionURL{URL: aws.ToString(u.FunctionUrl), AuthType: string(u.AuthType)}
			if cors := u.Cors; cors != nil {
				st.URL.CORS = &inventory.CORS{AllowOrigins: cors.AllowOrigins, AllowCredentials: aws.ToBool(cors.AllowCredentials), AllowMethods: cors.AllowMethods}
			}
		case !isCode(err, "ResourceNotFoundException"):
			return st, wrap("GetFunctionUrlConfig", err)
		}
	}
	return st, nil
}

// RemovePermission deletes one statement by Sid, guarded by revisionID.
func (e *Executor) RemovePermission(ctx context.Context, ref remediate.Ref, sid, revisionID string) error {
	c, err := e.client(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(ref.Name), Qualifier: optional(ref.Qualifier), StatementId: aws.String(sid), RevisionId: optional(revisionID)})
	return wrap("RemovePermission", err)
}

// AddPermission adds one statement with AddPermission and returns the
// statement as Lambda stored it.
func (e *Executor) AddPermission(ctx context.Context, ref remediate.Ref, p remediate.Permission, revisionID string) (string, error) {
	c, err := e.client(ctx, ref)
	if err != nil {
		return "", err
	}
	in := &lambda.AddPermissionInput{
		FunctionName: aws.String(ref.Name), Qualifier: optional(ref.Qualifier), StatementId: aws.String(p.StatementID),
		Action: aws.String(p.Action), Principal: aws.String(p.Principal), RevisionId: optional(revisionID),
		SourceArn: optional(p.SourceArn), SourceAccount: optional(p.SourceAccount), PrincipalOrgID: optional(p.PrincipalOrgID),
		EventSourceToken: optional(p.EventSourceToken), FunctionUrlAuthType: types.FunctionUrlAuthType(p.FunctionURLAuthType),
	}
	if p.InvokedViaFunctionURL {
		in.InvokedViaFunctionUrl = aws.Bool(true)
	}
	out, err := c.AddPermission(ctx, in)
	if err != nil {
		return "", wrap("AddPermission", err)
	}
	return aws.ToString(out.Statement), nil
}

// PutResourcePolicy replaces the whole policy, guarded by revisionID.
func (e *Executor) PutResourcePolicy(ctx context.Context, ref remediate.Ref, document, revisionID string) (string, error) {
	c, err := e.client(ctx, ref)
	if err != nil {
		return "", err
	}
	out, err := c.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(ref.ARN), Policy: aws.String(document), RevisionId: optional(revisionID)})
	if err != nil {
		return "", wrap("PutResourcePolicy", err)
	}
	return aws.ToString(out.RevisionId), nil
}

// DeleteResourcePolicy deletes the whole policy, guarded by revisionID.
func (e *Executor) DeleteResourcePolicy(ctx context.Context, ref remediate.Ref, revisionID string) error {
	c, err := e.client(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(ref.ARN), RevisionId: optional(revisionID)})
	return wrap("DeleteResourcePolicy", err)
}

// UpdateFunctionURLAuthType changes only the URL's auth type.
func (e *Executor) UpdateFunctionURLAuthType(ctx context.Context, ref remediate.Ref, authType string) error {
	c, err := e.client(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String(ref.Name), Qualifier: optional(ref.Qualifier), AuthType: types.FunctionUrlAuthType(authType)})
	return wrap("UpdateFunctionUrlConfig", err)
}

// RemoveLayerVersionPermission deletes one layer statement by Sid.
func (e *Executor) RemoveLayerVersionPermission(ctx context.Context, ref remediate.Ref, sid, revisionID string) error {
	c, err := e.client(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.RemoveLayerVersionPermission(ctx, &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String(ref.Name), VersionNumber: aws.Int64(ref.LayerVersion), StatementId: aws.String(sid), RevisionId: optional(revisionID)})
	return wrap("RemoveLayerVersionPermission", err)
}

// AddLayerVersionPermission adds one layer statement.
func (e *Executor) AddLayerVersionPermission(ctx context.Context, ref remediate.Ref, p remediate.Permission, revisionID string) error {
	c, err := e.client(ctx, ref)
	if err != nil {
		return err
	}
	_, err = c.AddLayerVersionPermission(ctx, &lambda.AddLayerVersionPermissionInput{
		LayerName: aws.String(ref.Name), VersionNumber: aws.Int64(ref.LayerVersion), StatementId: aws.String(p.StatementID),
		Action: aws.String(p.Action), Principal: aws.String(p.Principal), OrganizationId: optional(p.PrincipalOrgID), RevisionId: optional(revisionID),
	})
	return wrap("AddLayerVersionPermission", err)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// wrap names the call and maps Lambda's answers to remediate's errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorCode() + ": " + ae.ErrorMessage()
		switch ae.ErrorCode() {
		case "PreconditionFailedException":
			return fmt.Errorf("%s: %w (%s)", op, remediate.ErrPreconditionFailed, ae.ErrorMessage())
		case "ResourceNotFoundException":
			return fmt.Errorf("%s: %w: %s", op, remediate.ErrNotFound, ae.ErrorMessage())
		case "ResourceConflictException":
			return fmt.Errorf("%s: %w: %s", op, remediate.ErrConflict, ae.ErrorMessage())
		}
		return fmt.Errorf("%s: %s", op, msg)
	}
	return fmt.Errorf("%s: %v", op, err)
}

func shortError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
