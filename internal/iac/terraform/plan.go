package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// plan is the part of `terraform show -json` the reader uses.
type plan struct {
	FormatVersion string      `json:"format_version"`
	PlannedValues *planValues `json:"planned_values"`
	// Values is what `terraform show -json` prints for a state (no plan
	// file): the resources as they are deployed.
	Values          *planValues    `json:"values"`
	ResourceChanges []planChange   `json:"resource_changes"`
	Configuration   *planConfig    `json:"configuration"`
	Variables       map[string]any `json:"variables"`
}

type planValues struct {
	RootModule planModule `json:"root_module"`
}

type planModule struct {
	Address      string         `json:"address"`
	Resources    []planResource `json:"resources"`
	ChildModules []planModule   `json:"child_modules"`
}

type planResource struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Values  map[string]any `json:"values"`
}

type planChange struct {
	Address string `json:"address"`
	Mode    string `json:"mode"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Change  struct {
		Actions      []string       `json:"actions"`
		Before       map[string]any `json:"before"`
		After        map[string]any `json:"after"`
		AfterUnknown map[string]any `json:"after_unknown"`
	} `json:"change"`
}

type planConfig struct {
	ProviderConfig map[string]planProviderConfig `json:"provider_config"`
	RootModule     planConfigModule              `json:"root_module"`
}

// planProviderConfig is one provider block of the configuration; its
// expressions hold region (a constant or a reference to a variable) and,
// when it assumes a role, assume_role.
type planProviderConfig struct {
	Name        string                     `json:"name"`
	Expressions map[string]json.RawMessage `json:"expressions"`
}

type planConfigModule struct {
	Resources   []planConfigResource            `json:"resources"`
	ModuleCalls map[string]planConfigModuleCall `json:"module_calls"`
	Outputs     map[string]struct {
		Expression planExpressions `json:"expression"`
	} `json:"outputs"`
}

type planConfigModuleCall struct {
	Module planConfigModule `json:"module"`
}

type planConfigResource struct {
	Address           string                     `json:"address"`
	ProviderConfigKey string                     `json:"provider_config_key"`
	Expressions       map[string]json.RawMessage `json:"expressions"`
}

type planExpressions struct {
	ConstantValue any      `json:"constant_value"`
	References    []string `json:"references"`
}

// planConfigFacts is what the reader keeps of one configured resource
// (or, under "module.NAME.output.OUTPUT", of a module output: refs[""]).
type planConfigFacts struct {
	refs        map[string][]string
	providerKey string
}

// planned is one resource instance the plan will have after apply.
type planned struct {
	address, typ string
	values       map[string]any
	unknown      map[string]any
	refs         map[string][]string
	// region is the Region the plan says the resource deploys to, ""
	// when it does not say.
	region string
	// assumes is true when its provider assumes a role.
	assumes bool
}

// ReadPlan reads the JSON of `terraform show -json PLANFILE`: the values
// Terraform resolved (resource_changes, else planned_values). A value the
// plan leaves unknown until apply is resolved through the configuration's
// references when it names another Lambda resource of the plan (an ARN
// or a name), else the declaration is unknown. file names the plan in
// locations; the line is where the resource's address is in the file.
func ReadPlan(data []byte, file string, opt Options) *estate.Estate {
	if opt.Owner == "" {
		opt.Owner = estate.OwnerPlaceholder
	}
	if opt.Partition == "" {
		opt.Partition = "aws"
	}
	est := &estate.Estate{}
	var p plan
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		line := 1
		var se *json.SyntaxError
		if ok := asSyntax(err, &se); ok {
			line = lineAt(data, int(se.Offset))
		}
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: line}, Reason: "the plan is not valid JSON: " + err.Error()})
		return est
	}
	if p.PlannedValues == nil && p.ResourceChanges == nil {
		p.PlannedValues = p.Values
	}
	if p.FormatVersion == "" || (p.PlannedValues == nil && p.ResourceChanges == nil) {
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: 1}, Reason: "not a terraform show -json plan or state (format_version and planned_values, resource_changes or values are required)"})
		return est
	}
	cfg := map[string]planConfigFacts{}
	var providers map[string]planProviderConfig
	if p.Configuration != nil {
		collectRefs(p.Configuration.RootModule, "", cfg)
		providers = p.Configuration.ProviderConfig
	}
	pr := &planReader{opt: opt, file: file, data: data, est: est, byInst: map[string]*planned{},
		sources: map[string]*planned{}, providers: providers, variables: p.Variables, cfg: cfg}
	var items []*planned
	add := func(it *planned) {
		facts := cfg[configAddress(it.address)]
		it.refs = facts.refs
		it.region, it.assumes = pr.regionOf(it, facts.providerKey)
		switch {
		case lambdaTypes[it.typ]:
			items = append(items, it)
		case serviceARNs[it.typ] != nil:
			pr.sources[configAddress(it.address)] = it
		}
	}
	if len(p.ResourceChanges) > 0 {
		for _, c := range p.ResourceChanges {
			if c.Mode != "managed" || isDeleteOnly(c.Change.Actions) {
				continue
			}
			if isForget(c.Change.Actions) {
				// A removed block with destroy = false: Terraform stops
				// managing the object but leaves it in AWS, where a
				// live scan still finds it as it was.
				add(&planned{address: c.Address, typ: c.Type, values: c.Change.Before})
				continue
			}
			add(&planned{address: c.Address, typ: c.Type, values: c.Change.After, unknown: c.Change.AfterUnknown})
		}
	} else if p.PlannedValues != nil {
		var walk func(m planModule)
		walk = func(m planModule) {
			for _, r := range m.Resources {
				if r.Mode == "managed" {
					add(&planned{address: r.Address, typ: r.Type, values: r.Values})
				}
			}
			for _, c := range m.ChildModules {
				walk(c)
			}
		}
		walk(p.PlannedValues.RootModule)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].address < items[j].address })
	for _, it := range items {
		pr.byInst[it.address] = it
	}
	for _, it := range items {
		pr.declare(it)
	}
	return est
}

func asSyntax(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func isDeleteOnly(actions []string) bool {
	return len(actions) == 1 && actions[0] == "delete"
}

// isForget is a change that removes the object from the state only
// ("forget": a removed block with lifecycle { destroy = false }); the
// object itself stays deployed.
func isForget(actions []string) bool {
	return len(actions) == 1 && actions[0] == "forget"
}

// configAddress drops instance keys: module.a["x"].aws_lambda_permission.p[0]
// -> module.a.aws_lambda_permission.p, as the configuration names it.
var instanceKey = regexp.MustCompile(`\[[^\]]*\]`)

func configAddress(addr string) string { return instanceKey.ReplaceAllString(addr, "") }

func collectRefs(m planConfigModule, prefix string, out map[string]planConfigFacts) {
	for _, r := range m.Resources {
		exprs := map[string][]string{}
		for k, raw := range r.Expressions {
			var e planExpressions
			if json.Unmarshal(raw, &e) == nil {
				exprs[k] = e.References
			}
		}
		out[prefix+r.Address] = planConfigFacts{refs: exprs, providerKey: r.ProviderConfigKey}
	}
	for name, c := range m.ModuleCalls {
		child := prefix + "module." + name + "."
		for o, e := range c.Module.Outputs {
			out[child+"output."+o] = planConfigFacts{refs: map[string][]string{"": e.Expression.References}}
		}
		collectRefs(c.Module, child, out)
	}
}

func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

type planReader struct {
	opt  Options
	file string
	data []byte
	est  *estate.Estate
	// byInst holds the Lambda resources by instance address; instances
	// counts them per configuration address.
	byInst map[string]*planned
	cfg    map[string]planConfigFacts
	// sources are the plan's non-Lambda resources whose ARN a
	// permission may name (serviceARNs).
	sources   map[string]*planned
	providers map[string]planProviderConfig
	variables map[string]any
}

// regionOf is the Region a planned resource deploys to, as the plan
// says it: the Region in its arn (a resource that exists), its own
// region argument (AWS provider v6), else its provider's region (a
// constant, or a variable whose value the plan holds). assumes is true
// when the provider assumes a role (the account is then not known).
func (pr *planReader) regionOf(it *planned, providerKey string) (region string, assumes bool) {
	pc, ok := pr.providers[providerKey]
	if !ok {
		// Older plans key a module's inherited provider as
		// "module.x:aws"; the root's configuration is "aws".
		if i := strings.LastIndex(providerKey, ":"); i >= 0 {
			pc, ok = pr.providers[providerKey[i+1:]]
		}
	}
	if !ok && providerKey == "" {
		pc, ok = pr.providers["aws"]
	}
	if ok {
		_, assumes = pc.Expressions["assume_role"]
		if _, web := pc.Expressions["assume_role_with_web_identity"]; web {
			assumes = true
		}
	}
	if reg := regionFromARN(it.values["arn"]); reg != "" {
		return reg, assumes
	}
	if reg, ok := it.values["region"].(string); ok && reg != "" {
		return reg, assumes
	}
	if !ok {
		return "", assumes
	}
	var e planExpressions
	if raw, has := pc.Expressions["region"]; !has || json.Unmarshal(raw, &e) != nil {
		return "", assumes
	}
	if s, isStr := e.ConstantValue.(string); isStr && s != "" {
		return s, assumes
	}
	for _, ref := range e.References {
		name, found := strings.CutPrefix(ref, "var.")
		if !found {
			continue
		}
		if v, isMap := pr.variables[name].(map[string]any); isMap {
			if s, isStr := v["value"].(string); isStr && s != "" {
				return s, assumes
			}
		}
	}
	return "", assumes
}

// line finds where the resource's address is written in the plan.
func (pr *planReader) line(addr string) int {
	q, _ := json.Marshal(addr)
	re := regexp.MustCompile(`"address"\s*:\s*` + regexp.QuoteMeta(string(q)))
	if loc := re.FindIndex(pr.data); loc != nil {
		return lineAt(pr.data, loc[0])
	}
	return 1
}

// get reads one attribute of a planned resource as a string, resolving
// a value unknown until apply through the configuration's references.
func (pr *planReader) get(it *planned, name string, why *[]string) string {
	v, ok := it.values[name]
	if unk, _ := it.unknown[name].(bool); unk {
		if s, ok := pr.resolveRef(it, name); ok {
			return s
		}
		*why = append(*why, fmt.Sprintf("%s is known only after apply (the plan leaves it unknown)", name))
		return ""
	}
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	*why = append(*why, fmt.Sprintf("%s is not a string", name))
	return ""
}

// resolveRef reads a value the plan leaves unknown from the Lambda
// resource the configuration says it refers to.
func (pr *planReader) resolveRef(it *planned, name string) (string, bool) {
	prefix := ""
	if i := strings.LastIndex(it.address, it.typ+"."); i > 0 {
		prefix = it.address[:i]
	}
	return pr.resolveIn(it, prefix, it.refs[name], name, 0)
}

// refParts splits a reference: aws_lambda_function.fn["a"].arn ->
// (aws_lambda_function, fn, ["a"], arn); module.m.out -> (module, m, "", out).
var refParts = regexp.MustCompile(`^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)((?:\[[^\]]*\])?)\.([A-Za-z0-9_-]+)$`)

// resolveIn resolves the references of one expression written in the
// module at prefix (an instance address prefix, "module.a[0]." or "").
// A reference names one instance: with its literal key, or none for a
// resource without count or for_each (a key from each.key or count.index
// is not in the plan's references: not resolved). An output
// of a module call is followed into the module.
func (pr *planReader) resolveIn(it *planned, prefix string, refs []string, name string, depth int) (string, bool) {
	if depth > maxModuleDepth {
		return "", false
	}
	for _, ref := range refs {
		m := refParts.FindStringSubmatch(ref)
		if m == nil {
			continue
		}
		parts := []string{m[1], m[2], m[4]}
		if m[1] == "module" {
			out, ok := pr.cfg[configAddress(prefix)+"module."+m[2]+".output."+m[4]]
			if !ok {
				continue
			}
			if s, ok := pr.resolveIn(it, prefix+"module."+m[2]+m[3]+".", out.refs[""], name, depth+1); ok {
				return s, true
			}
			continue
		}
		// The instance in the same module instance: a resource without
		// count or for_each has no key.
		target := pr.byInst[prefix+m[1]+"."+m[2]+m[3]]
		if target == nil {
			if src := pr.sources[configAddress(prefix)+parts[0]+"."+parts[1]]; src != nil && (name == "source_arn" || name == "principal") && onlyRefersTo(refs, parts[0]+"."+parts[1]) {
				if arn, ok := pr.sourceARN(src, parts[2]); ok {
					return arn, true
				}
			}
			continue
		}
		var ignored []string
		switch parts[0] + "." + parts[2] {
		case "aws_lambda_function.function_name", "aws_lambda_function.arn", "aws_lambda_function.id":
			if n := pr.get(target, "function_name", &ignored); n != "" && len(ignored) == 0 {
				return n, true
			}
		case "aws_lambda_function.version":
			return estate.Published, true
		case "aws_lambda_alias.arn":
			fn, alias := pr.get(target, "function_name", &ignored), pr.get(target, "name", &ignored)
			if fn != "" && alias != "" && len(ignored) == 0 {
				return parseFunctionName(fn) + ":" + alias, true
			}
		case "aws_lambda_alias.name":
			if n := pr.get(target, "name", &ignored); n != "" && len(ignored) == 0 {
				return n, true
			}
		case "aws_lambda_layer_version.layer_arn", "aws_lambda_layer_version.layer_name":
			if n := pr.get(target, "layer_name", &ignored); n != "" && len(ignored) == 0 {
				return n, true
			}
		case "aws_lambda_layer_version.version":
			return estate.Published, true
		}
	}
	return "", false
}

// onlyRefersTo reports whether an expression's references name no
// resource other than addr (variables and locals, which the plan has
// resolved, may build the rest of the value).
func onlyRefersTo(refs []string, addr string) bool {
	for _, r := range refs {
		if strings.HasPrefix(r, "var.") || strings.HasPrefix(r, "local.") || r == addr || strings.HasPrefix(r, addr+".") || strings.HasPrefix(r, addr+"[") {
			continue
		}
		return false
	}
	return true
}

// sourceARN is the ARN attr of a non-Lambda resource the plan creates,
// in the deploying account (see serviceARNs). The value is used only
// when the reference is the whole value or its start (an
// execution_arn followed by /*/*): its account and Region are what the
// verdict reads.
func (pr *planReader) sourceARN(src *planned, attr string) (string, bool) {
	if src.assumes {
		return "", false
	}
	for _, s := range serviceARNs[src.typ] {
		if s.attr != attr {
			continue
		}
		name := ""
		if s.nameAttr != "" {
			name, _ = src.values[s.nameAttr].(string)
		}
		if name == "" {
			name = src.address
		}
		region, account := src.region, pr.opt.Owner
		if region == "" {
			region = estate.RegionPlaceholder
		}
		if s.noRegion {
			region = ""
		}
		if s.noAccount {
			account = ""
		}
		return "arn:" + pr.opt.Partition + ":" + s.service + ":" + region + ":" + account + ":" + s.prefix + name, true
	}
	return "", false
}

func parseFunctionName(fn string) string {
	if strings.HasPrefix(fn, "arn:") {
		parts := strings.Split(fn, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
	}
	return fn
}

func (pr *planReader) declare(it *planned) {
	var why []string
	loc := estate.Loc{File: pr.file, Line: pr.line(it.address), Address: it.address, Region: it.region}
	g := func(name string) string { return pr.get(it, name, &why) }
	target := func(name string) string {
		before := len(why)
		v := g(name)
		if len(why) > before {
			return ""
		}
		return v
	}
	est := pr.est
	switch it.typ {
	case "aws_lambda_function":
		fn := estate.Function{Loc: loc, Name: target("function_name"), ConfigKnown: true}
		// The runtime and the execution role are reported, not judged:
		// a role the same plan creates (after_unknown) does not make
		// the function unknown.
		var extra []string
		fn.Runtime, fn.Role = pr.get(it, "runtime", &extra), pr.get(it, "role", &extra)
		if vpcs, ok := it.values["vpc_config"].([]any); ok && len(vpcs) > 0 {
			if v, ok := vpcs[0].(map[string]any); ok {
				fn.VPC = &inventory.VPCConfig{SubnetIDs: stringList(v["subnet_ids"]), SecurityGroupIDs: stringList(v["security_group_ids"])}
			}
		}
		fn.Unknown = strings.Join(why, "; ")
		est.Functions = append(est.Functions, fn)
	case "aws_lambda_permission":
		var fnWhy []string
		fn := pr.get(it, "function_name", &fnWhy)
		p := estate.Permission{Loc: loc, Function: fn, FunctionUnknown: strings.Join(fnWhy, "; "), Qualifier: g("qualifier"),
			Action: g("action"), Principal: g("principal"),
			SourceArn: g("source_arn"), SourceAccount: g("source_account"), PrincipalOrgID: g("principal_org_id"),
			EventSourceToken: g("event_source_token"), FunctionURLAuthType: g("function_url_auth_type")}
		// The statement id names the grant, it does not change who it
		// reaches: one computed at apply (statement_id_prefix) is not a
		// reason for unknown.
		var sidWhy []string
		p.StatementID = pr.get(it, "statement_id", &sidWhy)
		if p.StatementID == "" {
			p.StatementID = pr.get(it, "statement_id_prefix", &sidWhy)
		}
		if p.StatementID == "" {
			p.StatementID = "terraform-" + it.address
		}
		if p.Principal == "" && len(why) == 0 {
			why = append(why, "principal is not set")
		}
		p.Unknown = strings.Join(why, "; ")
		est.Permissions = append(est.Permissions, p)
	case "aws_lambda_function_url":
		u := estate.URL{Loc: loc, Function: target("function_name"), Qualifier: g("qualifier"), AuthType: strings.ToUpper(g("authorization_type"))}
		if cs, ok := it.values["cors"].([]any); ok && len(cs) > 0 {
			if c, ok := cs[0].(map[string]any); ok {
				creds, _ := c["allow_credentials"].(bool)
				u.CORS = &inventory.CORS{AllowOrigins: stringList(c["allow_origins"]), AllowMethods: stringList(c["allow_methods"]), AllowCredentials: creds}
			}
		}
		if u.AuthType != "NONE" && u.AuthType != "AWS_IAM" && len(why) == 0 {
			why = append(why, fmt.Sprintf("authorization_type %q is neither NONE nor AWS_IAM", u.AuthType))
		}
		u.Unknown = strings.Join(why, "; ")
		est.URLs = append(est.URLs, u)
	case "aws_lambda_alias":
		a := estate.Alias{Loc: loc, Function: target("function_name"), Name: g("name")}
		a.Unknown = strings.Join(why, "; ")
		est.Aliases = append(est.Aliases, a)
	case "aws_lambda_layer_version":
		l := estate.Layer{Loc: loc, Name: target("layer_name"), Version: estate.Published}
		if v := g("version"); v != "" {
			l.Version = v
		}
		why = nil // the version is unknown until apply: Published stands for it
		est.Layers = append(est.Layers, l)
	case "aws_lambda_layer_version_permission":
		var layerWhy []string
		layer := pr.get(it, "layer_name", &layerWhy)
		version := pr.get(it, "version_number", &layerWhy)
		if layer != "" && len(layerWhy) > 0 {
			why = append(why, layerWhy...)
			layerWhy = nil
		}
		lp := estate.LayerPermission{Loc: loc, Layer: layer, LayerUnknown: strings.Join(layerWhy, "; "), Version: version,
			Principal: g("principal"), OrganizationID: g("organization_id"), Action: g("action")}
		var sidWhy []string
		lp.StatementID = pr.get(it, "statement_id", &sidWhy)
		lp.Unknown = strings.Join(why, "; ")
		est.LayerPermissions = append(est.LayerPermissions, lp)
	case "aws_lambda_resource_policy":
		t := target("function_name")
		if t == "" && len(why) == 0 {
			t = target("resource_arn")
		}
		rp := estate.ResourcePolicy{Loc: loc, Target: t, Document: g("policy")}
		rp.Unknown = strings.Join(why, "; ")
		est.ResourcePolicies = append(est.ResourcePolicies, rp)
	}
}

func regionFromARN(v any) string {
	s, _ := v.(string)
	parts := strings.Split(s, ":")
	if len(parts) > 4 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
