// Package terraform reads Terraform configurations (HCL, with
// github.com/hashicorp/hcl/v2) and `terraform show -json` plans into the
// estate of Lambda declarations, each with its file, line and address.
//
// Values are resolved statically the way Terraform would before a plan:
// variables with defaults (or the inputs a module call passes), locals,
// references to resources in the same module, count and for_each
// instances, and the functions configurations build policies with
// (jsonencode, templatefile with literal arguments, format, join, ...).
// data.aws_caller_identity.*.account_id is the deploying account. What
// only a plan knows (a variable without default, another data source, an
// attribute AWS computes) stays unresolved, and the declaration that
// needs it is unknown with the expression and its line.
package terraform

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// Options are what the reader needs beyond the files.
type Options struct {
	// Owner is the deploying account (estate.OwnerPlaceholder when not
	// given); Partition defaults to aws.
	Owner, Partition string
	// Prefix is put before file paths in locations and messages (the
	// path the user gave), so they name files as the user sees them.
	Prefix string
}

// maxModuleDepth bounds nested module calls (and catches a module that
// calls itself).
const maxModuleDepth = 16

// tree is one root module and the local modules it calls.
type tree struct {
	fsys    fs.FS
	rootDir string
	opt     Options
	parser  *hclparse.Parser
	est     *estate.Estate
	// region is the root's default AWS provider Region, "" when unknown.
	region string
	// assumes says, per provider alias of the root, whether it assumes
	// a role (so what it creates may be in another account).
	assumes map[string]bool
	// sources are the files read, by display name, for quoting
	// expressions in messages.
	sources map[string][]byte
	// lineMaps turn the lines of a .tf.json file's native rewrite
	// into the JSON file's lines, by display name.
	lineMaps map[string][]int
	// installed are the module folders terraform init recorded, by
	// call key; nil until read.
	installed map[string]string
}

// module is one module instance being evaluated.
type module struct {
	tree   *tree
	dir    string
	addr   string // "module.api." for a child, "" for the root
	depth  int
	inputs map[string]cty.Value

	vars      map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources map[string]*resource
	data      map[string]*resource
	calls     map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	// callVals are the outputs of each module call, once it is read
	// (an object; a tuple or an object of them with count/for_each).
	callVals map[string]cty.Value
	// outputWhy says, per "call.output", why an output is not known.
	outputWhy map[string]string
	providers map[string]*hclsyntax.Block
	// order keeps resources in file order for stable output.
	order []*resource

	localVals map[string]cty.Value
	busy      map[string]bool
	region    string

	fnTable  map[string]function.Function
	varVal   cty.Value
	localWhy map[string]string
	dataWhy  map[string]string
	// inputWhy says, per variable, why the value the module call
	// passes could not be resolved.
	inputWhy map[string]string
}

// resource is one resource or data block.
type resource struct {
	typ, name string
	block     *hclsyntax.Block
	file      string
	// evaluated instances, set by ensure
	done      bool
	value     cty.Value
	instances []*instance
	// unresolved says why count or for_each could not be resolved.
	unresolved string
	region     string
}

// instance is one count/for_each instance of a resource.
type instance struct {
	addr   string
	key    cty.Value // NilVal without count/for_each
	scope  *scope
	body   *bodyVals
	object cty.Value
}

// attrVal is one evaluated attribute.
type attrVal struct {
	attr  *hclsyntax.Attribute
	value cty.Value
	// why is set when the value could not be resolved.
	why string
}

// bodyVals is an evaluated block body.
type bodyVals struct {
	attrs  map[string]*attrVal
	blocks map[string][]*bodyVals
	// dynamic names the dynamic blocks, which are not expanded.
	dynamic map[string]*hclsyntax.Block
}

// ReadDir reads the Terraform module in dir of fsys as a root module,
// following calls to local modules. Files that do not parse are listed as
// broken in the estate (with the line of the first error); the other
// files are still read.
func ReadDir(fsys fs.FS, dir string, opt Options) *estate.Estate {
	if opt.Owner == "" {
		opt.Owner = estate.OwnerPlaceholder
	}
	if opt.Partition == "" {
		opt.Partition = "aws"
	}
	t := &tree{fsys: fsys, rootDir: dir, opt: opt, parser: hclparse.NewParser(), est: &estate.Estate{}, sources: map[string][]byte{}, lineMaps: map[string][]int{}}
	m := t.newModule(dir, "", 0, nil)
	if m == nil {
		return t.est
	}
	t.region = m.providerRegion("")
	m.region = t.region
	t.assumes = map[string]bool{}
	for alias, b := range m.providers {
		t.assumes[alias] = providerAssumes(b) || m.otherCredentials(alias, b, m.providers[""])
	}
	m.extract()
	return t.est
}

