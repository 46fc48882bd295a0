package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Policy size limit of Lambda resource policies.
const maxPolicyBytes = 20 * 1024

var (
	reStatementID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,100}$`)
	reAction      = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	reServiceName = regexp.MustCompile(`^[a-zA-Z0-9.-]+\.[a-z0-9.-]+$`)
	reRootARN     = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:root$`)
	// reIAMPrincipal matches IAM (and STS assumed-role) principal ARNs.
	reIAMPrincipal = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:\S+$`)
)

// policyRead is what a policy read answers, copied under the region lock.
type policyRead struct {
	arn         string
	doc         []byte
	revision    string
	policyError string
}

func (r *policyRes) read() policyRead {
	return policyRead{arn: r.arn, doc: r.doc, revision: r.revision, policyError: r.policyError}
}

// servePolicy answers GetPolicy, GetResourcePolicy and
// GetLayerVersionPolicy: {"Policy": "<document as a string>", "RevisionId"},
// 404 when there is none, or the seeded policy_error.
func (c *call) servePolicy(p policyRead) {
	switch p.policyError {
	case PolicyErrorAccessDenied:
		c.error(http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: lambda:%s on resource: %s because no identity-based policy allows the lambda:%s action",
				c.id.callerARN(), c.op, p.arn, c.op))
		return
	case PolicyErrorThrottling, PolicyErrorTooManyRequests:
		c.throttle(time.Second)
		return
	case PolicyErrorService:
		c.error(http.StatusInternalServerError, "ServiceException", "The Lambda service encountered an internal error.")
		return
	case PolicyErrorMalformed:
		doc := p.doc
		if doc == nil {
			doc = []byte(`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"truncated","Effect":"Allow"}]}`)
		}
		// Any proper prefix of a JSON object is not valid JSON.
		c.writeJSON(http.StatusOK, map[string]string{"Policy": string(doc[:len(doc)/2]), "RevisionId": p.revision})
		return
	}
	if p.doc == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	c.writeJSON(http.StatusOK, map[string]string{"Policy": string(p.doc), "RevisionId": p.revision})
}

func getPolicy(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	if rg == nil {
		c.functionNotFound(name, qualifier)
		return
	}
	rg.mu.RLock()
	_, res, found := rg.resolve(name, qualifier)
	var p policyRead
	if found {
		p = res.read()
	}
	rg.mu.RUnlock()
	if !found {
		c.functionNotFound(name, qualifier)
		return
	}
	c.servePolicy(p)
}

// readBody decodes a JSON request body into v, answering the error itself.
func (c *call) readBody(v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		c.error(http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 1048576 bytes.")
		return false
	}
	if len(b) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.error(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
		return false
	}
	return true
}

// checkRevision answers 412 when the client's RevisionId is stale.
func (c *call) checkRevision(want, have string) bool {
	if want != "" && want != have {
		c.error(http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		return false
	}
	return true
}

// checkPublic answers PublicPolicyException when the account blocks public
// policies and one of the statements is public.
func (c *call) checkPublic(stmts ...json.RawMessage) bool {
	a := c.s.est.account(c.id.account)
	if a == nil || !a.pab.BlockPublicPolicy {
		return true
	}
	for _, s := range stmts {
		if isPublicStatement(s) {
			c.error(http.StatusBadRequest, "PublicPolicyException",
				"The resource policy grants public access and the account's public access block setting BlockPublicPolicy is enabled.")
			return false
		}
	}
	return true
}

type addPermissionInput struct {
	StatementID           string `json:"StatementId"`
	Action                string `json:"Action"`
	Principal             string `json:"Principal"`
	SourceArn             string `json:"SourceArn"`
	SourceAccount         string `json:"SourceAccount"`
	EventSourceToken      string `json:"EventSourceToken"`
	RevisionID            string `json:"RevisionId"`
	PrincipalOrgID        string `json:"PrincipalOrgID"`
	FunctionURLAuthType   string `json:"FunctionUrlAuthType"`
	InvokedViaFunctionURL *bool  `json:"InvokedViaFunctionUrl"`
}

// principalJSON maps an AddPermission principal to the form Lambda stores:
// "*" stays a string, an account id becomes its root ARN, a service
// principal {"Service":...}, an IAM ARN {"AWS":...}.
func principalJSON(p string) (any, bool) {
	switch {
	case p == "*":
		return "*", true
	case reAccountID.MatchString(p):
		return object{{"AWS", "arn:aws:iam::" + p + ":root"}}, true
	case reIAMPrincipal.MatchString(p):
		return object{{"AWS", p}}, true
	case reServiceName.MatchString(p):
		return object{{"Service", p}}, true
	}
	return nil, false
}

// permissionStatement builds the statement AddPermission stores, with keys
// in AWS's order (Sid, Effect, Principal, Action, Resource, Condition) and
// condition operators StringEquals, ArnLike, Bool.
// It returns nil when the principal is not one Lambda accepts.
func permissionStatement(in addPermissionInput, resource string) json.RawMessage {
	principal, ok := principalJSON(in.Principal)
	if !ok {
		return nil
	}
	stmt := object{
		{"Sid", in.StatementID},
		{"Effect", "Allow"},
		{"Principal", principal},
		{"Action", in.Action},
		{"Resource", resource},
	}
	var cond object
	var eq object
	if in.SourceAccount != "" {
		eq = append(eq, member{"AWS:SourceAccount", in.SourceAccount})
	}
	if in.PrincipalOrgID != "" {
		eq = append(eq, member{"aws:PrincipalOrgID", in.PrincipalOrgID})
	}
	if in.EventSourceToken != "" {
		eq = append(eq, member{"lambda:EventSourceToken", in.EventSourceToken})
	}
	if in.FunctionURLAuthType != "" {
		eq = append(eq, member{"lambda:FunctionUrlAuthType", in.FunctionURLAuthType})
	}
	if len(eq) > 0 {
		cond = append(cond, member{"StringEquals", eq})
	}
	if in.SourceArn != "" {
		cond = append(cond, member{"ArnLike", object{{"AWS:SourceArn", in.SourceArn}}})
	}
	if in.InvokedViaFunctionURL != nil && *in.InvokedViaFunctionURL {
		cond = append(cond, member{"Bool", object{{"lambda:InvokedViaFunctionUrl", "true"}}})
	}
	if len(cond) > 0 {
		stmt = append(stmt, member{"Condition", cond})
	}
	b, _ := stmt.MarshalJSON()
	return b
}

func addPermission(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	var in addPermissionInput
	if !c.readBody(&in) {
		return
	}
	if !reStatementID.MatchString(in.StatementID) {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)", in.StatementID))
		return
	}
	if !reAction.MatchString(in.Action) {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])", in.Action))
		return
	}
	switch in.FunctionURLAuthType {
	case "", "NONE", "AWS_IAM":
	default:
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]", in.FunctionURLAuthType))
		return
	}
	if rg == nil {
		c.functionNotFound(name, qualifier)
		return
	}
	resource := c.functionARN(name, qualifier)
	stmt := permissionStatement(in, resource)
	if stmt == nil {
		c.error(http.StatusBadRequest, "InvalidParameterValueException", "The provided principal was invalid. Please check the principal and try again.")
		return
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	_, res, found := rg.resolve(name, qualifier)
	if !found {
		c.functionNotFound(name, qualifier)
		return
	}
	if !c.checkPublic(stmt) {
		return
	}
	if !c.checkRevision(in.RevisionID, res.revision) {
		return
	}
	if !c.appendStatement(res, in.StatementID, stmt) {
		return
	}
	c.writeJSON(http.StatusCreated, map[string]string{"Statement": string(stmt)})
}

// appendStatement adds stmt to res's policy (creating it), refusing a
// duplicate Sid with 409. Callers hold the region's write lock.
func (c *call) appendStatement(res *policyRes, sid string, stmt json.RawMessage) bool {
	if res.doc == nil {
		res.doc = newPolicyDoc(stmt)
		res.revision = newUUID()
		return true
	}
	o, list, err := statements(res.doc)
	if err != nil {
		c.error(http.StatusInternalServerError, "ServiceException", "The existing policy cannot be parsed: "+err.Error())
		return false
	}
	for _, s := range list {
		if sidOf(s) == sid {
			c.error(http.StatusConflict, "ResourceConflictException",
				fmt.Sprintf("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid))
			return false
		}
	}
	if len(o) == 0 {
		o = object{{"Version", "2012-10-17"}, {"Id", "default"}}
	}
	res.doc = withStatements(o, append(list, stmt))
	res.revision = newUUID()
	return true
}

// removeStatement deletes the statement with sid from res's policy (the
// policy itself when it was the last one). Callers hold the write lock.
func (c *call) removeStatement(res *policyRes, sid, revisionID string) bool {
	if res.doc == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "No policy is associated with the given resource.")
		return false
	}
	if !c.checkRevision(revisionID, res.revision) {
		return false
	}
	o, list, err := statements(res.doc)
	if err != nil {
		c.error(http.StatusInternalServerError, "ServiceException", "The existing policy cannot be parsed: "+err.Error())
		return false
	}
	kept := make([]json.RawMessage, 0, len(list))
	for _, s := range list {
		if sidOf(s) != sid {
			kept = append(kept, s)
		}
	}
	if len(kept) == len(list) {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "Statement "+sid+" is not found in resource policy.")
		return false
	}
	res.doc = withStatements(o, kept)
	res.revision = newUUID()
	return true
}

func removePermission(c *call) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return
	}
	if rg == nil {
		c.functionNotFound(name, qualifier)
		return
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	_, res, found := rg.resolve(name, qualifier)
	if !found {
		c.functionNotFound(name, qualifier)
		return
	}
	if c.removeStatement(res, c.labels["StatementId"], c.r.URL.Query().Get("RevisionId")) {
		c.noContent()
	}
}

// resourceTarget resolves the {ResourceArn} label of the resource-policy
// and public-access-block APIs. Callers hold rg.mu when they use res.
func (c *call) resourceTarget() (rg *region, ref resourceRef, ok bool) {
	ref, err := parseResourceARN(c.labels["ResourceArn"])
	if err != nil {
		c.error(http.StatusBadRequest, "ValidationException", err.Error())
		return nil, ref, false
	}
	what := "function:" + ref.name + qualSuffix(ref.qualifier)
	if ref.layer {
		what = "layer:" + ref.name + ":" + strconv.FormatInt(ref.version, 10)
	}
	if !c.sameAccountAndRegion(ref.account, ref.region, what) {
		return nil, ref, false
	}
	return c.s.est.region(c.id.account, c.id.region), ref, true
}

// lookup finds the policy-bearing resource a resourceRef names, answering
// 404 itself. Callers hold rg.mu.
func (c *call) lookup(rg *region, ref resourceRef) *policyRes {
	if ref.layer {
		if lv := rg.layerVersion(ref.name, ref.version); lv != nil {
			return lv.res
		}
		c.layerVersionNotFound(ref.name, ref.version)
		return nil
	}
	if _, res, found := rg.resolve(ref.name, ref.qualifier); found {
		return res
	}
	c.functionNotFound(ref.name, ref.qualifier)
	return nil
}

func getResourcePolicy(c *call) {
	rg, ref, ok := c.resourceTarget()
	if !ok {
		return
	}
	rg.rlock()
	res := c.lookup(rg, ref)
	var p policyRead
	if res != nil {
		p = res.read()
	}
	rg.runlock()
	if res != nil {
		c.servePolicy(p)
	}
}

func putResourcePolicy(c *call) {
	rg, ref, ok := c.resourceTarget()
	if !ok {
		return
	}
	var in struct {
		Policy     string `json:"Policy"`
		RevisionID string `json:"RevisionId"`
	}
	if !c.readBody(&in) {
		return
	}
	if len(in.Policy) > maxPolicyBytes {
		c.error(http.StatusBadRequest, "PolicyLengthExceededException",
			fmt.Sprintf("The final policy size (%d) is bigger than the limit (%d).", len(in.Policy), maxPolicyBytes))
		return
	}
	_, list, err := statements([]byte(in.Policy))
	if err != nil || len(list) == 0 {
		c.error(http.StatusBadRequest, "InvalidParameterValueException", "The policy document is malformed: it must be a JSON object with at least one Statement.")
		return
	}
	doc := compactJSON([]byte(in.Policy))
	rg.lock()
	defer rg.unlock()
	res := c.lookup(rg, ref)
	if res == nil || !c.checkPublic(list...) {
		return
	}
	if !c.checkRevision(in.RevisionID, res.revision) {
		return
	}
	res.doc = doc
	res.revision = newUUID()
	c.writeJSON(http.StatusOK, map[string]string{"Policy": string(res.doc), "RevisionId": res.revision})
}

func deleteResourcePolicy(c *call) {
	rg, ref, ok := c.resourceTarget()
	if !ok {
		return
	}
	rg.lock()
	defer rg.unlock()
	res := c.lookup(rg, ref)
	if res == nil {
		return
	}
	if res.doc == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	if !c.checkRevision(c.r.URL.Query().Get("RevisionId"), res.revision) {
		return
	}
	res.doc = nil
	res.revision = newUUID()
	c.noContent()
}

// getPublicAccessBlockConfig answers the account's setting for any Lambda
// resource ARN in the caller's account and region. The operation is not in
// aws-sdk-go-v2 v1.114.4; its path and shape are our guess.
func getPublicAccessBlockConfig(c *call) {
	if _, _, ok := c.resourceTarget(); !ok {
		return
	}
	var pab SeedPublicAccessBlock
	if a := c.s.est.account(c.id.account); a != nil {
		pab = a.pab
	}
	c.writeJSON(http.StatusOK, map[string]any{"PublicAccessBlockConfig": map[string]bool{
		"BlockPublicPolicy":      pab.BlockPublicPolicy,
		"RestrictPublicResource": pab.RestrictPublicResource,
	}})
}

// Nil-safe lock helpers: an unseeded region has no resources, and lookup
// answers 404 for it without touching a lock.
func (rg *region) rlock() {
	if rg != nil {
		rg.mu.RLock()
	}
}

func (rg *region) runlock() {
	if rg != nil {
		rg.mu.RUnlock()
	}
}

func (rg *region) lock() {
	if rg != nil {
		rg.mu.Lock()
	}
}

func (rg *region) unlock() {
	if rg != nil {
		rg.mu.Unlock()
	}
}
