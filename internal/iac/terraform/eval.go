package terraform

import (
	"fmt"
	"math/big"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// scope is what count and each mean while one instance is evaluated.
type scope struct {
	count, each cty.Value
	// iters are the iterators of the dynamic blocks being expanded
	// (cors.value, or the name iterator = gives).
	iters map[string]cty.Value
}

// with is the scope plus one dynamic block iterator.
func (sc *scope) with(name string, v cty.Value) *scope {
	out := &scope{iters: map[string]cty.Value{name: v}}
	if sc != nil {
		out.count, out.each = sc.count, sc.each
		for k, x := range sc.iters {
			if k != name {
				out.iters[k] = x
			}
		}
	}
	return out
}

// eval resolves an expression. why is "" when the value is wholly known,
// else it says which reference could not be resolved.
func (m *module) eval(expr hclsyntax.Expression, sc *scope) (cty.Value, string) {
	ctx := m.context(expr, sc)
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		// An attribute AWS computes is missing from a resource's value
		// (an error, not an unknown): with such resources unknown, a
		// template keeps its known prefix (the account part of an ARN
		// built on an execution_arn, for example).
		if v2, d2 := expr.Value(m.withUnknownResources(expr, ctx)); !d2.HasErrors() && !v2.IsWhollyKnown() {
			v, diags = v2, d2
		}
	}
	if diags.HasErrors() {
		d := diags[0]
		why := d.Summary
		if d.Detail != "" {
			why += ": " + d.Detail
		}
		// A reference to something unresolved often surfaces as an
		// error (an attribute of an unknown object): name it instead.
		if w := m.explain(expr, ctx); w != "" {
			why = w
		}
		return cty.DynamicVal, why
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		if w := m.explain(expr, ctx); w != "" {
			return v, w
		}
		return v, "the value is only known after terraform apply"
	}
	return v, ""
}

// withUnknownResources is ctx with every resource whose reference fails
// in expr (a computed attribute the reader does not derive) unknown.
func (m *module) withUnknownResources(expr hclsyntax.Expression, ctx *hcl.EvalContext) *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for k, v := range ctx.Variables {
		vars[k] = v
	}
	for _, t := range expr.Variables() {
		root, name := t.RootName(), attrName(t, 1)
		if _, ok := m.resources[root+"."+name]; !ok {
			continue
		}
		if _, diags := t.TraverseAbs(ctx); !diags.HasErrors() {
			continue
		}
		obj := vars[root]
		if obj == cty.NilVal || !obj.Type().IsObjectType() {
			continue
		}
		attrs := obj.AsValueMap()
		attrs[name] = cty.DynamicVal
		vars[root] = cty.ObjectVal(attrs)
	}
	return &hcl.EvalContext{Variables: vars, Functions: ctx.Functions}
}

// explain names the first reference of expr whose value is not known.
func (m *module) explain(expr hclsyntax.Expression, ctx *hcl.EvalContext) string {
	for _, t := range expr.Variables() {
		v, diags := t.TraverseAbs(ctx)
		if !diags.HasErrors() && v.IsWhollyKnown() {
			continue
		}
		name := traversalText(t)
		switch t.RootName() {
		case "var":
			vn := attrName(t, 1)
			if w, ok := m.inputWhy[vn]; ok {
				return name + " comes from the module call, where " + w
			}
			if _, declared := m.vars[vn]; !declared {
				return name + " is not declared"
			}
			return name + " is a variable without a default (no value is passed in the code; scan the plan, terraform show -json, to judge the value used)"
		case "local":
			if w := m.localWhy[attrName(t, 1)]; w != "" {
				return name + ": " + w
			}
			return name + " cannot be resolved"
		case "data":
			if attrName(t, 1) == "aws_iam_policy_document" {
				if w := m.dataWhy[attrName(t, 1)+"."+attrName(t, 2)]; w != "" {
					return name + ": " + w
				}
			}
			if attrName(t, 1) == "aws_caller_identity" {
				return name + " is the identity of the account the data source's provider assumes a role into (not known from the code)"
			}
			return name + " is read from AWS at plan time"
		case "module":
			call := attrName(t, 1)
			if w := m.outputWhy[call+".*"]; w != "" {
				return name + " is an output of a module that is not read: " + w
			}
			if _, ok := m.calls[call]; !ok {
				return name + ": there is no module " + call + " in this module"
			}
			for _, step := range t[2:] {
				if a, ok := step.(hcl.TraverseAttr); ok {
					if w := m.outputWhy[call+"."+a.Name]; w != "" {
						return name + ": " + w
					}
				}
			}
			return name + " is not an output the module call makes known"
		case "count", "each":
			return name + ": count or for_each could not be resolved"
		case "self":
			return name + " is known only after apply"
		}
		r, ok := m.resources[t.RootName()+"."+attrName(t, 1)]
		if !ok {
			return name + " refers to a resource that is not in this module"
		}
		if _, derived := serviceARNs[r.typ]; derived && m.assumesRole(r) {
			return name + " is computed by AWS, in the account its provider assumes a role into (not known from the code)"
		}
		return name + " is computed by AWS, known only after apply"
	}
	return ""
}

