// Package remediate plans and carries out fixes for the exposures a scan
// reports, and puts them back.
//
// It is built in three layers so each can be trusted on its own:
//
//   - The planner (Plan, PlanTarget) is pure: given the resources as read
//     (policy text, RevisionId, function URL) it decides which flagged
//     statements to remove or narrow, rewrites the policy by splicing the
//     raw statement text (every other statement stays byte-identical),
//     re-judges the rewritten resources with the same engine the scan uses,
//     and lists the API calls with their AWS CLI equivalents. It never
//     touches a statement the scan did not flag, and it refuses to remove a
//     statement that is a private or organization grant for any resource it
//     reaches.
//   - The Executor interface is the only way to change anything; the SDK
//     implementation lives in the awsexec subpackage, so the planner and the
//     apply loop are tested against fakes and the emulator alike.
//   - Apply re-reads each resource, re-plans it on what it read, writes a
//     backup (fsynced, file and directory) before the first write call,
//     guards every write with the RevisionId just read, and on a 412
//     PreconditionFailed re-reads and re-plans instead of retrying. Restore
//     puts backed-up statements back.
package remediate

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// Ref names one policy-bearing resource: an unqualified function, an
// alias, a published version or a layer version.
type Ref struct {
	ARN          string         `json:"arn"`
	Kind         inventory.Kind `json:"kind"`
	Account      string         `json:"account"`
	Region       string         `json:"region"`
	Name         string         `json:"name"`
	Qualifier    string         `json:"qualifier,omitempty"`
	LayerVersion int64          `json:"layer_version,omitempty"`
}

// RefOf returns the reference of an inventory resource.
func RefOf(r *inventory.Resource) Ref {
	return Ref{ARN: r.ARN, Kind: r.Kind, Account: r.Account, Region: r.Region, Name: r.Name, Qualifier: r.Qualifier, LayerVersion: r.LayerVersion}
}

// ParseRef builds a reference from a function, alias, version or layer
// version ARN.
func ParseRef(arn string) (Ref, error) {
	a, err := inventory.ParseLambdaARN(arn)
	if err != nil {
		return Ref{}, err
	}
	ref := Ref{ARN: arn, Kind: a.Kind, Account: a.Account, Region: a.Region, Name: a.Name, Qualifier: a.Qualifier}
	if a.Kind == inventory.KindLayerVersion {
		n, err := strconv.ParseInt(a.Qualifier, 10, 64)
		if err != nil || n <= 0 {
			return Ref{}, fmt.Errorf("%q: a layer version number is a positive integer", arn)
		}
		ref.LayerVersion = n
	}
	return ref, nil
}

// unqualified returns the reference of the function an alias or version
// belongs to.
func (r Ref) unqualified() Ref {
	a, err := inventory.ParseLambdaARN(r.ARN)
	if err != nil {
		return r
	}
	return Ref{ARN: a.Unqualified(), Kind: inventory.KindFunction, Account: r.Account, Region: r.Region, Name: r.Name}
}

// hasURL reports whether a function URL can sit on the resource (the
// unqualified function or an alias, never a version or layer).
func (r Ref) hasURL() bool { return r.Kind == inventory.KindFunction || r.Kind == inventory.KindAlias }

// State is what Read returns: the resource's policy (nil when it has
// none) and its function URL (nil when it has none or cannot have one).
type State struct {
	Policy *inventory.Policy      `json:"policy"`
	URL    *inventory.FunctionURL `json:"function_url,omitempty"`
}

// Permission holds the parameters of AddPermission (or, for layers,
// AddLayerVersionPermission, where PrincipalOrgID is sent as
// OrganizationId), as recovered from a statement.
type Permission struct {
	StatementID           string `json:"statement_id"`
	Action                string `json:"action"`
	Principal             string `json:"principal"`
	SourceArn             string `json:"source_arn,omitempty"`
	SourceAccount         string `json:"source_account,omitempty"`
	PrincipalOrgID        string `json:"principal_org_id,omitempty"`
	EventSourceToken      string `json:"event_source_token,omitempty"`
	FunctionURLAuthType   string `json:"function_url_auth_type,omitempty"`
	InvokedViaFunctionURL bool   `json:"invoked_via_function_url,omitempty"`
}

// Executor reads and changes Lambda resources. Every write that takes a
// revisionID sends it, so a concurrent change answers ErrPreconditionFailed
// instead of being overwritten. Implementations wrap their errors with the
// sentinel errors below where they apply.
type Executor interface {
	// Read returns the resource's current policy with its RevisionId and,
	// for functions and aliases, its function URL configuration.
	Read(ctx context.Context, ref Ref) (State, error)
	RemovePermission(ctx context.Context, ref Ref, sid, revisionID string) error
	// AddPermission returns the statement as Lambda stored it ("" when
	// the implementation cannot tell).
	AddPermission(ctx context.Context, ref Ref, p Permission, revisionID string) (string, error)
	// PutResourcePolicy replaces the whole policy and returns the new
	// RevisionId.
	PutResourcePolicy(ctx context.Context, ref Ref, document, revisionID string) (string, error)
	DeleteResourcePolicy(ctx context.Context, ref Ref, revisionID string) error
	UpdateFunctionURLAuthType(ctx context.Context, ref Ref, authType string) error
	RemoveLayerVersionPermission(ctx context.Context, ref Ref, sid, revisionID string) error
	AddLayerVersionPermission(ctx context.Context, ref Ref, p Permission, revisionID string) error
}

// Errors an Executor reports.
var (
	// ErrPreconditionFailed is Lambda's 412 PreconditionFailedException:
	// the RevisionId sent is not the current one, someone changed the
	// policy since it was read.
	ErrPreconditionFailed = errors.New("PreconditionFailedException: the policy changed since it was read")
	// ErrNotFound is a 404 on a write: the statement, policy or resource is
	// gone.
	ErrNotFound = errors.New("ResourceNotFoundException")
	// ErrConflict is a 409: the statement id is already in use.
	ErrConflict = errors.New("ResourceConflictException")
)
