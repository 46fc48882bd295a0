// Package estate is the common shape every infrastructure-as-code reader
// (Terraform HCL, Terraform plans, CloudFormation and SAM) fills: the
// Lambda declarations a tree of code makes, each with the file, line and
// address it was written at, already resolved to plain strings.
//
// Build turns an estate into the same inventory resources the live
// collector produces: a permission becomes the statement AddPermission
// would store, a layer permission the statement AddLayerVersionPermission
// would store, and a resource policy is taken as written. A declaration
// that could not be resolved statically makes the resource it attaches to
// unknown, naming the expression and its line: code that cannot be read
// is never judged private.
package estate

import (
	"sort"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Loc says where a declaration is written. Address is the Terraform
// address (aws_lambda_permission.public[0], module.api.aws_lambda_function.fn)
// or the CloudFormation logical id.
type Loc struct {
	File    string
	Line    int
	Address string
	// Region is the Region the declaration deploys to, "" when the code
	// does not fix it; a function declared nowhere takes the Region of
	// the first declaration that names it.
	Region string
}

// Source turns the location into the inventory's form.
func (l Loc) Source() inventory.Source {
	return inventory.Source{File: l.File, Line: l.Line, Address: l.Address}
}

// Where renders file:line (address) for messages.
func (l Loc) Where() string {
	s := l.File
	if l.Line > 0 {
		s += ":" + strconv.Itoa(l.Line)
	}
	if l.Address != "" {
		s += " (" + l.Address + ")"
	}
	return s
}

// Published is the qualifier of a version a deployment publishes
// (Terraform publish = true, SAM AutoPublishAlias, AWS::Lambda::Version):
// its number is only known once it is applied.
const Published = "$PUBLISHED"

// Function is a declared function (aws_lambda_function,
// AWS::Lambda::Function, AWS::Serverless::Function).
type Function struct {
	Loc
	Name string
	// Region and Account are "" for the estate's defaults.
	Region, Account string
	Runtime, Role   string
	VPC             *inventory.VPCConfig
	// ConfigKnown is true when the VPC attachment was resolved.
	ConfigKnown bool
	// Unknown says why the function cannot be judged.
	Unknown string
	// NameUnresolved says why the function's name is not known from the
	// code (a parameter without default): Name is then the logical id or
	// address the code refers to it by. Its grants do not depend on its
	// name, so it is judged by those that refer to it, unless some
	// declaration names a function the reader cannot resolve (it may be
	// this one): then it is unknown.
	NameUnresolved string
}

// Alias is a declared alias of a function.
type Alias struct {
	Loc
	Function string // name or ARN, as resolved
	Name     string
	Unknown  string
}

// Version is a declared published version of a function.
type Version struct {
	Loc
	Function string
	Version  string // Published when it is only known after apply
	Unknown  string
}

// URL is a declared function URL.
type URL struct {
	Loc
	Function  string
	Qualifier string
	AuthType  string
	CORS      *inventory.CORS
	Unknown   string
}

// Permission is one AddPermission call as code declares it
// (aws_lambda_permission, AWS::Lambda::Permission, or one SAM generates).
type Permission struct {
	Loc
	Function              string
	Qualifier             string
	StatementID           string
	Action                string
	Principal             string
	SourceArn             string
	SourceAccount         string
	PrincipalOrgID        string
	EventSourceToken      string
	FunctionURLAuthType   string
	InvokedViaFunctionURL bool
	Unknown               string
	// FunctionUnknown says why the function the permission grants on
	// cannot be resolved (a data source, an import, a parameter without
	// default), when Function is "". The grant itself may still be read:
	// a public one makes whatever function it lands on public.
	FunctionUnknown string
}

// ResourcePolicy is a full JSON policy put on a function, alias or
// version (aws_lambda_resource_policy, AWS::Lambda::ResourcePolicy).
type ResourcePolicy struct {
	Loc
	Target   string // function name or (qualified) ARN
	Document string
	Unknown  string
}

// Layer is a declared layer version.
type Layer struct {
	Loc
	Name    string
	Version string // Published when it is only known after apply
	Region  string
	Unknown string
}

// LayerPermission is one AddLayerVersionPermission call.
type LayerPermission struct {
	Loc
	Layer          string // layer name or layer ARN
	Version        string
	StatementID    string
	Action         string
	Principal      string
	OrganizationID string
	Unknown        string
	// LayerUnknown says why the layer cannot be resolved, when Layer is
	// "" (see Permission.FunctionUnknown).
	LayerUnknown string
}

// Estate is what one tree of code declares.
type Estate struct {
	Functions        []Function
	Aliases          []Alias
	Versions         []Version
	URLs             []URL
	Permissions      []Permission
	ResourcePolicies []ResourcePolicy
	Layers           []Layer
	LayerPermissions []LayerPermission
	// Broken are files (or parts of files) that could not be read at all.
	Broken []Broken
}

// Broken is an input that could not be read: it becomes an unknown
// resource of its own, so the run is incomplete but the other files are
// still judged.
type Broken struct {
	Loc
	Reason string
}

// Add appends another estate's declarations.
func (e *Estate) Add(o *Estate) {
	e.Functions = append(e.Functions, o.Functions...)
	e.Aliases = append(e.Aliases, o.Aliases...)
	e.Versions = append(e.Versions, o.Versions...)
	e.URLs = append(e.URLs, o.URLs...)
	e.Permissions = append(e.Permissions, o.Permissions...)
	e.ResourcePolicies = append(e.ResourcePolicies, o.ResourcePolicies...)
	e.Layers = append(e.Layers, o.Layers...)
	e.LayerPermissions = append(e.LayerPermissions, o.LayerPermissions...)
	e.Broken = append(e.Broken, o.Broken...)
}

// Options are the facts code does not state.
type Options struct {
	// Owner is the account the code is deployed to (--account);
	// OwnerPlaceholder when it was not given.
	Owner string
	// Region is the Region of declarations that name none; "" leaves it
	// as RegionPlaceholder.
	Region string
	// Partition defaults to "aws".
	Partition string
}

// OwnerPlaceholder stands for the deploying account when --account was
// not given: it equals no literal account id, so every account written
// in the code counts as foreign.
const OwnerPlaceholder = "OWNER"

// RegionPlaceholder stands for a Region the code does not fix.
const RegionPlaceholder = "REGION"

func (o *Options) fill() {
	if o.Owner == "" {
		o.Owner = OwnerPlaceholder
	}
	if o.Region == "" {
		o.Region = RegionPlaceholder
	}
	if o.Partition == "" {
		o.Partition = "aws"
	}
}

// FunctionARN is the ARN a function (optionally qualified) gets.
func (o Options) FunctionARN(region, account, name, qualifier string) string {
	o.fill()
	if region == "" {
		region = o.Region
	}
	if account == "" {
		account = o.Owner
	}
	s := "arn:" + o.Partition + ":lambda:" + region + ":" + account + ":function:" + name
	if qualifier != "" {
		s += ":" + qualifier
	}
	return s
}

// LayerARN is the ARN of a layer (version "" for the layer itself).
func (o Options) LayerARN(region, account, name, version string) string {
	o.fill()
	if region == "" {
		region = o.Region
	}
	if account == "" {
		account = o.Owner
	}
	s := "arn:" + o.Partition + ":lambda:" + region + ":" + account + ":layer:" + name
	if version != "" {
		s += ":" + version
	}
	return s
}

// ref is a function or layer reference read from a name or an ARN.
type ref struct {
	name, qualifier, region, account string
}

// parseRef reads what FunctionName / LayerName accept: a name, a
// name:qualifier, a full ARN or a partial ARN (ACCOUNT:function:NAME).
func parseRef(s string, kind string) ref {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "arn:") {
		parts := strings.Split(s, ":")
		if len(parts) >= 7 && parts[5] == kind {
			r := ref{name: parts[6], region: parts[3], account: parts[4]}
			if len(parts) >= 8 {
				r.qualifier = parts[7]
			}
			return r
		}
		return ref{name: s}
	}
	parts := strings.Split(s, ":")
	if len(parts) >= 3 && parts[1] == kind {
		r := ref{name: parts[2], account: parts[0]}
		if len(parts) >= 4 {
			r.qualifier = parts[3]
		}
		return r
	}
	if kind == "function" && len(parts) == 2 {
		return ref{name: parts[0], qualifier: parts[1]}
	}
	return ref{name: s}
}

// sortResources orders resources by ARN, then by source, so output is
// stable whatever order files were read in.
func sortResources(rs []*inventory.Resource) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].ARN != rs[j].ARN {
			return rs[i].ARN < rs[j].ARN
		}
		if rs[i].Source.File != rs[j].Source.File {
			return rs[i].Source.File < rs[j].Source.File
		}
		return rs[i].Source.Line < rs[j].Source.Line
	})
}
