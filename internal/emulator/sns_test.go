package emulator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func TestSNSPublish(t *testing.T) {
	srv, url := startEstate(t, emulator.Options{})
	client := sns.NewFromConfig(awsConfig(prod, useast1), func(o *sns.Options) { o.BaseEndpoint = aws.String(url) })
	topic := "arn:aws:sns:us-east-1:" + prod + ":alerts"
	out, err := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(`{"a":1}`), Subject: aws.String("critical on x"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"alert_id": {DataType: aws.String("String"), StringValue: aws.String("lw-1")}}})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Published()
	if len(got) != 1 || got[0].MessageID != aws.ToString(out.MessageId) || got[0].Message != `{"a":1}` || got[0].Subject != "critical on x" ||
		got[0].Attributes["alert_id"] != "lw-1" || got[0].TopicArn != topic {
		t.Fatalf("published %+v", got)
	}
	_, err = client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:" + dev + ":alerts"), Message: aws.String("x")})
	apiError(t, err, "AuthorizationError", 403)
	_, err = client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("not-an-arn"), Message: aws.String("x")})
	apiError(t, err, "InvalidParameter", 400)
	if srv.Counts()["sns:Publish"] != 3 {
		t.Errorf("counts %v", srv.Counts())
	}

	cli := newAWSCLI(t, url)
	if _, stderr, code := cli.run(prod, "sns", "publish", "--topic-arn", topic, "--message", "from the cli"); code != 0 {
		t.Fatalf("aws sns publish: %s", stderr)
	}
	if got := srv.Published(); len(got) != 2 || !strings.Contains(got[1].Message, "from the cli") {
		t.Errorf("published %+v", got)
	}
}
