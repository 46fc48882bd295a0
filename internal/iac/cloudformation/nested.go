package cloudformation

import (
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// maxNesting bounds how deep nested stacks are followed.
const maxNesting = 8

// Children lists the local templates a template's nested stacks
// (AWS::CloudFormation::Stack, AWS::Serverless::Application) name, as
// paths in the file system the template was read from (opt.Path). The
// loader reads those through their parent, with the parameters it
// passes, and not on their own.
func Children(data []byte, opt Options) []string {
	t, _, ok := parse(data, opt.Path, opt, &estate.Estate{})
	if !ok {
		return nil
	}
	var out []string
	for _, id := range t.order {
		if p, _, _ := t.childPath(t.resources[id]); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Unnamed lists the logical ids of the template's functions and layers
// that set no name: CloudFormation names them after the stack, so two
// templates with the same such id deploy two resources (the loader then
// gives each template a StackName).
func Unnamed(data []byte, opt Options) []string {
	t, _, ok := parse(data, opt.Path, opt, &estate.Estate{})
	if !ok {
		return nil
	}
	var out []string
	for _, id := range t.order {
		_, tn := child(t.resources[id], "Type")
		if tn == nil {
			continue
		}
		prop := ""
		switch tn.Value {
		case "AWS::Lambda::Function", "AWS::Serverless::Function":
			prop = "FunctionName"
		case "AWS::Lambda::LayerVersion", "AWS::Serverless::LayerVersion":
			prop = "LayerName"
		default:
			continue
		}
		_, pn := child(t.resources[id], "Properties")
		if k, _ := child(pn, prop); k == nil {
			out = append(out, id)
		}
	}
	return out
}

// childPath finds where a nested stack's template is: the path in the
// file system, or why it cannot be read from the code (a URL, an
// application of the Serverless Application Repository, a value known
// only at deployment). typ is "" for resources that are not nested
// stacks.
func (t *template) childPath(n *yaml.Node) (p, why, typ string) {
	_, tn := child(n, "Type")
	if tn == nil {
		return "", "", ""
	}
	typ = tn.Value
	var prop string
	switch typ {
	case "AWS::CloudFormation::Stack":
		prop = "TemplateURL"
	case "AWS::Serverless::Application":
		prop = "Location"
	default:
		return "", "", ""
	}
	if !t.present(n) {
		return "", "", ""
	}
	_, meta := child(n, "Metadata")
	if _, a := child(meta, "aws:asset:path"); a != nil && a.Kind == yaml.ScalarNode && a.Value != "" {
		// CDK: the synthesized template sits next to this one in
		// cdk.out; TemplateURL is the S3 copy it uploads.
		return t.localPath(a.Value)
	}
	_, pn := child(n, "Properties")
	k, v := child(pn, prop)
	if k == nil {
		return "", prop + " is not set", typ
	}
	val := t.eval(v)
	if w, bad := firstUnknown(val); bad {
		return "", fmt.Sprintf("%s (line %d) cannot be resolved statically: %s", prop, k.Line, w), typ
	}
	s, ok := str(val)
	if !ok {
		if typ == "AWS::Serverless::Application" {
			return "", "Location names an application of the Serverless Application Repository; its template is not in the code", typ
		}
		return "", prop + " is not a string", typ
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "s3://") {
		return "", fmt.Sprintf("%s %s is not a file of the tree; its template is not read", prop, s), typ
	}
	return t.localPath(s)
}

func (t *template) localPath(rel string) (string, string, string) {
	rel = strings.TrimPrefix(rel, "file://")
	if path.IsAbs(rel) || t.opt.Path == "" {
		return "", "the nested template " + rel + " is not a path inside the folder read", "local"
	}
	p := path.Join(path.Dir(t.opt.Path), rel)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", "the nested template " + rel + " is outside the folder read", "local"
	}
	return p, "", "local"
}

// nested follows one nested stack: its template is read with the
// Parameters the stack passes; one that cannot be followed is listed as
// unknown at the stack's line, never left out.
func (t *template) nested(est *estate.Estate, key, n *yaml.Node) {
	p, why, typ := t.childPath(n)
	if typ == "" || p == "" && why == "" {
		return
	}
	loc := estate.Loc{File: t.file, Line: key.Line, Address: key.Value}
	fail := func(w string) {
		est.Broken = append(est.Broken, estate.Broken{Loc: loc, Reason: "nested stack " + key.Value + ": " + w +
			"; the Lambda resources it declares cannot be judged"})
	}
	if why != "" {
		fail(why)
		return
	}
	if t.opt.Open == nil {
		fail("nested templates are not followed here")
		return
	}
	for _, s := range t.opt.stack {
		if s == p {
			fail("the nested template " + p + " includes itself")
			return
		}
	}
	if len(t.opt.stack) >= maxNesting {
		fail(fmt.Sprintf("nested stacks deeper than %d are not followed", maxNesting))
		return
	}
	data, name, err := t.opt.Open(p)
	if err != nil {
		fail(err.Error())
		return
	}
	_, pn := child(n, "Properties")
	params := map[string]any{}
	ks, vs := mapping(child2(pn, "Parameters"))
	for i, k := range ks {
		params[k.Value] = t.eval(vs[i])
	}
	opt := t.opt
	opt.Path, opt.params, opt.Overrides = p, params, nil
	// CloudFormation names a nested stack PARENT-LogicalId-SUFFIX.
	opt.StackName = key.Value
	if t.opt.StackName != "" {
		opt.StackName = t.opt.StackName + "-" + key.Value
	}
	opt.stack = append(append([]string(nil), t.opt.stack...), t.opt.Path)
	child := Read(data, name, opt)
	within(child, key.Value)
	est.Add(child)
}

// within prefixes the addresses of a nested stack's declarations with the
// stack's logical id (OpenChild/Grant), so two stacks of one template
// tell apart.
func within(e *estate.Estate, stack string) {
	fix := func(l *estate.Loc) { l.Address = stack + "/" + l.Address }
	for i := range e.Functions {
		fix(&e.Functions[i].Loc)
	}
	for i := range e.Aliases {
		fix(&e.Aliases[i].Loc)
	}
	for i := range e.Versions {
		fix(&e.Versions[i].Loc)
	}
	for i := range e.URLs {
		fix(&e.URLs[i].Loc)
	}
	for i := range e.Permissions {
		fix(&e.Permissions[i].Loc)
	}
	for i := range e.ResourcePolicies {
		fix(&e.ResourcePolicies[i].Loc)
	}
	for i := range e.Layers {
		fix(&e.Layers[i].Loc)
	}
	for i := range e.LayerPermissions {
		fix(&e.LayerPermissions[i].Loc)
	}
	for i := range e.Broken {
		if e.Broken[i].Address != "" {
			fix(&e.Broken[i].Loc)
		}
	}
}

func child2(n *yaml.Node, k string) *yaml.Node {
	_, v := child(n, k)
	return v
}
