package cloudformation

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// knownTransforms are the transforms whose effect the reader applies
// itself: SAM's, and AWS::LanguageExtensions (Fn::ForEach, expanded
// below; its other functions are intrinsics of eval).
var knownTransforms = map[string]bool{
	"AWS::Serverless-2016-10-31": true,
	"AWS::LanguageExtensions":    true,
	"AWS::CodeDeployBlueGreen":   true,
}

// transforms lists, as broken entries, the macros of the template's
// Transform section the reader does not apply: a macro rewrites the
// template at deployment, so what it adds or changes cannot be judged.
// The declarations as written are still judged.
func (t *template) transforms(est *estate.Estate, root *yaml.Node) {
	k, v := child(root, "Transform")
	if k == nil {
		return
	}
	var items []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	} else {
		items = []*yaml.Node{v}
	}
	for _, it := range items {
		name := it.Value
		if it.Kind == yaml.MappingNode {
			_, n := child(it, "Name")
			if n == nil {
				name = ""
			} else {
				name = n.Value
			}
		}
		if knownTransforms[name] {
			continue
		}
		est.Broken = append(est.Broken, estate.Broken{Loc: estate.Loc{File: t.file, Line: it.Line, Address: "Transform"},
			Reason: fmt.Sprintf("the transform %q rewrites the template at deployment; the Lambda resources it adds or changes cannot be judged", name)})
	}
}

// maxUnrolled caps the resources Fn::ForEach loops make (CloudFormation
// allows 500 per template).
const maxUnrolled = 2000

// expand returns the Resources entries with Fn::ForEach loops
// (AWS::LanguageExtensions) unrolled and Fn::Transform fragments
// (AWS::Include) recorded as broken: neither is ever left out silently.
func (t *template) expand(est *estate.Estate, ks, vs []*yaml.Node, depth int) ([]*yaml.Node, []*yaml.Node) {
	var outK, outV []*yaml.Node
	for i, k := range ks {
		loc := estate.Loc{File: t.file, Line: k.Line, Address: k.Value}
		switch {
		case strings.HasPrefix(k.Value, "Fn::ForEach::"):
			fk, fv, why := t.forEach(vs[i])
			if why == "" && depth >= maxDepth {
				why = "Fn::ForEach loops nest too deeply"
			}
			if why != "" {
				est.Broken = append(est.Broken, estate.Broken{Loc: loc, Reason: k.Value + ": " + why + "; the resources it declares cannot be judged"})
				continue
			}
			fk, fv = t.expand(est, fk, fv, depth+1)
			if len(outK)+len(fk) > maxUnrolled {
				est.Broken = append(est.Broken, estate.Broken{Loc: loc, Reason: fmt.Sprintf("%s: the loops make more than %d resources; the resources it declares cannot be judged", k.Value, maxUnrolled)})
				continue
			}
			outK, outV = append(outK, fk...), append(outV, fv...)
		case k.Value == "Fn::Transform":
			est.Broken = append(est.Broken, estate.Broken{Loc: loc, Reason: "Fn::Transform (AWS::Include or a macro) inserts resources at deployment; they cannot be judged"})
		default:
			outK, outV = append(outK, k), append(outV, vs[i])
		}
	}
	return outK, outV
}

// forEach unrolls one Fn::ForEach: [Identifier, Collection, {OutputKey: Fragment}].
func (t *template) forEach(n *yaml.Node) (ks, vs []*yaml.Node, why string) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) != 3 || resolve(n.Content[0]).Kind != yaml.ScalarNode {
		return nil, nil, "Fn::ForEach takes [Identifier, Collection, {OutputKey: Fragment}]"
	}
	id := resolve(n.Content[0]).Value
	coll := t.eval(n.Content[1])
	if w, bad := firstUnknown(coll); bad {
		return nil, nil, "the collection cannot be resolved statically: " + w
	}
	items, ok := coll.([]any)
	if !ok {
		return nil, nil, "the collection is not a list"
	}
	tks, tvs := mapping(n.Content[2])
	if len(tks) == 0 {
		return nil, nil, "Fn::ForEach has no output fragment"
	}
	if len(items)*len(tks) > maxUnrolled {
		return nil, nil, fmt.Sprintf("the loop makes more than %d resources", maxUnrolled)
	}
	for _, it := range items {
		val, ok := str(it)
		if !ok {
			return nil, nil, "a collection value is not a string"
		}
		for j, tk := range tks {
			key := *tk
			key.Value = substitute(tk.Value, id, val)
			ks = append(ks, &key)
			vs = append(vs, replaceIdentifier(tvs[j], id, val))
		}
	}
	return ks, vs, ""
}

// substitute replaces ${id} with val and &{id} with val's letters and
// digits, as Fn::ForEach does in keys and Fn::Sub strings.
func substitute(s, id, val string) string {
	alnum := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, val)
	return strings.ReplaceAll(strings.ReplaceAll(s, "${"+id+"}", val), "&{"+id+"}", alnum)
}

// replaceIdentifier copies a fragment with the loop identifier replaced:
// Ref to it becomes the value, ${id} in strings the value.
func replaceIdentifier(n *yaml.Node, id, val string) *yaml.Node {
	n = resolve(n)
	if n == nil {
		return nil
	}
	c := *n
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!Ref" && n.Value == id {
			c.Tag, c.Value = "!!str", val
			return &c
		}
		c.Value = substitute(n.Value, id, val)
	case yaml.MappingNode:
		if len(n.Content) == 2 && n.Content[0].Value == "Ref" && resolve(n.Content[1]).Kind == yaml.ScalarNode && resolve(n.Content[1]).Value == id {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: val, Line: n.Line, Column: n.Column}
		}
		fallthrough
	case yaml.SequenceNode:
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, e := range n.Content {
			c.Content[i] = replaceIdentifier(e, id, val)
		}
	}
	return &c
}
