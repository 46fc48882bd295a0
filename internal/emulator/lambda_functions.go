package emulator

import (
	"fmt"
	"net/http"
)

// functionConfiguration is Lambda's FunctionConfiguration on the wire.
type functionConfiguration struct {
	FunctionName     string           `json:"FunctionName"`
	FunctionArn      string           `json:"FunctionArn"`
	Runtime          string           `json:"Runtime"`
	Role             string           `json:"Role"`
	Handler          string           `json:"Handler"`
	CodeSize         int64            `json:"CodeSize"`
	Description      string           `json:"Description"`
	Timeout          int              `json:"Timeout"`
	MemorySize       int              `json:"MemorySize"`
	LastModified     string           `json:"LastModified"`
	CodeSha256       string           `json:"CodeSha256"`
	Version          string           `json:"Version"`
	VpcConfig        *vpcConfig       `json:"VpcConfig,omitempty"`
	TracingConfig    tracingConfig    `json:"TracingConfig"`
	RevisionID       string           `json:"RevisionId"`
	Layers           []layerReference `json:"Layers,omitempty"`
	State            string           `json:"State"`
	LastUpdateStatus string           `json:"LastUpdateStatus"`
	PackageType      string           `json:"PackageType"`
	Architectures    []string         `json:"Architectures"`
	EphemeralStorage ephemeralStorage `json:"EphemeralStorage"`
	LoggingConfig    loggingConfig    `json:"LoggingConfig"`
}

type vpcConfig struct {
	SubnetIDs        []string `json:"SubnetIds"`
	SecurityGroupIDs []string `json:"SecurityGroupIds"`
	VpcID            string   `json:"VpcId"`
}

type tracingConfig struct {
	Mode string `json:"Mode"`
}

type layerReference struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

type ephemeralStorage struct {
	Size int `json:"Size"`
}

type loggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

// lambdaTime formats timestamps the way Lambda does in LastModified.
const lambdaTime = "2006-01-02T15:04:05.000-0700"

