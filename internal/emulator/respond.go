package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// lowercaseMessage lists the Lambda errors whose model spells the message
// member "message"; the rest use "Message" (schemas.go of the SDK). The SDK
// accepts either spelling, botocore too, but we answer as Lambda does.
var lowercaseMessage = map[string]bool{
	"InvalidParameterValueException": true,
	"PolicyLengthExceededException":  true,
	"PreconditionFailedException":    true,
	"ResourceConflictException":      true,
	"TooManyRequestsException":       true,
	"InvalidRequestContentException": true,
	"RequestTooLargeException":       true,
	"ValidationException":            true,
}

// queryErrorCodes maps the Lambda-style codes the server uses internally to
// the codes STS and IAM (awsQuery) answer with.
var queryErrorCodes = map[string]string{
	"AccessDeniedException":       "AccessDenied",
	"TooManyRequestsException":    "Throttling",
	"ServiceException":            "InternalFailure",
	"UnknownOperationException":   "InvalidAction",
	"UnrecognizedClientException": "InvalidClientTokenId",
}

// error answers in the operation's protocol: restJson1 (Lambda, Account),
// awsJson1_1 (Organizations) or awsQuery XML (STS, IAM).
func (c *call) error(status int, code, msg string) {
	c.errorWith(status, code, msg, nil)
}

func (c *call) errorWith(status int, code, msg string, extra map[string]any) {
	h := c.w.Header()
	h.Set("x-amzn-RequestId", c.reqID)
	switch c.proto {
	case protoQuery:
		if q, ok := queryErrorCodes[code]; ok {
			code = q
		}
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		type xmlError struct {
			Type    string
			Code    string
			Message string
		}
		doc := struct {
			XMLName   xml.Name `xml:"ErrorResponse"`
			NS        string   `xml:"xmlns,attr"`
			Error     xmlError
			RequestID string `xml:"RequestId"`
		}{NS: c.xmlNamespace(), Error: xmlError{kind, code, msg}, RequestID: c.reqID}
		c.writeXML(status, doc)
	case protoAWSJSON:
		body := map[string]any{"__type": code, "Message": msg}
		for k, v := range extra {
			body[k] = v
		}
		h.Set("X-Amzn-ErrorType", code)
		c.writeJSONType(status, "application/x-amz-json-1.1", body)
	default:
		typ := "User"
		if status >= 500 {
			typ = "Service"
		}
		key := "Message"
		if lowercaseMessage[code] {
			key = "message"
		}
		body := map[string]any{"Type": typ, key: msg}
		for k, v := range extra {
			body[k] = v
		}
		h.Set("X-Amzn-ErrorType", code)
		c.writeJSON(status, body)
	}
}

// throttle answers "rate exceeded" in the operation's protocol. For Lambda
// that is 429 TooManyRequestsException with Retry-After in whole seconds
// (at least 1), as Lambda sends it.
func (c *call) throttle(wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	switch c.proto {
	case protoRestJSON:
		c.w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.errorWith(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded",
			map[string]any{"Reason": "CallerRateLimitExceeded", "retryAfterSeconds": strconv.Itoa(secs)})
	case protoAWSJSON:
		code := "TooManyRequestsException"
		if c.service == "cloudtrail" {
			code = "ThrottlingException" // what CloudTrail answers over its quota
		}
		c.error(http.StatusBadRequest, code, "Rate exceeded")
	default:
		c.error(http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded")
	}
}

func (c *call) writeJSON(status int, v any) {
	c.writeJSONType(status, "application/json", v)
}

func (c *call) writeJSONType(status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types get here; a failure is a bug.
		panic(fmt.Sprintf("emulator: encoding %T: %v", v, err))
	}
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("x-amzn-RequestId", c.reqID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

// noContent answers 204 with no body (RemovePermission and friends).
func (c *call) noContent() {
	c.w.Header().Set("x-amzn-RequestId", c.reqID)
	c.w.WriteHeader(http.StatusNoContent)
}

func (c *call) writeXML(status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		panic(fmt.Sprintf("emulator: encoding %T: %v", v, err))
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", c.reqID)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(buf.Bytes())
}

// xmlNamespace is the awsQuery namespace of the service being called.
func (c *call) xmlNamespace() string {
	switch c.service {
	case "iam":
		return iamNamespace
	case "sns":
		return snsNamespace
	}
	return stsNamespace
}

// Markers and NextTokens are opaque to clients; ours encode an offset.
const markerPrefix = "lw1:"

func encodeMarker(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(markerPrefix + strconv.Itoa(i)))
}

func decodeMarker(m string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !strings.HasPrefix(string(b), markerPrefix) {
		return 0, false
	}
	i, err := strconv.Atoi(string(b[len(markerPrefix):]))
	return i, err == nil && i >= 0
}

// page computes one page [start, end) of a list of total items from a
// marker and a requested page size (sizeRaw, "" = def, capped at limit),
// answering the error itself when either is invalid. next is "" on the last
// page.
func (c *call) page(total int, marker, sizeRaw string, def, limit int, sizeName string) (start, end int, next string, ok bool) {
	if marker != "" {
		i, valid := decodeMarker(marker)
		if !valid || i > total {
			c.error(http.StatusBadRequest, "InvalidParameterValueException", "Invalid pagination token: "+marker)
			return 0, 0, "", false
		}
		start = i
	}
	size := def
	if sizeRaw != "" {
		n, err := strconv.Atoi(sizeRaw)
		if err != nil || n < 1 {
			c.error(http.StatusBadRequest, "ValidationException",
				fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 1", sizeRaw, sizeName))
			return 0, 0, "", false
		}
		size = n
	}
	size = min(size, limit)
	end = min(start+size, total)
	if end < total {
		next = encodeMarker(end)
	}
	return start, end, next, true
}
