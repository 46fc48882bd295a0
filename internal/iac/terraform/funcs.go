package terraform

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// maxTemplate caps a file read by file() or templatefile(): policy
// templates are small, and a huge file is not one.
const maxTemplate = 1 << 20

// functions is the subset of Terraform's built-in functions that
// configurations use to build names and policies. A call to any other
// function fails to evaluate, so the value is unresolved (unknown), never
// guessed.
func (m *module) functions() map[string]function.Function {
	fns := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"chomp": stdlib.ChompFunc, "format": formatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"replace": replaceFunc, "split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc,
		"substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "chunklist": stdlib.ChunklistFunc,
		"coalesce": coalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"index": stdlib.IndexFunc, "keys": stdlib.KeysFunc, "length": stdlib.LengthFunc,
		"lookup": lookupFunc, "merge": stdlib.MergeFunc, "range": stdlib.RangeFunc,
		"reverse": stdlib.ReverseListFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setproduct": stdlib.SetProductFunc, "setsubtract": stdlib.SetSubtractFunc,
		"setunion": stdlib.SetUnionFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc,
		"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc,
		"try":       tryfunc.TryFunc, "can": tryfunc.CanFunc,
		"tostring": convertFunc(cty.String), "tonumber": convertFunc(cty.Number),
		"tobool": convertFunc(cty.Bool), "tolist": convertFunc(cty.List(cty.DynamicPseudoType)),
		"toset": convertFunc(cty.Set(cty.DynamicPseudoType)), "tomap": convertFunc(cty.Map(cty.DynamicPseudoType)),
		"startswith": stringPredicate(strings.HasPrefix), "endswith": stringPredicate(strings.HasSuffix),
		"strcontains": stringPredicate(strings.Contains),
		"one":         oneFunc,
		"pow":         stdlib.PowFunc, "signum": stdlib.SignumFunc, "log": stdlib.LogFunc,
		"sensitive": identityFunc, "nonsensitive": identityFunc,
		"alltrue": boolListFunc(true), "anytrue": boolListFunc(false),
		"sum": sumFunc,
	}
	fns["file"] = m.fileFunc()
	fns["templatefile"] = m.templateFileFunc(fns)
	return fns
}

func convertFunc(to cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			if to == cty.String || to == cty.Number || to == cty.Bool {
				return to, nil
			}
			out, err := convert.Convert(args[0], to)
			if err != nil {
				return cty.NilType, err
			}
			return out.Type(), nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) { return convert.Convert(args[0], to) },
	})
}

func stringPredicate(f func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// identityFunc stands for sensitive and nonsensitive: the reader keeps
// no marks, the value is the same.
var identityFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true}},
	Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0], nil },
})

// boolListFunc is alltrue (all) or anytrue (!all) over a list of bools.
func boolListFunc(all bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() {
					return cty.NilVal, fmt.Errorf("the list holds a null")
				}
				if e.True() != all {
					return cty.BoolVal(!all), nil
				}
			}
			return cty.BoolVal(all), nil
		},
	})
}

var sumFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Number)}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].LengthInt() == 0 {
			return cty.NilVal, fmt.Errorf("sum of an empty list")
		}
		total := cty.Zero
		for it := args[0].ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return cty.NilVal, fmt.Errorf("the list holds a null")
			}
			total = total.Add(e)
		}
		return total, nil
	},
})

// coalesceFunc is Terraform's coalesce, not cty's: the first argument
// that is neither null nor an empty string (coalesce("", "b") is "b").
var coalesceFunc = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "vals", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowDynamicType: true, AllowNull: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		types := make([]cty.Type, len(args))
		for i, v := range args {
			types[i] = v.Type()
		}
		t, _ := convert.UnifyUnsafe(types)
		if t == cty.NilType {
			return cty.NilType, fmt.Errorf("all arguments must have the same type")
		}
		return t, nil
	},
	Impl: func(args []cty.Value, t cty.Type) (cty.Value, error) {
		for _, v := range args {
			v, _ = convert.Convert(v, t)
			if !v.IsKnown() {
				return cty.UnknownVal(t), nil
			}
			if v.IsNull() || (t == cty.String && v.RawEquals(cty.StringVal(""))) {
				continue
			}
			return v, nil
		}
		return cty.NilVal, fmt.Errorf("no non-null, non-empty-string arguments")
	},
})

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a
// regular expression ("/[^a-z0-9]/").
var replaceFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "substr", Type: cty.String}, {Name: "replace", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, substr, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(substr) > 1 && strings.HasPrefix(substr, "/") && strings.HasSuffix(substr, "/") {
			re, err := regexp.Compile(substr[1 : len(substr)-1])
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
	},
})