// config renders fn as the given version (nil = $LATEST) under arn. Callers
// hold the region's lock (revision ids are mutable).
func (fn *function) config(arn string, v *version) functionConfiguration {
	cfg := functionConfiguration{
		FunctionName:     fn.name,
		FunctionArn:      arn,
		Runtime:          fn.runtime,
		Role:             fn.role,
		Handler:          fn.handler,
		CodeSize:         1024 + int64(len(fn.name)),
		Description:      fn.description,
		Timeout:          fn.timeout,
		MemorySize:       fn.memorySize,
		LastModified:     seedEpoch.Format(lambdaTime),
		CodeSha256:       fn.codeSha256,
		Version:          "$LATEST",
		TracingConfig:    tracingConfig{Mode: "PassThrough"},
		RevisionID:       fn.latest.revision,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		EphemeralStorage: ephemeralStorage{Size: 512},
		LoggingConfig:    loggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + fn.name},
	}
	if v != nil {
		cfg.Version = v.num
		cfg.RevisionID = v.res.revision
		if v.description != "" {
			cfg.Description = v.description
		}
	}
	if fn.vpc != nil {
		vpcID := fn.vpc.VpcID
		if vpcID == "" {
			vpcID = "vpc-" + fn.codeSha256[:17]
		}
		cfg.VpcConfig = &vpcConfig{
			SubnetIDs:        nonNil(fn.vpc.SubnetIDs),
			SecurityGroupIDs: nonNil(fn.vpc.SecurityGroupIDs),
			VpcID:            vpcID,
		}
	}
	for _, l := range fn.layers {
		cfg.Layers = append(cfg.Layers, layerReference{Arn: l, CodeSize: 2048})
	}
	return cfg
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// target parses the FunctionName label and the Qualifier query parameter
// (or the name's own :qualifier suffix) and returns the caller's region.
// It answers the error itself when ok is false.
func (c *call) target() (rg *region, name, qualifier string, ok bool) {
	ref, err := parseFunctionRef(c.labels["FunctionName"])
	if err != nil {
		c.error(http.StatusBadRequest, "ValidationException", err.Error())
		return nil, "", "", false
	}
	q := c.r.URL.Query().Get("Qualifier")
	if ref.qualifier != "" && q != "" && ref.qualifier != q {
		c.error(http.StatusBadRequest, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.")
		return nil, "", "", false
	}
	if q == "" {
		q = ref.qualifier
	}
	if !c.sameAccountAndRegion(ref.account, ref.region, "function:"+ref.name+qualSuffix(q)) {
		return nil, "", "", false
	}
	return c.s.est.region(c.id.account, c.id.region), ref.name, q, true
}

// sameAccountAndRegion refuses references into another account (403, the
// caller has no rights there) or region (400, Lambda cannot reach it).
func (c *call) sameAccountAndRegion(account, region, resource string) bool {
	if account != "" && account != c.id.account {
		r := region
		if r == "" {
			r = c.id.region
		}
		c.error(http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: lambda:%s on resource: arn:aws:lambda:%s:%s:%s", c.id.callerARN(), c.op, r, account, resource))
		return false
	}
	if region != "" && region != c.id.region {
		c.error(http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("Functions from '%s' are not reachable in this region ('%s')", region, c.id.region))
		return false
	}
	return true
}

func qualSuffix(q string) string {
	if q == "" {
		return ""
	}
	return ":" + q
}

// functionARN is the ARN of a function (and qualifier) in the caller's
// account and region, whether or not it exists.
func (c *call) functionARN(name, qualifier string) string {
	return "arn:aws:lambda:" + c.id.region + ":" + c.id.account + ":function:" + name + qualSuffix(qualifier)
}

func (c *call) functionNotFound(name, qualifier string) {
	c.error(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+c.functionARN(name, qualifier))
}

// qualifiedConfig renders the function as a qualifier names it: the alias's
// target version under the alias ARN, a version under its ARN, $LATEST
// under the unqualified ARN (or the :$LATEST ARN when asked for so).
func qualifiedConfig(fn *function, qualifier string) (functionConfiguration, bool) {
	switch {
	case qualifier == "":
		return fn.config(fn.arn, nil), true
	case qualifier == "$LATEST":
		return fn.config(fn.arn+":$LATEST", nil), true
	case reDigits.MatchString(qualifier):
		if v := fn.versionByNum[qualifier]; v != nil {
			return fn.config(fn.arn+":"+v.num, v), true
		}
	default:
		if al := fn.aliasByName[qualifier]; al != nil {
			return fn.config(fn.arn+":"+al.name, fn.versionByNum[al.target]), true
		}
	}
	return functionConfiguration{}, false
}

func listFunctions(c *call) {
	q := c.r.URL.Query()
	all := false
	switch fv := q.Get("FunctionVersion"); fv {
	case "":
	case "ALL":
		all = true
	default:
		c.error(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]", fv))
		return
	}
	rg := c.s.est.region(c.id.account, c.id.region)
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}}
	total := 0
	// PublishVersion grows rg.all: read it under the lock.
	rg.rlock()
	defer rg.runlock()
	if rg != nil {
		total = len(rg.functions)
		if all {
			total = len(rg.all)
		}
	}
	start, end, next, ok := c.page(total, q.Get("Marker"), q.Get("MaxItems"), 50, 50, "maxItems")
	if !ok {
		return
	}
	out.NextMarker = next
	if rg != nil {
		for i := start; i < end; i++ {
			if !all {
				fn := rg.functions[i]
				out.Functions = append(out.Functions, fn.config(fn.arn, nil))
				continue
			}
			ref := rg.all[i]
			if ref.v == nil {
				out.Functions = append(out.Functions, ref.fn.config(ref.fn.arn+":$LATEST", nil))
			} else {
				out.Functions = append(out.Functions, ref.fn.config(ref.fn.arn+":"+ref.v.num, ref.v))
			}
		}
	}
	c.writeJSON(http.StatusOK, out)
}

// lookupConfig answers the not-found errors and returns the configuration
// of the function a request names.
func (c *call) lookupConfig() (*function, functionConfiguration, bool) {
	rg, name, qualifier, ok := c.target()
	if !ok {
		return nil, functionConfiguration{}, false
	}
	if rg == nil || rg.byName[name] == nil {
		c.functionNotFound(name, qualifier)
		return nil, functionConfiguration{}, false
	}
	fn := rg.byName[name]
	rg.mu.RLock()
	cfg, found := qualifiedConfig(fn, qualifier)
	rg.mu.RUnlock()
	if !found {
		c.functionNotFound(name, qualifier)
		return nil, functionConfiguration{}, false
	}
	return fn, cfg, true
}

