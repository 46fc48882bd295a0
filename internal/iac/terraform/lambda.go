package terraform

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// computed are the attributes AWS fills in that the reader can derive:
// ARNs from names, the version a publish creates.
func (m *module) computed(r *resource, in *instance) map[string]cty.Value {
	out := map[string]cty.Value{}
	str := func(name string) (string, bool) {
		a := in.body.attrs[name]
		if a == nil || a.why != "" {
			return "", false
		}
		return asString(a.value)
	}
	opt := m.estateOptions(r.region)
	region := regionOrPlaceholder(r.region)
	invoke := func(arn string) cty.Value {
		return cty.StringVal("arn:" + opt.Partition + ":apigateway:" + region + ":lambda:path/2015-03-31/functions/" + arn + "/invocations")
	}
	switch r.typ {
	case "aws_lambda_function":
		name, ok := str("function_name")
		if !ok {
			if a := in.body.attrs["function_name"]; a == nil || a.why == "" {
				return out
			}
			// Not known from the code: the address stands for it, so
			// the grants that refer to the function find it.
			name = in.addr
			out["function_name"] = cty.StringVal(name)
		}
		arn := opt.FunctionARN(r.region, "", name, "")
		version := "$LATEST"
		if p, ok := str("publish"); ok && p == "true" {
			version = estate.Published
		}
		out["id"] = cty.StringVal(name)
		out["arn"] = cty.StringVal(arn)
		out["version"] = cty.StringVal(version)
		out["qualified_arn"] = cty.StringVal(arn + ":" + version)
		out["invoke_arn"] = invoke(arn)
		out["qualified_invoke_arn"] = invoke(arn + ":" + version)
	case "aws_lambda_alias":
		fn, ok1 := str("function_name")
		name, ok2 := str("name")
		if !ok1 || !ok2 {
			return out
		}
		arn := functionARN(opt, r.region, fn) + ":" + name
		out["arn"] = cty.StringVal(arn)
		out["id"] = cty.StringVal(arn)
		out["invoke_arn"] = invoke(arn)
	case "aws_lambda_layer_version":
		name, ok := str("layer_name")
		if !ok {
			return out
		}
		layer := opt.LayerARN(r.region, "", name, "")
		out["layer_arn"] = cty.StringVal(layer)
		out["arn"] = cty.StringVal(layer + ":" + estate.Published)
		out["id"] = out["arn"]
		out["version"] = cty.StringVal(estate.Published)
	case "aws_lambda_permission":
		if sid, ok := str("statement_id"); ok {
			out["id"] = cty.StringVal(sid)
		}
	default:
		m.sourceARNs(r, in, out)
	}
	return out
}

// functionARN is the unqualified ARN of a function named by name or ARN.
func functionARN(opt estate.Options, region, fn string) string {
	if strings.HasPrefix(fn, "arn:") {
		parts := strings.Split(fn, ":")
		if len(parts) >= 7 {
			return strings.Join(parts[:7], ":")
		}
		return fn
	}
	return opt.FunctionARN(region, "", fn, "")
}

// lambdaTypes are the resource types the reader turns into declarations.
var lambdaTypes = map[string]bool{
	"aws_lambda_function": true, "aws_lambda_permission": true, "aws_lambda_function_url": true,
	"aws_lambda_alias": true, "aws_lambda_layer_version": true, "aws_lambda_layer_version_permission": true,
	"aws_lambda_resource_policy": true,
}

// extract declares the module's Lambda resources, then reads the local
// modules it calls.
func (m *module) extract() {
	for _, r := range m.order {
		if !lambdaTypes[r.typ] {
			continue
		}
		m.ensure(r)
		for _, in := range r.instances {
			m.declare(r, in)
		}
	}
	names := make([]string, 0, len(m.calls))
	for n := range m.calls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m.moduleValue(n)
	}
}

