package cloudformation

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// template is one parsed template being resolved.
type template struct {
	file       string
	opt        Options
	params     map[string]*yaml.Node // Parameters section entries
	mappings   *yaml.Node
	conditions map[string]*yaml.Node
	resources  map[string]*yaml.Node // logical id -> resource node
	order      []string              // logical ids as written
	// ids and nodes are the Resources entries, Fn::ForEach unrolled.
	ids, nodes []*yaml.Node
	condBusy   map[string]bool
	// generated are resources SAM would add, by logical id -> type, so
	// Ref/GetAtt on them resolve (MyFunctionAliaslive, ServerlessRestApi).
	generated map[string]string
	// generatedAlias holds each generated alias's function and name.
	generatedAlias map[string]string
	depth          int
	// placeholder is set when a value used a stand-in for what only the
	// deployment fixes (AWS::Region, AWS::StackName, AWS::URLSuffix).
	placeholder bool
}

// maxDepth bounds evaluation: nesting and chains of references.
const maxDepth = 64

// eval resolves a node: intrinsics are applied, pseudo parameters and
// parameters with defaults substituted; what only a deployment knows
// becomes unknown{why: why}.
func (t *template) eval(n *yaml.Node) any {
	n = resolve(n)
	if n == nil {
		return nil
	}
	// Refs can go in circles (a name that refers to itself) and YAML can
	// nest without end: both stop here, unresolved.
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > maxDepth {
		return unknown{why: fmt.Sprintf("line %d: the value nests too deeply or refers to itself", n.Line)}
	}
	if long, ok := shortTags[n.Tag]; ok {
		if n.Kind == yaml.ScalarNode && long == "Fn::GetAtt" {
			return t.getAtt(n, strings.SplitN(n.Value, ".", 2))
		}
		// The argument is the node itself without its tag.
		arg := *n
		arg.Tag = ""
		return t.intrinsic(long, n, nil, &arg)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v := t.eval(c)
			if _, skip := v.(noValue); skip {
				continue
			}
			out = append(out, v)
		}
		return out
	case yaml.MappingNode:
		ks, vs := mapping(n)
		if len(ks) == 1 && (ks[0].Value == "Ref" || strings.HasPrefix(ks[0].Value, "Fn::") || ks[0].Value == "Condition" && vs[0].Kind == yaml.ScalarNode && isCondRef(t, vs[0])) {
			if ks[0].Value == "Fn::GetAtt" && vs[0].Kind == yaml.ScalarNode {
				return t.getAtt(n, strings.SplitN(vs[0].Value, ".", 2))
			}
			return t.intrinsic(ks[0].Value, n, nil, vs[0])
		}
		out := newMap()
		for i, k := range ks {
			v := t.eval(vs[i])
			if _, skip := v.(noValue); skip {
				continue
			}
			out.set(k.Value, v)
		}
		return out
	}
	return unknown{why: "unsupported YAML node"}
}

