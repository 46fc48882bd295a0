// Package cloudformation reads CloudFormation templates (YAML with the
// short-form intrinsics, and JSON), SAM templates and the templates CDK
// synthesizes (cdk.out/*.template.json) into the estate of Lambda
// declarations, each with its file, line and logical id.
//
// Intrinsics are applied where the template fixes the result: Ref and
// Fn::GetAtt on the template's own resources (they belong to the
// deploying account), Fn::Sub, Fn::Join, Fn::If on conditions of
// parameters with defaults, Fn::Select, Fn::Split, Fn::FindInMap.
// AWS::AccountId is the deploying account. A Parameter without Default,
// Fn::ImportValue and the like are unresolved, and the declaration that
// needs one is unknown with the expression and its line. SAM's
// AWS::Serverless::Function is expanded as SAM does: its alias
// (AutoPublishAlias), its function URL (FunctionUrlConfig) with the
// public permission SAM adds for AuthType NONE, and the permissions it
// generates for its event sources.
package cloudformation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/yamldoc"
)

// Options are what the reader needs beyond the file.
type Options struct {
	Owner, Partition string
	// Path is the template's path in the file system Open reads, so
	// nested stacks with a local TemplateURL (SAM and `aws cloudformation
	// package` take a path relative to the template; CDK names the file
	// in the aws:asset:path metadata) can be followed. With Open nil a
	// nested stack is unknown.
	Path string
	// Open reads a file by its path in that file system and returns its
	// text and the name to show for it.
	Open func(path string) ([]byte, string, error)

	// Overrides are the parameter values a deployment configuration
	// next to the template sets (SAMConfig).
	Overrides map[string]Override

	// StackName, when set, prefixes the logical id of a function or
	// layer without a name (generatedName).
	StackName string

	// params are the values a parent stack passes (nested stacks).
	params map[string]any
	// stack are the templates being read, outermost first (cycles).
	stack []string
}

// Read reads one template. file names it in locations and messages. A
// template that does not parse is returned as broken, with the line of
// the error.
func Read(data []byte, file string, opt Options) *estate.Estate {
	est := &estate.Estate{}
	t, root, ok := parse(data, file, opt, est)
	if !ok {
		return est
	}
	_, globals := child(root, "Globals")
	_, globalFn := child(globals, "Function")
	ids, nodes := t.ids, t.nodes
	t.registerSAM(ids, nodes, globalFn)
	for i, k := range ids {
		t.declare(est, k, nodes[i], globalFn)
	}
	for i, k := range ids {
		t.nested(est, k, nodes[i])
	}
	return est
}

// parse reads the template's sections; a template that cannot be read
// is recorded on est as broken and ok is false.
func parse(data []byte, file string, opt Options, est *estate.Estate) (t *template, root *yaml.Node, ok bool) {
	if opt.Owner == "" {
		opt.Owner = estate.OwnerPlaceholder
	}
	if opt.Partition == "" {
		opt.Partition = "aws"
	}
	low := strings.ToLower(file)
	if strings.HasSuffix(low, ".json") || strings.HasSuffix(low, ".template") && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		// CloudFormation reads a .json template (or a .template one in
		// JSON) as JSON: what YAML
		// would forgive (a trailing comma, a comment) is a format error.
		if line, why := jsonError(data); why != "" {
			est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: line}, Reason: "template does not parse: JSON syntax: " + why})
			return nil, nil, false
		}
	}
	root, err := yamldoc.Root(data, file)
	if err != nil {
		est.Broken = append(est.Broken, brokenFrom(file, err))
		return nil, nil, false
	}
	if root == nil || root.Kind != yaml.MappingNode {
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: 1}, Reason: "a template is a mapping with a Resources section"})
		return nil, nil, false
	}
	if line, why := repeatedKey(root, 0); why != "" {
		// CloudFormation refuses the template; which copy a reader keeps
		// differs, and keeping the weaker one would be a false pass.
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: line}, Reason: "template does not parse: " + why})
		return nil, nil, false
	}
	t = &template{file: file, opt: opt, params: map[string]*yaml.Node{}, conditions: map[string]*yaml.Node{},
		resources: map[string]*yaml.Node{}, condBusy: map[string]bool{}, generated: map[string]string{}, generatedAlias: map[string]string{}}
	_, params := child(root, "Parameters")
	ks, vs := mapping(params)
	for i, k := range ks {
		t.params[k.Value] = vs[i]
	}
	_, t.mappings = child(root, "Mappings")
	_, conds := child(root, "Conditions")
	ks, vs = mapping(conds)
	for i, k := range ks {
		t.conditions[k.Value] = vs[i]
	}
	resKey, res := child(root, "Resources")
	if resKey == nil || res == nil || res.Kind != yaml.MappingNode {
		line := 1
		if resKey != nil {
			line = resKey.Line
		}
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: line}, Reason: "the template has no Resources mapping"})
		return nil, nil, false
	}
	rks, rvs := mapping(res)
	ids, nodes := t.expand(est, rks, rvs, 0)
	t.ids, t.nodes = ids, nodes
	for i, k := range ids {
		t.resources[k.Value] = nodes[i]
		t.order = append(t.order, k.Value)
	}
	t.transforms(est, root)
	return t, root, true
}

