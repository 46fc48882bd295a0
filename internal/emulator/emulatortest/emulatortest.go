// Package emulatortest starts the emulator for tests in other packages and
// points the AWS SDK's default credential chain at it, so a command under
// test talks to it exactly as it would to AWS.
package emulatortest

import (
	"path/filepath"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// Serve serves seed on a loopback port until the test ends and sets the
// environment the SDK reads: static keys of account (AKIA + account),
// us-east-1, no shared config or profile, no instance metadata, no
// endpoint override. It returns the server and its URL.
func Serve(t testing.TB, seed *emulator.Seed, opts emulator.Options, account string) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIA" + account, "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_LAMBDA": "",
	} {
		t.Setenv(k, v)
	}
	return srv, url
}
