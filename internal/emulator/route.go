package emulator

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds request bodies; Lambda's own limit for policies is 20 KB
// and no control-plane request we serve comes near 1 MB.
const maxBody = 1 << 20

// lambdaRoute is one Lambda REST operation: method and path template from
// the SDK's schemas.go, labels in braces.
type lambdaRoute struct {
	method string
	path   []string
	op     string
	h      handler
}

// lambdaRoutes returns the REST routes in match order.
func lambdaRoutes() []lambdaRoute {
	r := func(method, path, op string, h handler) lambdaRoute {
		return lambdaRoute{method: method, path: strings.Split(strings.Trim(path, "/"), "/"), op: op, h: h}
	}
	return []lambdaRoute{
		r("GET", "/2015-03-31/functions", "ListFunctions", listFunctions),
		r("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", getFunction),
		r("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", getFunctionConfiguration),
		r("GET", "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy", getPolicy),
		r("POST", "/2015-03-31/functions/{FunctionName}/policy", "AddPermission", addPermission),
		r("DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission", removePermission),
		r("GET", "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases", listAliases),
		r("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias", getAlias),
		r("POST", "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias", createAlias),
		r("PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias", updateAlias),
		r("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction", listVersionsByFunction),
		r("POST", "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion", publishVersion),
		r("GET", "/2021-10-31/functions/{FunctionName}/url", "GetFunctionUrlConfig", getFunctionURLConfig),
		r("POST", "/2021-10-31/functions/{FunctionName}/url", "CreateFunctionUrlConfig", createFunctionURLConfig),
		r("PUT", "/2021-10-31/functions/{FunctionName}/url", "UpdateFunctionUrlConfig", updateFunctionURLConfig),
		r("DELETE", "/2021-10-31/functions/{FunctionName}/url", "DeleteFunctionUrlConfig", deleteFunctionURLConfig),
		r("GET", "/2021-10-31/functions/{FunctionName}/urls", "ListFunctionUrlConfigs", listFunctionURLConfigs),
		r("GET", "/2018-10-31/layers", "ListLayers", listLayers),
		r("GET", "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions", listLayerVersions),
		r("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion", getLayerVersion),
		r("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "GetLayerVersionPolicy", getLayerVersionPolicy),
		r("POST", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "AddLayerVersionPermission", addLayerVersionPermission),
		r("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}", "RemoveLayerVersionPermission", removeLayerVersionPermission),
		r("GET", "/2026-07-09/resource-policy/{ResourceArn}", "GetResourcePolicy", getResourcePolicy),
		r("PUT", "/2026-07-09/resource-policy/{ResourceArn}", "PutResourcePolicy", putResourcePolicy),
		r("DELETE", "/2026-07-09/resource-policy/{ResourceArn}", "DeleteResourcePolicy", deleteResourcePolicy),
		// Not in the SDK: the path is our guess at where Lambda serves
		// GetPublicAccessBlockConfig, by analogy with resource-policy.
		r("GET", "/2026-07-09/public-access-block/{ResourceArn}", "GetPublicAccessBlockConfig", getPublicAccessBlockConfig),
	}
}

// lambdaOps lists the Lambda operations the server answers; they are the
// valid quota budget names besides "shared".
func lambdaOps() []string {
	var ops []string
	for _, rt := range lambdaRoutes() {
		ops = append(ops, rt.op)
	}
	return ops
}

// allOps lists every operation name the request log, Counts and fault
// specs use.
func allOps() []string {
	ops := lambdaOps()
	ops = append(ops, "ListRegions", "GetCallerIdentity", "AssumeRole", "DescribeOrganization", "ListAccounts", "LookupEvents", "sns:Publish", "PutEvaluations", "GetResourceConfigHistory")
	for _, a := range iamActions() {
		ops = append(ops, "iam:"+a)
	}
	return ops
}

// route works out which service and operation a request is for and returns
// its handler (nil for an unknown operation, with c.op "Unknown"). Routing
// on one listener: X-Amz-Target → Organizations; a form-encoded POST with
// Action → STS or IAM (awsQuery); POST /listRegions → Account; anything else
// → Lambda by path.
func (s *Server) route(c *call) handler {
	r := c.r
	c.op = "Unknown"
	c.service = "lambda"
	c.proto = protoRestJSON
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		c.proto = protoAWSJSON
		c.service = "organizations"
		// The Go SDK sends "CloudTrail_20131101.LookupEvents", botocore
		// the fully qualified "com.amazonaws.cloudtrail.v20131101.
		// CloudTrail_20131101.LookupEvents": the service is the segment
		// before the operation.
		svc, op := "", target
		if i := strings.LastIndex(target, "."); i >= 0 {
			svc, op = target[:i], target[i+1:]
			svc = svc[strings.LastIndex(svc, ".")+1:]
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil
		}
		c.body = body
		var h handler
		switch svc {
		case "AWSOrganizationsV20161128":
			h = organizationsHandler(op)
		case "CloudTrail_20131101":
			c.service = "cloudtrail"
			h = cloudTrailHandler(op)
		case "StarlingDoveService":
			c.service = "config"
			h = configHandler(op)
		}
		if h != nil {
			c.op = op
		}
		return h
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && ct == "application/x-www-form-urlencoded" {
		c.proto = protoQuery
		c.service = "sts"
		r.Body = http.MaxBytesReader(c.w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			return nil
		}
		c.form = r.PostForm
		return s.queryHandler(c)
	}
	segs := splitPath(r.URL.EscapedPath())
	if r.Method == http.MethodPost && len(segs) == 1 && segs[0] == "listRegions" {
		c.service = "account"
		c.op = "ListRegions"
		return listRegions
	}
	for _, rt := range s.routes {
		if rt.method != r.Method || len(rt.path) != len(segs) {
			continue
		}
		labels := map[string]string{}
		match := true
		for i, p := range rt.path {
			if strings.HasPrefix(p, "{") {
				labels[strings.Trim(p, "{}")] = segs[i]
			} else if p != segs[i] {
				match = false
				break
			}
		}
		if match {
			c.op = rt.op
			c.labels = labels
			return rt.h
		}
	}
	return nil
}

// splitPath splits an escaped path into unescaped segments, so that a
// percent-encoded ARN ("arn%3Aaws%3A...", even with %2F) stays one segment.
func splitPath(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}
