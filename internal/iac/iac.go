// Package iac finds infrastructure-as-code files in a tree (Terraform
// modules, `terraform show -json` plans, CloudFormation, SAM and CDK
// templates) and reads them, with the reader for each kind, into one
// estate of Lambda declarations with their file and line.
package iac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/iac/cloudformation"
	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
	"github.com/lambdawarden/lambdawarden/internal/iac/terraform"
)

// Options are the facts code does not state.
type Options struct {
	// Owner is the deploying account; "" reads as
	// estate.OwnerPlaceholder.
	Owner string
	// Partition defaults to aws.
	Partition string
}

// Stats counts what a load read.
type Stats struct {
	TerraformModules int
	Plans            int
	Templates        int
	// Broken counts files that could not be read.
	Broken int
}

// Inputs is the number of inputs read, broken ones included.
func (s Stats) Inputs() int { return s.TerraformModules + s.Plans + s.Templates + s.Broken }

// skipDirs are never walked into: provider and module caches, package
// trees, version control, and `sam build`'s copy of the template
// (.aws-sam/build/template.yaml declares the same resources again).
var skipDirs = map[string]bool{".terraform": true, "node_modules": true, ".git": true, ".terragrunt-cache": true, ".aws-sam": true}

// maxNestedReads caps the nested templates followed in one load.
const maxNestedReads = 1000

// maxFile caps one template or plan file.
const maxFile = 64 << 20

// Load reads root (a directory or a file inside fsys). prefix is put
// before every path in locations, so they read as the user named them.
// A file given by name must be something the readers know; files met
// while walking a directory are taken only when they look like one.
func Load(fsys fs.FS, root, prefix string, opt Options) (*estate.Estate, Stats, error) {
	if opt.Owner == "" {
		opt.Owner = estate.OwnerPlaceholder
	}
	if opt.Partition == "" {
		opt.Partition = "aws"
	}
	l := &loader{fsys: fsys, prefix: prefix, opt: opt, est: &estate.Estate{}, stackNames: map[string]string{}}
	st, err := fs.Stat(fsys, root)
	if err != nil {
		return nil, Stats{}, err
	}
	if !st.IsDir() {
		if strings.HasSuffix(root, ".tf") || strings.HasSuffix(root, ".tf.json") {
			l.terraform(path.Dir(root))
			return l.est, l.stats, nil
		}
		if !l.file(root, true) {
			return nil, Stats{}, fmt.Errorf("%s is not a Terraform file, a terraform show -json plan, or a CloudFormation/SAM template", l.display(root))
		}
		return l.est, l.stats, nil
	}
	var tfDirs, files []string
	seenDir := map[string]bool{}
	err = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.broken(p, 0, "cannot read: "+err.Error())
			return nil
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(path.Ext(p))
		if strings.HasSuffix(p, ".tf.json") {
			ext = ".tf"
		}
		switch ext {
		case ".tf":
			// A folder's files may come before and after its
			// subfolders in walk order: it is one module, read once.
			if d := path.Dir(p); !seenDir[d] {
				seenDir[d] = true
				tfDirs = append(tfDirs, d)
			}
		case ".json", ".yaml", ".yml", ".template":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, Stats{}, err
	}
	// A module another module of the tree calls is read through that
	// call, with its inputs, not on its own.
	called := map[string]bool{}
	for _, d := range tfDirs {
		for _, c := range terraform.ModuleSources(fsys, d) {
			called[c] = true
		}
	}
	for _, d := range tfDirs {
		if !called[d] {
			l.terraform(d)
		}
	}
	// A template another template of the tree nests is read through
	// that stack, with the parameters it passes, not on its own.
	nested, children := map[string]bool{}, map[string][]string{}
	unnamed := map[string][]string{} // logical id -> templates
	for _, f := range files {
		data, err := readCapped(fsys, f)
		if err != nil || sniff(f, data) != kindTemplate {
			continue
		}
		copt := cloudformation.Options{Owner: opt.Owner, Partition: opt.Partition, Path: f}
		for _, id := range cloudformation.Unnamed(data, copt) {
			unnamed[id] = append(unnamed[id], f)
		}
		for _, c := range cloudformation.Children(data, copt) {
			if c != f {
				nested[c] = true
				children[f] = append(children[f], c)
			}
		}
	}
	// Templates that nest each other in a circle, with no outer stack,
	// are read on their own: nothing is left out.
	reached := map[string]bool{}
	var reach func(string)
	reach = func(f string) {
		if reached[f] {
			return
		}
		reached[f] = true
		for _, c := range children[f] {
			reach(c)
		}
	}
	for _, f := range files {
		if !nested[f] {
			reach(f)
		}
	}
	for _, tpls := range unnamed {
		if len(tpls) > 1 {
			for _, f := range tpls {
				l.stackNames[f] = stackName(f)
			}
		}
	}
	for _, f := range files {
		if !nested[f] || !reached[f] {
			l.file(f, false)
		}
	}
	return l.est, l.stats, nil
}

