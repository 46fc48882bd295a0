package terraform

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// Evaluating a resource body: its arguments, nested and dynamic blocks.

var metaArgs = map[string]bool{"count": true, "for_each": true, "provider": true, "depends_on": true}
var metaBlocks = map[string]bool{"lifecycle": true, "provisioner": true, "connection": true}

func (m *module) evalBody(body *hclsyntax.Body, sc *scope) *bodyVals {
	bv := &bodyVals{attrs: map[string]*attrVal{}, blocks: map[string][]*bodyVals{}, dynamic: map[string]*hclsyntax.Block{}}
	for name, a := range body.Attributes {
		if metaArgs[name] {
			continue
		}
		v, why := m.eval(a.Expr, sc)
		bv.attrs[name] = &attrVal{attr: a, value: v, why: why}
	}
	for _, b := range body.Blocks {
		switch {
		case metaBlocks[b.Type]:
		case b.Type == "dynamic" && len(b.Labels) == 1:
			if bodies, ok := m.expandDynamic(b, sc); ok {
				bv.blocks[b.Labels[0]] = append(bv.blocks[b.Labels[0]], bodies...)
			} else {
				bv.dynamic[b.Labels[0]] = b
			}
		default:
			bv.blocks[b.Type] = append(bv.blocks[b.Type], m.evalBody(b.Body, sc))
		}
	}
	return bv
}

func bodyObject(bv *bodyVals) map[string]cty.Value {
	obj := map[string]cty.Value{}
	for name, a := range bv.attrs {
		if a.why != "" {
			obj[name] = cty.DynamicVal
			continue
		}
		obj[name] = a.value
	}
	for name, bs := range bv.blocks {
		vals := make([]cty.Value, len(bs))
		for i, b := range bs {
			vals[i] = cty.ObjectVal(bodyObject(b))
		}
		obj[name] = cty.TupleVal(vals)
	}
	for name := range bv.dynamic {
		obj[name] = cty.DynamicVal
	}
	return obj
}

// estateOptions are the ARN facts for a resource in Region region.
func (m *module) estateOptions(region string) estate.Options {
	return estate.Options{Owner: m.tree.opt.Owner, Partition: m.tree.opt.Partition, Region: regionOrPlaceholder(region)}
}

// asString reads a known, non-null primitive as a string.
func asString(v cty.Value) (string, bool) {
	if v == cty.NilVal || !v.IsWhollyKnown() || v.IsNull() {
		return "", false
	}
	v, _ = v.UnmarkDeep()
	if !v.Type().IsPrimitiveType() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return "", false
	}
	return s.AsString(), true
}

// expandDynamic expands a dynamic block the way Terraform does: one
// content block per for_each element, with the iterator (the block's
// label, or iterator = NAME) holding key and value. ok is false when
// for_each or the block's shape cannot be resolved: the block is then
// left unexpanded and what reads it says so.
func (m *module) expandDynamic(b *hclsyntax.Block, sc *scope) ([]*bodyVals, bool) {
	fe := b.Body.Attributes["for_each"]
	var content *hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == "content" {
			if content != nil {
				return nil, false
			}
			content = c
		}
	}
	if fe == nil || content == nil {
		return nil, false
	}
	iter := b.Labels[0]
	if a := b.Body.Attributes["iterator"]; a != nil {
		tr, diags := hcl.AbsTraversalForExpr(a.Expr)
		if diags.HasErrors() || len(tr) != 1 {
			return nil, false
		}
		iter = tr.RootName()
	}
	v, why := m.eval(fe.Expr, sc)
	if why != "" || v.IsNull() || !v.CanIterateElements() {
		return nil, false
	}
	if v.LengthInt() > 10000 {
		return nil, false
	}
	var out []*bodyVals
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if v.Type().IsSetType() {
			k = e
		}
		obj := cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})
		out = append(out, m.evalBody(content.Body, sc.with(iter, obj)))
	}
	return out, true
}