func isCondRef(t *template, n *yaml.Node) bool { _, ok := t.conditions[n.Value]; return ok }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// intrinsic applies one function. node is the whole expression (for
// messages), arg the argument node.
func (t *template) intrinsic(name string, node *yaml.Node, _ any, arg *yaml.Node) any {
	where := fmt.Sprintf("%s (line %d)", describe(node), node.Line)
	fail := func(why string) any { return unknown{why: where + ": " + why} }
	arg = resolve(arg)
	switch name {
	case "Ref":
		if arg.Kind != yaml.ScalarNode {
			return fail("Ref takes a name")
		}
		return t.ref(arg.Value, where)
	case "Fn::GetAtt":
		switch arg.Kind {
		case yaml.SequenceNode:
			if len(arg.Content) != 2 {
				return fail("Fn::GetAtt takes [LogicalId, Attribute]")
			}
			attr, _ := str(t.eval(arg.Content[1]))
			return t.getAtt(node, []string{resolve(arg.Content[0]).Value, attr})
		case yaml.ScalarNode:
			return t.getAtt(node, strings.SplitN(arg.Value, ".", 2))
		}
		return fail("Fn::GetAtt takes [LogicalId, Attribute]")
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch arg.Kind {
		case yaml.ScalarNode:
			tmpl = arg.Value
		case yaml.SequenceNode:
			if len(arg.Content) != 2 {
				return fail("Fn::Sub takes a string or [string, {variables}]")
			}
			s, ok := str(t.eval(arg.Content[0]))
			if !ok {
				return fail("the Fn::Sub template is not a string")
			}
			tmpl = s
			ks, vs := mapping(arg.Content[1])
			for i, k := range ks {
				vars[k.Value] = t.eval(vs[i])
			}
		default:
			return fail("Fn::Sub takes a string or [string, {variables}]")
		}
		return t.sub(tmpl, vars, where)
	case "Fn::Join":
		v := t.eval(arg)
		list, ok := v.([]any)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w, prefix: joinPrefix(list)}
		}
		if !ok || len(list) != 2 {
			return fail("Fn::Join takes [delimiter, [values]]")
		}
		delim, _ := str(list[0])
		items, ok := list[1].([]any)
		if !ok {
			return fail("Fn::Join takes [delimiter, [values]]")
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := str(it)
			if !ok {
				return fail("a Fn::Join value is not a string")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim)
	case "Fn::If":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return fail("Fn::If takes [condition, then, else]")
		}
		c, ok := t.condition(resolve(arg.Content[0]).Value)
		if !ok {
			// Both branches alike: the condition does not matter.
			a, b := t.eval(arg.Content[1]), t.eval(arg.Content[2])
			_, ua := firstUnknown(a)
			_, ub := firstUnknown(b)
			if !ua && !ub {
				ja, ea := toJSON(a)
				jb, eb := toJSON(b)
				if ea == nil && eb == nil && string(ja) == string(jb) {
					return a
				}
			}
			return fail("the condition " + resolve(arg.Content[0]).Value + " depends on values known only at deployment")
		}
		if c {
			return t.eval(arg.Content[1])
		}
		return t.eval(arg.Content[2])
	case "Fn::Select":
		v := t.eval(arg)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w}
		}
		list, ok := v.([]any)
		if !ok || len(list) != 2 {
			return fail("Fn::Select takes [index, [values]]")
		}
		is, _ := str(list[0])
		i, err := strconv.Atoi(is)
		items, ok := list[1].([]any)
		if err != nil || !ok || i < 0 || i >= len(items) {
			return fail("Fn::Select index out of range")
		}
		return items[i]
	case "Fn::Split":
		v := t.eval(arg)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w}
		}
		list, ok := v.([]any)
		if !ok || len(list) != 2 {
			return fail("Fn::Split takes [delimiter, string]")
		}
		d, _ := str(list[0])
		s, _ := str(list[1])
		var out []any
		for _, p := range strings.Split(s, d) {
			out = append(out, p)
		}
		return out
	case "Fn::FindInMap":
		v := t.eval(arg)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w}
		}
		list, ok := v.([]any)
		if !ok || len(list) < 3 {
			return fail("Fn::FindInMap takes [map, key, key]")
		}
		cur := t.mappings
		for _, k := range list[:3] {
			ks, _ := str(k)
			_, cur = child(cur, ks)
			if cur == nil {
				// AWS::LanguageExtensions: [map, key, key, {DefaultValue: v}].
				if len(list) == 4 {
					if m, ok := list[3].(*omap); ok {
						if d, ok := m.get("DefaultValue"); ok {
							return d
						}
					}
				}
				return fail("no such entry in Mappings")
			}
		}
		return t.eval(cur)
	case "Fn::Length":
		v := t.eval(arg)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w}
		}
		list, ok := v.([]any)
		if !ok {
			return fail("Fn::Length takes a list")
		}
		return json.Number(strconv.Itoa(len(list)))
	case "Fn::ToJsonString":
		v := t.eval(arg)
		if w, bad := firstUnknown(v); bad {
			return unknown{why: w}
		}
		b, err := toJSON(v)
		if err != nil {
			return fail(err.Error())
		}
		return string(b)
	case "Fn::Base64":
		return t.eval(arg)
	case "Condition":
		c, ok := t.condition(arg.Value)
		if !ok {
			return fail("the condition depends on values known only at deployment")
		}
		return c
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		c, ok := t.condExpr(node)
		if !ok {
			return fail("the condition depends on values known only at deployment")
		}
		return c
	case "Fn::ImportValue":
		return fail("an export of another stack is known only at deployment")
	}
	return fail(name + " is resolved only at deployment")
}