type loader struct {
	// stackNames are the names given to templates whose unnamed
	// functions or layers share a logical id with another template's.
	stackNames map[string]string
	// cdkAccounts caches, per cdk.out folder, the account of each
	// stack's template.
	cdkAccounts map[string]map[string]string
	// nestedReads counts nested templates read (a stack nesting the
	// same child many times at many levels would grow without bound).
	nestedReads int
	fsys        fs.FS
	prefix      string
	opt         Options
	est         *estate.Estate
	stats       Stats
}

func (l *loader) display(p string) string {
	if l.prefix == "" {
		return p
	}
	return path.Join(l.prefix, p)
}

func (l *loader) broken(p string, line int, why string) {
	l.stats.Broken++
	l.est.Broken = append(l.est.Broken, estate.Broken{Loc: estate.Loc{File: l.display(p), Line: line}, Reason: why})
}

func (l *loader) terraform(dir string) {
	e := terraform.ReadDir(l.fsys, dir, terraform.Options{Owner: l.opt.Owner, Partition: l.opt.Partition, Prefix: l.prefix})
	l.stats.TerraformModules++
	l.stats.Broken += len(e.Broken)
	l.est.Add(e)
}

// file reads one JSON or YAML file when it is a plan or a template. named
// is true when the user gave the file itself: then a file that does not
// parse is broken even when it cannot be told what it was meant to be.
func (l *loader) file(p string, named bool) bool {
	data, err := readCapped(l.fsys, p)
	if err != nil {
		l.broken(p, 0, err.Error())
		return true
	}
	kind := sniff(p, data)
	if kind == kindNone && named {
		kind = guessNamed(p)
	}
	switch kind {
	case kindPlan:
		l.stats.Plans++
		e := terraform.ReadPlan(data, l.display(p), terraform.Options{Owner: l.opt.Owner, Partition: l.opt.Partition})
		l.stats.Broken += len(e.Broken)
		l.est.Add(e)
	case kindTemplate:
		l.stats.Templates++
		owner := l.opt.Owner
		if acct := l.cdkAccount(p); acct != "" {
			owner = acct
		}
		e := cloudformation.Read(data, l.display(p), cloudformation.Options{Owner: owner, Partition: l.opt.Partition, Path: p, Open: l.openNested,
			StackName: l.stackNames[p], Overrides: l.samConfig(path.Dir(p))})
		l.stats.Broken += len(e.Broken)
		l.est.Add(e)
	default:
		return false
	}
	return true
}

// stackName names a stack after its template's path (app-a/template.yaml
// is app-a-template; cdk.out/Api.template.json is Api).
func stackName(p string) string {
	base := path.Base(p)
	dir := path.Dir(p)
	if strings.HasSuffix(base, ".template.json") && path.Base(dir) == "cdk.out" {
		return strings.TrimSuffix(base, ".template.json")
	}
	s := strings.TrimSuffix(p, path.Ext(p))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.TrimPrefix(s, "./"))
}

