package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// params is requestParameters (or responseElements) with lowerCamel keys.
type params map[string]any

func decodeParams(raw json.RawMessage) params {
	var p params
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&p) != nil {
		return params{}
	}
	return p
}

func (p params) str(key string) string {
	s, _ := p[key].(string)
	return s
}

// number reads a number recorded either as a JSON number or a string.
func (p params) number(key string) (int64, bool) {
	switch v := p[key].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// targetOf works out which resource an event changed, from its request
// (and, for PublishVersion, its response).
func targetOf(ev *Event) (Target, error) {
	req := decodeParams(ev.Request)
	resp := decodeParams(ev.Response)
	switch ev.Op {
	case PutResourcePolicy, DeleteResourcePolicy:
		arn := req.str("resourceArn")
		if arn == "" {
			return Target{}, errors.New("requestParameters.resourceArn is missing")
		}
		return fromARN(arn)
	case AddLayerVersionPermission, RemoveLayerVersionPermission:
		return layerTarget(ev, req)
	case CreateAlias, UpdateAlias:
		if arn := resp.str("aliasArn"); arn != "" {
			return fromARN(arn)
		}
		alias := req.str("name")
		if alias == "" {
			return Target{}, errors.New("requestParameters.name (the alias) is missing")
		}
		t, err := functionTarget(ev, req.str("functionName"), "")
		if err != nil {
			return t, err
		}
		return check(qualify(t, alias))
	case PublishVersion:
		if arn := resp.str("functionArn"); arn != "" {
			if t, err := fromARN(arn); err == nil && t.Qualifier != "" {
				return t, nil
			}
		}
		t, err := functionTarget(ev, req.str("functionName"), "")
		if err != nil {
			return t, err
		}
		if v := resp.str("version"); v != "" && v != "$LATEST" {
			return check(qualify(t, v))
		}
		return Target{}, errors.New("the published version is not in responseElements (version or functionArn)")
	}
	// AddPermission, RemovePermission and the function URL writes name a
	// function and maybe a qualifier.
	return functionTarget(ev, req.str("functionName"), req.str("qualifier"))
}

// functionTarget resolves a FunctionName as Lambda accepts it: a name, a
// name with ":qualifier", a partial ARN (ACCOUNT:function:NAME), or a full
// ARN, any of them maybe qualified; the qualifier parameter may add one.
func functionTarget(ev *Event, name, qualifier string) (Target, error) {
	if name == "" {
		return Target{}, errors.New("requestParameters.functionName is missing")
	}
	account, region := ev.Account, ev.Region
	var fn, q string
	parts := strings.Split(name, ":")
	switch {
	case strings.HasPrefix(name, "arn:"):
		t, err := fromARN(name)
		if err != nil {
			return t, err
		}
		if t.Kind == inventory.KindLayerVersion {
			return Target{}, fmt.Errorf("functionName %q is a layer ARN", clip(name))
		}
		account, region, fn, q = t.Account, t.Region, t.Name, t.Qualifier
	case len(parts) >= 3 && parts[1] == "function" && len(parts) <= 4:
		account, fn = parts[0], parts[2]
		if len(parts) == 4 {
			q = parts[3]
		}
	case len(parts) <= 2:
		fn = parts[0]
		if len(parts) == 2 {
			q = parts[1]
		}
	default:
		return Target{}, fmt.Errorf("functionName %q is not a function name or ARN", clip(name))
	}
	if qualifier != "" {
		if q != "" && q != qualifier {
			return Target{}, fmt.Errorf("functionName %q and qualifier %q disagree", clip(name), clip(qualifier))
		}
		q = qualifier
	}
	if fn == "" || account == "" || region == "" {
		return Target{}, fmt.Errorf("cannot tell the function's account and Region from %q (recipientAccountId and awsRegion are missing)", clip(name))
	}
	t := Target{Kind: inventory.KindFunction, Account: account, Region: region, Name: fn}
	t.ARN = "arn:" + partitionOf(region) + ":lambda:" + region + ":" + account + ":function:" + fn
	if q != "" && q != "$LATEST" {
		t = qualify(t, q)
	}
	return check(t)
}

// layerTarget resolves layerName (a name or a layer ARN) and
// versionNumber.
func layerTarget(ev *Event, req params) (Target, error) {
	name := req.str("layerName")
	if name == "" {
		return Target{}, errors.New("requestParameters.layerName is missing")
	}
	n, ok := req.number("versionNumber")
	if !ok || n < 1 {
		return Target{}, errors.New("requestParameters.versionNumber is missing or not a version number")
	}
	account, region := ev.Account, ev.Region
	if strings.HasPrefix(name, "arn:") {
		a, err := inventory.ParseARN(name)
		if err != nil {
			return Target{}, err
		}
		fields := strings.Split(a.Resource, ":")
		if a.Service != "lambda" || fields[0] != "layer" || len(fields) < 2 || len(fields) > 3 {
			return Target{}, fmt.Errorf("layerName %q is not a layer ARN", clip(name))
		}
		account, region, name = a.Account, a.Region, fields[1]
	}
	if account == "" || region == "" {
		return Target{}, errors.New("cannot tell the layer's account and Region (recipientAccountId and awsRegion are missing)")
	}
	v := strconv.FormatInt(n, 10)
	return check(Target{ARN: "arn:" + partitionOf(region) + ":lambda:" + region + ":" + account + ":layer:" + name + ":" + v,
		Kind: inventory.KindLayerVersion, Account: account, Region: region, Name: name, Qualifier: v})
}

func fromARN(arn string) (Target, error) {
	la, err := inventory.ParseLambdaARN(arn)
	if err != nil {
		return Target{}, err
	}
	t := Target{ARN: arn, Kind: la.Kind, Account: la.Account, Region: la.Region, Name: la.Name, Qualifier: la.Qualifier}
	if t.Qualifier == "$LATEST" {
		t.ARN, t.Kind, t.Qualifier = la.Unqualified(), inventory.KindFunction, ""
	}
	return check(t)
}

func qualify(t Target, q string) Target {
	t.Qualifier = q
	t.ARN += ":" + q
	t.Kind = inventory.KindAlias
	if _, err := strconv.ParseUint(q, 10, 64); err == nil {
		t.Kind = inventory.KindVersion
	}
	return t
}

// The names Lambda accepts (API_AddPermission, API_CreateAlias,
// API_AddLayerVersionPermission): a function name is at most 64 letters,
// digits, hyphens or underscores, an alias or version qualifier at most
// 128, a layer name at most 140; an account id is 12 digits. A record
// naming anything else was not written by Lambda, and its name would
// otherwise be repeated, uncapped, in every alert and every call.
var (
	reFunctionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	reQualifier    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	reLayerName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,140}$`)
	reAccount      = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// check makes sure the target is an ARN the rest of lambdawarden reads
// back the same way, naming a resource Lambda could have.
func check(t Target) (Target, error) {
	la, err := inventory.ParseLambdaARN(t.ARN)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %v", clip(t.ARN), clip(err.Error()))
	}
	name := reFunctionName
	if la.Kind == inventory.KindLayerVersion {
		name = reLayerName
	}
	if !reAccount.MatchString(la.Account) || !reRegion.MatchString(la.Region) || !name.MatchString(la.Name) ||
		(la.Qualifier != "" && !reQualifier.MatchString(la.Qualifier)) {
		return Target{}, fmt.Errorf("%q does not name a Lambda resource (a name of letters, digits, - and _ in a 12-digit account and a Region)", clip(t.ARN))
	}
	return t, nil
}

// partitionOf guesses the partition from the Region name.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