// lookupFunc is Terraform's lookup: a map or an object, and a default
// that may be null (lookup(each.value, "source_arn", null)), which cty's
// refuses.
var lookupFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "inputMap", Type: cty.DynamicPseudoType}, {Name: "key", Type: cty.String}},
	VarParam: &function.Parameter{Name: "default", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowDynamicType: true, AllowNull: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		if len(args) > 3 {
			return cty.NilType, fmt.Errorf("lookup takes at most three arguments")
		}
		ty := args[0].Type()
		if ty == cty.DynamicPseudoType || !args[1].IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		switch {
		case ty.IsObjectType():
			key := args[1].AsString()
			if ty.HasAttribute(key) {
				return ty.AttributeType(key), nil
			}
			if len(args) == 3 {
				return args[2].Type(), nil
			}
			return cty.NilType, fmt.Errorf("the object has no attribute %q", key)
		case ty.IsMapType():
			if len(args) == 3 {
				if _, err := convert.Convert(args[2], ty.ElementType()); err != nil {
					return cty.NilType, fmt.Errorf("the default must have the type of the map's elements")
				}
			}
			return ty.ElementType(), nil
		}
		return cty.NilType, fmt.Errorf("lookup() requires a map as the first argument")
	},
	Impl: func(args []cty.Value, t cty.Type) (cty.Value, error) {
		m, key := args[0], args[1].AsString()
		if !m.IsWhollyKnown() {
			return cty.UnknownVal(t), nil
		}
		if m.Type().IsObjectType() {
			if m.Type().HasAttribute(key) {
				return m.GetAttr(key), nil
			}
		} else if m.HasIndex(cty.StringVal(key)) == cty.True {
			return m.Index(cty.StringVal(key)), nil
		}
		if len(args) == 3 {
			return convert.Convert(args[2], t)
		}
		return cty.NilVal, fmt.Errorf("lookup failed to find key %q", key)
	},
})

// formatFunc is format, with what an unknown argument leaves known: the
// text before the first verb whose argument is not known becomes the
// unknown result's known prefix, as a "${...}" template's does, so
// format("arn:aws:sns:us-east-1:%s:%s", account, var.topic) keeps the
// account it fixes.
var formatFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "format", Type: cty.String}},
	VarParam: &function.Parameter{Name: "args", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true},
	Type:     function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		rest := args[1:]
		first := -1
		for i, a := range rest {
			if !a.IsWhollyKnown() {
				first = i
				break
			}
		}
		if first < 0 {
			return stdlib.Format(args[0], rest...)
		}
		f := args[0].AsString()
		// Find the verb that takes argument first; explicit argument
		// indexes and * widths keep no prefix.
		n := 0
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			j := i + 1
			if j < len(f) && f[j] == '%' {
				i = j
				continue
			}
			for j < len(f) && strings.IndexByte("+-# 0123456789.", f[j]) >= 0 {
				j++
			}
			if j >= len(f) || f[j] == '[' || f[j] == '*' {
				return cty.UnknownVal(cty.String), nil
			}
			if n == first {
				prefix, err := stdlib.Format(cty.StringVal(f[:i]), rest[:first]...)
				if err != nil || !prefix.IsKnown() {
					return cty.UnknownVal(cty.String), nil
				}
				return cty.UnknownVal(cty.String).Refine().NotNull().StringPrefix(prefix.AsString()).NewValue(), nil
			}
			n++
			i = j
		}
		return cty.UnknownVal(cty.String), nil
	},
})

var oneFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:   func(args []cty.Value) (cty.Type, error) { return cty.DynamicPseudoType, nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		if !v.CanIterateElements() {
			return cty.NilVal, fmt.Errorf("one: a list or set is required")
		}
		switch n := v.LengthInt(); n {
		case 0:
			return cty.NullVal(cty.DynamicPseudoType), nil
		case 1:
			it := v.ElementIterator()
			it.Next()
			_, e := it.Element()
			return e, nil
		default:
			return cty.NilVal, fmt.Errorf("one: the collection has %d elements", n)
		}
	},
})

// readFile reads a file a configuration names, relative to the root
// module's directory as Terraform resolves it, inside the tree only.
func (m *module) readFile(name string) ([]byte, error) {
	p := path.Clean(path.Join(m.tree.rootDir, name))
	if path.IsAbs(name) || strings.HasPrefix(p, "../") || p == ".." {
		return nil, fmt.Errorf("%s is outside the scanned tree", name)
	}
	f, err := m.tree.fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", name)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTemplate+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", name, err)
	}
	if len(b) > maxTemplate {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxTemplate)
	}
	return b, nil
}

func (m *module) fileFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := m.readFile(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// templateFileFunc renders a template file with the variables given, as
// Terraform's templatefile does, with the same functions but itself.
func (m *module) templateFileFunc(fns map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "vars", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			src, err := m.readFile(name)
			if err != nil {
				return cty.NilVal, err
			}
			vars := args[1]
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.NilVal, fmt.Errorf("templatefile: vars must be an object or a map")
			}
			expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("templatefile: %s", diags.Error())
			}
			inner := map[string]function.Function{}
			for k, f := range fns {
				if k != "templatefile" {
					inner[k] = f
				}
			}
			ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: inner}
			if !vars.IsNull() {
				for it := vars.ElementIterator(); it.Next(); {
					k, v := it.Element()
					ctx.Variables[k.AsString()] = v
				}
			}
			v, diags := expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("templatefile %s: %s", name, diags.Error())
			}
			return v, nil
		},
	})
}