// repeatedKey finds the first key written twice in one mapping, at any
// depth.
func repeatedKey(n *yaml.Node, depth int) (int, string) {
	if n == nil || depth > 10000 {
		return 0, ""
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value != "<<" {
				if first, dup := seen[k.Value]; dup {
					return k.Line, fmt.Sprintf("the key %q is repeated (lines %d and %d)", k.Value, first, k.Line)
				}
				seen[k.Value] = k.Line
			}
		}
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode || n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if line, why := repeatedKey(c, depth+1); why != "" {
				return line, why
			}
		}
	}
	return 0, ""
}

// jsonError is the line and message of the first JSON syntax error in
// data, "" when it is valid JSON.
func jsonError(data []byte) (int, string) {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		return 0, ""
	}
	off := int64(len(data))
	if se, ok := err.(*json.SyntaxError); ok {
		off = se.Offset
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte("\n")), err.Error()
}

// brokenFrom turns a YAML error "file:line: ..." into a broken entry.
func brokenFrom(file string, err error) estate.Broken {
	msg := err.Error()
	line := 0
	rest := strings.TrimPrefix(msg, file+":")
	if rest != msg {
		fmt.Sscanf(rest, "%d:", &line)
		if i := strings.Index(rest, ":"); i >= 0 {
			msg = strings.TrimSpace(rest[i+1:])
		}
	} else {
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, file), ": ")
	}
	return estate.Broken{Loc: estate.Loc{File: file, Line: line}, Reason: "template does not parse: " + msg}
}

// registerSAM records the resources SAM generates, so Ref and GetAtt on
// them resolve: MyFnAlias<Name>, ServerlessRestApi, ServerlessHttpApi.
func (t *template) registerSAM(ids, nodes []*yaml.Node, globalFn *yaml.Node) {
	for i, k := range ids {
		_, tn := child(nodes[i], "Type")
		if tn == nil || tn.Value != "AWS::Serverless::Function" {
			continue
		}
		_, pn := child(nodes[i], "Properties")
		p := &props{t: t, node: pn, extra: globalFn}
		if _, a := p.lookup("AutoPublishAlias"); a != nil {
			if name, ok := str(t.eval(a)); ok {
				id := k.Value + "Alias" + name
				t.generated[id] = "AWS::Lambda::Alias"
				t.generatedAlias[id] = t.nameOf(k.Value, "FunctionName") + "\x00" + name
			}
		}
	}
	t.generated["ServerlessRestApi"] = "AWS::ApiGateway::RestApi"
	t.generated["ServerlessHttpApi"] = "AWS::ApiGatewayV2::Api"
}

// props is a resource's properties with their key lines.
type props struct {
	t     *template
	node  *yaml.Node
	extra *yaml.Node // SAM Globals.Function, read when a key is absent
	why   []string
}

func (p *props) lookup(name string) (*yaml.Node, *yaml.Node) {
	k, v := child(p.node, name)
	gk, gv := child(p.extra, name)
	if k == nil {
		return gk, gv
	}
	if gv != nil && v != nil && v.Kind == yaml.MappingNode && gv.Kind == yaml.MappingNode {
		// SAM merges a mapping in Globals with the function's own, key by
		// key, the function's keys winning (FunctionUrlConfig with the
		// AuthType in Globals and Cors on the function).
		return k, mergeMappings(gv, v)
	}
	return k, v
}

