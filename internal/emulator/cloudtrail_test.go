package emulator_test

import (
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func cloudTrailClient(url string, cfg aws.Config) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(url) })
}

// trailFiles reads every delivered log file under dir: path → records.
func trailFiles(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s is not gzip: %v", path, err)
		}
		var doc struct {
			Records []map[string]any `json:"Records"`
		}
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = doc.Records
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var reDeliveredName = regexp.MustCompile(`^AWSLogs/111122223333/CloudTrail/us-east-1/\d{4}/\d{2}/\d{2}/111122223333_CloudTrail_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)

// TestWritesAreRecordedAsCloudTrailDoes drives a Stratus-style backdoor
// (AddPermission with Principal "*") through the real SDK, as an IAM user
// and as an assumed role, and checks the delivered log files field by
// field against CloudTrail's documented record shape.
func TestWritesAreRecordedAsCloudTrailDoes(t *testing.T) {
	dir := t.TempDir()
	srv, url := startEstate(t, emulator.Options{CloudTrailDir: dir})
	lc := lambdaClient(url, prod, useast1)
	_, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("private"), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The record is on disk when the call returns.
	files := trailFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("want one delivered file, got %v", files)
	}
	var rec map[string]any
	for path, recs := range files {
		if !reDeliveredName.MatchString(path) {
			t.Errorf("file %s is not in CloudTrail's S3 delivery layout", path)
		}
		rec = recs[0]
	}
	want := map[string]any{
		"eventSource": "lambda.amazonaws.com", "eventName": "AddPermission20150331v2", "awsRegion": "us-east-1",
		"sourceIPAddress": "127.0.0.1", "recipientAccountId": prod, "eventType": "AwsApiCall", "readOnly": false,
		"managementEvent": true, "eventCategory": "Management",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if !strings.Contains(rec["userAgent"].(string), "aws-sdk-go-v2") {
		t.Errorf("userAgent %q should be the SDK's", rec["userAgent"])
	}
	if _, err := time.Parse(time.RFC3339, rec["eventTime"].(string)); err != nil {
		t.Errorf("eventTime: %v", err)
	}
	for _, k := range []string{"eventID", "requestID"} {
		if s, _ := rec[k].(string); len(s) != 36 {
			t.Errorf("%s %q is not a UUID", k, s)
		}
	}
	who := rec["userIdentity"].(map[string]any)
	if who["type"] != "IAMUser" || who["accessKeyId"] != "AKIA"+prod || who["arn"] != "arn:aws:iam::"+prod+":user/emulator" || who["accountId"] != prod {
		t.Errorf("userIdentity %v", who)
	}
	params := rec["requestParameters"].(map[string]any)
	if params["functionName"] != "private" || params["statementId"] != "backdoor" || params["principal"] != "*" || params["action"] != "lambda:InvokeFunction" {
		t.Errorf("requestParameters must have lowerCamel keys: %v", params)
	}
	stmt, ok := rec["responseElements"].(map[string]any)["statement"].(string)
	if !ok {
		t.Fatalf("responseElements.statement must be a JSON string: %v", rec["responseElements"])
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(stmt), &parsed); err != nil || parsed["Principal"] != "*" || parsed["Sid"] != "backdoor" {
		t.Errorf("statement %s", stmt)
	}

	// The same through an assumed role in another account: the identity
	// names the session and its issuer.
	creds, err := stsClient(url, awsConfig(prod, useast1)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + dev + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("attacker"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := creds.Credentials
	devLambda := lambdaClientFrom(url, awsConfigKeys(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken, useast1))
	if _, err := devLambda.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
		FunctionName: aws.String("dev-fn"), AuthType: lambdatypes.FunctionUrlAuthTypeNone,
		Cors: &lambdatypes.Cors{AllowOrigins: []string{"*"}},
	}); err != nil {
		t.Fatal(err)
	}
	recs := srv.TrailRecords(dev, useast1)
	if len(recs) != 1 {
		t.Fatalf("want one record in %s, got %d", dev, len(recs))
	}
	var url1 emulator.TrailRecord
	if err := json.Unmarshal(recs[0], &url1); err != nil {
		t.Fatal(err)
	}
	id := url1.UserIdentity
	if url1.EventName != "CreateFunctionUrlConfig20211031" || id.Type != "AssumedRole" || id.AccessKeyID != *c.AccessKeyId ||
		id.ARN != "arn:aws:sts::"+dev+":assumed-role/OrganizationAccountAccessRole/attacker" ||
		id.SessionContext == nil || id.SessionContext.SessionIssuer.ARN != "arn:aws:iam::"+dev+":role/OrganizationAccountAccessRole" {
		t.Errorf("assumed-role record: %s", recs[0])
	}
	if !strings.Contains(string(url1.RequestParameters), `"authType":"NONE"`) || !strings.Contains(string(url1.RequestParameters), `"allowOrigins":["*"]`) {
		t.Errorf("requestParameters %s", url1.RequestParameters)
	}

	// A failed write is recorded with its errorCode and no response.
	_, err = lc.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("private"), StatementId: aws.String("backdoor"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"),
	})
	apiError(t, err, "ResourceConflictException", 409)
	recs = srv.TrailRecords(prod, useast1)
	var failed emulator.TrailRecord
	if err := json.Unmarshal(recs[len(recs)-1], &failed); err != nil {
		t.Fatal(err)
	}
	if failed.ErrorCode != "ResourceConflictException" || failed.ErrorMessage == "" || string(failed.ResponseElements) != "null" {
		t.Errorf("failed call: %s", recs[len(recs)-1])
	}
	// Reads are not recorded.
	if _, err := lc.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.TrailRecords(prod, useast1)); n != 2 {
		t.Errorf("want 2 records (the read is not one), got %d", n)
	}
	if n, err := srv.TrailWriteErrors(); n != 0 {
		t.Errorf("write errors: %d %v", n, err)
	}
}

// TestLookupEventsWithTheSDK pages LookupEvents through the real
// cloudtrail client, filters by attribute and time, and meets its quota.
func TestLookupEventsWithTheSDK(t *testing.T) {
	srv, url := startEstate(t, emulator.Options{LookupEventsRate: 1000})
	lc := lambdaClient(url, prod, useast1)
	for _, sid := range []string{"a", "b", "c"} {
		if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("intake"), Qualifier: aws.String("prod"),
			StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lc.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("intake"), Qualifier: aws.String("prod"), StatementId: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	// The SDK's standard retryer here (the helpers use none): on this
	// loaded 2-core CI machine a keep-alive connection was once torn down
	// under a read, which says nothing about the wire format under test.
	cfg := awsConfig(prod, useast1)
	cfg.Retryer = nil
	ct := cloudTrailClient(url, cfg)
	var names []string
	p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("lambda.amazonaws.com")}},
		MaxResults:       aws.Int32(3),
		StartTime:        aws.Time(time.Now().Add(-time.Hour)),
		EndTime:          aws.Time(time.Now().Add(time.Hour)),
	})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Events {
			names = append(names, aws.ToString(e.EventName))
			var rec emulator.TrailRecord
			if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil || rec.EventID != aws.ToString(e.EventId) {
				t.Errorf("CloudTrailEvent must be the record: %v", err)
			}
			if e.EventTime == nil || time.Since(*e.EventTime) > time.Minute || aws.ToString(e.Username) != "emulator" || len(e.Resources) != 1 {
				t.Errorf("event %+v", e)
			}
		}
	}
	if want := "RemovePermission20150331v2,AddPermission20150331v2,AddPermission20150331v2,AddPermission20150331v2"; strings.Join(names, ",") != want || pages != 2 {
		t.Errorf("events %v over %d pages, want newest first %s over 2 pages", names, pages, want)
	}
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("RemovePermission20150331v2")}}})
	if err != nil || len(out.Events) != 1 {
		t.Fatalf("filter by EventName: %v %v", err, out)
	}
	out, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now().Add(time.Hour))})
	if err != nil || len(out.Events) != 0 {
		t.Errorf("a window in the future holds nothing: %v %v", err, out)
	}
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("x")},
		{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("y")},
	}})
	apiError(t, err, "InvalidLookupAttributesException", 400)
	// Another account's trail is its own.
	other, err := cloudTrailClient(url, awsConfig(dev, useast1)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if err != nil || len(other.Events) != 0 {
		t.Errorf("account %s sees %v (%v)", dev, other, err)
	}
	_ = srv
}

func TestLookupEventsQuotaIsTwoPerSecond(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	ct := cloudTrailClient(url, awsConfig(prod, useast1))
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	}
	apiError(t, err, "ThrottlingException", 400)
}

// TestLookupEventsWithTheCLI checks the wire format against a second
// client, the aws CLI.
func TestLookupEventsWithTheCLI(t *testing.T) {
	_, url := startEstate(t, emulator.Options{})
	cli := newAWSCLI(t, url)
	if _, stderr, code := cli.run(prod, "lambda", "add-permission", "--function-name", "private", "--statement-id", "cli",
		"--action", "lambda:InvokeFunction", "--principal", "*"); code != 0 {
		t.Fatalf("add-permission: %s", stderr)
	}
	stdout, stderr, code := cli.run(prod, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=lambda.amazonaws.com")
	if code != 0 {
		t.Fatalf("lookup-events: %s", stderr)
	}
	var out struct {
		Events []struct {
			EventName, CloudTrailEvent string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || len(out.Events) != 1 || out.Events[0].EventName != "AddPermission20150331v2" {
		t.Fatalf("lookup-events printed %s (%v)", stdout, err)
	}
	if !strings.Contains(out.Events[0].CloudTrailEvent, `"userAgent":"aws-cli/`) {
		t.Errorf("the record should carry the CLI's user agent: %s", out.Events[0].CloudTrailEvent)
	}
}