// cdkAccount is the account a CDK stack's template deploys to, from the
// environment cdk.out/manifest.json gives it (aws://ACCOUNT/REGION); ""
// when the manifest names none (unknown-account) or there is no manifest.
func (l *loader) cdkAccount(p string) string {
	dir := path.Dir(p)
	if l.cdkAccounts == nil {
		l.cdkAccounts = map[string]map[string]string{}
	}
	accts, ok := l.cdkAccounts[dir]
	if !ok {
		accts = map[string]string{}
		l.cdkAccounts[dir] = accts
		data, err := readCapped(l.fsys, path.Join(dir, "manifest.json"))
		if err == nil {
			var m struct {
				Artifacts map[string]struct {
					Type        string `json:"type"`
					Environment string `json:"environment"`
					Properties  struct {
						TemplateFile string `json:"templateFile"`
					} `json:"properties"`
				} `json:"artifacts"`
			}
			if json.Unmarshal(data, &m) == nil {
				for _, a := range m.Artifacts {
					env := strings.TrimPrefix(a.Environment, "aws://")
					acct, _, _ := strings.Cut(env, "/")
					if a.Type == "aws:cloudformation:stack" && a.Properties.TemplateFile != "" && isAccountID(acct) {
						accts[path.Join(dir, a.Properties.TemplateFile)] = acct
					}
				}
			}
		}
	}
	return accts[p]
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// samConfig reads the parameter_overrides of the samconfig file of a
// template's folder (sam deploy's default configuration file).
func (l *loader) samConfig(dir string) map[string]cloudformation.Override {
	for _, n := range []string{"samconfig.toml", "samconfig.yaml", "samconfig.yml"} {
		p := path.Join(dir, n)
		data, err := readCapped(l.fsys, p)
		if err != nil {
			continue
		}
		return cloudformation.SAMConfig(data, l.display(p))
	}
	return nil
}

// openNested reads the template of a nested stack.
func (l *loader) openNested(p string) ([]byte, string, error) {
	if !fs.ValidPath(p) {
		return nil, "", fmt.Errorf("the nested template %s is not a path inside the folder read", p)
	}
	if l.nestedReads >= maxNestedReads {
		return nil, "", fmt.Errorf("more than %d nested templates in the tree; %s is not read", maxNestedReads, l.display(p))
	}
	l.nestedReads++
	data, err := readCapped(l.fsys, p)
	if err != nil {
		return nil, "", fmt.Errorf("the nested template %s: %v", l.display(p), err)
	}
	l.stats.Templates++
	return data, l.display(p), nil
}

func readCapped(fsys fs.FS, p string) ([]byte, error) {
	st, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	if st.Size() > maxFile {
		return nil, fmt.Errorf("the file is larger than %d MiB; not read", maxFile>>20)
	}
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	return b, nil
}

type kind int

const (
	kindNone kind = iota
	kindPlan
	kindTemplate
)

// sniff tells a plan or a template from other JSON and YAML (package
// manifests, CDK's manifest.json and tree.json, CI files) by the keys
// each must have, read from the text: a template that does not parse is
// still recognised, so it is reported as broken rather than skipped.
func sniff(p string, data []byte) kind {
	head := data
	if len(head) > 1<<20 {
		head = head[:1<<20]
	}
	ext := strings.ToLower(path.Ext(p))
	if ext == ".json" && bytes.Contains(head, []byte(`"format_version"`)) &&
		(bytes.Contains(head, []byte(`"planned_values"`)) || bytes.Contains(head, []byte(`"resource_changes"`)) ||
			bytes.Contains(head, []byte(`"values"`)) && bytes.Contains(head, []byte(`"root_module"`))) {
		return kindPlan
	}
	if ext == ".json" {
		// A JSON file that parses is a template only with the sections
		// at its top (CDK's tree.json and manifest.json name resource
		// types deep inside).
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err == nil {
			if _, ok := top["Resources"]; !ok {
				if _, ok := top["AWSTemplateFormatVersion"]; !ok {
					return kindNone
				}
			}
		} else if _, isSyntax := err.(*json.SyntaxError); !isSyntax {
			return kindNone // valid JSON, not an object
		}
	}
	if bytes.Contains(head, []byte("AWSTemplateFormatVersion")) {
		return kindTemplate
	}
	if bytes.Contains(head, []byte("Resources")) && (bytes.Contains(head, []byte("AWS::Lambda::")) || bytes.Contains(head, []byte("AWS::Serverless::")) ||
		bytes.Contains(head, []byte("AWS::CloudFormation::Stack"))) {
		return kindTemplate
	}
	return kindNone
}

func guessNamed(p string) kind {
	switch strings.ToLower(path.Ext(p)) {
	case ".yaml", ".yml", ".template":
		return kindTemplate
	case ".json":
		if strings.HasSuffix(p, ".template.json") {
			return kindTemplate
		}
	}
	return kindNone
}