// moduleValue reads a module call once (declaring what the module
// declares) and returns its outputs, so module.NAME.OUTPUT resolves; a
// call that refers back to itself through its inputs is unknown.
func (m *module) moduleValue(name string) cty.Value {
	if v, ok := m.callVals[name]; ok {
		return v
	}
	b, ok := m.calls[name]
	if !ok {
		return cty.DynamicVal
	}
	k := "module." + name
	if m.busy[k] {
		return cty.DynamicVal
	}
	m.busy[k] = true
	v := m.call(name, b)
	delete(m.busy, k)
	m.callVals[name] = v
	return v
}

// outputValues evaluates a child module's outputs; why names, for the
// caller's messages, each output that is not known.
func (m *module) outputValues(call string, parent *module) cty.Value {
	vals := map[string]cty.Value{}
	for name, b := range m.outputs {
		a := b.Body.Attributes["value"]
		if a == nil {
			vals[name] = cty.DynamicVal
			continue
		}
		v, why := m.eval(a.Expr, nil)
		if why != "" {
			parent.outputWhy[call+"."+name] = fmt.Sprintf("the output %s = %s (%s:%d) cannot be resolved statically: %s", name, m.exprText(a), a.SrcRange.Filename, m.tree.line(a.SrcRange), why)
			v = cty.DynamicVal
		}
		vals[name] = v
	}
	return cty.ObjectVal(vals)
}

// field reads one attribute of an instance as a string.
type field struct {
	m  *module
	in *instance
	// why collects what could not be resolved.
	why []string
}

// get returns the attribute's value, "" when absent or null. An
// unresolved value is recorded in why.
func (f *field) get(name string) string {
	return f.from(f.in.body, name)
}

func (f *field) from(bv *bodyVals, name string) string {
	a := bv.attrs[name]
	if a == nil {
		return ""
	}
	if a.why != "" {
		f.why = append(f.why, f.m.attrWhy(a.attr, a.why))
		return ""
	}
	if a.value.IsNull() {
		return ""
	}
	s, ok := asString(a.value)
	if !ok {
		f.why = append(f.why, f.m.attrWhy(a.attr, "the value is not a string"))
		return ""
	}
	return s
}

// arnPrefix reads an ARN attribute like get, but an ARN whose end is
// known only after apply ("${aws_api_gateway_rest_api.a.execution_arn}/*/${aws_api_gateway_resource.r.path}")
// is read as its known part followed by *, when that part fixes every
// field through the account: the account is what a source ARN pins
// (SEMANTICS.md section 4), and the wildcard only widens the match.
func (f *field) arnPrefix(name string) string {
	a := f.in.body.attrs[name]
	if a != nil && a.why != "" && a.value != cty.NilVal && !a.value.IsKnown() && a.value.Type() == cty.String {
		prefix := a.value.Range().StringPrefix()
		if fields := strings.SplitN(prefix, ":", 6); len(fields) == 6 && fields[0] == "arn" && !strings.ContainsAny(strings.Join(fields[:5], ":"), "*?") {
			return prefix + "*"
		}
	}
	return f.get(name)
}