// TestAliasAndVersionWritesAreServedAndRecorded: PublishVersion,
// CreateAlias and UpdateAlias change the estate (lists, policies) and are
// recorded with what a reader needs to name the resource.
func TestAliasAndVersionWritesAreServedAndRecorded(t *testing.T) {
	srv, url := startEstate(t, emulator.Options{})
	lc := lambdaClient(url, prod, useast1)
	pub, err := lc.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("private"), Description: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(pub.Version) != "1" || aws.ToString(pub.FunctionArn) != "arn:aws:lambda:us-east-1:"+prod+":function:private:1" {
		t.Fatalf("published %s %s", aws.ToString(pub.Version), aws.ToString(pub.FunctionArn))
	}
	if _, err := lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("private"), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST")}); err != nil {
		t.Fatal(err)
	}
	_, err = lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("private"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	apiError(t, err, "ResourceConflictException", 409)
	_, err = lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("private"), Name: aws.String("x"), FunctionVersion: aws.String("9")})
	apiError(t, err, "ResourceNotFoundException", 404)
	if _, err := lc.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("private"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// The new resources are there, and take permissions of their own.
	al, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("private"), Name: aws.String("live")})
	if err != nil || aws.ToString(al.FunctionVersion) != "1" {
		t.Fatalf("alias %+v %v", al, err)
	}
	vs, err := lc.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("private")})
	if err != nil || len(vs.Versions) != 2 {
		t.Fatalf("versions %v %v", vs, err)
	}
	all, err := lc.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: lambdatypes.FunctionVersionAll, MaxItems: aws.Int32(50)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range all.Functions {
		found = found || aws.ToString(f.FunctionArn) == "arn:aws:lambda:us-east-1:"+prod+":function:private:1"
	}
	if !found {
		t.Error("ListFunctions FunctionVersion=ALL must list the new version")
	}
	if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("private"), Qualifier: aws.String("live"),
		StatementId: aws.String("s"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	var recs []emulator.TrailRecord
	for _, raw := range srv.TrailRecords(prod, useast1) {
		var r emulator.TrailRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		names = append(names, r.EventName)
		recs = append(recs, r)
	}
	if want := "PublishVersion20150331,CreateAlias20150331,CreateAlias20150331,CreateAlias20150331,UpdateAlias20150331,AddPermission20150331v2"; strings.Join(names, ",") != want {
		t.Errorf("recorded %s", strings.Join(names, ","))
	}
	if !strings.Contains(string(recs[0].ResponseElements), `"version":"1"`) || !strings.Contains(string(recs[1].ResponseElements), `"aliasArn":"arn:aws:lambda:us-east-1:`+prod+`:function:private:live"`) ||
		!strings.Contains(string(recs[4].RequestParameters), `"name":"live"`) || recs[2].ErrorCode != "ResourceConflictException" {
		t.Errorf("records: %s / %s / %s / %s", recs[0].ResponseElements, recs[1].ResponseElements, recs[4].RequestParameters, recs[2].ErrorCode)
	}
}
