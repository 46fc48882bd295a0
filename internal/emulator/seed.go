package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
)

// Seed is the emulator's estate, the seed file format that
// docs/emulator-seed.md documents for users (keep the two in step: a test
// checks that the document names every field). Fields marked "Addition"
// go beyond what lambdawarden's scanner needs. Every field but an
// account's id and a function's or layer's name is optional. Build one with ParseSeed (strict) or in Go; New validates it
// either way.
type Seed struct {
	// Organization, when set, makes every seeded account a member of one
	// organization (DescribeOrganization, ListAccounts). Without it
	// Organizations answers AWSOrganizationsNotInUseException.
	Organization *SeedOrganization `json:"organization,omitempty"`
	// Accounts in order; the first one is the default account for requests
	// whose access key selects none.
	Accounts []SeedAccount `json:"accounts,omitempty"`
}

// SeedOrganization describes the organization all seeded accounts belong to.
type SeedOrganization struct {
	// ID is the organization id, "o-" followed by 10 to 32 lowercase
	// letters or digits.
	ID string `json:"id"`
	// ManagementAccount is the id of a seeded account. Only it may call
	// ListAccounts (others get AccessDeniedException, as in AWS).
	ManagementAccount string `json:"management_account"`
	// FeatureSet is "ALL" (default) or "CONSOLIDATED_BILLING". Addition.
	FeatureSet string `json:"feature_set,omitempty"`
}

// SeedAccount is one AWS account. The fields after Regions are additions
// (accounts, IAM and Region behaviour the scanner meets).
type SeedAccount struct {
	// ID is the 12-digit account id; static access key "AKIA"+ID selects it.
	ID string `json:"id"`
	// Name is the account name shown by ListAccounts (default: the id).
	Name string `json:"name,omitempty"`
	// Regions maps a region name to that region's Lambda estate.
	Regions map[string]SeedRegion `json:"regions,omitempty"`

	// Email for ListAccounts (default ID@example.com).
	Email string `json:"email,omitempty"`
	// Status for ListAccounts: "ACTIVE" (default) or "SUSPENDED". A
	// suspended account cannot be assumed into.
	Status string `json:"status,omitempty"`
	// JoinedMethod for ListAccounts: "CREATED" (default) or "INVITED".
	JoinedMethod string `json:"joined_method,omitempty"`
	// JoinedTimestamp for ListAccounts, RFC 3339 (default 2020-01-01T00:00:00Z).
	JoinedTimestamp string `json:"joined_timestamp,omitempty"`
	// AssumeRoleDenied makes every sts:AssumeRole into this account fail
	// with 403 AccessDenied.
	AssumeRoleDenied bool `json:"assume_role_denied,omitempty"`
	// ExternalID, when set, must be passed as ExternalId to sts:AssumeRole
	// into this account.
	ExternalID string `json:"external_id,omitempty"`
	// DisabledRegions are regions that are not enabled for the account:
	// Lambda requests there get 403 UnrecognizedClientException ("The
	// security token included in the request is invalid"), and ListRegions
	// lists them as DISABLED.
	DisabledRegions []string `json:"disabled_regions,omitempty"`
	// EnabledRegions is what ListRegions reports as enabled (default: the
	// keys of Regions, or the request's region when there are none).
	EnabledRegions []string `json:"enabled_regions,omitempty"`
	// PublicAccessBlock is the account's Lambda public-access-block setting
	// (default: both false). BlockPublicPolicy makes AddPermission and
	// PutResourcePolicy refuse public statements with PublicPolicyException.
	PublicAccessBlock *SeedPublicAccessBlock `json:"public_access_block,omitempty"`
	// Roles are IAM roles served by the read-only IAM actions (GetRole,
	// ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy). When an
	// account lists roles, sts:AssumeRole only succeeds for one of them;
	// without roles any role name can be assumed.
	Roles []SeedRole `json:"roles,omitempty"`
	// ManagedPolicies are customer (or AWS) managed IAM policies served by
	// iam:GetPolicy and iam:GetPolicyVersion and attachable to Roles.
	ManagedPolicies []SeedManagedPolicy `json:"managed_policies,omitempty"`
}

// SeedPublicAccessBlock is the account-level Lambda public access block.
type SeedPublicAccessBlock struct {
	BlockPublicPolicy      bool `json:"block_public_policy,omitempty"`
	RestrictPublicResource bool `json:"restrict_public_resource,omitempty"`
}

