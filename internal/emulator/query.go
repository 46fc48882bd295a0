package emulator

import (
	"encoding/xml"
	"net/http"
)

// XML namespaces of the awsQuery services.
const (
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// queryHandler dispatches an awsQuery request (form-encoded POST with
// Action=...) to STS or IAM. The service is the credential scope's signing
// name when it is "sts" or "iam", else the API Version parameter
// (2011-06-15 STS, 2010-05-08 IAM), else whichever service has the action.
// Adding an action is adding a case to stsHandler or iamHandler.
func (s *Server) queryHandler(c *call) handler {
	action := formValue(c.form, "Action")
	service := c.id.service
	if service == "sns" || formValue(c.form, "Version") == "2010-03-31" {
		c.service = "sns"
		if h := snsHandler(action); h != nil {
			c.op = "sns:" + action
			return h
		}
		return nil
	}
	if service != "sts" && service != "iam" {
		switch formValue(c.form, "Version") {
		case "2010-05-08":
			service = "iam"
		case "2011-06-15":
			service = "sts"
		default:
			service = "sts"
			if stsHandler(action) == nil && iamHandler(action) != nil {
				service = "iam"
			}
		}
	}
	c.service = service
	if service == "iam" {
		if h := iamHandler(action); h != nil {
			c.op = "iam:" + action
			return h
		}
		return nil
	}
	if h := stsHandler(action); h != nil {
		c.op = action
		return h
	}
	return nil
}

func formValue(form map[string][]string, key string) string {
	if v := form[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// queryRespond writes <ActionResponse xmlns=...><ActionResult>...</ActionResult>
// <ResponseMetadata><RequestId/></ResponseMetadata></ActionResponse>.
// result must be a struct whose XMLName is ActionResult.
func (c *call) queryRespond(action string, result any) {
	type meta struct {
		RequestID string `xml:"RequestId"`
	}
	doc := struct {
		XMLName xml.Name
		NS      string `xml:"xmlns,attr"`
		Result  any
		Meta    meta `xml:"ResponseMetadata"`
	}{
		XMLName: xml.Name{Local: action + "Response"},
		NS:      c.xmlNamespace(),
		Result:  result,
		Meta:    meta{RequestID: c.reqID},
	}
	c.writeXML(http.StatusOK, doc)
}