// mergeMappings is base with over's keys put over it, recursively for
// keys that are mappings on both sides, as SAM merges Globals.
func mergeMappings(base, over *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: over.Tag, Line: over.Line, Column: over.Column}
	oks, ovs := mapping(over)
	bks, bvs := mapping(base)
	for i, bk := range bks {
		_, ov := child(over, bk.Value)
		switch {
		case ov == nil:
			out.Content = append(out.Content, bk, bvs[i])
		case ov.Kind == yaml.MappingNode && bvs[i].Kind == yaml.MappingNode:
			ok, _ := child(over, bk.Value)
			out.Content = append(out.Content, ok, mergeMappings(bvs[i], ov))
		}
	}
	for i, ok := range oks {
		if _, bv := child(base, ok.Value); bv != nil && bv.Kind == yaml.MappingNode && ovs[i].Kind == yaml.MappingNode {
			continue
		}
		out.Content = append(out.Content, ok, ovs[i])
	}
	return out
}

// get reads a property as a string; "" when absent. An unresolved value
// is recorded.
func (p *props) get(name string) string {
	k, v := p.lookup(name)
	if k == nil {
		return ""
	}
	return p.stringOf(name, k, v)
}

// arnPrefix reads an ARN property like get, but an ARN whose end only a
// deployment fixes (!Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*",
// ApiId a parameter without default) is read as its known part followed
// by *, when that part fixes every field through the account: the
// account is what a source ARN pins (SEMANTICS.md section 4), and the
// wildcard only widens the match. What comes after the account's colon
// cannot move the fields before it.
func (p *props) arnPrefix(name string) string {
	k, v := p.lookup(name)
	if k == nil {
		return ""
	}
	if u, ok := p.t.eval(v).(unknown); ok {
		if f := strings.SplitN(u.prefix, ":", 6); len(f) == 6 && f[0] == "arn" && !strings.ContainsAny(strings.Join(f[:5], ":"), "*?") {
			return u.prefix + "*"
		}
	}
	return p.stringOf(name, k, v)
}

func (p *props) stringOf(name string, k, v *yaml.Node) string {
	val := p.t.eval(v)
	if w, bad := firstUnknown(val); bad {
		p.why = append(p.why, fmt.Sprintf("%s (line %d) cannot be resolved statically: %s", name, k.Line, w))
		return ""
	}
	if val == nil {
		return ""
	}
	if _, skip := val.(noValue); skip {
		return ""
	}
	s, ok := str(val)
	if !ok {
		p.why = append(p.why, fmt.Sprintf("%s (line %d) is not a string", name, k.Line))
	}
	return s
}

// list reads a list of strings.
func (p *props) list(n *yaml.Node, name string) ([]string, bool) {
	k, v := child(n, name)
	if k == nil {
		return nil, true
	}
	val := p.t.eval(v)
	if w, bad := firstUnknown(val); bad {
		p.why = append(p.why, fmt.Sprintf("%s (line %d) cannot be resolved statically: %s", name, k.Line, w))
		return nil, false
	}
	items, ok := val.([]any)
	if !ok {
		if s, ok := str(val); ok {
			return []string{s}, true
		}
		p.why = append(p.why, fmt.Sprintf("%s (line %d) is not a list", name, k.Line))
		return nil, false
	}
	var out []string
	for _, it := range items {
		if s, ok := str(it); ok {
			out = append(out, s)
		}
	}
	return out, true
}

func (p *props) reason() string { return strings.Join(p.why, "; ") }

// present tells whether a resource exists: its Condition is true, or
// cannot be decided (then it is judged, the stricter reading).
func (t *template) present(n *yaml.Node) bool {
	_, c := child(n, "Condition")
	if c == nil {
		return true
	}
	v, ok := t.condition(c.Value)
	return !ok || v
}

