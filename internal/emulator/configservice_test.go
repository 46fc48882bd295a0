package emulator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

func TestConfigPutEvaluationsAndHistory(t *testing.T) {
	srv, url := startEstate(t, emulator.Options{})
	cs := configservice.NewFromConfig(awsConfig(prod, useast1), func(o *configservice.Options) { o.BaseEndpoint = aws.String(url) })
	when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id, c, note string) cstypes.Evaluation {
		return cstypes.Evaluation{ComplianceResourceType: aws.String("AWS::Lambda::Function"), ComplianceResourceId: aws.String(id),
			ComplianceType: cstypes.ComplianceType(c), Annotation: aws.String(note), OrderingTimestamp: aws.Time(when)}
	}
	if _, err := cs.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String("tok"),
		Evaluations: []cstypes.Evaluation{ev("intake", "NON_COMPLIANT", "public"), ev("private", "COMPLIANT", "")}}); err != nil {
		t.Fatal(err)
	}
	got := srv.Evaluations()
	if len(got) != 2 || got[0].ResourceID != "intake" || got[0].ComplianceType != "NON_COMPLIANT" || got[0].Annotation != "public" ||
		got[0].ResultToken != "tok" || !got[0].OrderingTimestamp.Equal(when) || got[1].Batch != 1 {
		t.Fatalf("evaluations %+v", got)
	}
	var many []cstypes.Evaluation
	for i := 0; i < 101; i++ {
		many = append(many, ev(fmt.Sprint(i), "COMPLIANT", ""))
	}
	_, err := cs.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String("tok"), Evaluations: many})
	apiError(t, err, "ValidationException", 400)
	_, err = cs.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String("tok"), Evaluations: []cstypes.Evaluation{ev("x", "INSUFFICIENT_DATA", "")}})
	apiError(t, err, "InvalidParameterValueException", 400)
	_, err = cs.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String("tok"), Evaluations: []cstypes.Evaluation{ev("x", "COMPLIANT", strings.Repeat("a", 257))}})
	apiError(t, err, "ValidationException", 400)
	_, err = cs.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(""), Evaluations: []cstypes.Evaluation{ev("x", "COMPLIANT", "")}})
	apiError(t, err, "InvalidResultTokenException", 400)

	hist, err := cs.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cstypes.ResourceTypeFunction, ResourceId: aws.String("intake"), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.ConfigurationItems) != 1 || aws.ToString(hist.ConfigurationItems[0].Arn) != "arn:aws:lambda:us-east-1:"+prod+":function:intake" ||
		hist.ConfigurationItems[0].ConfigurationItemStatus != cstypes.ConfigurationItemStatusOk || !strings.Contains(aws.ToString(hist.ConfigurationItems[0].Configuration), `"FunctionName":"intake"`) {
		t.Errorf("history %+v", hist.ConfigurationItems)
	}
	_, err = cs.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cstypes.ResourceTypeFunction, ResourceId: aws.String("nope")})
	apiError(t, err, "ResourceNotDiscoveredException", 400)
}