// list reads a list of strings.
func (f *field) list(bv *bodyVals, name string) ([]string, bool) {
	a := bv.attrs[name]
	if a == nil || (a.why == "" && a.value.IsNull()) {
		return nil, true
	}
	if a.why != "" {
		f.why = append(f.why, f.m.attrWhy(a.attr, a.why))
		return nil, false
	}
	v := a.value
	if !v.CanIterateElements() {
		f.why = append(f.why, f.m.attrWhy(a.attr, "the value is not a list"))
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, ok := asString(e)
		if !ok {
			f.why = append(f.why, f.m.attrWhy(a.attr, "an element is not a string"))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (f *field) reason() string { return strings.Join(f.why, "; ") }

// attrWhy names an unresolved attribute, its expression and line.
func (m *module) attrWhy(a *hclsyntax.Attribute, why string) string {
	return fmt.Sprintf("%s = %s (line %d) cannot be resolved statically: %s", a.Name, m.exprText(a), m.tree.line(a.SrcRange), why)
}

// exprText quotes an attribute's expression as written, on one line and
// capped.
func (m *module) exprText(a *hclsyntax.Attribute) string {
	rng := a.Expr.Range()
	src := m.tree.sources[rng.Filename]
	if rng.Start.Byte < 0 || rng.End.Byte > len(src) || rng.Start.Byte >= rng.End.Byte {
		return "…"
	}
	s := strings.Join(strings.Fields(string(src[rng.Start.Byte:rng.End.Byte])), " ")
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}

func (m *module) loc(r *resource, in *instance) estate.Loc {
	return estate.Loc{File: r.block.DefRange().Filename, Line: m.tree.line(r.block.DefRange()), Address: in.addr, Region: r.region}
}

// declare turns one instance of a Lambda resource into its declaration.
func (m *module) declare(r *resource, in *instance) {
	f := &field{m: m, in: in}
	if r.unresolved != "" {
		f.why = append(f.why, r.unresolved)
	}
	loc := m.loc(r, in)
	est := m.tree.est
	// target reads the function a declaration attaches to; a function
	// reference that cannot be resolved leaves it "" (the declaration
	// then stands on its own, unknown).
	target := func(name string) string {
		before := len(f.why)
		v := f.get(name)
		if len(f.why) > before {
			return ""
		}
		return v
	}
	switch r.typ {
	case "aws_lambda_function":
		fn := estate.Function{Loc: loc, Name: target("function_name"), Region: regionOrPlaceholder(r.region)}
		if fn.Name == "" && len(f.why) > 0 && r.unresolved == "" {
			fn.Name, fn.NameUnresolved = in.addr, f.reason()
			f.why = nil
		}
		if fn.Name == "" && len(f.why) == 0 {
			f.why = append(f.why, "function_name is not set")
		}
		// The runtime and the execution role are reported, not judged:
		// who can reach the function does not depend on them, so a
		// role passed in as a variable (or read by a data source) does
		// not make the function unknown.
		extra := &field{m: m, in: in}
		fn.Runtime = extra.get("runtime")
		fn.Role = extra.get("role")
		// The configuration is known when the VPC attachment is.
		fn.ConfigKnown = true
		if vpcs := in.body.blocks["vpc_config"]; len(vpcs) > 0 {
			subnets, ok1 := extra.list(vpcs[0], "subnet_ids")
			sgs, ok2 := extra.list(vpcs[0], "security_group_ids")
			fn.VPC = &inventory.VPCConfig{SubnetIDs: subnets, SecurityGroupIDs: sgs}
			fn.ConfigKnown = ok1 && ok2
		}
		if _, dyn := in.body.dynamic["vpc_config"]; dyn {
			fn.ConfigKnown = false
		}
		fn.Unknown = f.reason()
		est.Functions = append(est.Functions, fn)
	case "aws_lambda_permission":
		before := len(f.why)
		p := estate.Permission{Loc: loc, Function: target("function_name")}
		if p.Function == "" && len(f.why) > before {
			// Judged on its own when the rest of the grant reads
			// (estate.Permission.FunctionUnknown).
			p.FunctionUnknown = strings.Join(f.why[before:], "; ")
			f.why = f.why[:before]
		}
		p.Qualifier = f.get("qualifier")
		// The statement id names the grant; it does not change who it
		// reaches, so one built from a variable is not a reason for
		// unknown.
		sid := &field{m: m, in: in}
		p.StatementID = sid.get("statement_id")
		if p.StatementID == "" {
			p.StatementID = sid.get("statement_id_prefix")
		}
		if p.StatementID == "" {
			// Terraform generates one at apply time.
			p.StatementID = "terraform-" + r.name
		}
		p.Action = f.get("action")
		p.Principal = f.get("principal")
		p.SourceArn = f.arnPrefix("source_arn")
		p.SourceAccount = f.get("source_account")
		p.PrincipalOrgID = f.get("principal_org_id")
		p.EventSourceToken = f.get("event_source_token")
		p.FunctionURLAuthType = f.get("function_url_auth_type")
		if v := f.get("invoked_via_function_url"); v == "true" {
			p.InvokedViaFunctionURL = true
		}
		if p.Principal == "" && len(f.why) == 0 {
			f.why = append(f.why, "principal is not set")
		}
		if p.Action == "" && len(f.why) == 0 {
			f.why = append(f.why, "action is not set")
		}
		p.Unknown = f.reason()
		est.Permissions = append(est.Permissions, p)
	case "aws_lambda_function_url":
		u := estate.URL{Loc: loc, Function: target("function_name")}
		u.Qualifier = f.get("qualifier")
		u.AuthType = strings.ToUpper(f.get("authorization_type"))
		if cs := in.body.blocks["cors"]; len(cs) > 0 {
			c := &inventory.CORS{}
			c.AllowOrigins, _ = f.list(cs[0], "allow_origins")
			c.AllowMethods, _ = f.list(cs[0], "allow_methods")
			c.AllowCredentials = f.from(cs[0], "allow_credentials") == "true"
			u.CORS = c
		}
		if _, dyn := in.body.dynamic["cors"]; dyn {
			f.why = append(f.why, "a dynamic cors block is not expanded")
		}
		if u.AuthType != "NONE" && u.AuthType != "AWS_IAM" && len(f.why) == 0 {
			f.why = append(f.why, fmt.Sprintf("authorization_type %q is neither NONE nor AWS_IAM", u.AuthType))
		}
		u.Unknown = f.reason()
		est.URLs = append(est.URLs, u)
	case "aws_lambda_alias":
		a := estate.Alias{Loc: loc, Function: target("function_name"), Name: f.get("name")}
		a.Unknown = f.reason()
		est.Aliases = append(est.Aliases, a)
	case "aws_lambda_layer_version":
		l := estate.Layer{Loc: loc, Name: target("layer_name"), Version: estate.Published, Region: regionOrPlaceholder(r.region)}
		l.Unknown = f.reason()
		est.Layers = append(est.Layers, l)
	case "aws_lambda_layer_version_permission":
		before := len(f.why)
		lp := estate.LayerPermission{Loc: loc, Layer: target("layer_name")}
		lp.Version = f.get("version_number")
		if lp.Layer == "" && len(f.why) > before {
			// Which layer and which of its versions: both unresolved
			// together (data "aws_lambda_layer_version").
			lp.LayerUnknown = strings.Join(f.why[before:], "; ")
			f.why = f.why[:before]
		}
		lp.Principal = f.get("principal")
		lp.OrganizationID = f.get("organization_id")
		lp.Action = f.get("action")
		lp.StatementID = (&field{m: m, in: in}).get("statement_id")
		if lp.StatementID == "" {
			lp.StatementID = "terraform-" + r.name
		}
		if lp.Principal == "" && len(f.why) == 0 {
			f.why = append(f.why, "principal is not set")
		}
		lp.Unknown = f.reason()
		est.LayerPermissions = append(est.LayerPermissions, lp)
	case "aws_lambda_resource_policy":
		t := target("function_name")
		if t == "" && len(f.why) == 0 {
			t = target("resource_arn")
		}
		if q := f.get("qualifier"); q != "" && t != "" {
			t = functionARN(m.estateOptions(r.region), r.region, t) + ":" + q
		}
		rp := estate.ResourcePolicy{Loc: loc, Target: t, Document: f.get("policy")}
		if rp.Document == "" && len(f.why) == 0 {
			f.why = append(f.why, "policy is not set")
		}
		rp.Unknown = f.reason()
		est.ResourcePolicies = append(est.ResourcePolicies, rp)
	}
}

// unread lists a module call that cannot be read as unknown at its line:
// the Lambda resources it declares (a registry module such as
// terraform-aws-modules/lambda/aws creates the function, its URL and its
// permissions) cannot be judged, and leaving them out would pass them.
func (m *module) unread(name string, b *hclsyntax.Block, why string) {
	m.tree.brokenPart(b.DefRange().Filename, m.tree.line(b.DefRange()), m.addr+"module."+name,
		"module "+name+": "+why+"; the Lambda resources it declares cannot be judged")
}

// call reads a local module with the inputs the call passes, once per
// count/for_each instance, and returns its outputs (unknown for a module
// that is not in the tree).
func (m *module) call(name string, b *hclsyntax.Block) cty.Value {
	src, ok := literalString(b.Body.Attributes["source"])
	var dir string
	switch {
	case ok && isLocalSource(src):
		dir = path.Clean(path.Join(m.dir, src))
	case ok:
		// A registry or remote module: read where terraform init put
		// it, when it did.
		if d, found := m.tree.installedModule(m.callKey(name)); found {
			dir = d
			break
		}
		m.outputWhy[name+".*"] = "the module is not in the tree (source " + src + "; run terraform init to have it read from .terraform/modules)"
		m.unread(name, b, m.outputWhy[name+".*"])
		return cty.DynamicVal
	default:
		m.outputWhy[name+".*"] = "the module's source is not a literal"
		m.unread(name, b, m.outputWhy[name+".*"])
		return cty.DynamicVal
	}
	if m.depth+1 > maxModuleDepth {
		m.tree.broken(m.dir, m.tree.line(b.DefRange()), "module "+name+": modules nest deeper than "+strconv.Itoa(maxModuleDepth)+" levels (a module calling itself?)")
		return cty.DynamicVal
	}
	r := &resource{typ: "module", name: name, block: b, file: b.DefRange().Filename}
	type inst struct {
		addr string
		sc   *scope
	}
	var insts []inst
	base := m.addr + "module." + name
	// shape is how the outputs are indexed: one object, a list (count)
	// or a map (for_each).
	shape, known := "one", true
	switch {
	case b.Body.Attributes["count"] != nil:
		v, why := m.eval(b.Body.Attributes["count"].Expr, nil)
		n, ok := countOf(v, why)
		shape, known = "count", ok
		if !ok {
			insts = append(insts, inst{base + "[*]", &scope{count: cty.ObjectVal(map[string]cty.Value{"index": cty.UnknownVal(cty.Number)})}})
			break
		}
		for i := 0; i < n; i++ {
			insts = append(insts, inst{fmt.Sprintf("%s[%d]", base, i), &scope{count: cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}})
		}
	case b.Body.Attributes["for_each"] != nil:
		v, why := m.eval(b.Body.Attributes["for_each"].Expr, nil)
		keys, vals, ok := forEachOf(v, why)
		shape, known = "for_each", ok
		if !ok {
			insts = append(insts, inst{base + "[*]", &scope{each: cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal})}})
			break
		}
		for i, k := range keys {
			insts = append(insts, inst{fmt.Sprintf("%s[%q]", base, k), &scope{each: cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(k), "value": vals[i]})}})
		}
	default:
		insts = append(insts, inst{base, nil})
	}
	_ = r
	var outs []cty.Value
	outKeys := map[string]cty.Value{}
	for _, in := range insts {
		inputs := map[string]cty.Value{}
		whys := map[string]string{}
		for an, a := range b.Body.Attributes {
			switch an {
			case "source", "version", "count", "for_each", "providers", "depends_on":
				continue
			}
			v, why := m.eval(a.Expr, in.sc)
			inputs[an] = v
			if why != "" {
				inputs[an] = cty.DynamicVal
				whys[an] = fmt.Sprintf("%s = %s (%s:%d) cannot be resolved statically: %s", an, m.exprText(a), a.SrcRange.Filename, m.tree.line(a.SrcRange), why)
			}
		}
		child := m.tree.newModule(dir, in.addr+".", m.depth+1, inputs)
		if child == nil {
			outs = append(outs, cty.DynamicVal)
			continue
		}
		child.inputWhy = whys
		child.region = m.region
		if reg := child.providerRegion(""); reg != "" {
			child.region = reg
		}
		child.extract()
		o := child.outputValues(name, m)
		outs = append(outs, o)
		if in.sc != nil && in.sc.each != cty.NilVal {
			if k := in.sc.each.GetAttr("key"); k.IsKnown() && k.Type() == cty.String {
				outKeys[k.AsString()] = o
			}
		}
	}
	switch {
	case !known:
		return cty.DynamicVal
	case shape == "count":
		if len(outs) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(outs)
	case shape == "for_each":
		if len(outKeys) == 0 {
			return cty.EmptyObjectVal
		}
		return cty.ObjectVal(outKeys)
	}
	if len(outs) == 1 {
		return outs[0]
	}
	return cty.DynamicVal
}
