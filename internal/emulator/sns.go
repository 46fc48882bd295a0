package emulator

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// snsNamespace is SNS's awsQuery XML namespace.
const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// SNSMessage is one message published to the emulator's SNS.
type SNSMessage struct {
	MessageID  string
	Account    string
	Region     string
	TopicArn   string
	Subject    string
	Message    string
	Attributes map[string]string // string attributes by name
}

// snsLog keeps what Publish received.
type snsLog struct {
	mu   sync.Mutex
	msgs []SNSMessage
}

// Published returns the SNS messages published so far, oldest first.
func (s *Server) Published() []SNSMessage {
	s.init()
	s.sns.mu.Lock()
	defer s.sns.mu.Unlock()
	return append([]SNSMessage(nil), s.sns.msgs...)
}

var reTopicARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$`)

func snsHandler(action string) handler {
	if action == "Publish" {
		return snsPublish
	}
	return nil
}

// snsPublish is SNS Publish (awsQuery). Any topic in the caller's account
// and region exists; another account's topic answers 403
// AuthorizationError, a malformed ARN 400 InvalidParameter, a message over
// 256 KiB 400 InvalidParameter.
func snsPublish(c *call) {
	topic := formValue(c.form, "TopicArn")
	m := reTopicARN.FindStringSubmatch(topic)
	if m == nil {
		c.error(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: TopicArn")
		return
	}
	if m[2] != c.id.account || m[1] != c.id.region {
		c.error(http.StatusForbidden, "AuthorizationError",
			fmt.Sprintf("User: %s is not authorized to perform: SNS:Publish on resource: %s", c.id.callerARN(), topic))
		return
	}
	msg := formValue(c.form, "Message")
	if msg == "" || len(msg) > 256<<10 {
		c.error(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Message")
		return
	}
	subject := formValue(c.form, "Subject")
	if len(subject) > 100 || strings.ContainsAny(subject, "\r\n") {
		c.error(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
		return
	}
	attrs := map[string]string{}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := formValue(c.form, prefix+"Name")
		if name == "" {
			break
		}
		attrs[name] = formValue(c.form, prefix+"Value.StringValue")
	}
	id := newUUID()
	c.s.sns.mu.Lock()
	c.s.sns.msgs = append(c.s.sns.msgs, SNSMessage{MessageID: id, Account: c.id.account, Region: c.id.region, TopicArn: topic, Subject: subject, Message: msg, Attributes: attrs})
	c.s.sns.mu.Unlock()
	c.queryRespond("Publish", struct {
		XMLName   xml.Name
		MessageID string `xml:"MessageId"`
	}{XMLName: xml.Name{Local: "PublishResult"}, MessageID: id})
}
