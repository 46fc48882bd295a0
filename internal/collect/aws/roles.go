package awscollect

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// iamAPI is the read-only part of IAM the role reader uses.
type iamAPI interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
}

// IAMRate is the pace of IAM reads per account. IAM's read quotas are
// account-wide and not published per action; this stays well inside them.
const IAMRate = 10

// AdministratorAccess is the AWS managed policy that grants everything;
// it is recognised by ARN without being read.
const AdministratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// roleReader reads execution roles for one account, each role once, and
// each customer managed policy once.
type roleReader struct {
	account string
	client  iamAPI
	bucket  *bucket
	breaker *breaker
	stats   *stats
	retry   RetryPolicy
	now     func() time.Time

	mu       sync.Mutex
	roles    map[string]*roleEntry
	managed  map[string]*managedEntry
	failures int
	first    string
}

type roleEntry struct {
	done chan struct{}
	role *inventory.ExecutionRole
}

type managedEntry struct {
	done chan struct{}
	doc  string
	err  error
}

func newRoleReader(account string, client iamAPI, st *stats, retry RetryPolicy, now func() time.Time, paced bool) *roleReader {
	r := &roleReader{account: account, client: client, stats: st, retry: retry, now: now, roles: map[string]*roleEntry{}, managed: map[string]*managedEntry{},
		breaker: newBreaker("IAM (role reads of account "+account+")", retry.BreakAfter, now)}
	if paced {
		r.bucket = newBucket(IAMRate, now)
	}
	return r
}

func (r *roleReader) bucketFor(string) *bucket   { return r.bucket }
func (r *roleReader) breakerFor(string) *breaker { return r.breaker }
func (r *roleReader) countCall(op string)        { r.stats.count(r.account, "global", "iam:"+op) }
func (r *roleReader) retryPolicy() RetryPolicy   { return r.retry }
func (r *roleReader) throttled()                 { r.stats.throttled.Add(1) }
func (r *roleReader) stopped()                   { r.stats.cut.Add(1) }
func (r *roleReader) clock() time.Time           { return r.now() }

// isNoSuchEntity reports IAM's 404: the role (or policy) does not exist.
func isNoSuchEntity(err error) bool { return errorCode(err) == "NoSuchEntity" }

// missing is a role IAM says does not exist: an answer, not a failed read.
func missing(role *inventory.ExecutionRole) *inventory.ExecutionRole {
	role.Missing = true
	role.TrustPolicy, role.Policies = "", nil
	return role
}

// get returns the role, reading it the first time it is asked for.
func (r *roleReader) get(ctx context.Context, arn string) *inventory.ExecutionRole {
	r.mu.Lock()
	e, ok := r.roles[arn]
	if !ok {
		e = &roleEntry{done: make(chan struct{})}
		r.roles[arn] = e
	}
	r.mu.Unlock()
	if ok {
		<-e.done
		return e.role
	}
	e.role = r.read(ctx, arn)
	close(e.done)
	return e.role
}

func (r *roleReader) fail(role *inventory.ExecutionRole, why string) *inventory.ExecutionRole {
	role.Unknown = why
	r.mu.Lock()
	r.failures++
	if r.first == "" {
		r.first = why
	}
	r.mu.Unlock()
	return role
}

// errors summarises what could not be read, once per account.
func (r *roleReader) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == 0 {
		return nil
	}
	return []string{fmt.Sprintf("account %s: %d execution role(s) could not be read from IAM (first: %s); their posture is unknown (pass --no-roles to skip role checks)", r.account, r.failures, r.first)}
}