var pseudo = map[string]bool{"AWS::AccountId": true, "AWS::Region": true, "AWS::Partition": true, "AWS::URLSuffix": true, "AWS::StackName": true, "AWS::StackId": true, "AWS::NoValue": true, "AWS::NotificationARNs": true}

// ref resolves Ref: a pseudo parameter, a parameter's default, or a
// resource of the template (its name or ARN, as Ref returns for that
// type).
func (t *template) ref(name, where string) any {
	switch name {
	case "AWS::AccountId":
		if t.opt.Owner == estate.OwnerPlaceholder {
			// Without --account, which account it is is not known.
			t.placeholder = true
		}
		return t.opt.Owner
	case "AWS::Region":
		t.placeholder = true
		return estate.RegionPlaceholder
	case "AWS::Partition":
		return t.opt.Partition
	case "AWS::URLSuffix":
		t.placeholder = true
		return "amazonaws.com"
	case "AWS::StackName":
		t.placeholder = true
		return "STACK"
	case "AWS::NoValue":
		return noValue{}
	case "AWS::StackId", "AWS::NotificationARNs":
		return unknown{why: where + ": " + name + " is known only at deployment"}
	}
	if p, ok := t.params[name]; ok {
		_, typ := child(p, "Type")
		v, given := t.opt.params[name]
		o, overridden := t.opt.Overrides[name]
		if all, ok := t.opt.Overrides["*"]; ok && !given {
			o, overridden = all, true
		}
		switch {
		case given:
			// The value the parent stack passes in its Parameters.
		case overridden && o.Unknown != "":
			return unknown{why: where + ": " + o.Unknown}
		case overridden:
			// sam deploy passes it over the Default.
			v = o.Value
		case typ != nil && strings.HasPrefix(typ.Value, "AWS::SSM::Parameter::"):
			// The Default names a Parameter Store entry; its value is read
			// at deployment.
			return unknown{why: where + ": the Parameter " + name + " is read from SSM Parameter Store at deployment"}
		default:
			_, d := child(p, "Default")
			if d == nil {
				return unknown{why: where + ": the Parameter " + name + " has no Default (its value is given at deployment)"}
			}
			v = t.eval(d)
		}
		if typ != nil && (typ.Value == "CommaDelimitedList" || strings.HasPrefix(typ.Value, "List<")) {
			// Ref on a list parameter is the list of its comma-separated
			// values.
			if s, ok := str(v); ok {
				var out []any
				for _, e := range strings.Split(s, ",") {
					out = append(out, strings.TrimSpace(e))
				}
				return out
			}
		}
		return v
	}
	if typ, ok := t.resourceType(name); ok {
		return t.refResource(name, typ)
	}
	if v, ok := t.samRef(name); ok {
		return v
	}
	return unknown{why: where + ": " + name + " is neither a parameter nor a resource of the template"}
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub applies Fn::Sub: ${Param}, ${Resource}, ${Resource.Attr},
// ${AWS::...}, and ${!Literal} for a literal ${Literal}.
func (t *template) sub(tmpl string, vars map[string]any, where string) any {
	var bad, prefix string
	var done strings.Builder
	last := 0
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		// The text known so far: what precedes the first unresolved
		// variable is the value's known prefix.
		if bad == "" {
			i := strings.Index(tmpl[last:], m) + last
			done.WriteString(tmpl[last:i])
			last = i + len(m)
		}
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			if bad == "" {
				done.WriteString("${" + name[1:] + "}")
			}
			return "${" + name[1:] + "}"
		}
		var v any
		if x, ok := vars[name]; ok {
			v = x
		} else if sv, isSAM := t.samRef(name); isSAM {
			v = sv
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !pseudo[name] {
			v = t.getAtt(&yaml.Node{Kind: yaml.ScalarNode, Value: "${" + name + "}", Line: 0}, []string{id, attr})
		} else {
			v = t.ref(name, where)
		}
		if w, isUnknown := firstUnknown(v); isUnknown {
			if bad == "" {
				bad = w
				prefix = done.String()
				if u, ok := v.(unknown); ok {
					prefix += u.prefix
				}
			}
			return ""
		}
		s, ok := str(v)
		if !ok {
			if bad == "" {
				bad = where + ": ${" + name + "} is not a string"
				prefix = done.String()
			}
			return ""
		}
		if bad == "" {
			done.WriteString(s)
		}
		return s
	})
	if bad != "" {
		return unknown{why: bad, prefix: prefix}
	}
	return out
}

