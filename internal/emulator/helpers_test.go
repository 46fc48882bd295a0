package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

const (
	prod    = "111122223333"
	dev     = "444455556666"
	locked  = "777788889999"
	gone    = "222233334444"
	picky   = "555566667777"
	useast1 = "us-east-1"
)

// loadSeed parses a seed from testdata.
func loadSeed(t testing.TB, name string) *emulator.Seed {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := emulator.ParseSeed(data)
	if err != nil {
		t.Fatalf("ParseSeed(%s): %v", name, err)
	}
	return seed
}

// start serves seed on a loopback port for the duration of the test.
func start(t testing.TB, seed *emulator.Seed, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	s, err := emulator.New(seed, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

// startEstate serves testdata/estate.json.
func startEstate(t testing.TB, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	return start(t, loadSeed(t, "estate.json"), opts)
}

// awsConfig is what a client of the emulator uses: static credentials
// whose access key names the account, no retries (so tests see every
// error), the emulator as endpoint.
func awsConfig(account, region string) aws.Config {
	return awsConfigKeys("AKIA"+account, "secret", "", region)
}

func awsConfigKeys(akid, secret, token, region string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func lambdaClient(url, account, region string) *lambda.Client {
	return lambdaClientFrom(url, awsConfig(account, region))
}

func lambdaClientFrom(url string, cfg aws.Config) *lambda.Client {
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
}

func stsClient(url string, cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(url) })
}

func orgClient(url, account string) *organizations.Client {
	return organizations.NewFromConfig(awsConfig(account, useast1), func(o *organizations.Options) { o.BaseEndpoint = aws.String(url) })
}

// apiError asserts err is an AWS API error with the given code and HTTP
// status and returns it.
func apiError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s: %v", code, ae.ErrorCode(), err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no HTTP response in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d for %s, got %d", status, code, re.HTTPStatusCode())
	}
	return ae
}

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return http.NoBody
	}
	return bytes.NewReader(b)
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var ctx = context.Background()

// rawGet performs an unsigned-but-credentialed request the way a client
// without the SDK would (SigV4 header with a fake signature).
func rawRequest(t *testing.T, method, url, account string, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytesReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA"+account+"/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
