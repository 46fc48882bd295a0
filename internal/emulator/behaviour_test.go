package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// fakeClock is a manual clock for quota tests: no test here depends on
// how fast the machine is.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestParseQuotas(t *testing.T) {
	q, err := emulator.ParseQuotas([]string{"aws"})
	if err != nil || len(q) != 3 || q["GetFunction"] != 100 || q["GetPolicy"] != 15 || q["shared"] != 15 {
		t.Fatalf("aws: %v %v", q, err)
	}
	q, err = emulator.ParseQuotas([]string{"aws", "GetPolicy=2.5,ListAliases=4"})
	if err != nil || q["GetPolicy"] != 2.5 || q["ListAliases"] != 4 || q["shared"] != 15 {
		t.Fatalf("override: %v %v", q, err)
	}
	for _, bad := range []string{"GetPolicy", "GetPolicy=0", "GetPolicy=-1", "GetPolicy=x", "Nope=3", "shared=NaN"} {
		if _, err := emulator.ParseQuotas([]string{bad}); err == nil {
			t.Errorf("ParseQuotas(%q) accepted", bad)
		}
	}
	if _, err := emulator.New(nil, emulator.Options{Quotas: map[string]float64{"Typo": 1}}); err == nil {
		t.Error("New accepted an unknown budget")
	}
}

func TestQuotaTokenBuckets(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	quotas, err := emulator.ParseQuotas([]string{"GetPolicy=5,shared=2"})
	if err != nil {
		t.Fatal(err)
	}
	_, srv := startEstate(t, emulator.Options{Quotas: quotas, Now: clock.Now})
	c := lambdaClient(srv, prod, useast1)
	getPolicy := func(c *lambda.Client) error {
		_, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")})
		return err
	}

	// A burst: the bucket starts full with one second's worth (5).
	for i := range 5 {
		if err := getPolicy(c); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	err = getPolicy(c)
	apiError(t, err, "TooManyRequestsException", 429)
	var re *awshttp.ResponseError
	errors.As(err, &re)
	if ra := re.Response.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	// Budgets are per account and per region, and GetFunction is not
	// limited (no quota given for it).
	// (dev has no "intake", eu-fn has no policy: 404, not 429.)
	apiError(t, getPolicy(lambdaClient(srv, dev, useast1)), "ResourceNotFoundException", 404)
	_, err = lambdaClient(srv, prod, "eu-west-1").GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("eu-fn")})
	apiError(t, err, "ResourceNotFoundException", 404)
	for range 10 {
		if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake")}); err != nil {
			t.Fatalf("GetFunction has no quota here: %v", err)
		}
	}

	// Refill is continuous: 1/5 s later there is exactly one token.
	clock.Advance(200 * time.Millisecond)
	if err := getPolicy(c); err != nil {
		t.Errorf("after 200ms: %v", err)
	}
	apiError(t, getPolicy(c), "TooManyRequestsException", 429)

	// A client paced at the rate is never throttled.
	clock.Advance(time.Second)
	for i := range 50 {
		clock.Advance(200 * time.Millisecond)
		if err := getPolicy(c); err != nil {
			t.Fatalf("paced request %d: %v", i, err)
		}
	}

	// Every other control-plane call shares one budget.
	if _, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("intake")})
	apiError(t, err, "TooManyRequestsException", 429)
	errors.As(err, &re)
	// Rate 2/s with an empty bucket: a token is 0.5s away, rounded up.
	if ra := re.Response.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q", ra)
	}

	// STS is never throttled.
	for range 20 {
		if _, err := stsClient(srv, awsConfig(prod, useast1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("STS throttled: %v", err)
		}
	}
}

func TestQuotaRetryAfterRoundsUp(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, srv := startEstate(t, emulator.Options{Quotas: map[string]float64{"GetPolicy": 0.25}, Now: clock.Now})
	c := lambdaClient(srv, prod, useast1)
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")}); err != nil {
		t.Fatalf("a rate below 1/s still admits one request: %v", err)
	}
	clock.Advance(1500 * time.Millisecond)
	_, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")})
	apiError(t, err, "TooManyRequestsException", 429)
	var re *awshttp.ResponseError
	errors.As(err, &re)
	// 0.375 tokens, 0.625 missing at 0.25/s = 2.5s -> 3.
	if ra := re.Response.Header.Get("Retry-After"); ra != "3" {
		t.Errorf("Retry-After %q, want 3", ra)
	}
}