func (t *template) declare(est *estate.Estate, key, n *yaml.Node, globalFn *yaml.Node) {
	id := key.Value
	_, tn := child(n, "Type")
	if tn == nil {
		// CloudFormation refuses such a template; what it was meant to
		// declare cannot be told.
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: t.file, Line: key.Line, Address: id},
			Reason: "the resource " + id + " has no Type"})
		return
	}
	if !t.present(n) {
		return
	}
	_, pn := child(n, "Properties")
	p := &props{t: t, node: pn}
	loc := estate.Loc{File: t.file, Line: key.Line, Address: id}
	switch tn.Value {
	case "AWS::Lambda::Function":
		est.Functions = append(est.Functions, t.function(p, loc, id))
	case "AWS::Serverless::Function":
		p.extra = globalFn
		t.serverless(est, p, loc, id)
	case "AWS::Lambda::Permission":
		before := len(p.why)
		fn := p.target("FunctionName")
		fnWhy := ""
		if k, _ := p.lookup("FunctionName"); k != nil && fn == "" && len(p.why) > before {
			// Judged on its own when the rest of the grant reads
			// (estate.Permission.FunctionUnknown).
			fnWhy = strings.Join(p.why[before:], "; ")
			p.why = p.why[:before]
		}
		perm := estate.Permission{Loc: loc, Function: fn, FunctionUnknown: fnWhy, StatementID: id, Action: p.get("Action"), Principal: p.get("Principal"),
			SourceArn: p.arnPrefix("SourceArn"), SourceAccount: p.get("SourceAccount"), PrincipalOrgID: p.get("PrincipalOrgID"),
			EventSourceToken: p.get("EventSourceToken"), FunctionURLAuthType: p.get("FunctionUrlAuthType")}
		if p.get("InvokedViaFunctionUrl") == "true" {
			perm.InvokedViaFunctionURL = true
		}
		p.required(perm.Principal, "Principal")
		p.required(perm.Action, "Action")
		perm.Unknown = p.reason()
		est.Permissions = append(est.Permissions, perm)
	case "AWS::Lambda::Url":
		u := estate.URL{Loc: loc, Function: p.target("TargetFunctionArn"), Qualifier: p.get("Qualifier"), AuthType: strings.ToUpper(p.get("AuthType"))}
		_, cors := p.lookup("Cors")
		u.CORS = p.cors(cors)
		p.authType(u.AuthType)
		u.Unknown = p.reason()
		est.URLs = append(est.URLs, u)
	case "AWS::Lambda::Alias":
		a := estate.Alias{Loc: loc, Function: p.target("FunctionName"), Name: p.get("Name")}
		a.Unknown = p.reason()
		est.Aliases = append(est.Aliases, a)
	case "AWS::Lambda::Version":
		v := estate.Version{Loc: loc, Function: p.target("FunctionName"), Version: estate.Published}
		v.Unknown = p.reason()
		est.Versions = append(est.Versions, v)
	case "AWS::Lambda::LayerVersion", "AWS::Serverless::LayerVersion":
		name := p.get("LayerName")
		if name == "" && len(p.why) == 0 {
			name = t.generatedName(id)
		}
		l := estate.Layer{Loc: loc, Name: name, Version: estate.Published}
		l.Unknown = p.reason()
		est.Layers = append(est.Layers, l)
	case "AWS::Lambda::LayerVersionPermission":
		before := len(p.why)
		layer := p.target("LayerVersionArn")
		layerWhy := ""
		if k, _ := p.lookup("LayerVersionArn"); k != nil && layer == "" && len(p.why) > before {
			layerWhy = strings.Join(p.why[before:], "; ")
			p.why = p.why[:before]
		}
		lp := estate.LayerPermission{Loc: loc, Layer: layer, LayerUnknown: layerWhy, StatementID: id,
			Action: p.get("Action"), Principal: p.get("Principal"), OrganizationID: p.get("OrganizationId")}
		p.required(lp.Principal, "Principal")
		lp.Unknown = p.reason()
		est.LayerPermissions = append(est.LayerPermissions, lp)
	case "AWS::Lambda::ResourcePolicy":
		target := ""
		for _, name := range []string{"ResourceArn", "FunctionName", "FunctionArn"} {
			if k, _ := p.lookup(name); k != nil {
				target = p.target(name)
				break
			}
		}
		rp := estate.ResourcePolicy{Loc: loc, Target: target, Document: p.policyDocument("PolicyDocument", "Policy")}
		p.required(rp.Document, "PolicyDocument")
		rp.Unknown = p.reason()
		est.ResourcePolicies = append(est.ResourcePolicies, rp)
	}
	t.inlinePolicy(est, tn.Value, pn, loc, id)
}

