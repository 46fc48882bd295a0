package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

// offlineView is what an event alone says about the resource it changed.
type offlineView struct {
	// res is the resource as the event describes it (nil when it cannot be
	// judged from the event).
	res *inventory.Resource
	// note says what the verdict rests on.
	note string
	// unknown says why (part of) the change cannot be judged offline.
	unknown string
}

var (
	reAccountID  = regexp.MustCompile(`^\d{12}$`)
	reIAMARN     = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:\S+$`)
	reServiceRef = regexp.MustCompile(`^[a-zA-Z0-9.-]+\.[a-z0-9.-]+$`)
)

// offline builds the resource an event describes, for --offline: the new
// statement of AddPermission or AddLayerVersionPermission (from
// responseElements.statement, or rebuilt from requestParameters the way
// Lambda stores it), the whole policy of PutResourcePolicy, the URL
// configuration of Create/UpdateFunctionUrlConfig. Removals, deletions,
// alias changes and new versions leave the resource's remaining state out
// of the event: they cannot be judged offline.
func offline(ev *trail.Event, t trail.Target) offlineView {
	req := decode(ev.Request)
	resp := decode(ev.Response)
	res := &inventory.Resource{ARN: t.ARN, Kind: t.Kind, Account: t.Account, Region: t.Region, Name: t.Name, Qualifier: t.Qualifier,
		Source: inventory.Source{API: "CloudTrail " + ev.Name}}
	if t.Kind == inventory.KindLayerVersion {
		fmt.Sscan(t.Qualifier, &res.LayerVersion)
	}
	const statementNote = "--offline: the verdict is the new statement's, judged alone from the event; the resource's other statements, its Deny statements and its URL were not read."
	switch ev.Op {
	case trail.AddPermission, trail.AddLayerVersionPermission:
		stmt, err := statementOf(ev.Op, req, resp, t.ARN)
		if err != nil {
			return offlineView{unknown: "--offline: " + ev.Name + " carries no statement that can be judged: " + err.Error()}
		}
		res.Policy = &inventory.Policy{Document: `{"Version":"2012-10-17","Statement":[` + string(stmt) + `]}`, Origin: inventory.OriginAddPermission, Source: res.Source}
		return offlineView{res: res, note: statementNote}
	case trail.PutResourcePolicy:
		doc, ok := req["policy"].(string)
		if !ok || strings.TrimSpace(doc) == "" {
			return offlineView{unknown: "--offline: " + ev.Name + " carries no policy in requestParameters.policy"}
		}
		res.Policy = &inventory.Policy{Document: doc, Origin: inventory.OriginResourcePolicy, Source: res.Source}
		return offlineView{res: res, note: "--offline: the verdict is the new policy's, judged from the event; the resource's URL and, for an alias or version, the function's own policy were not read."}
	case trail.CreateFunctionURLConfig, trail.UpdateFunctionURLConfig:
		auth, _ := req["authType"].(string)
		if auth == "" {
			auth, _ = resp["authType"].(string)
		}
		if auth == "" {
			return offlineView{unknown: "--offline: " + ev.Name + " does not say the URL's auth type"}
		}
		res.URL = &inventory.FunctionURL{AuthType: auth, URL: str(resp, "functionUrl")}
		if c, ok := req["cors"].(map[string]any); ok {
			res.URL.CORS = &inventory.CORS{AllowOrigins: strs(c["allowOrigins"]), AllowCredentials: c["allowCredentials"] == true, AllowMethods: strs(c["allowMethods"])}
		}
		res.URLChecked = true
		v := offlineView{res: res, note: "--offline: the verdict is the URL configuration's, judged from the event; the resource policy was not read."}
		if auth == "NONE" {
			v.unknown = "--offline: " + ev.Name + " set the URL's auth type to NONE; whether anyone can call it depends on the resource policy, which --offline does not read"
		}
		return v
	}
	return offlineView{unknown: "--offline: " + ev.Name + " changes what remains on the resource, which the event does not carry; only a re-read (run without --offline) can judge it"}
}

// statementOf returns the statement AddPermission or
// AddLayerVersionPermission stored: responseElements.statement (a JSON
// string), else the statement rebuilt from requestParameters in Lambda's
// fixed shape (the Lambda API reference for AddPermission).
func statementOf(op trail.Op, req, resp map[string]any, resource string) (json.RawMessage, error) {
	if s, ok := resp["statement"].(string); ok && strings.TrimSpace(s) != "" {
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("responseElements.statement is not JSON")
		}
		return json.RawMessage(s), nil
	}
	principal := str(req, "principal")
	action := str(req, "action")
	if principal == "" || action == "" {
		return nil, fmt.Errorf("requestParameters has no principal or action, and responseElements no statement")
	}
	var p any
	switch {
	case principal == "*":
		p = "*"
	case reAccountID.MatchString(principal):
		p = map[string]string{"AWS": "arn:aws:iam::" + principal + ":root"}
	case reIAMARN.MatchString(principal):
		p = map[string]string{"AWS": principal}
	case op == trail.AddPermission && reServiceRef.MatchString(principal):
		p = map[string]string{"Service": principal}
	default:
		return nil, fmt.Errorf("principal %q is not one Lambda accepts", inert(principal))
	}
	stmt := map[string]any{"Sid": str(req, "statementId"), "Effect": "Allow", "Principal": p, "Action": action, "Resource": resource}
	cond := map[string]map[string]string{}
	eq := map[string]string{}
	if v := str(req, "sourceAccount"); v != "" {
		eq["AWS:SourceAccount"] = v
	}
	for _, k := range []string{"principalOrgID", "organizationId"} {
		if v := str(req, k); v != "" {
			eq["aws:PrincipalOrgID"] = v
		}
	}
	if v := str(req, "eventSourceToken"); v != "" {
		eq["lambda:EventSourceToken"] = v
	}
	if v := str(req, "functionUrlAuthType"); v != "" {
		eq["lambda:FunctionUrlAuthType"] = v
	}
	if len(eq) > 0 {
		cond["StringEquals"] = eq
	}
	if v := str(req, "sourceArn"); v != "" {
		cond["ArnLike"] = map[string]string{"AWS:SourceArn": v}
	}
	if req["invokedViaFunctionUrl"] == true {
		cond["Bool"] = map[string]string{"lambda:InvokedViaFunctionUrl": "true"}
	}
	if len(cond) > 0 {
		stmt["Condition"] = cond
	}
	return json.Marshal(stmt)
}

func decode(raw json.RawMessage) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if dec.Decode(&m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
