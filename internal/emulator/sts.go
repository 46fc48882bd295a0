package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// stsSession is a set of temporary credentials issued by AssumeRole.
type stsSession struct {
	account     string
	roleARN     string
	roleName    string
	sessionName string
	assumedARN  string
	roleID      string
	created     time.Time
}

var (
	reRoleARN     = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::(\d{12}):role/(?:[\x21-\x7E]*/)?([\w+=,.@-]{1,64})$`)
	reSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func stsHandler(action string) handler {
	switch action {
	case "GetCallerIdentity":
		return getCallerIdentity
	case "AssumeRole":
		return assumeRole
	}
	return nil
}

func getCallerIdentity(c *call) {
	res := struct {
		XMLName xml.Name
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	}{XMLName: xml.Name{Local: "GetCallerIdentityResult"}, Account: c.id.account}
	if se := c.id.session; se != nil {
		res.Arn = se.assumedARN
		res.UserID = se.roleID + ":" + se.sessionName
	} else {
		res.Arn = "arn:aws:iam::" + c.id.account + ":user/emulator"
		res.UserID = "AIDA" + c.id.account + "EMULATOR"
	}
	c.queryRespond("GetCallerIdentity", res)
}

// assumeRole issues credentials whose access key id ("ASIA" + account id +
// a serial) selects the role's account in later requests. It is denied
// (403 AccessDenied) when the account is not seeded, is suspended, has
// assume_role_denied, requires another ExternalId, or lists roles and the
// role is not among them.
func assumeRole(c *call) {
	roleARN := formValue(c.form, "RoleArn")
	session := formValue(c.form, "RoleSessionName")
	m := reRoleARN.FindStringSubmatch(roleARN)
	if m == nil {
		c.error(http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must be a role ARN", roleARN))
		return
	}
	if !reSessionName.MatchString(session) {
		c.error(http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session))
		return
	}
	duration := 3600
	if d := formValue(c.form, "DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			c.error(http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", d))
			return
		}
		duration = n
	}
	acctID, roleName := m[1], m[2]
	a := c.s.est.account(acctID)
	denied := a == nil || a.status == "SUSPENDED" || a.assumeRoleDenied ||
		(a.externalID != "" && formValue(c.form, "ExternalId") != a.externalID) ||
		(len(a.roles) > 0 && a.roleByName[roleName] == nil)
	if denied {
		c.error(http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.id.callerARN(), roleARN))
		return
	}
	roleID := "AROA" + strings.ToUpper(hex.EncodeToString([]byte(roleName)))
	if len(roleID) > 21 {
		roleID = roleID[:21]
	}
	if r := a.roleByName[roleName]; r != nil {
		roleID = r.id
	}
	se := &stsSession{
		account:     acctID,
		roleARN:     roleARN,
		roleName:    roleName,
		sessionName: session,
		assumedARN:  "arn:aws:sts::" + acctID + ":assumed-role/" + roleName + "/" + session,
		roleID:      roleID,
		created:     c.s.now(),
	}
	c.s.stsMu.Lock()
	c.s.keySeq++
	serial := strings.ToUpper(strconv.FormatUint(c.s.keySeq, 36))
	if len(serial) < 4 {
		serial = strings.Repeat("0", 4-len(serial)) + serial
	}
	key := "ASIA" + acctID + serial
	c.s.sessions[key] = se
	c.s.stsMu.Unlock()

	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	type assumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string
	}
	res := struct {
		XMLName         xml.Name
		Credentials     credentials
		AssumedRoleUser assumedRoleUser
	}{
		XMLName: xml.Name{Local: "AssumeRoleResult"},
		Credentials: credentials{
			AccessKeyID:     key,
			SecretAccessKey: randomHex(20),
			SessionToken:    "FwoGZXIvYXdzEmulator" + base64.StdEncoding.EncodeToString([]byte(randomHex(48))),
			Expiration:      c.s.now().Add(time.Duration(duration) * time.Second).UTC().Format(time.RFC3339),
		},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: roleID + ":" + session, Arn: se.assumedARN},
	}
	c.queryRespond("AssumeRole", res)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
