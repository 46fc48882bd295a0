package emulator

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func cloudTrailHandler(op string) handler {
	if op == "LookupEvents" {
		return lookupEvents
	}
	return nil
}

// lookupAttributeKeys are LookupEvents' AttributeKey values.
var lookupAttributeKeys = map[string]bool{
	"EventId": true, "EventName": true, "ReadOnly": true, "Username": true,
	"ResourceType": true, "ResourceName": true, "EventSource": true, "AccessKeyId": true,
}

type lookupResource struct {
	ResourceType string `json:"ResourceType"`
	ResourceName string `json:"ResourceName"`
}

type lookupEvent struct {
	EventID         string           `json:"EventId"`
	EventName       string           `json:"EventName"`
	ReadOnly        string           `json:"ReadOnly"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       float64          `json:"EventTime"` // epoch seconds, as awsJson sends timestamps
	EventSource     string           `json:"EventSource"`
	Username        string           `json:"Username,omitempty"`
	Resources       []lookupResource `json:"Resources"`
	CloudTrailEvent string           `json:"CloudTrailEvent"`
}

// lookupEvents is CloudTrail's LookupEvents (JSON 1.1, X-Amz-Target
// CloudTrail_20131101.LookupEvents) over the records of the caller's
// account and region: newest first, at most one lookup attribute,
// StartTime and EndTime inclusive (whole seconds), 50 events a page. A
// NextToken stays valid while new records arrive: it names the last
// record returned, not an offset.
func lookupEvents(c *call) {
	var in struct {
		LookupAttributes []struct {
			AttributeKey   string `json:"AttributeKey"`
			AttributeValue string `json:"AttributeValue"`
		} `json:"LookupAttributes"`
		StartTime     *float64 `json:"StartTime"`
		EndTime       *float64 `json:"EndTime"`
		EventCategory string   `json:"EventCategory"`
		MaxResults    *int     `json:"MaxResults"`
		NextToken     string   `json:"NextToken"`
	}
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &in); err != nil {
			c.error(http.StatusBadRequest, "SerializationException", "Could not parse request body: "+err.Error())
			return
		}
	}
	if len(in.LookupAttributes) > 1 {
		c.error(http.StatusBadRequest, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
		return
	}
	for _, a := range in.LookupAttributes {
		if !lookupAttributeKeys[a.AttributeKey] {
			c.error(http.StatusBadRequest, "InvalidLookupAttributesException", "The attribute key "+a.AttributeKey+" is not valid.")
			return
		}
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		c.error(http.StatusBadRequest, "InvalidEventCategoryException", "The event category "+in.EventCategory+" is not valid.")
		return
	}
	size := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			c.error(http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
			return
		}
		size = *in.MaxResults
	}
	start, end := time.Time{}, time.Unix(math.MaxInt32, 0)
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
	}
	if start.After(end) {
		c.error(http.StatusBadRequest, "InvalidTimeRangeException", "Start time must be before end time.")
		return
	}
	after := int64(math.MaxInt64)
	if in.NextToken != "" {
		i, ok := decodeMarker(in.NextToken)
		if !ok {
			c.error(http.StatusBadRequest, "InvalidNextTokenException", "Invalid NextToken.")
			return
		}
		after = int64(i)
	}
	out := struct {
		Events    []lookupEvent `json:"Events"`
		NextToken string        `json:"NextToken,omitempty"`
	}{Events: []lookupEvent{}}
	var lastSeq int64
	if in.EventCategory == "insight" {
		// No Insights events are ever recorded.
		c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", out)
		return
	}
	for _, e := range c.s.trail.snapshot(c.id.account, c.id.region) {
		if e.seq >= after {
			continue
		}
		t := e.when.Truncate(time.Second)
		if t.Before(start) || t.After(end) {
			continue
		}
		ev := lookupEntry(e)
		if len(in.LookupAttributes) == 1 && !ev.matches(in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue) {
			continue
		}
		if len(out.Events) == size {
			out.NextToken = encodeMarker(int(lastSeq))
			break
		}
		out.Events = append(out.Events, ev.lookupEvent)
		lastSeq = e.seq
	}
	c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", out)
}

func epoch(secs float64) time.Time {
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// lookupMatch is an event with what its attributes are matched against.
type lookupMatch struct {
	lookupEvent
}

func lookupEntry(e trailEntry) lookupMatch {
	r := e.rec
	ev := lookupEvent{
		EventID:         r.EventID,
		EventName:       r.EventName,
		ReadOnly:        strconv.FormatBool(r.ReadOnly),
		AccessKeyID:     r.UserIdentity.AccessKeyID,
		EventTime:       float64(e.when.Unix()),
		EventSource:     r.EventSource,
		Username:        r.UserIdentity.UserName,
		Resources:       []lookupResource{},
		CloudTrailEvent: string(e.raw),
	}
	if r.UserIdentity.SessionContext != nil {
		// For an assumed role, LookupEvents names the session.
		ev.Username = r.UserIdentity.ARN[strings.LastIndex(r.UserIdentity.ARN, "/")+1:]
	}
	var params map[string]any
	_ = json.Unmarshal(r.RequestParameters, &params)
	if name, ok := params["functionName"].(string); ok {
		ev.Resources = append(ev.Resources, lookupResource{"AWS::Lambda::Function", name})
	}
	if name, ok := params["layerName"].(string); ok {
		ev.Resources = append(ev.Resources, lookupResource{"AWS::Lambda::LayerVersion", name})
	}
	if arn, ok := params["resourceArn"].(string); ok {
		ev.Resources = append(ev.Resources, lookupResource{"AWS::Lambda::Function", arn})
	}
	return lookupMatch{ev}
}

func (ev lookupMatch) matches(key, value string) bool {
	switch key {
	case "EventId":
		return ev.EventID == value
	case "EventName":
		return ev.EventName == value
	case "ReadOnly":
		return ev.ReadOnly == value
	case "Username":
		return ev.Username == value
	case "EventSource":
		return ev.EventSource == value
	case "AccessKeyId":
		return ev.AccessKeyID == value
	case "ResourceType", "ResourceName":
		for _, r := range ev.Resources {
			if (key == "ResourceType" && r.ResourceType == value) || (key == "ResourceName" && r.ResourceName == value) {
				return true
			}
		}
	}
	return false
}
