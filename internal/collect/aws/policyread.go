package awscollect

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// readPolicy reads a function, alias or version policy. 404 means no
// policy; any other failure leaves the resource unknown. A read made on
// the shared budget uses GetResourcePolicy (same document, other quota),
// and so does a GetPolicy read once the GetPolicy budget's breaker is
// open; if GetResourcePolicy is refused, the lane falls back to GetPolicy
// for good.
func (l *lane) readPolicy(ctx context.Context, r *inventory.Resource, via Budget) {
	if via == BudgetGetPolicy && l.breakers[BudgetGetPolicy].isOpen() && !l.breakers[BudgetShared].isOpen() {
		via = BudgetShared
	}
	if via == BudgetShared && l.sched.viaShared.Load() && l.readResourcePolicy(ctx, r) {
		return
	}
	policy, found, err := l.getPolicy(ctx, r)
	switch {
	case err != nil:
		r.PolicyUnknown = reason("GetPolicy", err)
	case found:
		r.Policy = policy
	}
}

// readResourcePolicy reads the policy with GetResourcePolicy; false means
// the read must be made with GetPolicy instead.
func (l *lane) readResourcePolicy(ctx context.Context, r *inventory.Resource) bool {
	out, err := call(ctx, l, "GetResourcePolicy", func(c context.Context) (*lambda.GetResourcePolicyOutput, error) {
		return l.client.GetResourcePolicy(c, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(r.ARN)})
	})
	var g *gaveUp
	switch {
	case err == nil:
		r.Policy = &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetResourcePolicy"}}
		return true
	case isNotFound(err):
		l.confirmNoPolicy(ctx, r)
		return true
	case ctx.Err() != nil:
		r.PolicyUnknown = reason("GetResourcePolicy", err)
		return true
	case errors.As(err, &g):
		// Throttled or failing: this one read tries the other budget.
		return false
	}
	// Refused (an older role may not grant lambda:GetResourcePolicy).
	l.sched.viaShared.Store(false)
	return false
}

// confirmNotFound is how many "no policy" answers of GetResourcePolicy
// each lane checks against GetPolicy before taking them on trust: nothing
// here proves that real AWS answers both APIs alike.
const confirmNotFound = 3

// confirmNoPolicy handles GetResourcePolicy's "no policy". The first
// confirmNotFound of them are checked with GetPolicy; one that comes
// while those are still being checked waits for the outcome, so no "no
// policy" is taken on trust before the lane has verified the API. One
// that disagrees switches the lane to GetPolicy for every later read and
// leaves a note in the report.
func (l *lane) confirmNoPolicy(ctx context.Context, r *inventory.Resource) {
	l.verifyMu.Lock()
	for !l.disagreed && l.confirmed < confirmNotFound && l.confirmed+l.confirming >= confirmNotFound {
		l.verifyCond.Wait()
	}
	check := l.disagreed || l.confirmed < confirmNotFound
	if check {
		l.confirming++
	}
	l.verifyMu.Unlock()
	if !check {
		r.Policy = nil
		return
	}
	policy, found, err := l.getPolicy(ctx, r)
	l.verifyMu.Lock()
	l.confirming--
	first := false
	switch {
	case err != nil:
		r.PolicyUnknown = "GetResourcePolicy answered that there is no policy, and GetPolicy, asked to confirm it, failed: " + reason("GetPolicy", err)
	case found:
		r.Policy = policy
		first = !l.disagreed
		l.disagreed = true
	default:
		r.Policy = nil
		l.confirmed++
	}
	l.verifyMu.Unlock()
	l.verifyCond.Broadcast()
	if found {
		l.sched.viaShared.Store(false)
	}
	if first {
		l.errMu.Lock()
		l.notes = append(l.notes, l.account+" "+l.region+": GetResourcePolicy answered that "+r.ARN+" has no policy, but GetPolicy returned one; "+
			"every later policy read in this account and Region used GetPolicy")
		l.errMu.Unlock()
	}
}

// getPolicy reads a policy with GetPolicy; found is false on 404.
func (l *lane) getPolicy(ctx context.Context, r *inventory.Resource) (policy *inventory.Policy, found bool, err error) {
	in := &lambda.GetPolicyInput{FunctionName: aws.String(r.Name)}
	if r.Qualifier != "" {
		in.Qualifier = aws.String(r.Qualifier)
	}
	out, err := call(ctx, l, "GetPolicy", func(c context.Context) (*lambda.GetPolicyOutput, error) {
		return l.client.GetPolicy(c, in)
	})
	switch {
	case err == nil:
		return &inventory.Policy{Document: aws.ToString(out.Policy), RevisionID: aws.ToString(out.RevisionId), Source: inventory.Source{API: "GetPolicy"}}, true, nil
	case isNotFound(err):
		return nil, false, nil
	}
	return nil, false, err
}