func getFunction(c *call) {
	fn, cfg, ok := c.lookupConfig()
	if !ok {
		return
	}
	out := struct {
		Configuration functionConfiguration `json:"Configuration"`
		Code          map[string]string     `json:"Code"`
		Tags          map[string]string     `json:"Tags,omitempty"`
	}{
		Configuration: cfg,
		Code: map[string]string{
			"RepositoryType": "S3",
			"Location": "https://awslambda-" + c.id.region + "-tasks.s3." + c.id.region + ".amazonaws.com/snapshots/" +
				c.id.account + "/" + fn.name + "-" + fn.codeSha256[:36],
		},
		Tags: fn.tags,
	}
	c.writeJSON(http.StatusOK, out)
}

func getFunctionConfiguration(c *call) {
	if _, cfg, ok := c.lookupConfig(); ok {
		c.writeJSON(http.StatusOK, cfg)
	}
}

func aliasJSON(al *alias) aliasConfiguration {
	return aliasConfiguration{
		AliasArn:        al.res.arn,
		Name:            al.name,
		FunctionVersion: al.target,
		Description:     al.description,
		RevisionID:      al.res.revision,
	}
}

func listAliases(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	if rg == nil || rg.byName[name] == nil {
		c.functionNotFound(name, "")
		return
	}
	fn := rg.byName[name]
	q := c.r.URL.Query()
	// CreateAlias and UpdateAlias change the aliases: read under the lock.
	rg.mu.RLock()
	defer rg.mu.RUnlock()
	aliases := fn.aliases
	if fv := q.Get("FunctionVersion"); fv != "" {
		aliases = nil
		for _, al := range fn.aliases {
			if al.target == fv {
				aliases = append(aliases, al)
			}
		}
	}
	start, end, next, ok := c.page(len(aliases), q.Get("Marker"), q.Get("MaxItems"), 50, 10000, "maxItems")
	if !ok {
		return
	}
	out := struct {
		Aliases    []aliasConfiguration `json:"Aliases"`
		NextMarker string               `json:"NextMarker,omitempty"`
	}{Aliases: []aliasConfiguration{}, NextMarker: next}
	for _, al := range aliases[start:end] {
		out.Aliases = append(out.Aliases, aliasJSON(al))
	}
	c.writeJSON(http.StatusOK, out)
}

func getAlias(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	if rg == nil || rg.byName[name] == nil {
		c.functionNotFound(name, "")
		return
	}
	fn := rg.byName[name]
	rg.mu.RLock()
	al := fn.aliasByName[c.labels["Name"]]
	var out aliasConfiguration
	if al != nil {
		out = aliasJSON(al)
	}
	rg.mu.RUnlock()
	if al == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "Alias not found: "+c.functionARN(name, c.labels["Name"]))
		return
	}
	c.writeJSON(http.StatusOK, out)
}

func listVersionsByFunction(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	if rg == nil || rg.byName[name] == nil {
		c.functionNotFound(name, "")
		return
	}
	fn := rg.byName[name]
	q := c.r.URL.Query()
	// PublishVersion adds versions: read under the lock.
	rg.mu.RLock()
	defer rg.mu.RUnlock()
	start, end, next, ok := c.page(1+len(fn.versions), q.Get("Marker"), q.Get("MaxItems"), 50, 50, "maxItems")
	if !ok {
		return
	}
	out := struct {
		Versions   []functionConfiguration `json:"Versions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Versions: []functionConfiguration{}, NextMarker: next}
	for i := start; i < end; i++ {
		if i == 0 {
			out.Versions = append(out.Versions, fn.config(fn.arn+":$LATEST", nil))
		} else {
			v := fn.versions[i-1]
			out.Versions = append(out.Versions, fn.config(fn.arn+":"+v.num, v))
		}
	}
	c.writeJSON(http.StatusOK, out)
}
