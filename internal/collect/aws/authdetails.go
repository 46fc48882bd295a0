package awscollect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// authAPI is the one IAM read access paths need.
type authAPI interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// authReader reads an account's roles and managed policies with
// iam:GetAccountAuthorizationDetails: a few paged calls for the whole
// account instead of several per role, on IAM's budget (shared with the
// per-role reader). It starts as soon as the account is entered and
// resources wait for it only when they are ready before it is.
type authReader struct {
	account string
	client  authAPI
	bucket  *bucket
	breaker *breaker
	stats   *stats
	retry   RetryPolicy
	now     func() time.Time

	once   sync.Once
	done   chan struct{}
	result *inventory.AccountIAM
}

func newAuthReader(account string, client authAPI, bk *bucket, st *stats, retry RetryPolicy, now func() time.Time) *authReader {
	return &authReader{account: account, client: client, bucket: bk, stats: st, retry: retry, now: now, done: make(chan struct{}),
		breaker: newBreaker("IAM (GetAccountAuthorizationDetails of account "+account+")", retry.BreakAfter, now)}
}

func (r *authReader) bucketFor(string) *bucket   { return r.bucket }
func (r *authReader) breakerFor(string) *breaker { return r.breaker }
func (r *authReader) countCall(op string)        { r.stats.count(r.account, "global", "iam:"+op) }
func (r *authReader) retryPolicy() RetryPolicy   { return r.retry }
func (r *authReader) throttled()                 { r.stats.throttled.Add(1) }
func (r *authReader) stopped()                   { r.stats.cut.Add(1) }
func (r *authReader) clock() time.Time           { return r.now() }

// start begins the read in the background, once.
func (r *authReader) start(ctx context.Context) {
	r.once.Do(func() {
		go func() {
			defer close(r.done)
			r.result = r.read(ctx)
		}()
	})
}

// ready reports whether the read is over.
func (r *authReader) ready() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait returns the account's roles once read (Unknown set when they could
// not be). The read is bounded by the retry policy and ctx.
func (r *authReader) wait(ctx context.Context) *inventory.AccountIAM {
	r.start(ctx)
	<-r.done
	return r.result
}

// errors makes an unreadable account's paths a reason the scan is
// incomplete.
func (r *authReader) errors() []string {
	if !r.ready() || r.result == nil || r.result.Unknown == "" {
		return nil
	}
	return []string{"account " + r.account + ": its roles could not be read (" + r.result.Unknown + "); access paths through assumable roles are unknown (grant iam:GetAccountAuthorizationDetails, or pass --no-paths to skip them)"}
}

// maxAuthPages bounds the paging: IAM allows 5,000 roles and 5,000
// customer managed policies per account (and AWS has about 1,500 managed
// policies), which is a few dozen pages even at a hundred items each.
const maxAuthPages = 1000

// AuthDetailsPage is the page size asked of GetAccountAuthorizationDetails
// (IAM's maximum; it may answer with fewer).
const AuthDetailsPage = 1000

func (r *authReader) read(ctx context.Context) *inventory.AccountIAM {
	out := &inventory.AccountIAM{Account: r.account, Source: inventory.Source{API: "GetAccountAuthorizationDetails"}}
	var roles []iamtypes.RoleDetail
	docs := map[string]string{} // managed policy ARN -> default version's document
	var marker *string
	for pages := 1; ; pages++ {
		if pages > maxAuthPages {
			// A marker that never ends is a broken answer, not an empty one.
			out.Unknown = fmt.Sprintf("iam:GetAccountAuthorizationDetails: still truncated after %d pages", maxAuthPages)
			return out
		}
		page, err := call(ctx, r, "GetAccountAuthorizationDetails", func(c context.Context) (*iam.GetAccountAuthorizationDetailsOutput, error) {
			return r.client.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{
				Filter:   []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy},
				MaxItems: aws.Int32(AuthDetailsPage),
				Marker:   marker,
			})
		})
		if err != nil {
			out.Unknown = reason("iam:GetAccountAuthorizationDetails", err)
			return out
		}
		roles = append(roles, page.RoleDetailList...)
		for _, p := range page.Policies {
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion {
					docs[aws.ToString(p.Arn)] = aws.ToString(v.Document)
				}
			}
		}
		if !page.IsTruncated {
			break
		}
		if aws.ToString(page.Marker) == "" {
			// The rest was never read: a broken answer, not a complete one.
			out.Unknown = "iam:GetAccountAuthorizationDetails: the answer says it is truncated but gives no Marker to read on"
			return out
		}
		marker = page.Marker
	}
	for _, rd := range roles {
		out.Roles = append(out.Roles, roleFromDetail(rd, docs))
	}
	sort.Slice(out.Roles, func(i, j int) bool { return out.Roles[i].ARN < out.Roles[j].ARN })
	return out
}

// roleFromDetail assembles one role. A document that cannot be decoded,
// or a managed policy the answer did not carry, leaves the role unknown.
func roleFromDetail(rd iamtypes.RoleDetail, docs map[string]string) inventory.IAMRole {
	role := inventory.IAMRole{ARN: aws.ToString(rd.Arn), Name: aws.ToString(rd.RoleName)}
	var problems []string
	trust, err := decodeDocument(aws.ToString(rd.AssumeRolePolicyDocument))
	if err != nil {
		problems = append(problems, "trust policy: "+err.Error())
	}
	role.TrustPolicy = trust
	managed := func(arn string) inventory.RolePolicy {
		rp := inventory.RolePolicy{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:]}
		raw, ok := docs[arn]
		switch {
		case !ok && arn == AdministratorAccess:
			rp.Document = administratorDocument
		case !ok:
			problems = append(problems, "the managed policy "+arn+" was not in the answer")
		default:
			if rp.Document, err = decodeDocument(raw); err != nil {
				problems = append(problems, "managed policy "+arn+": "+err.Error())
			}
		}
		return rp
	}
	attached := make([]string, 0, len(rd.AttachedManagedPolicies))
	for _, p := range rd.AttachedManagedPolicies {
		attached = append(attached, aws.ToString(p.PolicyArn))
	}
	sort.Strings(attached)
	for _, arn := range attached {
		role.Policies = append(role.Policies, managed(arn))
	}
	inline := append([]iamtypes.PolicyDetail(nil), rd.RolePolicyList...)
	sort.Slice(inline, func(i, j int) bool { return aws.ToString(inline[i].PolicyName) < aws.ToString(inline[j].PolicyName) })
	for _, p := range inline {
		doc, err := decodeDocument(aws.ToString(p.PolicyDocument))
		if err != nil {
			problems = append(problems, "inline policy "+aws.ToString(p.PolicyName)+": "+err.Error())
		}
		role.Policies = append(role.Policies, inventory.RolePolicy{Name: aws.ToString(p.PolicyName), Document: doc})
	}
	if b := rd.PermissionsBoundary; b != nil && aws.ToString(b.PermissionsBoundaryArn) != "" {
		rp := managed(aws.ToString(b.PermissionsBoundaryArn))
		role.Boundary = &rp
	}
	if len(problems) > 0 {
		role.Unknown = fmt.Sprintf("iam:GetAccountAuthorizationDetails: %s", strings.Join(problems, "; "))
	}
	return role
}

// administratorDocument is AdministratorAccess, known by name.
const administratorDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
