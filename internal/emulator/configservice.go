package emulator

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"
)

// ConfigEvaluation is one evaluation received by AWS Config PutEvaluations.
type ConfigEvaluation struct {
	Account, Region   string
	ResultToken       string
	TestMode          bool
	Batch             int // which PutEvaluations call (1, 2, ...) carried it
	ResourceType      string
	ResourceID        string
	ComplianceType    string
	Annotation        string
	OrderingTimestamp time.Time
}

type configLog struct {
	mu      sync.Mutex
	batches int
	evals   []ConfigEvaluation
}

// Evaluations returns what PutEvaluations received so far, in order.
func (s *Server) Evaluations() []ConfigEvaluation {
	s.init()
	s.config.mu.Lock()
	defer s.config.mu.Unlock()
	return append([]ConfigEvaluation(nil), s.config.evals...)
}

func configHandler(op string) handler {
	switch op {
	case "PutEvaluations":
		return putEvaluations
	case "GetResourceConfigHistory":
		return getResourceConfigHistory
	}
	return nil
}

// customRuleCompliance are the compliance types a custom rule may report
// (Config refuses INSUFFICIENT_DATA from one).
var customRuleCompliance = map[string]bool{"COMPLIANT": true, "NON_COMPLIANT": true, "NOT_APPLICABLE": true}

// putEvaluations is Config's PutEvaluations (JSON 1.1, X-Amz-Target
// StarlingDoveService.PutEvaluations): at most 100 evaluations a call,
// annotations of at most 256 characters, a ResultToken unless TestMode.
func putEvaluations(c *call) {
	var in struct {
		Evaluations []struct {
			ComplianceResourceType string   `json:"ComplianceResourceType"`
			ComplianceResourceID   string   `json:"ComplianceResourceId"`
			ComplianceType         string   `json:"ComplianceType"`
			Annotation             string   `json:"Annotation"`
			OrderingTimestamp      *float64 `json:"OrderingTimestamp"`
		} `json:"Evaluations"`
		ResultToken *string `json:"ResultToken"`
		TestMode    bool    `json:"TestMode"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		c.error(http.StatusBadRequest, "SerializationException", "Could not parse request body: "+err.Error())
		return
	}
	switch {
	case in.ResultToken == nil || (*in.ResultToken == "" && !in.TestMode):
		c.error(http.StatusBadRequest, "InvalidResultTokenException", "The specified ResultToken is not valid.")
		return
	case len(in.Evaluations) > 100:
		c.error(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to 100")
		return
	}
	var got []ConfigEvaluation
	for _, e := range in.Evaluations {
		switch {
		case e.ComplianceResourceType == "" || e.ComplianceResourceID == "" || e.OrderingTimestamp == nil:
			c.error(http.StatusBadRequest, "ValidationException", "1 validation error detected: ComplianceResourceType, ComplianceResourceId and OrderingTimestamp are required")
			return
		case !customRuleCompliance[e.ComplianceType]:
			c.error(http.StatusBadRequest, "InvalidParameterValueException", "The ComplianceType "+e.ComplianceType+" is not valid for a custom rule.")
			return
		case utf8.RuneCountInString(e.Annotation) > 256:
			c.error(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'evaluations.member.annotation' failed to satisfy constraint: Member must have length less than or equal to 256")
			return
		}
		got = append(got, ConfigEvaluation{Account: c.id.account, Region: c.id.region, ResultToken: *in.ResultToken, TestMode: in.TestMode,
			ResourceType: e.ComplianceResourceType, ResourceID: e.ComplianceResourceID, ComplianceType: e.ComplianceType,
			Annotation: e.Annotation, OrderingTimestamp: epoch(*e.OrderingTimestamp).UTC()})
	}
	c.s.config.mu.Lock()
	c.s.config.batches++
	for i := range got {
		got[i].Batch = c.s.config.batches
	}
	c.s.config.evals = append(c.s.config.evals, got...)
	c.s.config.mu.Unlock()
	c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", map[string]any{"FailedEvaluations": []any{}})
}

// getResourceConfigHistory answers the current configuration item of a
// seeded function (AWS::Lambda::Function, by name): what an oversized
// change notification leaves out.
func getResourceConfigHistory(c *call) {
	var in struct {
		ResourceType string `json:"resourceType"`
		ResourceID   string `json:"resourceId"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		c.error(http.StatusBadRequest, "SerializationException", "Could not parse request body: "+err.Error())
		return
	}
	notFound := func() {
		c.error(http.StatusBadRequest, "ResourceNotDiscoveredException", "Resource "+in.ResourceID+" of resourceType:"+in.ResourceType+" is unknown or has not been discovered")
	}
	if in.ResourceType != "AWS::Lambda::Function" {
		notFound()
		return
	}
	rg := c.s.est.region(c.id.account, c.id.region)
	rg.rlock()
	fn, _, ok := rg.resolve(in.ResourceID, "")
	var cfg functionConfiguration
	if ok {
		cfg = fn.config(fn.arn, nil)
	}
	rg.runlock()
	if !ok {
		notFound()
		return
	}
	doc, _ := json.Marshal(cfg)
	c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", map[string]any{"configurationItems": []map[string]any{{
		"version":                      "1.3",
		"accountId":                    c.id.account,
		"configurationItemCaptureTime": float64(seedEpoch.Unix()),
		"configurationItemStatus":      "OK",
		"configurationStateId":         "1",
		"arn":                          cfg.FunctionArn,
		"resourceType":                 "AWS::Lambda::Function",
		"resourceId":                   cfg.FunctionName,
		"resourceName":                 cfg.FunctionName,
		"awsRegion":                    c.id.region,
		"configuration":                string(doc),
	}}})
}
