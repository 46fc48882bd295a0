package configrule_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/configrule"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// FuzzParameters: any ruleParameters string is read or refused, never a
// crash.
func FuzzParameters(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"trustedAccounts":"111122223333,444455556666","orgId":"o-abc123def4","severityThreshold":"high"}`,
		`{"TrustedAccounts":["111122223333"]}`, `{"severityThreshold":1}`, `[]`, `{"x":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := configrule.ParseParameters(raw)
		if err != nil {
			return
		}
		for _, id := range p.Trust.Trusted {
			if len(id) != 12 {
				t.Fatalf("accepted account id %q", id)
			}
		}
		if p.Threshold < 0 || p.Threshold > 4 {
			t.Fatalf("threshold %v", p.Threshold)
		}
	})
}

// fakes for the handler: no network.
type fakeReader struct{}

func (fakeReader) ReadFunction(_ context.Context, arn string) ([]awscollect.Read, error) {
	r, err := fakeReader{}.Read(context.Background(), arn)
	return []awscollect.Read{r}, err
}

func (fakeReader) Read(_ context.Context, arn string) (awscollect.Read, error) {
	la, err := inventory.ParseLambdaARN(arn)
	if err != nil {
		return awscollect.Read{}, err
	}
	return awscollect.Read{Resource: &inventory.Resource{ARN: arn, Kind: la.Kind, Account: la.Account, Region: la.Region, Name: la.Name, Qualifier: la.Qualifier,
		Policy: &inventory.Policy{Document: `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + arn + `"}]}`}}}, nil
}

type fakeConfig struct{ evs []configrule.Evaluation }

func (c *fakeConfig) PutEvaluations(_ context.Context, _, _ string, _ bool, evs []configrule.Evaluation) error {
	if len(evs) > configrule.MaxBatch {
		return os.ErrInvalid
	}
	c.evs = append(c.evs, evs...)
	return nil
}

func (c *fakeConfig) ConfigurationItem(_ context.Context, _, t, id string) (*configrule.Item, error) {
	return &configrule.Item{ResourceType: t, ResourceID: id, Account: "111122223333", Region: "us-east-1", Status: "OK"}, nil
}

// FuzzHandle feeds arbitrary invocations to the handler: it answers or
// refuses, every evaluation it puts is one Config accepts, and nothing
// unassessed is COMPLIANT.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"scheduled.json", "change-lab-results.json", "oversized-patient-intake.json", "deleted.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg := &fakeConfig{}
		h := &configrule.Handler{Reader: fakeReader{}, Config: cfg, Region: "us-east-1",
			Scan: func(_ context.Context, account, region string, emit func(*inventory.Resource)) ([]string, error) {
				r, _ := fakeReader{}.Read(context.Background(), "arn:aws:lambda:us-east-1:111122223333:function:f")
				emit(r.Resource)
				return nil, nil
			}}
		res, err := h.Handle(context.Background(), json.RawMessage(raw))
		if err != nil && res == nil {
			return
		}
		for _, e := range cfg.evs {
			switch e.Compliance {
			case configrule.Compliant, configrule.NonCompliant, configrule.NotApplicable:
			default:
				t.Fatalf("compliance %q", e.Compliance)
			}
			if utf8.RuneCountInString(e.Annotation) > 256 || e.ResourceID == "" || e.ResourceType == "" {
				t.Fatalf("evaluation Config would refuse: %+v", e)
			}
			if e.ResourceType == configrule.FunctionType && e.Compliance == configrule.Compliant {
				t.Fatalf("a public function was COMPLIANT: %+v", e)
			}
		}
	})
}
