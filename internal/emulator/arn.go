package emulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// funcRef is a function reference as Lambda accepts it in a FunctionName
// path label: a name, a partial ARN (ACCOUNT:function:NAME) or a full ARN,
// each optionally with a :QUALIFIER suffix. Account and region are empty
// when the reference does not name them.
type funcRef struct {
	partition string
	region    string
	account   string
	name      string
	qualifier string
}

// reFunctionRef is Lambda's own pattern for NamespacedFunctionName (which,
// unlike function names themselves, admits '.') with the groups we need:
// partition, region, account, name, qualifier.
var reFunctionRef = regexp.MustCompile(`^(?:arn:(aws[a-zA-Z-]*):lambda:)?(?:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9._-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)

// parseFunctionRef parses a FunctionName label. An ARN needs the account:
// "arn:aws:lambda:us-east-1:function:x" is rejected, as by Lambda.
func parseFunctionRef(s string) (funcRef, error) {
	m := reFunctionRef.FindStringSubmatch(s)
	if m == nil || len(s) > 170 {
		return funcRef{}, fmt.Errorf("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?", s)
	}
	ref := funcRef{partition: m[1], region: m[2], account: m[3], name: m[4], qualifier: m[5]}
	if strings.HasPrefix(s, "arn:") && ref.account == "" {
		return funcRef{}, fmt.Errorf("1 validation error detected: Value '%s' at 'functionName' is not a valid function ARN", s)
	}
	return ref, nil
}

// resourceRef is a ResourceArn of the resource-policy API: a function ARN
// (unqualified, alias- or version-qualified) or a layer version ARN.
type resourceRef struct {
	region    string
	account   string
	layer     bool
	name      string
	qualifier string // function qualifier
	version   int64  // layer version
}

var (
	reFunctionARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):function:([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)
	reLayerARN    = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):layer:([a-zA-Z0-9_-]{1,140}):([0-9]{1,18})$`)
	reLayerRef    = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):layer:)?([a-zA-Z0-9_-]{1,140})$`)
)

// parseResourceARN parses a full function or layer version ARN.
func parseResourceARN(s string) (resourceRef, error) {
	if m := reFunctionARN.FindStringSubmatch(s); m != nil {
		return resourceRef{region: m[1], account: m[2], name: m[3], qualifier: m[4]}, nil
	}
	if m := reLayerARN.FindStringSubmatch(s); m != nil {
		v, err := strconv.ParseInt(m[4], 10, 64)
		if err == nil && v > 0 {
			return resourceRef{region: m[1], account: m[2], layer: true, name: m[3], version: v}, nil
		}
	}
	return resourceRef{}, fmt.Errorf("1 validation error detected: Value '%s' at 'resourceArn' failed to satisfy constraint: Member must be a Lambda function, alias, version or layer version ARN", s)
}

// parseLayerName parses a LayerName label: a name or a layer ARN.
func parseLayerName(s string) (region, account, name string, err error) {
	m := reLayerRef.FindStringSubmatch(s)
	if m == nil {
		return "", "", "", fmt.Errorf("1 validation error detected: Value '%s' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+", s)
	}
	return m[1], m[2], m[3], nil
}