// traversalText renders a reference as written: var.x, aws_iam_role.r.arn.
func traversalText(t hcl.Traversal) string {
	var b strings.Builder
	for i, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			b.WriteString("[" + keyText(s.Key) + "]")
		default:
			if i > 0 {
				b.WriteString("[*]")
			}
		}
	}
	return b.String()
}

func keyText(k cty.Value) string {
	if !k.IsKnown() || k.IsNull() {
		return "?"
	}
	switch k.Type() {
	case cty.String:
		return fmt.Sprintf("%q", k.AsString())
	case cty.Number:
		return k.AsBigFloat().Text('f', -1)
	}
	return "?"
}

func attrName(t hcl.Traversal, i int) string {
	if i >= len(t) {
		return ""
	}
	if a, ok := t[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// context builds the evaluation context an expression needs, resolving
// (and caching) every local, resource and data source it refers to.
func (m *module) context(expr hclsyntax.Expression, sc *scope) *hcl.EvalContext {
	vars := map[string]cty.Value{}
	locals := map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	res := map[string]map[string]cty.Value{}
	mods := map[string]cty.Value{}
	for _, t := range expr.Variables() {
		switch root := t.RootName(); root {
		case "var":
			vars["var"] = m.varObject()
		case "local":
			if n := attrName(t, 1); n != "" {
				locals[n] = m.local(n)
			}
		case "data":
			typ, name := attrName(t, 1), attrName(t, 2)
			if typ == "" || name == "" {
				continue
			}
			if data[typ] == nil {
				data[typ] = map[string]cty.Value{}
			}
			data[typ][name] = m.dataValue(typ, name)
		case "module":
			name := attrName(t, 1)
			if _, ok := m.calls[name]; ok {
				mods[name] = m.moduleValue(name)
			}
		case "count":
			if sc != nil && sc.count != cty.NilVal {
				vars["count"] = sc.count
			}
		case "each":
			if sc != nil && sc.each != cty.NilVal {
				vars["each"] = sc.each
			}
		case "path":
			rel := "."
			if r, ok := relPath(m.tree.rootDir, m.dir); ok {
				rel = r
			}
			vars["path"] = cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(rel), "root": cty.StringVal("."), "cwd": cty.StringVal(".")})
		case "terraform":
			vars["terraform"] = cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")})
		case "self":
			vars["self"] = cty.DynamicVal
		default:
			if sc != nil {
				if v, ok := sc.iters[root]; ok {
					vars[root] = v
					continue
				}
			}
			name := attrName(t, 1)
			r, ok := m.resources[root+"."+name]
			if !ok {
				continue
			}
			if res[root] == nil {
				res[root] = map[string]cty.Value{}
			}
			res[root][name] = m.resourceValue(r)
		}
	}
	if len(locals) > 0 {
		vars["local"] = cty.ObjectVal(locals)
	}
	if len(mods) > 0 {
		vars["module"] = cty.ObjectVal(mods)
	}
	if len(data) > 0 {
		obj := map[string]cty.Value{}
		for typ, byName := range data {
			obj[typ] = cty.ObjectVal(byName)
		}
		vars["data"] = cty.ObjectVal(obj)
	}
	for typ, byName := range res {
		vars[typ] = cty.ObjectVal(byName)
	}
	return &hcl.EvalContext{Variables: vars, Functions: m.functionTable()}
}

func (m *module) functionTable() map[string]function.Function {
	if m.fnTable == nil {
		m.fnTable = m.functions()
	}
	return m.fnTable
}

// relPath is target relative to base, both slash paths inside the tree.
func relPath(base, target string) (string, bool) {
	split := func(p string) []string {
		if p == "." || p == "" {
			return nil
		}
		return strings.Split(p, "/")
	}
	b, t := split(path.Clean(base)), split(path.Clean(target))
	i := 0
	for i < len(b) && i < len(t) && b[i] == t[i] {
		i++
	}
	var parts []string
	for range b[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return ".", true
	}
	return strings.Join(parts, "/"), true
}