// display is a file's path as the user sees it.
func (t *tree) display(p string) string {
	if t.opt.Prefix == "" {
		return p
	}
	return path.Join(t.opt.Prefix, p)
}

// ModuleSources lists the local module directories the module in dir
// calls (fs paths), so a walker does not read them again as root modules.
func ModuleSources(fsys fs.FS, dir string) []string {
	var out []string
	p := hclparse.NewParser()
	for _, f := range tfFiles(fsys, dir) {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		file, _, diags := parseFile(p, src, f)
		if diags.HasErrors() || file == nil {
			continue
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != "module" || len(b.Labels) != 1 {
				continue
			}
			if s, ok := literalString(b.Body.Attributes["source"]); ok && isLocalSource(s) {
				out = append(out, path.Clean(path.Join(dir, s)))
			}
		}
	}
	return out
}

func isLocalSource(s string) bool { return strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") }

func literalString(a *hclsyntax.Attribute) (string, bool) {
	if a == nil {
		return "", false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// isTFFile reports whether a file name is Terraform configuration, in
// the native (*.tf) or the JSON (*.tf.json) syntax.
func isTFFile(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// parseFile parses one configuration file; a .tf.json file is rewritten
// into the native syntax first (tfJSONToNative), on the same lines.
// name is how ranges name the file.
// lines maps a native line to the JSON file's line (nil for a .tf
// file).
func parseFile(p *hclparse.Parser, src []byte, name string) (*hcl.File, []int, hcl.Diagnostics) {
	if strings.HasSuffix(name, ".tf.json") {
		native, lines, diags := tfJSONToNative(src, name)
		if diags.HasErrors() {
			return nil, nil, diags
		}
		// The native text is parsed under the same name: hclparse
		// caches by name, so it is never parsed as JSON too.
		f, diags := p.ParseHCL(native, name)
		return f, lines, diags
	}
	f, diags := p.ParseHCL(src, name)
	return f, nil, diags
}

// line is the line a range starts at in the file as written (the JSON
// line for a .tf.json file).
func (t *tree) line(r hcl.Range) int {
	if lm := t.lineMaps[r.Filename]; lm != nil && r.Start.Line >= 1 && r.Start.Line <= len(lm) {
		return lm[r.Start.Line-1]
	}
	return r.Start.Line
}

// tfFiles lists the *.tf and *.tf.json files of one directory, sorted.
func tfFiles(fsys fs.FS, dir string) []string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && isTFFile(e.Name()) {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// newModule parses the files of dir. It returns nil when no file could be
// parsed.
func (t *tree) newModule(dir, addr string, depth int, inputs map[string]cty.Value) *module {
	m := &module{tree: t, dir: dir, addr: addr, depth: depth, inputs: inputs,
		vars: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		resources: map[string]*resource{}, data: map[string]*resource{}, calls: map[string]*hclsyntax.Block{}, outputs: map[string]*hclsyntax.Block{}, callVals: map[string]cty.Value{}, outputWhy: map[string]string{},
		providers: map[string]*hclsyntax.Block{}, localVals: map[string]cty.Value{}, busy: map[string]bool{},
		localWhy: map[string]string{}, dataWhy: map[string]string{}, inputWhy: map[string]string{}}
	parsed := 0
	// Override files are read after the others, in lexical order, and
	// merged into the blocks they override (Terraform "Override Files").
	var files, overrides []string
	for _, f := range tfFiles(t.fsys, dir) {
		if isOverrideFile(path.Base(f)) {
			overrides = append(overrides, f)
		} else {
			files = append(files, f)
		}
	}
	for i, f := range append(files, overrides...) {
		src, err := fs.ReadFile(t.fsys, f)
		if err != nil {
			t.broken(f, 0, fmt.Sprintf("cannot read the file: %v", err))
			continue
		}
		// Each module instance parses afresh: ranges name the file as
		// the user sees it.
		file, lines, diags := parseFile(t.parser, src, t.display(f))
		if lines != nil {
			t.lineMaps[t.display(f)] = lines
		}
		if file != nil {
			// Quoted expressions are read from what was parsed (the
			// native rewrite of a .tf.json file).
			t.sources[t.display(f)] = file.Bytes
		} else {
			t.sources[t.display(f)] = src
		}
		if diags.HasErrors() {
			d := diags[0]
			line := 0
			if d.Subject != nil {
				line = t.line(*d.Subject)
			}
			t.broken(f, line, "Terraform syntax error: "+d.Summary+": "+d.Detail)
			continue
		}
		parsed++
		if i >= len(files) {
			m.override(file.Body.(*hclsyntax.Body), f)
			continue
		}
		m.index(file.Body.(*hclsyntax.Body), f)
	}
	if parsed == 0 {
		return nil
	}
	return m
}

// callKey is how .terraform/modules/modules.json names a module call:
// the call names from the root, joined by dots ("api.alias").
func (m *module) callKey(name string) string {
	var parts []string
	for _, p := range strings.Split(strings.TrimSuffix(m.addr, "."), ".") {
		if p == "" || p == "module" {
			continue
		}
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		parts = append(parts, p)
	}
	return strings.Join(append(parts, name), ".")
}

// installedModule is the folder terraform init installed a registry or
// remote module call into (.terraform/modules/modules.json of the root
// module), when it is in the tree.
func (t *tree) installedModule(key string) (string, bool) {
	if t.installed == nil {
		t.installed = map[string]string{}
		data, err := fs.ReadFile(t.fsys, path.Join(t.rootDir, ".terraform/modules/modules.json"))
		if err == nil {
			var mj struct {
				Modules []struct {
					Key, Dir string
				}
			}
			if json.Unmarshal(data, &mj) == nil {
				for _, e := range mj.Modules {
					if e.Key != "" && e.Dir != "" && !path.IsAbs(e.Dir) {
						t.installed[e.Key] = path.Clean(path.Join(t.rootDir, filepath.ToSlash(e.Dir)))
					}
				}
			}
		}
	}
	d, ok := t.installed[key]
	if !ok || !fs.ValidPath(d) {
		return "", false
	}
	if st, err := fs.Stat(t.fsys, d); err != nil || !st.IsDir() {
		return "", false
	}
	return d, true
}

// isOverrideFile: override.tf, *_override.tf and their .tf.json forms.
func isOverrideFile(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".tf")
	return base == "override" || strings.HasSuffix(base, "_override")
}

// override merges an override file's blocks into the module's, as
// Terraform does: each argument replaces the original's, each nested
// block type replaces all the original's blocks of that type, locals are
// replaced one by one. A block that overrides nothing is an error in
// Terraform: the file is listed as broken there and the block is not
// read.
func (m *module) override(body *hclsyntax.Body, file string) {
	for _, b := range body.Blocks {
		var target **hclsyntax.Block
		switch {
		case b.Type == "locals":
			for name, a := range b.Body.Attributes {
				m.locals[name] = a
			}
			continue
		case b.Type == "variable" && len(b.Labels) == 1:
			if o, ok := m.vars[b.Labels[0]]; ok {
				merged := mergeBlock(o, b)
				m.vars[b.Labels[0]] = merged
				continue
			}
		case b.Type == "resource" && len(b.Labels) == 2:
			if r, ok := m.resources[b.Labels[0]+"."+b.Labels[1]]; ok {
				target = &r.block
			}
		case b.Type == "data" && len(b.Labels) == 2:
			if r, ok := m.data[b.Labels[0]+"."+b.Labels[1]]; ok {
				target = &r.block
			}
		case b.Type == "module" && len(b.Labels) == 1:
			if o, ok := m.calls[b.Labels[0]]; ok {
				m.calls[b.Labels[0]] = mergeBlock(o, b)
				continue
			}
		case b.Type == "output" && len(b.Labels) == 1:
			if o, ok := m.outputs[b.Labels[0]]; ok {
				m.outputs[b.Labels[0]] = mergeBlock(o, b)
				continue
			}
		case b.Type == "provider" && len(b.Labels) == 1 && b.Labels[0] == "aws":
			alias, _ := literalString(b.Body.Attributes["alias"])
			if o, ok := m.providers[alias]; ok {
				m.providers[alias] = mergeBlock(o, b)
				continue
			}
		default:
			continue
		}
		if target == nil {
			m.tree.broken(file, m.tree.line(b.DefRange()), "override file: "+b.Type+" "+strings.Join(b.Labels, ".")+" overrides no block of the module")
			continue
		}
		*target = mergeBlock(*target, b)
	}
}

// mergeBlock is orig with ov's arguments and nested block types in place
// of its own; a dynamic block counts as a block of its label's type.
func mergeBlock(orig, ov *hclsyntax.Block) *hclsyntax.Block {
	merged := *orig
	body := *orig.Body
	body.Attributes = hclsyntax.Attributes{}
	for k, a := range orig.Body.Attributes {
		body.Attributes[k] = a
	}
	for k, a := range ov.Body.Attributes {
		body.Attributes[k] = a
	}
	kind := func(b *hclsyntax.Block) string {
		if b.Type == "dynamic" && len(b.Labels) == 1 {
			return b.Labels[0]
		}
		return b.Type
	}
	replaced := map[string]bool{}
	for _, b := range ov.Body.Blocks {
		replaced[kind(b)] = true
	}
	body.Blocks = nil
	for _, b := range orig.Body.Blocks {
		if !replaced[kind(b)] || b.Type == "lifecycle" {
			body.Blocks = append(body.Blocks, b)
		}
	}
	body.Blocks = append(body.Blocks, ov.Body.Blocks...)
	merged.Body = &body
	return &merged
}

func (t *tree) broken(file string, line int, why string) {
	// A module's file is read once per module instance: report it once.
	for _, b := range t.est.Broken {
		if b.File == t.display(file) && b.Line == line {
			return
		}
	}
	t.est.Broken = append(t.est.Broken, estate.Broken{Loc: estate.Loc{File: t.display(file), Line: line}, Reason: why})
}

// brokenPart lists a part of a file that cannot be read (a module call
// whose module is not in the tree) as unknown under its address, once
// per written call.
// file is a block's file name as HCL ranges carry it (already the name
// shown, as declarations' locations are).
func (t *tree) brokenPart(file string, line int, address, why string) {
	for _, b := range t.est.Broken {
		if b.File == file && b.Line == line {
			return
		}
	}
	t.est.Broken = append(t.est.Broken, estate.Broken{Loc: estate.Loc{File: file, Line: line, Address: address}, Reason: why})
}

func (m *module) index(body *hclsyntax.Body, file string) {
	for _, b := range body.Blocks {
		switch {
		case b.Type == "variable" && len(b.Labels) == 1:
			m.vars[b.Labels[0]] = b
		case b.Type == "locals":
			for name, a := range b.Body.Attributes {
				m.locals[name] = a
			}
		case b.Type == "resource" && len(b.Labels) == 2:
			r := &resource{typ: b.Labels[0], name: b.Labels[1], block: b, file: file}
			m.resources[r.typ+"."+r.name] = r
			m.order = append(m.order, r)
		case b.Type == "data" && len(b.Labels) == 2:
			m.data[b.Labels[0]+"."+b.Labels[1]] = &resource{typ: b.Labels[0], name: b.Labels[1], block: b, file: file}
		case b.Type == "module" && len(b.Labels) == 1:
			m.calls[b.Labels[0]] = b
		case b.Type == "output" && len(b.Labels) == 1:
			m.outputs[b.Labels[0]] = b
		case b.Type == "provider" && len(b.Labels) == 1 && b.Labels[0] == "aws":
			alias, _ := literalString(b.Body.Attributes["alias"])
			m.providers[alias] = b
		}
	}
	sort.SliceStable(m.order, func(i, j int) bool {
		a, b := m.order[i].block.DefRange(), m.order[j].block.DefRange()
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Line < b.Start.Line
	})
}

// providerRegion is the Region of the aws provider with that alias, ""
// when it is not written or cannot be resolved.
func (m *module) providerRegion(alias string) string {
	b, ok := m.providers[alias]
	if !ok {
		return ""
	}
	a := b.Body.Attributes["region"]
	if a == nil {
		return ""
	}
	v, _ := m.eval(a.Expr, nil)
	if s, ok := asString(v); ok {
		return s
	}
	return ""
}

// regionOf is the Region of a resource: its own region argument, else
// its provider's, else the root's.
func (m *module) regionOf(r *resource) string {
	// AWS provider v6: every resource takes a region argument that
	// overrides its provider's.
	if a := r.block.Body.Attributes["region"]; a != nil {
		if v, why := m.eval(a.Expr, nil); why == "" {
			if s, ok := asString(v); ok && s != "" {
				return s
			}
		}
	}
	if alias := m.providerAlias(r); alias != "" {
		if reg := m.providerRegion(alias); reg != "" {
			return reg
		}
	}
	if reg := m.providerRegion(""); reg != "" {
		return reg
	}
	return m.region
}

// providerAlias is the alias of the aws provider a resource names with
// provider = aws.ALIAS, "" for the default one.
func (m *module) providerAlias(r *resource) string {
	if a := r.block.Body.Attributes["provider"]; a != nil {
		if tr, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() && len(tr) == 2 {
			if attr, ok := tr[1].(hcl.TraverseAttr); ok {
				return attr.Name
			}
		}
	}
	return ""
}

// region is the Region to write into ARNs: the placeholder when unknown.
func regionOrPlaceholder(r string) string {
	if r == "" {
		return estate.RegionPlaceholder
	}
	return r
}