// joinPrefix is the known start of a Fn::Join whose values are not all
// resolved: the values before the first unresolved one, joined, and that
// one's own known prefix.
func joinPrefix(list []any) string {
	if len(list) != 2 {
		return ""
	}
	delim, ok := str(list[0])
	items, ok2 := list[1].([]any)
	if !ok || !ok2 {
		return ""
	}
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(delim)
		}
		if u, bad := it.(unknown); bad {
			b.WriteString(u.prefix)
			return b.String()
		}
		if _, bad := firstUnknown(it); bad {
			return b.String()
		}
		s, ok := str(it)
		if !ok {
			return b.String()
		}
		b.WriteString(s)
	}
	return b.String()
}

// condition evaluates a named condition; ok is false when it depends on
// what only a deployment knows.
func (t *template) condition(name string) (bool, bool) {
	n, ok := t.conditions[name]
	if !ok || t.condBusy[name] {
		return false, false
	}
	t.condBusy[name] = true
	defer delete(t.condBusy, name)
	return t.condExpr(n)
}

func (t *template) condExpr(n *yaml.Node) (bool, bool) {
	n = resolve(n)
	name, arg := "", (*yaml.Node)(nil)
	if long, ok := shortTags[n.Tag]; ok {
		name, arg = long, n
		if n.Kind == yaml.ScalarNode {
			arg = n
		}
	} else if ks, vs := mapping(n); len(ks) == 1 {
		name, arg = ks[0].Value, vs[0]
	}
	args := func() []*yaml.Node {
		a := resolve(arg)
		if a.Kind == yaml.SequenceNode {
			return a.Content
		}
		return nil
	}
	switch name {
	case "Fn::Equals":
		as := args()
		if len(as) != 2 {
			return false, false
		}
		// A placeholder (the Region, the stack name) stands in well in an
		// ARN, but comparing it decides nothing: the condition depends on
		// where the stack is deployed.
		saved := t.placeholder
		t.placeholder = false
		a, b := t.eval(as[0]), t.eval(as[1])
		dep := t.placeholder
		t.placeholder = saved || dep
		if dep {
			return false, false
		}
		if _, u := firstUnknown(a); u {
			return false, false
		}
		if _, u := firstUnknown(b); u {
			return false, false
		}
		ja, _ := toJSON(a)
		jb, _ := toJSON(b)
		sa, _ := str(a)
		sb, _ := str(b)
		return string(ja) == string(jb) || (sa != "" && sa == sb), true
	case "Fn::Not":
		as := args()
		if len(as) != 1 {
			return false, false
		}
		v, ok := t.condExpr(as[0])
		return !v, ok
	case "Fn::And", "Fn::Or":
		as := args()
		if len(as) == 0 {
			return false, false
		}
		and := name == "Fn::And"
		result := and
		for _, a := range as {
			v, ok := t.condExpr(a)
			if !ok {
				return false, false
			}
			if and {
				result = result && v
			} else {
				result = result || v
			}
		}
		return result, true
	case "Condition":
		return t.condition(resolve(arg).Value)
	}
	return false, false
}

// jsonString renders a PolicyDocument: a JSON string as it is, an object
// as JSON.
func jsonString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	if _, ok := v.(*omap); !ok {
		return "", fmt.Errorf("the policy document is neither an object nor a JSON string")
	}
	b, err := toJSON(v)
	if err != nil {
		return "", err
	}
	if !json.Valid(b) {
		return "", fmt.Errorf("the policy document does not render as JSON")
	}
	return string(b), nil
}