// varObject is var: inputs from the module call, else defaults, else
// unknown.
func (m *module) varObject() cty.Value {
	if m.varVal != cty.NilVal {
		return m.varVal
	}
	vals := map[string]cty.Value{}
	tfvars := map[string]cty.Value{}
	if m.depth == 0 {
		tfvars = m.tree.tfvars(m.dir)
	}
	for name, b := range m.vars {
		if v, ok := m.inputs[name]; ok {
			vals[name] = typed(b, v)
			continue
		}
		if v, ok := tfvars[name]; ok {
			vals[name] = typed(b, v)
			continue
		}
		if a := b.Body.Attributes["default"]; a != nil {
			v, diags := a.Expr.Value(&hcl.EvalContext{Functions: m.functionTable()})
			if !diags.HasErrors() {
				v, _ = v.UnmarkDeep()
				vals[name] = typed(b, v)
				continue
			}
		}
		vals[name] = cty.DynamicVal
	}
	m.varVal = cty.ObjectVal(vals)
	return m.varVal
}

// typed converts a variable's value to its type constraint as Terraform
// does, filling the optional() attributes an object leaves out with
// their defaults (or null), so each.value.source_account reads as
// Terraform reads it. A value that does not convert is unknown (Terraform
// refuses it); a type the reader cannot parse leaves the value as it is.
func typed(b *hclsyntax.Block, v cty.Value) cty.Value {
	a := b.Body.Attributes["type"]
	if a == nil || v == cty.NilVal {
		return v
	}
	ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
	if diags.HasErrors() {
		return v
	}
	if defaults != nil && v.IsWhollyKnown() {
		v = defaults.Apply(v)
	}
	out, err := convert.Convert(v, ty)
	if err != nil {
		return cty.DynamicVal
	}
	return out
}

func (m *module) local(name string) cty.Value {
	if v, ok := m.localVals[name]; ok {
		return v
	}
	a, ok := m.locals[name]
	if !ok {
		return cty.DynamicVal
	}
	k := "local." + name
	if m.busy[k] {
		m.localWhy[name] = "it refers to itself"
		return cty.DynamicVal
	}
	m.busy[k] = true
	v, why := m.eval(a.Expr, nil)
	delete(m.busy, k)
	if why != "" {
		m.localWhy[name] = why
	}
	m.localVals[name] = v
	return v
}

// dataValue is what the reader knows of a data source: the caller
// identity's account is the owner, the Region and partition are the
// provider's, a policy document is rendered; the rest is unknown.
func (m *module) dataValue(typ, name string) cty.Value {
	unknownStr := cty.UnknownVal(cty.String)
	switch typ {
	case "aws_caller_identity":
		if r, ok := m.data[typ+"."+name]; ok && m.assumesRole(r) {
			// provider = aws.ALIAS assuming a role: the identity of
			// whatever account that role is in.
			return cty.DynamicVal
		}
		owner := cty.StringVal(m.tree.opt.Owner)
		return cty.ObjectVal(map[string]cty.Value{"account_id": owner, "id": owner, "arn": unknownStr, "user_id": unknownStr})
	case "aws_region":
		region := m.region
		if r, ok := m.data[typ+"."+name]; ok {
			if alias := m.providerAlias(r); alias != "" {
				region = m.providerRegion(alias)
			}
			for _, arg := range []string{"region", "name"} {
				// A lookup of a named Region returns that Region.
				if a := r.block.Body.Attributes[arg]; a != nil {
					v, why := m.eval(a.Expr, nil)
					s, ok := asString(v)
					if why != "" || !ok {
						return cty.DynamicVal
					}
					region = s
				}
			}
		}
		reg := cty.StringVal(regionOrPlaceholder(region))
		return cty.ObjectVal(map[string]cty.Value{"name": reg, "region": reg, "id": reg, "description": unknownStr, "endpoint": unknownStr})
	case "aws_partition":
		p := cty.StringVal(m.tree.opt.Partition)
		return cty.ObjectVal(map[string]cty.Value{"partition": p, "id": p, "dns_suffix": cty.StringVal("amazonaws.com"), "reverse_dns_prefix": cty.StringVal("com.amazonaws")})
	case "aws_iam_policy_document":
		if r, ok := m.data[typ+"."+name]; ok {
			return m.policyDocument(r)
		}
	}
	return cty.DynamicVal
}

