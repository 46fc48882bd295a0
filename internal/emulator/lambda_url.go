package emulator

import (
	"fmt"
	"net/http"
)

// urlTime is the timestamp format of function URL configs.
const urlTime = "2006-01-02T15:04:05.000Z"

type functionURLConfig struct {
	FunctionURL      string `json:"FunctionUrl"`
	FunctionArn      string `json:"FunctionArn"`
	AuthType         string `json:"AuthType"`
	Cors             *Cors  `json:"Cors,omitempty"`
	CreationTime     string `json:"CreationTime"`
	LastModifiedTime string `json:"LastModifiedTime,omitempty"`
	InvokeMode       string `json:"InvokeMode"`
}

func (u *urlConfig) json(arn string, withModified bool) functionURLConfig {
	out := functionURLConfig{
		FunctionURL:  u.url,
		FunctionArn:  arn,
		AuthType:     u.authType,
		Cors:         u.cors,
		CreationTime: u.created.UTC().Format(urlTime),
		InvokeMode:   u.invokeMode,
	}
	if withModified {
		out.LastModifiedTime = u.modified.UTC().Format(urlTime)
	}
	return out
}

// urlSlot finds where a function URL lives: on the unqualified function or
// on an alias (never on a numeric version or $LATEST, which Lambda's
// FunctionUrlQualifier pattern refuses). It answers errors itself. Callers
// hold rg.mu.
func (c *call) urlSlot(rg *region, name, qualifier string) (slot **urlConfig, arn string, ok bool) {
	if qualifier != "" && (reDigits.MatchString(qualifier) || qualifier == "$LATEST") {
		c.error(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)", qualifier))
		return nil, "", false
	}
	fn, _, found := rg.resolve(name, qualifier)
	if !found {
		c.functionNotFound(name, qualifier)
		return nil, "", false
	}
	if qualifier == "" {
		return &fn.url, fn.arn, true
	}
	al := fn.aliasByName[qualifier]
	return &al.url, al.res.arn, true
}

type urlConfigInput struct {
	AuthType   string `json:"AuthType"`
	Cors       *Cors  `json:"Cors"`
	InvokeMode string `json:"InvokeMode"`
}

func (c *call) validURLInput(in urlConfigInput, create bool) bool {
	switch in.AuthType {
	case "NONE", "AWS_IAM":
	case "":
		if !create {
			break
		}
		fallthrough
	default:
		c.error(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]", in.AuthType))
		return false
	}
	switch in.InvokeMode {
	case "", "BUFFERED", "RESPONSE_STREAM":
	default:
		c.error(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]", in.InvokeMode))
		return false
	}
	return true
}

func getFunctionURLConfig(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	rg.rlock()
	defer rg.runlock()
	slot, arn, ok := c.urlSlot(rg, name, qualifier)
	if !ok {
		return
	}
	if *slot == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	c.writeJSON(http.StatusOK, (*slot).json(arn, true))
}

func createFunctionURLConfig(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	var in urlConfigInput
	if !c.readBody(&in) || !c.validURLInput(in, true) {
		return
	}
	rg.lock()
	defer rg.unlock()
	slot, arn, ok := c.urlSlot(rg, name, qualifier)
	if !ok {
		return
	}
	if *slot != nil {
		c.error(http.StatusConflict, "ResourceConflictException",
			fmt.Sprintf("Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function", arn))
		return
	}
	*slot = newURLConfig(arn, c.id.region, SeedURL(in), c.s.now())
	c.writeJSON(http.StatusCreated, (*slot).json(arn, false))
}

func updateFunctionURLConfig(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	var in urlConfigInput
	if !c.readBody(&in) || !c.validURLInput(in, false) {
		return
	}
	rg.lock()
	defer rg.unlock()
	slot, arn, ok := c.urlSlot(rg, name, qualifier)
	if !ok {
		return
	}
	u := *slot
	if u == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	if in.AuthType != "" {
		u.authType = in.AuthType
	}
	if in.Cors != nil {
		u.cors = in.Cors
	}
	if in.InvokeMode != "" {
		u.invokeMode = in.InvokeMode
	}
	u.modified = c.s.now()
	c.writeJSON(http.StatusOK, u.json(arn, true))
}

func deleteFunctionURLConfig(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	rg.lock()
	defer rg.unlock()
	slot, _, ok := c.urlSlot(rg, name, qualifier)
	if !ok {
		return
	}
	if *slot == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	// Like Lambda, deleting the URL leaves the policy statements that
	// granted access to it in place.
	*slot = nil
	c.noContent()
}

func listFunctionURLConfigs(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	rg.rlock()
	defer rg.runlock()
	fn, _, found := rg.resolve(name, "")
	if !found {
		c.functionNotFound(name, "")
		return
	}
	var all []functionURLConfig
	if fn.url != nil {
		all = append(all, fn.url.json(fn.arn, true))
	}
	for _, al := range fn.aliases {
		if al.url != nil {
			all = append(all, al.url.json(al.res.arn, true))
		}
	}
	q := c.r.URL.Query()
	start, end, next, ok := c.page(len(all), q.Get("Marker"), q.Get("MaxItems"), 50, 50, "maxItems")
	if !ok {
		return
	}
	out := struct {
		FunctionURLConfigs []functionURLConfig `json:"FunctionUrlConfigs"`
		NextMarker         string              `json:"NextMarker,omitempty"`
	}{FunctionURLConfigs: append([]functionURLConfig{}, all[start:end]...), NextMarker: next}
	c.writeJSON(http.StatusOK, out)
}
