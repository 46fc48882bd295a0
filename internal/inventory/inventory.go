// Package inventory holds the plain data every input (live AWS, IaC files,
// CloudTrail events, pasted policies) is turned into before it is judged.
//
// It has no behaviour beyond small helpers: the policy engine and the rules
// read it, the collectors fill it. Every value can say where it came from
// (Source) and whether it could be read at all (Unknown), because a value
// that could not be read must never be mistaken for "nothing there".
package inventory

import (
	"fmt"
	"strings"
)

// Kind is the kind of Lambda resource a policy is attached to.
type Kind string

// The resource kinds that carry their own resource-based policy.
const (
	KindFunction     Kind = "function"
	KindAlias        Kind = "alias"
	KindVersion      Kind = "version"
	KindLayerVersion Kind = "layer-version"
	// KindExecutionRole is a function's IAM execution role, judged by its
	// trust policy (who may assume it).
	KindExecutionRole Kind = "execution-role"
)

// Source says where a value was read: an ARN and API call for live
// resources, a file and line for IaC, "-" for standard input.
type Source struct {
	API  string `json:"api,omitempty"`  // e.g. "GetPolicy"
	File string `json:"file,omitempty"` // IaC or pasted file
	Line int    `json:"line,omitempty"`
	// Address is the Terraform address or CloudFormation logical id of
	// the declaration (IaC only).
	Address string `json:"address,omitempty"`
}

// PolicyOrigin tells how a policy was written, which decides how it can be
// fixed: statements made by AddPermission can be removed one by one with
// remove-permission; a full JSON policy is rewritten with put-resource-policy.
type PolicyOrigin string

// Policy origins.
const (
	OriginUnknown        PolicyOrigin = ""
	OriginAddPermission  PolicyOrigin = "add-permission"
	OriginResourcePolicy PolicyOrigin = "resource-policy"
)

// Policy is a resource-based policy document as read, before parsing.
type Policy struct {
	Document   string       `json:"document"`
	RevisionID string       `json:"revision_id,omitempty"`
	Origin     PolicyOrigin `json:"origin,omitempty"`
	Source     Source       `json:"source"`
	// Statements, when set, says where each statement of Document was
	// declared (IaC: the aws_lambda_permission block that writes it),
	// index-aligned with the document's Statement list.
	Statements []Source `json:"statements,omitempty"`
}

// CORS is the subset of a function URL's CORS settings that affects
// exposure.
type CORS struct {
	AllowOrigins     []string `json:"allow_origins,omitempty"`
	AllowCredentials bool     `json:"allow_credentials,omitempty"`
	AllowMethods     []string `json:"allow_methods,omitempty"`
}

// FunctionURL is a function URL configuration on $LATEST or an alias.
type FunctionURL struct {
	URL      string `json:"url,omitempty"`
	AuthType string `json:"auth_type"` // NONE or AWS_IAM
	CORS     *CORS  `json:"cors,omitempty"`
}