// SeedRegion is one region's Lambda estate.
type SeedRegion struct {
	Functions []SeedFunction `json:"functions,omitempty"`
	Layers    []SeedLayer    `json:"layers,omitempty"`
}

// SeedFunction is one function ($LATEST) with its published versions and
// aliases. Policy, PolicyError and URL apply to the unqualified function.
type SeedFunction struct {
	// Name is 1 to 64 letters, digits, '-' or '_', unique in the region.
	Name string `json:"name"`
	// Runtime (default "python3.12").
	Runtime string `json:"runtime,omitempty"`
	// Role is the execution role ARN (default arn:aws:iam::ACCOUNT:role/NAME).
	Role string `json:"role,omitempty"`
	// VPC attaches the function to subnets and security groups.
	VPC *SeedVPC `json:"vpc,omitempty"`
	// Policy is the resource policy document (an object), or null for none.
	Policy json.RawMessage `json:"policy,omitempty"`
	// URL is the function URL on the unqualified function, or null.
	URL *SeedURL `json:"url,omitempty"`
	// Versions are published versions.
	Versions []SeedVersion `json:"versions,omitempty"`
	// Aliases point at "$LATEST" or one of Versions.
	Aliases []SeedAlias `json:"aliases,omitempty"`
	// PolicyError injects a failure when this resource's policy is read; see
	// PolicyErrors for the accepted values.
	PolicyError string `json:"policy_error,omitempty"`

	// Handler (default "index.handler"). Addition.
	Handler string `json:"handler,omitempty"`
	// Description. Addition.
	Description string `json:"description,omitempty"`
	// MemorySize in MB (default 128). Addition.
	MemorySize int `json:"memory_size,omitempty"`
	// Timeout in seconds (default 3). Addition.
	Timeout int `json:"timeout,omitempty"`
	// Layers are layer version ARNs the function uses. Addition.
	Layers []string `json:"layers,omitempty"`
	// Tags returned by GetFunction. Addition.
	Tags map[string]string `json:"tags,omitempty"`
}

