package estate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// stmt is one statement with where it was declared.
type stmt struct {
	raw json.RawMessage
	src inventory.Source
}

// fullPolicy is a resource policy attached to one node, split.
type fullPolicy struct {
	loc     Loc
	version json.RawMessage
	stmts   []json.RawMessage
}

// node is one policy-bearing resource being assembled.
type node struct {
	kind      inventory.Kind
	name      string
	qualifier string
	region    string
	account   string
	decl      *Loc // where the resource itself is declared, if it is
	fn        *Function
	perms     []stmt
	full      []fullPolicy
	unknown   []string
	url       *URL
	layer     bool
	// failedAt is the first declaration that made the node unknown.
	failedAt *Loc
	// fullUnknown says why a full resource policy on the node could not
	// be read: it may reach the function's aliases and versions too.
	fullUnknown []string
}

func (n *node) fail(l Loc, why string) {
	n.unknown = append(n.unknown, l.Where()+": "+why)
	if n.failedAt == nil {
		n.failedAt = &l
	}
}

// builder holds the nodes by function (or layer) name and qualifier.
type builder struct {
	opt   Options
	nodes map[string]*node
	order []string
	extra []*inventory.Resource
	// unattached is set when some grant was read without the function
	// it lands on (a function whose name is unresolved may be it).
	unattached bool
}

func key(layer bool, name, qualifier string) string {
	k := "f"
	if layer {
		k = "l"
	}
	return k + "\x00" + name + "\x00" + qualifier
}