// VPCConfig is a function's VPC attachment; nil or empty subnets means the
// function is not in a VPC.
type VPCConfig struct {
	VPCID            string   `json:"vpc_id,omitempty"`
	SubnetIDs        []string `json:"subnet_ids,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
}

// PublicAccessBlock is Lambda's public-access-block setting, when it could
// be read.
type PublicAccessBlock struct {
	BlockPublicPolicy      bool `json:"block_public_policy"`
	RestrictPublicResource bool `json:"restrict_public_resource"`
}

// RolePolicy is one permissions policy of a role: attached (managed) or
// inline.
type RolePolicy struct {
	Name     string `json:"name"`
	ARN      string `json:"arn,omitempty"` // managed policies
	Document string `json:"document,omitempty"`
}

// ExecutionRole is a function's IAM role: who may assume it (the trust
// policy) and what it may do.
type ExecutionRole struct {
	ARN         string       `json:"arn"`
	TrustPolicy string       `json:"trust_policy,omitempty"`
	Policies    []RolePolicy `json:"policies,omitempty"`
	// Unknown says why the role could not be read.
	Unknown string `json:"unknown,omitempty"`
	// Missing is set when IAM says the role does not exist (NoSuchEntity):
	// AWS keeps a function's role ARN after the role is deleted.
	Missing bool `json:"missing,omitempty"`
}

// Resource is one policy-bearing Lambda resource: an unqualified function,
// an alias, a published version, or a layer version.
type Resource struct {
	ARN       string `json:"arn"`
	Kind      Kind   `json:"kind"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	Name      string `json:"name"`                // function or layer name
	Qualifier string `json:"qualifier,omitempty"` // alias name or version number
	// LayerVersion is set for layer versions.
	LayerVersion int64 `json:"layer_version,omitempty"`

	// Policy is nil when the resource has no policy (GetPolicy answered
	// 404); PolicyUnknown is set when it could not be read.
	Policy        *Policy `json:"policy,omitempty"`
	PolicyUnknown string  `json:"policy_unknown,omitempty"`
	// FunctionPolicy is, for aliases and versions, the unqualified
	// function's policy: its Allow statements whose Resource matches this
	// resource's ARN count too (our stricter rule: AWS does not document
	// whether they apply).
	FunctionPolicy        *Policy `json:"function_policy,omitempty"`
	FunctionPolicyUnknown string  `json:"function_policy_unknown,omitempty"`

	// URL is the function URL on this resource; URLUnknown says why it
	// could not be read; URLChecked is false when the collector did not
	// look (a URL cannot be reached without a policy grant, so URL configs
	// are read only where a policy could expose them: the shared request
	// quota is the scan's limit).
	URL        *FunctionURL `json:"url,omitempty"`
	URLUnknown string       `json:"url_unknown,omitempty"`
	URLChecked bool         `json:"url_checked,omitempty"`

	Runtime string     `json:"runtime,omitempty"`
	Role    string     `json:"role,omitempty"`
	VPC     *VPCConfig `json:"vpc,omitempty"`
	// ConfigKnown is true when the function configuration (VPC, role) was
	// read; rules about it are skipped otherwise.
	ConfigKnown bool `json:"config_known,omitempty"`

	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`

	// ExecutionRole is the function's role as read from IAM (unqualified
	// functions only; nil when role posture was not collected).
	ExecutionRole *ExecutionRole `json:"execution_role,omitempty"`

	// AccountIAM is the owner account's roles, shared by all its function
	// resources, for access paths through assumable roles (nil when they
	// were not collected). Not serialized: it is the account's, not the
	// resource's.
	AccountIAM *AccountIAM `json:"-"`

	// ARNInferred is true when ARN was read from the policy's own
	// statements (a pasted policy without --resource-arn): every statement
	// then counts, whatever its Resource.
	ARNInferred bool `json:"arn_inferred,omitempty"`

	// Unknown is set when the resource as a whole could not be assessed
	// (for example its account could not be entered).
	Unknown string `json:"unknown,omitempty"`
	// Unresolved names what of the resource could not be read when what
	// was read already decides its verdict (infrastructure as code: grants
	// that are public whatever the unresolved ones add). It is judged, and
	// reported as partly checked.
	Unresolved string `json:"unresolved,omitempty"`
	Source     Source `json:"source"`
}

// UnknownReason returns why the resource cannot be judged, or "" when its
// policies were read. A resource whose own or inherited policy could not be
// read is unknown: its verdict would otherwise rest on a guess.
func (r *Resource) UnknownReason() string {
	switch {
	case r.Unknown != "":
		return r.Unknown
	case r.PolicyUnknown != "":
		return r.PolicyUnknown
	case r.FunctionPolicyUnknown != "":
		return "function policy: " + r.FunctionPolicyUnknown
	}
	return ""
}

// ARN is a parsed Amazon Resource Name. Resource keeps everything after the
// fifth colon, colons included.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN into its parts. It accepts any service.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN (want arn:partition:service:region:account:resource)", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String reassembles the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// LambdaARN is a Lambda function or layer ARN split into its Lambda parts.
type LambdaARN struct {
	ARN
	Kind      Kind
	Name      string
	Qualifier string // alias or version for functions; version number for layers
}

// ParseLambdaARN reads a function, qualified function or layer version ARN.
// A numeric qualifier (or $LATEST) is a version; anything else an alias.
func ParseLambdaARN(s string) (LambdaARN, error) {
	a, err := ParseARN(s)
	if err != nil {
		return LambdaARN{}, err
	}
	if a.Service != "lambda" {
		return LambdaARN{}, fmt.Errorf("%q is not a Lambda ARN (service is %q)", s, a.Service)
	}
	fields := strings.Split(a.Resource, ":")
	out := LambdaARN{ARN: a}
	switch {
	case fields[0] == "function" && (len(fields) == 2 || len(fields) == 3) && fields[1] != "":
		out.Name = fields[1]
		out.Kind = KindFunction
		if len(fields) == 3 {
			out.Qualifier = fields[2]
			out.Kind = KindAlias
			if isVersion(fields[2]) {
				out.Kind = KindVersion
			}
		}
	case fields[0] == "layer" && len(fields) == 3 && fields[1] != "":
		out.Name = fields[1]
		out.Qualifier = fields[2]
		out.Kind = KindLayerVersion
	default:
		return LambdaARN{}, fmt.Errorf("%q is not a function, alias, version or layer version ARN", s)
	}
	return out, nil
}

// Unqualified returns the function ARN without alias or version.
func (l LambdaARN) Unqualified() string {
	return "arn:" + l.Partition + ":lambda:" + l.Region + ":" + l.Account + ":function:" + l.Name
}

func isVersion(q string) bool {
	if q == "$LATEST" {
		return true
	}
	if q == "" {
		return false
	}
	for _, c := range q {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