// inlinePolicy reads the Policy (Json) property the CloudFormation
// reference lists on AWS::Lambda::Function, Alias and Version without
// describing it. The stricter reading: it is a resource policy on that
// resource, judged as written (a public statement in it is public).
func (t *template) inlinePolicy(est *estate.Estate, typ string, pn *yaml.Node, loc estate.Loc, id string) {
	switch typ {
	case "AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version":
	default:
		return
	}
	p := &props{t: t, node: pn}
	k, _ := p.lookup("Policy")
	if k == nil {
		return
	}
	target := ""
	switch typ {
	case "AWS::Lambda::Function":
		target = t.nameOf(id, "FunctionName")
	case "AWS::Lambda::Alias":
		fn, name := t.aliasParts(id)
		target = fn + ":" + name
	case "AWS::Lambda::Version":
		target = t.functionOf(id) + ":" + estate.Published
	}
	rp := estate.ResourcePolicy{Loc: estate.Loc{File: loc.File, Line: k.Line, Address: id + ".Policy"}, Target: target, Document: p.policyDocument("Policy")}
	rp.Unknown = p.reason()
	est.ResourcePolicies = append(est.ResourcePolicies, rp)
}

// policyDocument reads the first of names that is set as a policy
// document (a JSON string, or an object rendered as JSON).
func (p *props) policyDocument(names ...string) string {
	for _, name := range names {
		k, v := p.lookup(name)
		if k == nil {
			continue
		}
		val := p.t.eval(v)
		if w, bad := firstUnknown(val); bad {
			p.why = append(p.why, fmt.Sprintf("%s (line %d) cannot be resolved statically: %s", name, k.Line, w))
			return ""
		}
		doc, err := jsonString(val)
		if err != nil {
			p.why = append(p.why, fmt.Sprintf("%s (line %d): %s", name, k.Line, err))
		}
		return doc
	}
	return ""
}

// target reads a property naming a function or layer; "" when it cannot
// be resolved (the declaration then stands on its own, unknown).
func (p *props) target(name string) string {
	before := len(p.why)
	v := p.get(name)
	if len(p.why) > before {
		return ""
	}
	if v == "" {
		p.why = append(p.why, name+" is not set")
	}
	return v
}

func (p *props) required(v, name string) {
	if v == "" && len(p.why) == 0 {
		p.why = append(p.why, name+" is not set")
	}
}

func (p *props) authType(a string) {
	if a != "NONE" && a != "AWS_IAM" && len(p.why) == 0 {
		p.why = append(p.why, fmt.Sprintf("AuthType %q is neither NONE nor AWS_IAM", a))
	}
}

func (p *props) cors(n *yaml.Node) *inventory.CORS {
	if n == nil {
		return nil
	}
	c := &inventory.CORS{}
	c.AllowOrigins, _ = p.list(n, "AllowOrigins")
	c.AllowMethods, _ = p.list(n, "AllowMethods")
	if k, v := child(n, "AllowCredentials"); k != nil {
		c.AllowCredentials = p.stringOf("AllowCredentials", k, v) == "true"
	}
	return c
}

func (t *template) function(p *props, loc estate.Loc, id string) estate.Function {
	// The template's account (a CDK stack may deploy to another account
	// than --account).
	fn := estate.Function{Loc: loc, Name: p.get("FunctionName"), ConfigKnown: true, Account: t.opt.Owner}
	if fn.Name == "" && len(p.why) > 0 {
		// The name is given at deployment; the template refers to the
		// function by its logical id, which is what Ref and GetAtt on
		// it resolve to (nameOf).
		fn.NameUnresolved = p.reason()
		p.why = nil
	}
	if fn.Name == "" {
		// CloudFormation names it from the stack and logical id.
		fn.Name = t.generatedName(id)
	}
	// The runtime and the execution role are reported, not judged: who
	// can reach the function does not depend on them, so a role given as
	// a parameter or imported (Fn::ImportValue) leaves it judged.
	before := len(p.why)
	fn.Runtime, fn.Role = p.get("Runtime"), p.get("Role")
	p.why = p.why[:before]
	if k, vpc := p.lookup("VpcConfig"); k != nil {
		before := len(p.why)
		subnets, _ := p.list(vpc, "SubnetIds")
		sgs, _ := p.list(vpc, "SecurityGroupIds")
		fn.VPC = &inventory.VPCConfig{SubnetIDs: subnets, SecurityGroupIDs: sgs}
		if len(p.why) > before {
			// The VPC attachment is not known: the VPC rule is skipped,
			// but the function's policy can still be judged.
			fn.ConfigKnown = false
			p.why = p.why[:before]
		}
	}
	fn.Unknown = p.reason()
	return fn
}
