package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Checks made before the first API call, so that a typo costs seconds,
// not a scan: each failure is a usage error naming the flag (or the
// environment variable) and the fix.

// checkProfile makes sure the profile exists in the shared config or
// credentials file (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are
// respected, as the SDK does). Only files are read.
func (e *env) checkProfile(profile string) error {
	what := "--profile " + profile
	if profile == "" {
		profile = e.getenv("AWS_PROFILE")
		what = "AWS_PROFILE=" + profile
		if profile == "" {
			return nil
		}
	}
	configFiles, credFiles := awsconfig.DefaultSharedConfigFiles, awsconfig.DefaultSharedCredentialsFiles
	if f := e.getenv("AWS_CONFIG_FILE"); f != "" {
		configFiles = []string{f}
	}
	if f := e.getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		credFiles = []string{f}
	}
	_, err := awsconfig.LoadSharedConfigProfile(context.Background(), profile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = configFiles, credFiles
	})
	var missing awsconfig.SharedConfigProfileNotExistError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &missing):
		return usagef("%s: no such profile in %s or %s; list them with 'aws configure list-profiles', or create it with 'aws configure --profile %s'",
			what, strings.Join(configFiles, ", "), strings.Join(credFiles, ", "), profile)
	default:
		return usagef("%s: the shared config does not load: %s", what, err)
	}
}

// endpointDial bounds the check that something answers at --endpoint-url.
var endpointDial = 3 * time.Second

// checkEndpoint makes sure --endpoint-url is an http(s) URL with a host,
// and that something accepts connections there (unless a proxy is set,
// which the SDK would go through instead).
func (e *env) checkEndpoint(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--endpoint-url %q: want an http(s) URL, for example http://127.0.0.1:4566", raw)
	}
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if e.getenv(v) != "" {
			return nil
		}
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := net.DialTimeout("tcp", host, endpointDial)
	if err != nil {
		reason := err.Error()
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			reason = op.Err.Error()
		}
		return usagef("--endpoint-url %s: nothing answers there (%s); start the endpoint (e.g. lambdawarden emulator) or fix the URL", raw, reason)
	}
	conn.Close()
	return nil
}

// checkSpool makes sure the folder scans spool judged resources to
// ($TMPDIR) exists and takes files.
func (e *env) checkSpool() error {
	dir := os.TempDir()
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return usagef("TMPDIR=%s: the folder for the scan's spool file does not exist; set TMPDIR to a writable folder", dir)
	case !fi.IsDir():
		return usagef("TMPDIR=%s is not a folder; set TMPDIR to a writable folder", dir)
	}
	if err := checkFolder(dir, false); err != nil {
		return usagef("TMPDIR=%s: %s; set TMPDIR to a writable folder", dir, err)
	}
	return nil
}

// checkRegionEnv makes sure a Region taken from the environment is one.
func (e *env) checkRegionEnv() error {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := e.getenv(v); r != "" {
			if !looksLikeRegion(r) {
				return usagef("%s=%s is not a Region name (for example us-east-1); fix it or pass --region", v, r)
			}
			return nil // the SDK takes the first one set
		}
	}
	return nil
}

// errInterrupted is returned by a command that stopped on Ctrl-C.
type errInterrupted struct{ what string }

func (e *errInterrupted) Error() string { return "INTERRUPTED: " + e.what }

// interrupted reports the command was stopped; what says what was and was
// not done ("no report was written").
func interrupted(format string, args ...any) error {
	return &errInterrupted{what: fmt.Sprintf(format, args...)}
}
