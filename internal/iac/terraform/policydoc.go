package terraform

import (
	"encoding/json"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// policyDocument renders a data "aws_iam_policy_document" block the way
// the AWS provider does (its json attribute), so a policy built with it
// is judged like one written with jsonencode. What the reader cannot
// render (merged source documents, dynamic statements, an unresolved
// value) leaves json unknown, with the reason.
func (m *module) policyDocument(r *resource) cty.Value {
	key := r.typ + "." + r.name
	if r.done {
		return r.value
	}
	if m.busy[key] {
		return cty.DynamicVal
	}
	m.busy[key] = true
	defer delete(m.busy, key)
	r.done = true
	r.value = cty.DynamicVal
	unknown := func(why string) cty.Value {
		m.dataWhy[key] = why
		r.value = cty.ObjectVal(map[string]cty.Value{"json": cty.UnknownVal(cty.String), "minified_json": cty.UnknownVal(cty.String), "id": cty.UnknownVal(cty.String)})
		return r.value
	}
	body := r.block.Body
	for _, a := range []string{"source_policy_documents", "override_policy_documents", "source_json", "override_json", "count", "for_each"} {
		if body.Attributes[a] != nil {
			return unknown(a + " is not rendered by the reader")
		}
	}
	in := &instance{addr: "data." + key}
	in.body = m.evalBody(body, nil)
	f := &field{m: m, in: in}
	if len(in.body.dynamic) > 0 {
		return unknown("dynamic blocks are not expanded")
	}
	type member struct {
		k string
		v any
	}
	var stmts []any
	for _, st := range in.body.blocks["statement"] {
		if len(st.dynamic) > 0 {
			return unknown("dynamic blocks are not expanded")
		}
		var obj []member
		if sid := f.from(st, "sid"); sid != "" {
			obj = append(obj, member{"Sid", sid})
		}
		effect := f.from(st, "effect")
		if effect == "" {
			effect = "Allow"
		}
		obj = append(obj, member{"Effect", effect})
		for _, p := range []struct{ block, key string }{{"principals", "Principal"}, {"not_principals", "NotPrincipal"}} {
			blocks := st.blocks[p.block]
			if len(blocks) == 0 {
				continue
			}
			byType := map[string][]string{}
			var types []string
			for _, pb := range blocks {
				typ := f.from(pb, "type")
				ids, _ := f.list(pb, "identifiers")
				if _, seen := byType[typ]; !seen {
					types = append(types, typ)
				}
				byType[typ] = append(byType[typ], ids...)
			}
			if len(types) == 1 && types[0] == "*" {
				obj = append(obj, member{p.key, "*"})
				continue
			}
			po := map[string]any{}
			for _, t := range types {
				po[t] = oneOrMany(byType[t])
			}
			obj = append(obj, member{p.key, po})
		}
		for _, a := range []struct{ attr, key string }{{"actions", "Action"}, {"not_actions", "NotAction"}, {"resources", "Resource"}, {"not_resources", "NotResource"}} {
			if vals, _ := f.list(st, a.attr); len(vals) > 0 {
				obj = append(obj, member{a.key, oneOrMany(vals)})
			}
		}
		if conds := st.blocks["condition"]; len(conds) > 0 {
			byTest := map[string]map[string][]string{}
			for _, c := range conds {
				test, variable := f.from(c, "test"), f.from(c, "variable")
				vals, _ := f.list(c, "values")
				if byTest[test] == nil {
					byTest[test] = map[string][]string{}
				}
				// Two conditions on one key and test: either value
				// is accepted (the weaker, stricter-to-judge reading).
				byTest[test][variable] = append(byTest[test][variable], vals...)
			}
			co := map[string]any{}
			for test, vars := range byTest {
				vo := map[string]any{}
				for k, v := range vars {
					vo[k] = oneOrMany(v)
				}
				co[test] = vo
			}
			obj = append(obj, member{"Condition", co})
		}
		ordered := map[string]any{}
		for _, mb := range obj {
			ordered[mb.k] = mb.v
		}
		stmts = append(stmts, ordered)
	}
	if w := f.reason(); w != "" {
		return unknown(w)
	}
	version := f.from(in.body, "version")
	if version == "" {
		version = "2012-10-17"
	}
	doc := map[string]any{"Version": version, "Statement": stmts}
	if id := f.from(in.body, "policy_id"); id != "" {
		doc["Id"] = id
	}
	if w := f.reason(); w != "" {
		return unknown(w)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return unknown(err.Error())
	}
	text := strings.TrimSpace(b.String())
	r.value = cty.ObjectVal(map[string]cty.Value{"json": cty.StringVal(text), "minified_json": cty.StringVal(text), "id": cty.StringVal(text)})
	return r.value
}

func oneOrMany(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	if v == nil {
		return []string{}
	}
	return v
}
