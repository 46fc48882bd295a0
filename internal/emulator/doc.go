// Package emulator is an in-memory, wire-compatible stand-in for the parts of
// AWS that lambdawarden talks to: the Lambda control plane (functions,
// versions, aliases, resource policies, function URLs, layers), STS
// (GetCallerIdentity, AssumeRole), Organizations (DescribeOrganization,
// ListAccounts), the Account service (ListRegions), a few read-only IAM
// actions (GetRole, ListAttachedRolePolicies, ListRolePolicies,
// GetRolePolicy, GetPolicy, GetPolicyVersion, GetAccountAuthorizationDetails),
// CloudTrail's LookupEvents, SNS Publish (any topic of the caller's account
// and region; see Published) and AWS Config's PutEvaluations (recorded; see
// Evaluations)
// and GetResourceConfigHistory (the current item of a seeded function),
// all on one plain net/http listener.
//
// Every Lambda write it serves (AddPermission, RemovePermission,
// PutResourcePolicy, DeleteResourcePolicy, the function URL writes, the
// layer permission writes, CreateAlias, UpdateAlias, PublishVersion) is
// recorded the way CloudTrail records it —
// API-version-suffixed eventName, userIdentity from the caller's access key
// (IAM user, or assumed role with its session issuer), lowerCamel
// requestParameters, responseElements.statement as a JSON string, failed
// calls with errorCode — served by LookupEvents (newest first, 2 requests/s
// per account and region) and, with Options.CloudTrailDir, delivered as
// gzip log files in the S3 layout. See cloudtrail.go.
//
// The unmodified aws-sdk-go-v2 clients (BaseEndpoint set to the server's URL,
// any static credentials) and the aws CLI (--endpoint-url) work against it.
// Signatures are never verified: the access key id in the SigV4 credential
// scope selects the account ("AKIA" + account id, or a key issued by
// AssumeRole) and the scope's region selects the region.
//
// Routing on the one listener: an X-Amz-Target header of
// AWSOrganizationsV20161128.* goes to Organizations, CloudTrail_20131101.*
// to CloudTrail, StarlingDoveService.* to AWS Config; a form-encoded POST
// with Action=... to STS, IAM or SNS (awsQuery; see queryHandler); POST
// /listRegions to the Account service; anything else to Lambda by method
// and path (the routes of the SDK's schemas.go). An unknown operation is
// 404 UnknownOperationException.
//
// The estate comes only from a Seed (docs/emulator-seed.md documents the
// file format for users, seed.go the Go types); there is no CreateFunction.
// Policies, function URLs, aliases, published versions and revision ids
// change through the API (AddPermission, PutResourcePolicy, CreateAlias,
// UpdateAlias, PublishVersion, ...) and through the test hooks SetPolicy
// and Policy.
//
// The package uses only the Go standard library (a test asserts it), so the
// lambdawarden binary can embed it for `scan --demo`.
//
// Where AWS's behaviour is not documented the emulator makes a choice:
//   - GetPublicAccessBlockConfig is served at
//     GET /2026-07-09/public-access-block/{ResourceArn} (not in the SDK; the
//     path is a guess) with the account-level setting; BlockPublicPolicy
//     refuses, with 400 PublicPolicyException, statements that allow
//     Principal "*" with no Condition at all.
//   - ListFunctions?FunctionVersion=ALL and ListVersionsByFunction name
//     $LATEST "...:function:NAME:$LATEST"; plain ListFunctions and an
//     unqualified GetFunction use the unqualified ARN. GetFunction with an
//     alias qualifier answers the alias's target version under the alias ARN.
//   - A function's (or version's, alias's) configuration RevisionId is the
//     RevisionId of its policy; every policy write issues a new one.
//   - AddPermission statements: keys Sid, Effect, Principal, Action,
//     Resource, Condition; condition operators StringEquals (SourceAccount,
//     PrincipalOrgID, EventSourceToken, FunctionUrlAuthType, in that order),
//     ArnLike, Bool. With Qualifier the Resource is the qualified ARN.
//   - References to another account's function answer 403
//     AccessDeniedException; to another region 400
//     InvalidParameterValueException.
//   - Seeded policy documents are served compacted, in their author's key
//     order; PutResourcePolicy stores the document compacted.
//   - Markers and NextTokens are opaque strings encoding an offset.
//   - Organizations ListAccounts is for the management account only (as in
//     AWS), 20 accounts a page at most.
//   - GetAccountAuthorizationDetails pages roles first, then managed
//     policies (every seeded one, AWS managed included), MaxItems counting
//     both; there are no users or groups.
package emulator