func (m *module) resourceValue(r *resource) cty.Value {
	m.ensure(r)
	return r.value
}

// ensure evaluates a resource's instances once.
func (m *module) ensure(r *resource) {
	if r.done {
		return
	}
	k := r.typ + "." + r.name
	if m.busy[k] {
		r.value = cty.DynamicVal
		return
	}
	m.busy[k] = true
	defer delete(m.busy, k)
	r.region = m.regionOf(r)
	base := m.addr + k
	body := r.block.Body
	unknownScope := &scope{
		count: cty.ObjectVal(map[string]cty.Value{"index": cty.UnknownVal(cty.Number)}),
		each:  cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal}),
	}
	switch {
	case body.Attributes["count"] != nil:
		a := body.Attributes["count"]
		v, why := m.eval(a.Expr, nil)
		n, ok := countOf(v, why)
		if !ok {
			r.unresolved = m.attrWhy(a, orText(why, "count is not a whole number"))
			in := m.instance(r, base+"[*]", unknownScope, cty.NilVal)
			r.instances = []*instance{in}
			r.value = cty.DynamicVal
			break
		}
		vals := make([]cty.Value, 0, n)
		for i := 0; i < n; i++ {
			idx := cty.NumberIntVal(int64(i))
			in := m.instance(r, fmt.Sprintf("%s[%d]", base, i), &scope{count: cty.ObjectVal(map[string]cty.Value{"index": idx})}, idx)
			r.instances = append(r.instances, in)
			vals = append(vals, in.object)
		}
		r.value = cty.TupleVal(vals)
		if n == 0 {
			r.value = cty.EmptyTupleVal
		}
	case body.Attributes["for_each"] != nil:
		a := body.Attributes["for_each"]
		v, why := m.eval(a.Expr, nil)
		keys, values, ok := forEachOf(v, why)
		if !ok {
			r.unresolved = m.attrWhy(a, orText(why, "for_each is not a map or a set of strings"))
			r.instances = []*instance{m.instance(r, base+"[*]", unknownScope, cty.NilVal)}
			r.value = cty.DynamicVal
			break
		}
		obj := map[string]cty.Value{}
		for i, key := range keys {
			kv := cty.StringVal(key)
			in := m.instance(r, fmt.Sprintf("%s[%q]", base, key), &scope{each: cty.ObjectVal(map[string]cty.Value{"key": kv, "value": values[i]})}, kv)
			r.instances = append(r.instances, in)
			obj[key] = in.object
		}
		r.value = cty.ObjectVal(obj)
		if len(obj) == 0 {
			r.value = cty.EmptyObjectVal
		}
	default:
		in := m.instance(r, base, nil, cty.NilVal)
		r.instances = []*instance{in}
		r.value = in.object
	}
	r.done = true
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func countOf(v cty.Value, why string) (int, bool) {
	if why != "" || v.IsNull() {
		return 0, false
	}
	v, err := convert.Convert(v, cty.Number)
	if err != nil {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n < 0 || n > 10000 {
		return 0, false
	}
	return int(n), true
}

func forEachOf(v cty.Value, why string) ([]string, []cty.Value, bool) {
	if why != "" || v.IsNull() {
		return nil, nil, false
	}
	ty := v.Type()
	var keys []string
	var vals []cty.Value
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			keys = append(keys, k.AsString())
			vals = append(vals, e)
		}
	case ty.IsSetType() || ty.IsListType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			s, ok := asString(e)
			if !ok {
				return nil, nil, false
			}
			keys = append(keys, s)
			vals = append(vals, cty.StringVal(s))
		}
	default:
		return nil, nil, false
	}
	if len(keys) > 10000 {
		return nil, nil, false
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	sk, sv := make([]string, len(keys)), make([]cty.Value, len(keys))
	for i, o := range order {
		sk[i], sv[i] = keys[o], vals[o]
	}
	return sk, sv, true
}

// instance evaluates one instance's body and adds the attributes AWS
// computes that the reader can derive (ARNs, versions).
func (m *module) instance(r *resource, addr string, sc *scope, key cty.Value) *instance {
	in := &instance{addr: addr, key: key, scope: sc}
	in.body = m.evalBody(r.block.Body, sc)
	obj := bodyObject(in.body)
	for k, v := range m.computed(r, in) {
		obj[k] = v
	}
	in.object = cty.ObjectVal(obj)
	return in
}