func TestParseFaults(t *testing.T) {
	f, err := emulator.ParseFaults("GetPolicy:throttle=0.3,ListAliases:500=0.05,timeout=0.01,iam:GetRole:denied=1,503=0,GetResourcePolicy:404=1")
	if err != nil {
		t.Fatal(err)
	}
	want := []emulator.Fault{
		{Op: "GetPolicy", Kind: emulator.FaultThrottle, Probability: 0.3},
		{Op: "ListAliases", Kind: emulator.Fault500, Probability: 0.05},
		{Kind: emulator.FaultTimeout, Probability: 0.01},
		{Op: "iam:GetRole", Kind: emulator.FaultDenied, Probability: 1},
		{Kind: emulator.Fault503, Probability: 0},
		{Op: "GetResourcePolicy", Kind: emulator.Fault404, Probability: 1},
	}
	if fmt.Sprint(f) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", f, want)
	}
	if f, err := emulator.ParseFaults(" "); err != nil || f != nil {
		t.Errorf("empty spec: %v %v", f, err)
	}
	for _, bad := range []string{"throttle", "GetPolicy:explode=0.1", "GetPolicy:throttle=2", "GetPolicy:throttle=x", "NoSuchOp:500=0.1"} {
		if _, err := emulator.ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
}

// faultPattern runs the same request sequence against a fresh server and
// returns the statuses it saw.
func faultPattern(t *testing.T, spec string, seed int64) string {
	faults, err := emulator.ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	s, srv := startEstate(t, emulator.Options{Faults: faults, FaultSeed: seed})
	c := lambdaClient(srv, prod, useast1)
	for range 64 {
		_, _ = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")})
		_, _ = c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake")})
	}
	var b strings.Builder
	for _, r := range s.Requests() {
		fmt.Fprintf(&b, "%s=%d ", r.Op, r.Status)
	}
	return b.String()
}

func TestFaultsAreDeterministic(t *testing.T) {
	spec := "GetPolicy:throttle=0.3,ListAliases:500=0.2,denied=0.1"
	a, b := faultPattern(t, spec, 42), faultPattern(t, spec, 42)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if c := faultPattern(t, spec, 43); c == a {
		t.Errorf("a different seed gave the same 128 outcomes")
	}
	for _, want := range []string{"GetPolicy=429", "ListAliases=500", "=403", "GetPolicy=200", "ListAliases=200"} {
		if !strings.Contains(a, want) {
			t.Errorf("no %s in %s", want, a)
		}
	}
	if strings.Contains(a, "GetPolicy=500") || strings.Contains(a, "ListAliases=429") {
		t.Errorf("a fault hit another operation: %s", a)
	}
}

func TestFaultKinds(t *testing.T) {
	faults, err := emulator.ParseFaults("GetPolicy:503=1,ListAliases:denied=1,AssumeRole:throttle=1,GetFunction:timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	s, srv := startEstate(t, emulator.Options{Faults: faults})
	c := lambdaClient(srv, prod, useast1)
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")})
	apiError(t, err, "ServiceUnavailable", 503)
	_, err = c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("intake")})
	apiError(t, err, "AccessDeniedException", 403)
	_, err = stsClient(srv, awsConfig(prod, useast1)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("s1")})
	apiError(t, err, "Throttling", 400)

	// A timeout hangs until the client gives up; nothing is answered.
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = c.GetFunction(tctx, &lambda.GetFunctionInput{FunctionName: aws.String("intake")})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout fault: %v", err)
	}
	// The handler records the dropped request once it notices the client
	// went away; Close releases it in any case.
	_ = s.Close()
	var seen bool
	for range 200 {
		for _, r := range s.Requests() {
			if r.Op == "GetFunction" {
				seen = true
				if r.Status != 0 {
					t.Errorf("timed-out request logged with status %d", r.Status)
				}
			}
		}
		if seen {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !seen {
		t.Error("the timed-out request was never logged")
	}
}

// TestFault404MakesGetResourcePolicyDisagree: the 404 fault makes
// GetResourcePolicy say "no policy" while GetPolicy still returns it.
func TestFault404MakesGetResourcePolicyDisagree(t *testing.T) {
	faults, err := emulator.ParseFaults("GetResourcePolicy:404=1")
	if err != nil {
		t.Fatal(err)
	}
	_, srv := startEstate(t, emulator.Options{Faults: faults})
	c := lambdaClient(srv, prod, useast1)
	arn := "arn:aws:lambda:us-east-1:" + prod + ":function:intake"
	_, err = c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	apiError(t, err, "ResourceNotFoundException", 404)
	if out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")}); err != nil || aws.ToString(out.Policy) == "" {
		t.Fatalf("GetPolicy must still return the policy: %v", err)
	}
}

