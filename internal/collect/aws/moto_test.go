package awscollect_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
)

// needTool finds an outside program; it skips on a laptop without it and
// fails under CI, where .ci/run must provide it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run must provide it", name)
		}
		t.Skipf("%s is not installed; skipping (CI installs it)", name)
	}
	return path
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startMoto runs moto_server, an independent AWS emulator, and waits
// until it answers.
func startMoto(t *testing.T) string {
	bin := needTool(t, "moto_server")
	addr := freePort(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-H", host, "-p", port)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("moto_server did not start: %s", logs.String())
	return ""
}

const motoAccount = "123456789012" // moto's fixed account

// permission is one AddPermission call of the differential estate.
type permission struct {
	function, qualifier string
	in                  lambda.AddPermissionInput
}

func differentialPermissions() []permission {
	p := func(fn, q, sid, principal string, mod func(*lambda.AddPermissionInput)) permission {
		in := lambda.AddPermissionInput{StatementId: aws.String(sid), Principal: aws.String(principal), Action: aws.String("lambda:InvokeFunction")}
		if mod != nil {
			mod(&in)
		}
		return permission{function: fn, qualifier: q, in: in}
	}
	return []permission{
		p("d-public", "", "everyone", "*", nil),
		p("d-s3-unscoped", "", "s3", "s3.amazonaws.com", func(in *lambda.AddPermissionInput) { in.SourceArn = aws.String("arn:aws:s3:::phi-drop") }),
		p("d-s3-pinned", "", "s3", "s3.amazonaws.com", func(in *lambda.AddPermissionInput) {
			in.SourceArn = aws.String("arn:aws:s3:::phi-drop")
			in.SourceAccount = aws.String(motoAccount)
		}),
		p("d-org", "", "org", "*", func(in *lambda.AddPermissionInput) { in.PrincipalOrgID = aws.String("o-abc123def4") }),
		p("d-sns-own", "", "sns", "sns.amazonaws.com", func(in *lambda.AddPermissionInput) {
			in.SourceArn = aws.String("arn:aws:sns:us-east-1:" + motoAccount + ":alerts")
		}),
		p("d-alexa", "", "alexa", "alexa-appkit.amazon.com", func(in *lambda.AddPermissionInput) { in.EventSourceToken = aws.String("amzn1.ask.skill.1") }),
		p("d-alias", "prod", "alias-public", "*", nil),
		p("d-version", "1", "events-foreign", "events.amazonaws.com", func(in *lambda.AddPermissionInput) {
			in.SourceArn = aws.String("arn:aws:events:us-east-1:444455556666:rule/x")
		}),
		p("d-partner", "", "partner", "444455556666", nil),
	}
}

// TestDifferentialAgainstMoto builds the same functions and permissions in
// moto and in our emulator through the SDK, scans both and compares the
// verdicts. Known moto deviations are asserted, not hidden:
//   - moto stores an account principal as a bare string ("444455556666")
//     where Lambda stores {"AWS": "arn:aws:iam::444455556666:root"}, and a
//     service principal outside *.amazonaws.com ("alexa-appkit.amazon.com")
//     the same way; neither is a valid IAM principal, so lambdawarden fails
//     closed: unknown, naming the Principal.
//   - moto keeps one policy per function and returns it for any qualifier;
//     the statements' Resource still tells which ARN each one covers.
//   - moto has no ListFunctionUrlConfigs, so no URL grants are made here.
func TestDifferentialAgainstMoto(t *testing.T) {
	motoURL := startMoto(t)
	ctx := context.Background()
	names := map[string]bool{}
	for _, pm := range differentialPermissions() {
		names[pm.function] = true
	}

	// Our emulator: functions from a seed, permissions through the SDK.
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: motoAccount, Regions: map[string]emulator.SeedRegion{"us-east-1": {}}}}}
	region := seed.Accounts[0].Regions["us-east-1"]
	for name := range names {
		region.Functions = append(region.Functions, emulator.SeedFunction{Name: name,
			Versions: []emulator.SeedVersion{{Version: "1"}}, Aliases: []emulator.SeedAlias{{Name: "prod", Version: "1"}}})
	}
	seed.Accounts[0].Regions["us-east-1"] = region
	_, ourURL := startEmulator(t, seed, emulator.Options{})

	// moto: the same functions through the SDK.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIA"+motoAccount, "secret", "")}
	motoLambda := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(motoURL) })
	motoIAM := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(motoURL) })
	if _, err := motoIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	code := zipped(t, "index.py", "def handler(e, c):\n    return 1\n")
	for name := range names {
		if _, err := motoLambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
			Role: aws.String("arn:aws:iam::" + motoAccount + ":role/fn"), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: code}}); err != nil {
			t.Fatal(err)
		}
		if _, err := motoLambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := motoLambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("prod"), FunctionVersion: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
	}

	ourLambda := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(ourURL) })
	for _, pm := range differentialPermissions() {
		for _, c := range []*lambda.Client{ourLambda, motoLambda} {
			in := pm.in
			in.FunctionName = aws.String(pm.function)
			if pm.qualifier != "" {
				in.Qualifier = aws.String(pm.qualifier)
			}
			if _, err := c.AddPermission(ctx, &in); err != nil {
				t.Fatalf("AddPermission %s: %v", pm.function, err)
			}
		}
	}

	scanBoth := func(url string) map[string]string {
		opt := options(url, motoAccount, "us-east-1")
		opt.Thorough = false
		opt.NeedsURL = func(r *inventory.Resource) bool { return scan.URLReachable(r, rules.Trust{}) }
		got, sum := collect(t, opt, rules.Trust{OrgID: "o-abc123def4"})
		for _, e := range sum.Errors {
			// An unparseable policy makes the collector read the URL
			// config to be safe, which moto does not serve.
			if url == motoURL && (strings.Contains(e, "d-alexa") || strings.Contains(e, "d-partner")) && strings.Contains(e, "ListFunctionUrlConfigs") {
				continue
			}
			t.Errorf("%s: scan error %s", url, e)
		}
		out := map[string]string{}
		for arn, r := range got {
			out[arn] = r.Exposure
			if r.Status == "unknown" {
				out[arn] += " (" + r.UnknownReason + ")"
			}
		}
		return out
	}
	ours, theirs := scanBoth(ourURL), scanBoth(motoURL)

	arn := func(fn, q string) string {
		s := "arn:aws:lambda:us-east-1:" + motoAccount + ":function:" + fn
		if q != "" {
			s += ":" + q
		}
		return s
	}
	want := map[string]string{
		arn("d-public", ""): "public", arn("d-s3-unscoped", ""): "service-unscoped", arn("d-s3-pinned", ""): "private",
		arn("d-org", ""): "org", arn("d-sns-own", ""): "private", arn("d-alexa", ""): "private",
		arn("d-alias", ""): "private", arn("d-alias", "prod"): "public",
		arn("d-version", ""): "private", arn("d-version", "1"): "cross-account", // pinned to a foreign account's rule
		arn("d-partner", ""): "cross-account",
	}
	for a, w := range want {
		if ours[a] != w {
			t.Errorf("our emulator: %s is %q, want %q", a, ours[a], w)
		}
		mw := w
		if strings.Contains(a, "d-partner") || strings.Contains(a, "d-alexa") {
			mw = "unknown"
		}
		if !strings.HasPrefix(theirs[a], mw) {
			t.Errorf("moto: %s is %q, want %q", a, theirs[a], mw)
		}
	}
	if !strings.Contains(theirs[arn("d-partner", "")], "Principal") {
		t.Errorf("moto's bare account principal should be reported as a Principal parse error, got %q", theirs[arn("d-partner", "")])
	}
	if len(ours) != len(theirs) {
		t.Errorf("our emulator yields %d resources, moto %d:\nours   %v\ntheirs %v", len(ours), len(theirs), ours, theirs)
	}
	for a, v := range ours {
		if _, checked := want[a]; checked {
			continue
		}
		if strings.Contains(a, "d-partner") || strings.Contains(a, "d-alexa") {
			// moto returns the function's whole (unparseable) policy for
			// every qualifier.
			if !strings.HasPrefix(theirs[a], "unknown") {
				t.Errorf("%s: moto %q, want unknown", a, theirs[a])
			}
			continue
		}
		if theirs[a] != v {
			t.Errorf("%s: ours %q, moto %q", a, v, theirs[a])
		}
	}
}

func zipped(t *testing.T, name, body string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, body)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
