package terraform

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// tfvars reads the variable values Terraform loads by itself for a root
// module, in its order (later files win): terraform.tfvars,
// terraform.tfvars.json, then *.auto.tfvars and *.auto.tfvars.json in
// lexical order. -var and -var-file on the command line are not known:
// a variable they would set keeps its default, or stays unresolved.
// A file that does not parse is listed as broken.
func (t *tree) tfvars(dir string) map[string]cty.Value {
	out := map[string]cty.Value{}
	entries, err := fs.ReadDir(t.fsys, dir)
	if err != nil {
		return out
	}
	var auto []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".auto.tfvars") || strings.HasSuffix(n, ".auto.tfvars.json")) {
			auto = append(auto, n)
		}
	}
	sort.Strings(auto)
	for _, n := range append([]string{"terraform.tfvars", "terraform.tfvars.json"}, auto...) {
		p := path.Join(dir, n)
		src, err := fs.ReadFile(t.fsys, p)
		if err != nil {
			continue
		}
		name := t.display(p)
		parse := t.parser.ParseHCL
		if strings.HasSuffix(n, ".json") {
			parse = t.parser.ParseJSON
		}
		f, diags := parse(src, name)
		if diags.HasErrors() {
			line := 0
			if d := diags[0]; d.Subject != nil {
				line = d.Subject.Start.Line
			}
			t.broken(p, line, "variable values file: "+diags[0].Summary+": "+diags[0].Detail)
			continue
		}
		attrs, diags := f.Body.JustAttributes()
		if diags.HasErrors() {
			t.broken(p, 0, "variable values file: "+diags[0].Summary)
			continue
		}
		for k, a := range attrs {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				// tfvars hold literal values only; Terraform refuses
				// the file, so the value stays unresolved.
				out[k] = cty.DynamicVal
				continue
			}
			out[k] = v
		}
	}
	return out
}