func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	s, srv := startEstate(t, emulator.Options{RequestLog: &buf})
	c := lambdaClient(srv, prod, useast1)
	_, _ = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake")})
	_, _ = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")})
	_, _ = lambdaClient(srv, dev, "eu-west-1").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	_, _ = stsClient(srv, awsConfig(prod, useast1)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	want := []string{
		"GetPolicy 111122223333 us-east-1 200 GET /2015-03-31/functions/intake/policy",
		"GetPolicy 111122223333 us-east-1 404 GET /2015-03-31/functions/private/policy",
		"ListFunctions 444455556666 eu-west-1 200 GET /2015-03-31/functions",
		"GetCallerIdentity 111122223333 us-east-1 200 POST /",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines: %s", len(lines), buf.String())
	}
	for i, m := range lines {
		got := fmt.Sprintf("%v %v %v %v %v %v", m["op"], m["account"], m["region"], m["status"], m["method"], m["path"])
		if got != want[i] {
			t.Errorf("line %d: %s, want %s", i, got, want[i])
		}
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[1] != (emulator.Request{Op: "GetPolicy", Account: prod, Region: useast1, Status: 404, Method: "GET", Path: "/2015-03-31/functions/private/policy"}) {
		t.Errorf("Requests(): %+v", reqs)
	}
	if n := s.Counts(); n["GetPolicy"] != 2 || n["ListFunctions"] != 1 || n["GetCallerIdentity"] != 1 {
		t.Errorf("Counts(): %v", n)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLatencyRespectsCancellation(t *testing.T) {
	s, srv := startEstate(t, emulator.Options{Latency: time.Hour})
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := lambdaClient(srv, prod, useast1).ListFunctions(tctx, &lambda.ListFunctionsInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the client's deadline, got %v", err)
	}
	_ = s.Close()
}

// Concurrent writers and readers of the same policies: run with -race.
func TestConcurrentPolicyWrites(t *testing.T) {
	s, srv := startEstate(t, emulator.Options{RequestLog: &syncBuffer{}})
	c := lambdaClient(srv, prod, useast1)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 20 {
		wg.Go(func() {
			sid := fmt.Sprintf("w%d", i)
			if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("private"), StatementId: aws.String(sid),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(dev)}); err != nil {
				errs <- err
			}
			if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")}); err != nil {
				errs <- err
			}
			if _, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: "ALL"}); err != nil {
				errs <- err
			}
			if i%2 == 0 {
				if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("private"), StatementId: aws.String(sid)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	doc, _, ok := s.Policy(prod, useast1, "arn:aws:lambda:us-east-1:111122223333:function:private")
	if !ok {
		t.Fatal("no policy")
	}
	var pol struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(doc), &pol); err != nil || len(pol.Statement) != 10 {
		t.Fatalf("after 20 adds and 10 removes: %s %v", doc, err)
	}
	if n := s.Counts(); n["AddPermission"] != 20 || n["RemovePermission"] != 10 {
		t.Errorf("counts: %v", n)
	}
}

func TestHooks(t *testing.T) {
	s, srv := startEstate(t, emulator.Options{})
	c := lambdaClient(srv, prod, useast1)
	arn := "arn:aws:lambda:us-east-1:111122223333:function:intake:prod"
	_, rev0, ok := s.Policy(prod, useast1, arn)
	if !ok {
		t.Fatal("seeded alias policy missing")
	}
	if err := s.SetPolicy(prod, useast1, arn, []byte(`{"Version": "2012-10-17", "Statement": [{"Sid": "hook"}]}`)); err != nil {
		t.Fatal(err)
	}
	doc, rev, ok := s.Policy(prod, useast1, arn)
	if !ok || doc != `{"Version":"2012-10-17","Statement":[{"Sid":"hook"}]}` || rev == rev0 {
		t.Fatalf("after SetPolicy: %s %s %v", doc, rev, ok)
	}
	out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake"), Qualifier: aws.String("prod")})
	if err != nil || *out.Policy != doc || *out.RevisionId != rev {
		t.Fatalf("GetPolicy after SetPolicy: %v %v", out, err)
	}
	if err := s.SetPolicy(prod, useast1, arn, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.Policy(prod, useast1, arn); ok {
		t.Error("policy still there after SetPolicy(nil)")
	}
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("intake"), Qualifier: aws.String("prod")})
	apiError(t, err, "ResourceNotFoundException", 404)
	layer := "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:4"
	if err := s.SetPolicy(prod, useast1, layer, []byte(`{"Statement":[]}`)); err != nil {
		t.Errorf("layer version: %v", err)
	}
	for _, bad := range []struct{ account, region, arn, doc string }{
		{prod, useast1, "arn:aws:lambda:us-east-1:111122223333:function:nope", "{}"},
		{prod, "eu-west-1", arn, "{}"},
		{prod, useast1, "intake", "{}"},
		{prod, useast1, arn, "[]"},
		{dev, useast1, "arn:aws:lambda:us-east-1:444455556666:function:dev-fn:7", "{}"},
	} {
		if err := s.SetPolicy(bad.account, bad.region, bad.arn, []byte(bad.doc)); err == nil {
			t.Errorf("SetPolicy(%s, %s, %s, %s) accepted", bad.account, bad.region, bad.arn, bad.doc)
		}
	}
}

