package emulator_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

// awsCLI runs the aws CLI against the emulator as account, the way a person
// would: static keys naming the account, --endpoint-url, no config files.
type awsCLI struct {
	t    *testing.T
	bin  string
	url  string
	home string
}

func newAWSCLI(t *testing.T, url string) *awsCLI {
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH; CI must install it (pip install awscli) to run the CLI compatibility tests")
		}
		t.Skip("the aws CLI is not on PATH; install it (pip install awscli) to run the CLI compatibility tests")
	}
	return &awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
}

// run returns stdout, stderr and the exit code.
func (c *awsCLI) run(account string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "--endpoint-url", c.url, "--output", "json")...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.home,
		"AWS_ACCESS_KEY_ID=AKIA" + account,
		"AWS_SECRET_ACCESS_KEY=x",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("aws %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// json runs a command that must succeed and decodes its output.
func (c *awsCLI) json(account string, v any, args ...string) {
	c.t.Helper()
	out, errOut, code := c.run(account, args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestAWSCLILambda(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	cli := newAWSCLI(t, url)

	var added struct{ Statement string }
	cli.json(prod, &added, "lambda", "add-permission", "--function-name", "private", "--statement-id", "cli",
		"--action", "lambda:InvokeFunction", "--principal", dev, "--source-arn", "arn:aws:events:us-east-1:444455556666:rule/r")
	want := `{"Sid":"cli","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:private","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:events:us-east-1:444455556666:rule/r"}}}`
	if added.Statement != want {
		t.Errorf("add-permission statement\n got %s\nwant %s", added.Statement, want)
	}

	var pol struct{ Policy, RevisionId string }
	cli.json(prod, &pol, "lambda", "get-policy", "--function-name", "private")
	if pol.Policy != `{"Version":"2012-10-17","Id":"default","Statement":[`+want+`]}` || pol.RevisionId == "" {
		t.Errorf("get-policy: %+v", pol)
	}

	_, errOut, code := cli.run(prod, "lambda", "remove-permission", "--function-name", "private", "--statement-id", "cli", "--revision-id", "stale")
	if code == 0 || !strings.Contains(errOut, "PreconditionFailedException") {
		t.Errorf("remove-permission with a stale revision: exit %d: %s", code, errOut)
	}
	cli.json(prod, nil, "lambda", "remove-permission", "--function-name", "private", "--statement-id", "cli", "--revision-id", pol.RevisionId)
	_, errOut, code = cli.run(prod, "lambda", "get-policy", "--function-name", "private")
	if code == 0 || !strings.Contains(errOut, "ResourceNotFoundException") || !strings.Contains(errOut, "The resource you requested does not exist.") {
		t.Errorf("get-policy after removing the last statement: exit %d: %s", code, errOut)
	}

	var page struct {
		Functions []struct{ FunctionName string }
		NextToken string
	}
	cli.json(prod, &page, "lambda", "list-functions", "--max-items", "4", "--page-size", "3")
	if len(page.Functions) != 4 || page.Functions[0].FunctionName != "intake" || page.Functions[3].FunctionName != "garbled" || page.NextToken == "" {
		t.Fatalf("list-functions --max-items 4 --page-size 3: %+v", page)
	}
	var rest struct {
		Functions []struct{ FunctionName string }
	}
	cli.json(prod, &rest, "lambda", "list-functions", "--page-size", "1", "--starting-token", page.NextToken)
	if len(rest.Functions) != 2 || rest.Functions[0].FunctionName != "throttled" || rest.Functions[1].FunctionName != "broken" {
		t.Errorf("list-functions from the token: %+v", rest)
	}

	var u struct{ AuthType, FunctionUrl, FunctionArn string }
	cli.json(prod, &u, "lambda", "get-function-url-config", "--function-name", "intake", "--qualifier", "prod")
	if u.AuthType != "AWS_IAM" || !strings.HasSuffix(u.FunctionUrl, ".lambda-url.us-east-1.on.aws/") || u.FunctionArn != "arn:aws:lambda:us-east-1:111122223333:function:intake:prod" {
		t.Errorf("get-function-url-config: %+v", u)
	}
}

func TestAWSCLIOtherServices(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	cli := newAWSCLI(t, url)

	var id struct{ Account, Arn string }
	cli.json(dev, &id, "sts", "get-caller-identity")
	if id.Account != dev || id.Arn != "arn:aws:iam::444455556666:user/emulator" {
		t.Errorf("sts get-caller-identity: %+v", id)
	}
	var accounts struct{ Accounts []struct{ Id, Status string } }
	cli.json(prod, &accounts, "organizations", "list-accounts")
	if len(accounts.Accounts) != 5 || accounts.Accounts[3].Status != "SUSPENDED" {
		t.Errorf("organizations list-accounts: %+v", accounts)
	}
	var regions struct {
		Regions []struct{ RegionName, RegionOptStatus string }
	}
	cli.json(prod, &regions, "account", "list-regions")
	if len(regions.Regions) != 3 || regions.Regions[0].RegionOptStatus != "DISABLED" {
		t.Errorf("account list-regions: %+v", regions)
	}
	var role struct {
		Role struct {
			Arn                      string
			AssumeRolePolicyDocument map[string]any
		}
	}
	cli.json(dev, &role, "iam", "get-role", "--role-name", "OrganizationAccountAccessRole")
	if role.Role.Arn != "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole" || role.Role.AssumeRolePolicyDocument["Version"] != "2012-10-17" {
		t.Errorf("iam get-role: %+v", role)
	}
}
