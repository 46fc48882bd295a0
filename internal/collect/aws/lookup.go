package awscollect

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// LookupEventsRate is cloudtrail:LookupEvents' quota: 2 requests per
// second per account and Region, not raisable.
const LookupEventsRate = 2

// maxLookupPages bounds one lookup (50 events a page): a window holding
// more is reported, not read forever.
const maxLookupPages = 2000

// trailLane paces LookupEvents in one account and Region.
type trailLane struct {
	account string
	region  string
	client  *cloudtrail.Client
	bucket  *bucket
	r       *Reader
}

func (l *trailLane) bucketFor(string) *bucket   { return l.bucket }
func (l *trailLane) breakerFor(string) *breaker { return nil } // a watch outlives outages
func (l *trailLane) countCall(op string)        { l.r.stats.count(l.account, l.region, "cloudtrail:"+op) }
func (l *trailLane) retryPolicy() RetryPolicy   { return l.r.opt.Retry }
func (l *trailLane) throttled()                 { l.r.stats.throttled.Add(1) }
func (l *trailLane) stopped()                   { l.r.stats.cut.Add(1) }
func (l *trailLane) clock() time.Time           { return l.r.opt.Now() }

func (r *Reader) trailLane(cfg aws.Config, account, region string) *trailLane {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trails == nil {
		r.trails = map[[2]string]*trailLane{}
	}
	key := [2]string{account, region}
	if l := r.trails[key]; l != nil {
		return l
	}
	client := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
		o.Region = region
		setEndpoint(&o.BaseEndpoint, r.opt.EndpointURL)
	})
	l := &trailLane{account: account, region: region, client: client, r: r}
	if len(r.opt.Quotas) > 0 {
		l.bucket = newBucket(LookupEventsRate, r.opt.Now)
	}
	r.trails[key] = l
	return l
}

// LookupEvents returns the CloudTrail records (CloudTrailEvent JSON) of
// Lambda's event source in the caller's account between start and end,
// oldest first, paced to LookupEvents' quota.
func (r *Reader) LookupEvents(ctx context.Context, region string, start, end time.Time) ([]string, error) {
	return r.LookupEventsIn(ctx, r.caller, region, start, end)
}

// LookupEventsIn is LookupEvents in another account, entered with
// Options.RoleName (each account's trail holds only its own events).
func (r *Reader) LookupEventsIn(ctx context.Context, account, region string, start, end time.Time) ([]string, error) {
	a := r.account(ctx, account)
	if a.err != nil {
		return nil, fmt.Errorf("the account could not be entered with role %s: %v", roleName(&r.opt), a.err)
	}
	l := r.trailLane(a.cfg, account, region)
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("lambda.amazonaws.com")}},
		StartTime:        aws.Time(start),
		EndTime:          aws.Time(end),
		MaxResults:       aws.Int32(50),
	}
	var records []string
	for page := 0; ; page++ {
		if page == maxLookupPages {
			return records, fmt.Errorf("more than %d events between %s and %s; the oldest were not read", maxLookupPages*50, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		}
		out, err := call(ctx, l, "LookupEvents", func(c context.Context) (*cloudtrail.LookupEventsOutput, error) {
			return l.client.LookupEvents(c, in)
		})
		if err != nil {
			return nil, fmt.Errorf("%s", reason("cloudtrail:LookupEvents", err))
		}
		for _, e := range out.Events {
			if e.CloudTrailEvent != nil {
				records = append(records, *e.CloudTrailEvent)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Reverse(records) // LookupEvents answers newest first
	return records, nil
}

// ListFunctionARNs lists the unqualified ARNs of every function in one
// account and Region (ListFunctions, 50 a page): an incremental rescan
// compares them with its base scan, because CreateFunction and
// DeleteFunction are not exposure-changing events yet change what exists.
func (r *Reader) ListFunctionARNs(ctx context.Context, account, region string) ([]string, error) {
	a := r.account(ctx, account)
	if a.err != nil {
		return nil, fmt.Errorf("the account could not be entered with role %s: %v", roleName(&r.opt), a.err)
	}
	l := r.lane(a, account, region)
	var arns []string
	var marker *string
	for {
		page, err := call(ctx, l, "ListFunctions", func(c context.Context) (*lambda.ListFunctionsOutput, error) {
			return l.client.ListFunctions(c, &lambda.ListFunctionsInput{Marker: marker})
		})
		if err != nil {
			return nil, fmt.Errorf("%s", reason("ListFunctions", err))
		}
		for _, f := range page.Functions {
			arns = append(arns, aws.ToString(f.FunctionArn))
		}
		if page.NextMarker == nil || *page.NextMarker == "" {
			return arns, nil
		}
		marker = page.NextMarker
	}
}