func (b *builder) get(layer bool, r ref) *node {
	k := key(layer, r.name, r.qualifier)
	if n, ok := b.nodes[k]; ok {
		if n.region == "" {
			n.region = r.region
		}
		if n.account == "" {
			n.account = r.account
		}
		return n
	}
	n := &node{name: r.name, qualifier: r.qualifier, region: r.region, account: r.account, layer: layer}
	switch {
	case layer:
		n.kind = inventory.KindLayerVersion
	case r.qualifier == "":
		n.kind = inventory.KindFunction
	case r.qualifier == Published || r.qualifier == "$LATEST" || isDigits(r.qualifier):
		n.kind = inventory.KindVersion
	default:
		n.kind = inventory.KindAlias
	}
	b.nodes[k] = n
	b.order = append(b.order, k)
	return n
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// target finds the node a declaration attaches to; an empty function
// reference makes the declaration a resource of its own, unknown.
func (b *builder) target(function, qualifier string, l Loc, why string) *node {
	if strings.TrimSpace(function) == "" {
		b.unknownResource(l, why)
		return nil
	}
	r := parseRef(function, "function")
	if r.region == "" {
		r.region = l.Region
	}
	if qualifier != "" {
		r.qualifier = qualifier
	}
	return b.get(false, r)
}

// unattachedName is the name a declaration attaching to an unresolved
// function is listed under: its address, else its file and line.
func unattachedName(l Loc) string {
	if l.Address != "" {
		return l.Address
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// unknownResource is a declaration that attaches to nothing the reader
// could resolve: it is listed on its own, unknown, at its line.
func (b *builder) unknownResource(l Loc, why string) {
	name := unattachedName(l)
	b.extra = append(b.extra, &inventory.Resource{
		ARN: b.opt.FunctionARN("", "", name, ""), Kind: inventory.KindFunction, Account: b.opt.Owner, Region: b.opt.Region, Name: name,
		Unknown: l.Where() + ": " + why, Source: l.Source(),
	})
}

// Build turns the estate into inventory resources, in ARN order.
func Build(e *Estate, opt Options) []*inventory.Resource {
	opt.fill()
	b := &builder{opt: opt, nodes: map[string]*node{}}
	for i := range e.Functions {
		f := &e.Functions[i]
		if f.Name == "" {
			b.unknownResource(f.Loc, orDefault(f.Unknown, "the function name cannot be resolved"))
			continue
		}
		n := b.get(false, ref{name: f.Name, region: orDefault(f.Region, f.Loc.Region), account: f.Account})
		n.fn, n.decl = f, &f.Loc
		if f.Unknown != "" {
			n.fail(f.Loc, f.Unknown)
		}
	}
	for i := range e.Aliases {
		a := &e.Aliases[i]
		if a.Name == "" && a.Unknown == "" {
			a.Unknown = "the alias name cannot be resolved"
		}
		n := b.target(a.Function, a.Name, a.Loc, orDefault(a.Unknown, "the function it belongs to cannot be resolved"))
		if n == nil {
			continue
		}
		if n.kind == inventory.KindFunction {
			// The alias name could not be resolved: its grants cannot
			// be told from the function's.
			n.fail(a.Loc, a.Unknown)
			continue
		}
		n.kind, n.decl = inventory.KindAlias, &a.Loc
		if a.Unknown != "" {
			n.fail(a.Loc, a.Unknown)
		}
	}
	for i := range e.Versions {
		v := &e.Versions[i]
		q := v.Version
		if q == "" {
			q = Published
		}
		n := b.target(v.Function, q, v.Loc, orDefault(v.Unknown, "the function it belongs to cannot be resolved"))
		if n == nil {
			continue
		}
		n.kind, n.decl = inventory.KindVersion, &v.Loc
		if v.Unknown != "" {
			n.fail(v.Loc, v.Unknown)
		}
	}
	for i := range e.URLs {
		u := &e.URLs[i]
		n := b.target(u.Function, u.Qualifier, u.Loc, orDefault(u.Unknown, "the function it belongs to cannot be resolved"))
		if n == nil {
			continue
		}
		n.url = u
		if u.Unknown != "" {
			n.fail(u.Loc, u.Unknown)
		}
	}
	for i := range e.Permissions {
		p := &e.Permissions[i]
		if strings.TrimSpace(p.Function) == "" && p.FunctionUnknown != "" && p.Unknown == "" {
			// The grant is read but not the function it lands on: it is
			// listed on its own, under its address, and judged by the
			// grant when that alone is public (resource: a public grant
			// makes any function public); otherwise it is unknown.
			b.unattached = true
			n := b.get(false, ref{name: unattachedName(p.Loc)})
			if n.decl == nil {
				n.decl = &p.Loc
			}
			n.fail(p.Loc, p.FunctionUnknown)
			arn := opt.FunctionARN(n.region, n.account, n.name, "")
			n.perms = append(n.perms, stmt{PermissionStatement(*p, arn, opt.Partition), p.Loc.Source()})
			continue
		}
		if p.FunctionUnknown != "" {
			p.Unknown = strings.Join(nonEmpty(p.FunctionUnknown, p.Unknown), "; ")
		}
		n := b.target(p.Function, p.Qualifier, p.Loc, orDefault(p.Unknown, "the function it grants on cannot be resolved"))
		if n == nil {
			continue
		}
		if p.Unknown != "" {
			n.fail(p.Loc, p.Unknown)
			continue
		}
		arn := opt.FunctionARN(n.region, n.account, n.name, n.qualifier)
		n.perms = append(n.perms, stmt{PermissionStatement(*p, arn, opt.Partition), p.Loc.Source()})
	}
	for i := range e.ResourcePolicies {
		rp := &e.ResourcePolicies[i]
		n := b.target(rp.Target, "", rp.Loc, orDefault(rp.Unknown, "the function it is attached to cannot be resolved"))
		if n == nil {
			continue
		}
		if rp.Unknown != "" {
			n.fail(rp.Loc, rp.Unknown)
			n.fullUnknown = append(n.fullUnknown, rp.Loc.Where()+": "+rp.Unknown)
			continue
		}
		version, stmts, err := splitPolicy(rp.Document)
		if err != nil {
			why := "the policy is not a valid policy document: " + err.Error()
			n.fail(rp.Loc, why)
			n.fullUnknown = append(n.fullUnknown, rp.Loc.Where()+": "+why)
			continue
		}
		n.full = append(n.full, fullPolicy{loc: rp.Loc, version: version, stmts: stmts})
	}
	for i := range e.Layers {
		l := &e.Layers[i]
		if l.Name == "" {
			b.unknownResource(l.Loc, orDefault(l.Unknown, "the layer name cannot be resolved"))
			continue
		}
		n := b.get(true, ref{name: l.Name, qualifier: orDefault(l.Version, Published), region: orDefault(l.Region, l.Loc.Region)})
		n.decl = &l.Loc
		if l.Unknown != "" {
			n.fail(l.Loc, l.Unknown)
		}
	}
	for i := range e.LayerPermissions {
		lp := &e.LayerPermissions[i]
		if strings.TrimSpace(lp.Layer) == "" && lp.LayerUnknown != "" && lp.Unknown == "" {
			// The grant is read but not the layer it shares: listed
			// under its address, public when the grant alone is.
			n := b.get(true, ref{name: unattachedName(lp.Loc), qualifier: Published})
			if n.decl == nil {
				n.decl = &lp.Loc
			}
			n.fail(lp.Loc, lp.LayerUnknown)
			arn := opt.LayerARN(n.region, n.account, n.name, n.qualifier)
			n.perms = append(n.perms, stmt{LayerStatement(*lp, arn, opt.Partition), lp.Loc.Source()})
			continue
		}
		if lp.LayerUnknown != "" {
			lp.Unknown = strings.Join(nonEmpty(lp.LayerUnknown, lp.Unknown), "; ")
		}
		if strings.TrimSpace(lp.Layer) == "" {
			b.unknownResource(lp.Loc, orDefault(lp.Unknown, "the layer it shares cannot be resolved"))
			continue
		}
		r := parseRef(lp.Layer, "layer")
		if r.region == "" {
			r.region = lp.Region
		}
		if lp.Version != "" {
			r.qualifier = lp.Version
		}
		if r.qualifier == "" {
			r.qualifier = Published
		}
		n := b.get(true, r)
		if lp.Unknown != "" {
			n.fail(lp.Loc, lp.Unknown)
			continue
		}
		arn := opt.LayerARN(n.region, n.account, n.name, n.qualifier)
		n.perms = append(n.perms, stmt{LayerStatement(*lp, arn, opt.Partition), lp.Loc.Source()})
	}
	if len(b.extra) > 0 || b.unattached {
		for i := range e.Functions {
			f := &e.Functions[i]
			if f.Name == "" || f.NameUnresolved == "" {
				continue
			}
			if n := b.nodes[key(false, f.Name, "")]; n != nil {
				n.fail(f.Loc, f.NameUnresolved+"; a declaration whose function cannot be resolved may grant on it")
			}
		}
	}
	out := append([]*inventory.Resource(nil), b.extra...)
	for _, k := range b.order {
		out = append(out, b.resource(b.nodes[k]))
	}
	for _, br := range e.Broken {
		id := br.File
		if br.Address != "" {
			// A part of a file (a nested stack that cannot be followed):
			// one entry each.
			id += "#" + br.Address
		}
		out = append(out, &inventory.Resource{
			ARN: id, Kind: "file", Account: opt.Owner, Name: id,
			Unknown: br.Where() + ": " + br.Reason, Source: br.Loc.Source(),
		})
	}
	sortResources(out)
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// resource assembles one node into an inventory resource.
func (b *builder) resource(n *node) *inventory.Resource {
	opt := b.opt
	r := &inventory.Resource{Kind: n.kind, Name: n.name, Qualifier: n.qualifier,
		Account: orDefault(n.account, opt.Owner), Region: orDefault(n.region, opt.Region),
		// The code fixes neither the Region nor, without --account, the
		// account, so a statement's Resource is matched on its resource
		// part here (appliesTo) and every statement kept counts.
		ARNInferred: true,
	}
	if n.layer {
		r.ARN = opt.LayerARN(n.region, n.account, n.name, n.qualifier)
		if v, err := strconv.ParseInt(n.qualifier, 10, 64); err == nil {
			r.LayerVersion = v
		}
	} else {
		r.ARN = opt.FunctionARN(n.region, n.account, n.name, n.qualifier)
	}
	if n.decl != nil {
		r.Source = n.decl.Source()
	} else if fn := b.function(n.name); fn != nil && fn.decl != nil {
		r.Source = fn.decl.Source()
	} else if len(n.perms) > 0 {
		// Declared nowhere in the code (created elsewhere): point at the
		// first grant on it.
		r.Source = n.perms[0].src
	} else if len(n.full) > 0 {
		r.Source = n.full[0].loc.Source()
	} else if n.url != nil {
		r.Source = n.url.Loc.Source()
	}
	if f := n.fn; f != nil {
		r.Runtime, r.Role, r.VPC, r.ConfigKnown = f.Runtime, f.Role, f.VPC, f.ConfigKnown
	}
	if n.url != nil && n.url.Unknown == "" {
		r.URL = &inventory.FunctionURL{AuthType: n.url.AuthType, CORS: n.url.CORS}
	}
	if n.kind == inventory.KindFunction || n.kind == inventory.KindAlias {
		r.URLChecked = true
	}
	if len(n.unknown) > 0 {
		if pub := b.certainlyPublic(n, r); pub != nil {
			pub.Unresolved = strings.Join(n.unknown, "; ")
			return pub
		}
		r.Unknown = strings.Join(n.unknown, "; ")
		// Point at what could not be read: that is what to change.
		r.Source = n.failedAt.Source()
		return r
	}
	b.attachPolicy(n, r)
	return r
}

// certainlyPublic returns the resource judged on the statements that were
// read when they already make it public: what could not be read adds
// only Allow statements (permissions, a URL, an alias), and public is the
// worst class, so the deployed policy is public whatever they say, as a
// live scan would find it. A full resource policy that could not be read
// may hold a Deny: then nil, and the resource stays unknown.
func (b *builder) certainlyPublic(n *node, r *inventory.Resource) *inventory.Resource {
	if len(n.fullUnknown) > 0 {
		return nil
	}
	known := *r
	b.attachPolicy(n, &known)
	if known.Policy == nil {
		return nil
	}
	// Inherited statements are Allows only: one that could not be read
	// does not lower the class either.
	known.FunctionPolicyUnknown = ""
	subj, err := rules.NewSubject(&known, rules.Trust{})
	if err != nil || subj.Result.Exposure != policy.Public {
		return nil
	}
	return &known
}

// function is the unqualified node of a function name, if any.
func (b *builder) function(name string) *node {
	return b.nodes[key(false, name, "")]
}

// attachPolicy gathers the statements that reach the resource: its own
// permissions, the statements of its own full policies that apply to
// it, and for an alias or version the Allow statements of the function's
// full policies whose Resource covers it (SEMANTICS.md section 1, our
// stricter reading).
func (b *builder) attachPolicy(n *node, r *inventory.Resource) {
	part := "function:" + n.name
	if n.layer {
		part = "layer:" + n.name
	}
	if n.qualifier != "" {
		part += ":" + n.qualifier
	}
	var stmts []json.RawMessage
	var srcs []inventory.Source
	var version json.RawMessage
	origin := inventory.OriginAddPermission
	for _, fp := range n.full {
		origin = inventory.OriginResourcePolicy
		if version == nil {
			version = fp.version
		}
		for _, s := range fp.stmts {
			if f, ok := readFacts(s); ok && !f.appliesTo(part) {
				continue
			}
			stmts = append(stmts, s)
			srcs = append(srcs, fp.loc.Source())
		}
	}
	for _, p := range n.perms {
		stmts = append(stmts, p.raw)
		srcs = append(srcs, p.src)
	}
	inherited := 0
	if fn := b.function(n.name); !n.layer && n.qualifier != "" && fn != nil && len(fn.fullUnknown) == 0 {
		for _, fp := range fn.full {
			for _, s := range fp.stmts {
				f, ok := readFacts(s)
				if !ok || !f.allow || len(f.resources) == 0 || f.notResource || !f.appliesTo(part) {
					continue
				}
				stmts = append(stmts, s)
				srcs = append(srcs, fp.loc.Source())
				inherited++
			}
		}
	} else if fn != nil && n.qualifier != "" && !n.layer {
		r.FunctionPolicyUnknown = strings.Join(fn.fullUnknown, "; ")
	}
	if len(stmts) == 0 {
		return
	}
	r.Policy = &inventory.Policy{Document: policyText(version, stmts), Origin: origin, Source: srcs[0], Statements: srcs}
	if inherited > 0 {
		r.Policy.Origin = inventory.OriginResourcePolicy
	}
}