func (r *roleReader) read(ctx context.Context, arn string) *inventory.ExecutionRole {
	role := &inventory.ExecutionRole{ARN: arn}
	name := roleNameOf(arn)
	if name == "" {
		return r.fail(role, "not a role ARN: "+arn)
	}
	got, err := call(ctx, r, "GetRole", func(c context.Context) (*iam.GetRoleOutput, error) {
		return r.client.GetRole(c, &iam.GetRoleInput{RoleName: aws.String(name)})
	})
	switch {
	case isNoSuchEntity(err):
		// AWS keeps a function's role ARN after the role is deleted.
		return missing(role)
	case err != nil:
		return r.fail(role, reason("iam:GetRole", err))
	}
	if got.Role != nil {
		if role.TrustPolicy, err = decodeDocument(aws.ToString(got.Role.AssumeRolePolicyDocument)); err != nil {
			return r.fail(role, "iam:GetRole: trust policy: "+err.Error())
		}
	}
	var attached []string
	var marker *string
	for {
		out, err := call(ctx, r, "ListAttachedRolePolicies", func(c context.Context) (*iam.ListAttachedRolePoliciesOutput, error) {
			return r.client.ListAttachedRolePolicies(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), Marker: marker})
		})
		switch {
		case isNoSuchEntity(err):
			return missing(role) // deleted while it was read
		case err != nil:
			return r.fail(role, reason("iam:ListAttachedRolePolicies", err))
		}
		for _, p := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyArn))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	sort.Strings(attached)
	for _, parn := range attached {
		rp := inventory.RolePolicy{ARN: parn, Name: parn[strings.LastIndex(parn, "/")+1:]}
		if parn != AdministratorAccess {
			doc, err := r.managedDocument(ctx, parn)
			if err != nil {
				return r.fail(role, err.Error())
			}
			rp.Document = doc
		}
		role.Policies = append(role.Policies, rp)
	}
	var inline []string
	marker = nil
	for {
		out, err := call(ctx, r, "ListRolePolicies", func(c context.Context) (*iam.ListRolePoliciesOutput, error) {
			return r.client.ListRolePolicies(c, &iam.ListRolePoliciesInput{RoleName: aws.String(name), Marker: marker})
		})
		switch {
		case isNoSuchEntity(err):
			return missing(role)
		case err != nil:
			return r.fail(role, reason("iam:ListRolePolicies", err))
		}
		inline = append(inline, out.PolicyNames...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	sort.Strings(inline)
	for _, pname := range inline {
		out, err := call(ctx, r, "GetRolePolicy", func(c context.Context) (*iam.GetRolePolicyOutput, error) {
			return r.client.GetRolePolicy(c, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pname)})
		})
		if err != nil {
			return r.fail(role, reason("iam:GetRolePolicy", err))
		}
		doc, err := decodeDocument(aws.ToString(out.PolicyDocument))
		if err != nil {
			return r.fail(role, "iam:GetRolePolicy "+pname+": "+err.Error())
		}
		role.Policies = append(role.Policies, inventory.RolePolicy{Name: pname, Document: doc})
	}
	return role
}

// managedDocument reads a managed policy's default version once per
// account.
func (r *roleReader) managedDocument(ctx context.Context, arn string) (string, error) {
	r.mu.Lock()
	e, ok := r.managed[arn]
	if !ok {
		e = &managedEntry{done: make(chan struct{})}
		r.managed[arn] = e
	}
	r.mu.Unlock()
	if ok {
		<-e.done
		return e.doc, e.err
	}
	defer close(e.done)
	p, err := call(ctx, r, "GetPolicy", func(c context.Context) (*iam.GetPolicyOutput, error) {
		return r.client.GetPolicy(c, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	})
	if err != nil {
		e.err = fmt.Errorf("%s", reason("iam:GetPolicy", err))
		return "", e.err
	}
	v, err := call(ctx, r, "GetPolicyVersion", func(c context.Context) (*iam.GetPolicyVersionOutput, error) {
		return r.client.GetPolicyVersion(c, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	})
	if err != nil {
		e.err = fmt.Errorf("%s", reason("iam:GetPolicyVersion", err))
		return "", e.err
	}
	if v.PolicyVersion != nil {
		e.doc, e.err = decodeDocument(aws.ToString(v.PolicyVersion.Document))
	}
	return e.doc, e.err
}

// decodeDocument undoes the URL encoding IAM applies to policy documents.
func decodeDocument(s string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s, nil
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("the document is not URL-encoded JSON: %v", err)
	}
	return out, nil
}

// roleNameOf reads the role name (without path) from a role ARN.
func roleNameOf(arn string) string {
	a, err := inventory.ParseARN(arn)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ""
	}
	return a.Resource[strings.LastIndex(a.Resource, "/")+1:]
}