// A large estate: lookups are by name and ListFunctions pages are served
// from an offset, so paging through 100,000 functions is linear (see
// BenchmarkListFunctionsLastPage for the cost of one deep page).
func TestLargeEstate(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 10_000
	}
	s := largeServer(t, n)
	seen, marker := 0, ""
	for {
		page := listPage(t, s, "?Marker="+marker)
		for _, f := range page.Functions {
			if want := fmt.Sprintf("fn-%06d", seen); f.FunctionName != want {
				t.Fatalf("function %d is %s, want %s", seen, f.FunctionName, want)
			}
			seen++
		}
		if page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	if seen != n {
		t.Fatalf("paged through %d functions, want %d", seen, n)
	}
	name := fmt.Sprintf("fn-%06d", n*7/9)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/2015-03-31/functions/"+name+"/policy", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), name) {
		t.Fatalf("GetPolicy in a large estate: %d %s", rec.Code, rec.Body.String())
	}
}

type listOut struct {
	Functions []struct {
		FunctionName string
	}
	NextMarker string
}

func largeServer(t testing.TB, n int) *emulator.Server {
	fns := make([]emulator.SeedFunction, n)
	for i := range fns {
		name := fmt.Sprintf("fn-%06d", i)
		fns[i] = emulator.SeedFunction{Name: name, Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"` + name + `","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}]}`)}
	}
	s, err := emulator.New(&emulator.Seed{Accounts: []emulator.SeedAccount{{ID: emulator.DefaultAccount,
		Regions: map[string]emulator.SeedRegion{useast1: {Functions: fns}}}}}, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func listPage(t testing.TB, s http.Handler, query string) listOut {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/2015-03-31/functions/"+query, nil))
	var out listOut
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("ListFunctions%s: %d %s", query, rec.Code, rec.Body.String())
	}
	return out
}

// markerFor follows the markers the server hands out (they are opaque)
// until the page that starts at index i.
func markerFor(t testing.TB, s http.Handler, i int) string {
	marker := ""
	for pos := 0; pos < i; {
		page := listPage(t, s, fmt.Sprintf("?MaxItems=%d&Marker=%s", min(50, i-pos), marker))
		pos += len(page.Functions)
		marker = page.NextMarker
	}
	return marker
}

func BenchmarkListFunctionsLastPage(b *testing.B) {
	s := largeServer(b, 100_000)
	marker := markerFor(b, s, 99_950)
	b.ResetTimer()
	for b.Loop() {
		listPage(b, s, "?Marker="+marker)
	}
}

func BenchmarkGetPolicy(b *testing.B) {
	s := largeServer(b, 100_000)
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/2015-03-31/functions/fn-050000/policy", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// FuzzParseFaults: any --faults spec either parses into faults that pass
// the server's own check, or is refused with an error; never a panic.
func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"GetPolicy:throttle=0.3,ListAliases:500=0.05,timeout=0.01", "GetResourcePolicy:404=1", "iam:GetRole:denied=1", "", "=", ":=1", "throttle=NaN", "x:y:z=0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		faults, err := emulator.ParseFaults(spec)
		if err != nil {
			return
		}
		if _, err := emulator.New(nil, emulator.Options{Faults: faults}); err != nil {
			t.Fatalf("ParseFaults(%q) accepted faults the server refuses: %v", spec, err)
		}
	})
}