// SeedVPC is a function's VPC configuration.
type SeedVPC struct {
	SubnetIDs        []string `json:"subnet_ids,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
	// VpcID (default derived from the first subnet). Addition.
	VpcID string `json:"vpc_id,omitempty"`
}

// SeedURL is a function URL configuration.
type SeedURL struct {
	// AuthType is "NONE" or "AWS_IAM" (default "AWS_IAM").
	AuthType string `json:"auth_type,omitempty"`
	// Cors uses the Lambda API's own field names (AllowOrigins, ...).
	Cors *Cors `json:"cors,omitempty"`
	// InvokeMode is "BUFFERED" (default) or "RESPONSE_STREAM". Addition.
	InvokeMode string `json:"invoke_mode,omitempty"`
}

// Cors is a function URL's CORS configuration, in the Lambda API's own
// field names (both in the seed and on the wire).
type Cors struct {
	AllowCredentials *bool    `json:"AllowCredentials,omitempty"`
	AllowHeaders     []string `json:"AllowHeaders,omitempty"`
	AllowMethods     []string `json:"AllowMethods,omitempty"`
	AllowOrigins     []string `json:"AllowOrigins,omitempty"`
	ExposeHeaders    []string `json:"ExposeHeaders,omitempty"`
	MaxAge           *int     `json:"MaxAge,omitempty"`
}

// SeedVersion is a published function version.
type SeedVersion struct {
	// Version is the version number, as a string ("1") or a number (1).
	Version FunctionVersion `json:"version"`
	// Policy of this version, or null.
	Policy json.RawMessage `json:"policy,omitempty"`
	// PolicyError injects a failure when this version's policy is read.
	PolicyError string `json:"policy_error,omitempty"`
	// Description. Addition.
	Description string `json:"description,omitempty"`
}

// SeedAlias is a function alias.
type SeedAlias struct {
	// Name of the alias (not all digits).
	Name string `json:"name"`
	// Version the alias points at: "$LATEST" (default) or a seeded version.
	Version FunctionVersion `json:"version,omitempty"`
	// Policy of this alias, or null.
	Policy json.RawMessage `json:"policy,omitempty"`
	// URL on this alias, or null.
	URL *SeedURL `json:"url,omitempty"`
	// PolicyError injects a failure when this alias's policy is read.
	PolicyError string `json:"policy_error,omitempty"`
	// Description. Addition.
	Description string `json:"description,omitempty"`
}

// SeedLayer is a Lambda layer with its versions.
type SeedLayer struct {
	Name     string             `json:"name"`
	Versions []SeedLayerVersion `json:"versions,omitempty"`
}

// SeedLayerVersion is one version of a layer.
type SeedLayerVersion struct {
	// Version is a positive integer, unique within the layer.
	Version int64 `json:"version"`
	// Policy of this layer version, or null.
	Policy json.RawMessage `json:"policy,omitempty"`
	// PolicyError injects a failure when this layer version's policy is
	// read (GetLayerVersionPolicy, GetResourcePolicy). Addition.
	PolicyError string `json:"policy_error,omitempty"`
	// Description. Addition.
	Description string `json:"description,omitempty"`
	// CompatibleRuntimes. Addition.
	CompatibleRuntimes []string `json:"compatible_runtimes,omitempty"`
}

// SeedRole is an IAM role (addition).
type SeedRole struct {
	// Name of the role.
	Name string `json:"name"`
	// Path (default "/").
	Path string `json:"path,omitempty"`
	// AssumeRolePolicy is the trust policy document (default: trusts the
	// account's root).
	AssumeRolePolicy json.RawMessage `json:"assume_role_policy,omitempty"`
	// AttachedPolicies are ARNs of the account's ManagedPolicies.
	AttachedPolicies []string `json:"attached_policies,omitempty"`
	// InlinePolicies maps an inline policy name to its document.
	InlinePolicies map[string]json.RawMessage `json:"inline_policies,omitempty"`
}

// SeedManagedPolicy is a managed IAM policy (addition).
type SeedManagedPolicy struct {
	// Name of the policy.
	Name string `json:"name"`
	// Path (default "/").
	Path string `json:"path,omitempty"`
	// ARN overrides the default arn:aws:iam::ACCOUNT:policy/PATH/NAME, e.g.
	// to model an AWS managed policy (arn:aws:iam::aws:policy/...).
	ARN string `json:"arn,omitempty"`
	// Document is the default version's (v1) policy document.
	Document json.RawMessage `json:"document"`
}

// FunctionVersion is a published version number as it appears in the seed:
// JSON "1" and 1 are both accepted and stored as "1".
type FunctionVersion string

// UnmarshalJSON accepts a JSON string or a non-negative integer.
func (v *FunctionVersion) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FunctionVersion(s)
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("version must be a string or a whole number, got %s", b)
	}
	*v = FunctionVersion(strconv.FormatUint(n, 10))
	return nil
}

// Policy error injections accepted in a seed's policy_error fields.
const (
	// PolicyErrorAccessDenied answers 403 AccessDeniedException.
	PolicyErrorAccessDenied = "AccessDeniedException"
	// PolicyErrorMalformed answers 200 with a Policy string that is not JSON.
	PolicyErrorMalformed = "malformed"
	// PolicyErrorThrottling answers 429 TooManyRequestsException, always.
	PolicyErrorThrottling = "ThrottlingForever"
	// PolicyErrorTooManyRequests is a synonym of PolicyErrorThrottling.
	PolicyErrorTooManyRequests = "TooManyRequestsException"
	// PolicyErrorService answers 500 ServiceException.
	PolicyErrorService = "ServiceException"
)

// PolicyErrors lists the values a seed's policy_error may take.
func PolicyErrors() []string {
	return []string{PolicyErrorAccessDenied, PolicyErrorMalformed, PolicyErrorThrottling,
		PolicyErrorTooManyRequests, PolicyErrorService}
}

// ParseSeed decodes and validates a seed file. It is strict: an unknown
// field, a value of the wrong JSON type, a duplicate name or a dangling
// reference is an error naming its JSON path (e.g.
// `accounts[0].regions.us-east-1.functions[2].polcy: unknown field`).
func ParseSeed(data []byte) (*Seed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, seedSyntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("seed: unexpected data after the top-level JSON object")
	}
	if err := checkShape("", generic, reflect.TypeFor[Seed]()); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	var seed Seed
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&seed); err != nil {
		// checkShape accepts everything Decode rejects except values a
		// custom decoder refuses; report those plainly.
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	return &seed, nil
}

// seedSyntaxError turns a JSON syntax error's byte offset into line:column.
func seedSyntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range data[:min(int(se.Offset), len(data))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("seed: invalid JSON at line %d, column %d: %v", line, col, se)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("seed: empty input; expected a JSON object")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("seed: invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("seed: invalid JSON: %v", err)
}
