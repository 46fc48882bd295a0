package rules

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// SCP is one organization service control policy file (--scp): the SCPs
// of one level of the organization (root, OU or account).
type SCP struct {
	Name string // the file, for explanations
	Doc  *policy.Document
}

// PathCache judges each account's roles once, however many of its
// resources are judged, and keeps what could not be judged so the scan
// can say it is incomplete. Safe for concurrent use.
type PathCache struct {
	mu       sync.Mutex
	accounts map[*inventory.AccountIAM]*accountRoles
	problems []string
	seen     map[string]bool
}

// NewPathCache returns an empty cache; put it in Trust.Paths.
func NewPathCache() *PathCache {
	return &PathCache{accounts: map[*inventory.AccountIAM]*accountRoles{}, seen: map[string]bool{}}
}

// Problems lists the roles whose paths could not be judged (a trust or
// permissions policy that does not parse, a document IAM did not return):
// their paths are unknown, and the scan is incomplete.
func (c *PathCache) Problems() []string {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.problems...)
	sort.Strings(out)
	return out
}

func (c *PathCache) problem(p string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if !c.seen[p] {
		c.seen[p] = true
		c.problems = append(c.problems, p)
	}
	c.mu.Unlock()
}

// accountRoles is an account's roles, judged: only those an outsider may
// assume matter for paths.
type accountRoles struct {
	outside []*outsideRole
	// unknown lists, for resources' notes, roles whose paths are unknown.
	unknown []string
}

// outsideRole is a role that principals outside the trust boundary may
// assume, with everything that decides what its sessions may do.
type outsideRole struct {
	arn, name string
	assumers  []policy.Assumer
	set       policy.PermissionSet
}

func (c *PathCache) judged(a *inventory.AccountIAM, trust Trust) *accountRoles {
	if c == nil {
		return judgeAccount(a, trust)
	}
	c.mu.Lock()
	j, ok := c.accounts[a]
	c.mu.Unlock()
	if ok {
		return j
	}
	j = judgeAccount(a, trust)
	c.mu.Lock()
	c.accounts[a] = j
	c.mu.Unlock()
	return j
}

// judgeAccount reads every role's trust policy, and for the roles an
// outsider may assume, their permissions policies, boundary and the SCPs
// that apply to the account.
func judgeAccount(a *inventory.AccountIAM, trust Trust) *accountRoles {
	out := &accountRoles{}
	ctx := policy.Context{Owner: a.Account, Trusted: trust.Trusted, OrgID: trust.OrgID}
	var scps []policy.IdentityPolicy
	if a.Account != trust.ManagementAccount || a.Account == "" {
		// SCPs do not restrict the management account.
		for _, s := range trust.SCPs {
			scps = append(scps, policy.IdentityPolicy{Name: "SCP " + s.Name, ID: s.Name, Doc: s.Doc})
		}
	}
	for i := range a.Roles {
		r := &a.Roles[i]
		unknown := func(why string) {
			msg := "role " + r.ARN + ": " + why + "; access paths through it are unknown"
			trust.Paths.problem("account " + a.Account + ": " + msg)
			out.unknown = append(out.unknown, msg)
		}
		if r.TrustPolicy == "" {
			if r.Unknown != "" {
				// The trust policy could not be read: who may assume the
				// role is unknown, not nobody.
				unknown(r.Unknown)
			}
			continue // no trust policy: nobody named to assume it
		}
		td, err := policy.Parse([]byte(r.TrustPolicy))
		if err != nil {
			unknown("its trust policy does not parse (" + err.Error() + ")")
			continue
		}
		v := policy.JudgeTrust(td, r.ARN, ctx)
		if len(v.Assumers) == 0 {
			continue
		}
		if r.Unknown != "" {
			unknown(r.Unknown)
			continue
		}
		or := &outsideRole{arn: r.ARN, name: r.Name, assumers: v.Assumers}
		or.set = policy.PermissionSet{
			SCPs:   scps,
			Caller: policy.Caller{Kind: policy.CallerIAM, Account: a.Account, ARN: r.ARN},
			Known:  policy.RoleSessionContext(a.Account, r.ARN, trust.OrgID),
		}
		bad := false
		for _, p := range r.Policies {
			d, err := policy.ParseIdentity([]byte(p.Document))
			if err != nil {
				unknown("its policy " + policyLabel(p) + " does not parse (" + err.Error() + ")")
				bad = true
				break
			}
			or.set.Identity = append(or.set.Identity, policy.IdentityPolicy{Name: policyName(p), ID: policyID(p), Doc: d})
		}
		if bad {
			continue
		}
		if b := r.Boundary; b != nil {
			d, err := policy.ParseIdentity([]byte(b.Document))
			if err != nil {
				unknown("its permission boundary " + b.ARN + " does not parse (" + err.Error() + ")")
				continue
			}
			or.set.Boundary = &policy.IdentityPolicy{Name: b.ARN, ID: b.ARN, Doc: d}
		}
		out.outside = append(out.outside, or)
	}
	return out
}

func policyID(p inventory.RolePolicy) string {
	if p.ARN != "" {
		return p.ARN
	}
	return p.Name
}

func policyName(p inventory.RolePolicy) string {
	if p.ARN != "" {
		return "the managed policy " + p.ARN
	}
	return `the inline policy "` + p.Name + `"`
}

func policyLabel(p inventory.RolePolicy) string {
	if p.ARN != "" {
		return p.ARN
	}
	return `"` + p.Name + `"`
}

// RolePath is one outside path to a resource through one role.
type RolePath struct {
	RoleARN   string
	Assumers  []policy.Assumer
	Effective *policy.Effective
}

// Class is the worst class among the role's outside assumers.
func (p *RolePath) Class() policy.Class {
	c := policy.ClassNone
	for _, a := range p.Assumers {
		if a.Class > c {
			c = a.Class
		}
	}
	return c
}

// judgePaths finds the outside paths to the subject's resource.
func (s *Subject) judgePaths(trust Trust) {
	res := s.Resource
	a := res.AccountIAM
	if !isFunctionKind(res.Kind) {
		return
	}
	if a == nil {
		s.gap(pathRuleID, "access paths through roles were not collected", false)
		return
	}
	if a.Unknown != "" {
		s.Notes = append(s.Notes, "Access paths through assumable roles are unknown: the account's roles could not be read ("+a.Unknown+").")
		s.gap(pathRuleID, "the account's roles could not be read: "+a.Unknown, true)
		return
	}
	j := trust.Paths.judged(a, trust)
	for _, u := range j.unknown {
		s.Notes = append(s.Notes, "Access paths through the "+u+".")
	}
	if len(j.unknown) > 0 {
		s.gap(pathRuleID, "paths through "+joinAnd(j.unknown, 2), true)
	}
	for _, or := range j.outside {
		set := or.set
		set.Own, set.Function = s.Own, s.Function
		e := set.Evaluate(res.ARN)
		if e.Empty() {
			continue
		}
		s.Paths = append(s.Paths, RolePath{RoleARN: or.arn, Assumers: or.assumers, Effective: e})
	}
}

const pathRuleID = "lambda-external-path-via-role"

func isFunctionKind(k inventory.Kind) bool {
	return k == inventory.KindFunction || k == inventory.KindAlias || k == inventory.KindVersion
}

// pathHits turns each path into one hit: one finding per (resource, role).
func pathHits(s *Subject) []Hit {
	var out []Hit
	for i := range s.Paths {
		p := &s.Paths[i]
		out = append(out, Hit{
			Exposure:    p.Class(),
			Explanation: pathExplanation(s.Resource, p),
			Remediation: pathRemediation(p),
			Path:        pathRecord(p),
			Actions:     p.Effective.Actions(),
		})
	}
	return out
}

// sortedAssumers puts the worst first, keeping the policy's order among
// equals.
func sortedAssumers(as []policy.Assumer) []policy.Assumer {
	out := append([]policy.Assumer(nil), as...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Class > out[j].Class })
	return out
}

func pathRecord(p *RolePath) *finding.Path {
	as := sortedAssumers(p.Assumers)
	rec := &finding.Path{ViaRole: p.RoleARN, Actions: p.Effective.Actions(), ConditionalActions: p.Effective.Conditional()}
	for _, a := range as {
		rec.From = append(rec.From, finding.PathPrincipal{
			Principal: a.Principal, Kind: string(a.Kind), Account: a.Account, Accounts: a.Accounts, Exposure: a.Class.String(),
			TrustStatement: finding.StatementRef{Sid: a.Statement.Sid, Index: a.Statement.Index}, Narrowed: a.Narrowed,
		})
	}
	if len(rec.From) > 0 {
		rec.TrustStatement = rec.From[0].TrustStatement
	}
	if g := p.Effective.FirstGrant(); g != nil {
		rec.PermissionStatement = finding.PermissionRef{Policy: g.PolicyID, Sid: g.Statement.Sid, Index: g.Statement.Index}
	}
	return rec
}

func pathExplanation(res *inventory.Resource, p *RolePath) string {
	as := sortedAssumers(p.Assumers)
	var b strings.Builder
	whos := make([]string, 0, len(as))
	for _, a := range as {
		whos = append(whos, a.Who)
	}
	b.WriteString(upperFirst(joinAnd(whos, 4)))
	b.WriteString(" can assume the role ")
	b.WriteString(p.RoleARN)
	b.WriteString(": its trust policy ")
	first := as[0]
	b.WriteString(stmtRefLabel(first.Statement))
	if len(as) == 1 {
		b.WriteString(" lets them call ")
	} else {
		b.WriteString(" lets " + first.Who + " call ")
	}
	b.WriteString(strings.Join(first.Actions(), ", "))
	b.WriteString(" (")
	b.WriteString(first.Reason)
	if first.Narrowed != "" {
		b.WriteString("; ")
		b.WriteString(first.Narrowed)
	}
	b.WriteString("). ")
	var grants []string
	for i := range p.Effective.Grants {
		g := &p.Effective.Grants[i]
		switch {
		case (g.PolicyID == "resource" || g.PolicyID == "function") && g.Statement.NamesEveryone():
			grants = append(grants, g.Describe()+` (a grant to "*": its conditions hold for a session of the role, which needs no identity policy in its own account)`)
		case g.PolicyID == "resource" || g.PolicyID == "function":
			grants = append(grants, g.Describe()+" (it names the role)")
		default:
			grants = append(grants, "the role's "+strings.TrimPrefix(g.Describe(), "the "))
		}
	}
	b.WriteString(upperFirst(joinAnd(grants, 2)))
	b.WriteString(", so through the role they can call ")
	acts := p.Effective.Actions()
	if len(acts) > 4 {
		b.WriteString(strings.Join(acts[:4], ", ") + " and " + itoa(len(acts)-4) + " more Lambda actions")
	} else {
		b.WriteString(strings.Join(acts, ", "))
	}
	b.WriteString(" on this " + string(res.Kind) + ".")
	if len(p.Effective.Blocks) > 0 {
		var by []string
		for _, bl := range p.Effective.Blocks {
			by = append(by, bl.By+" takes away "+strings.Join(bl.Actions(), ", "))
		}
		b.WriteString(" (" + upperFirst(joinAnd(by, 2)) + ".)")
	}
	groups := map[policy.Group]bool{}
	for _, g := range p.Effective.Groups() {
		groups[g] = true
	}
	if groups[policy.GroupWrite] {
		b.WriteString(" Outsiders could change its code or permissions.")
	}
	if p.Effective.Allows("lambda:GetFunction") {
		b.WriteString(" lambda:GetFunction hands out a download link to the code and the environment variables.")
	}
	if c := p.Effective.Conditional(); len(c) > 0 {
		why := strings.Join(p.Effective.Notes, " ")
		if why == "" {
			// The grants above name their conditions.
			why = "those of the grants above, for " + strings.Join(c, ", ")
		}
		b.WriteString(" Some of this rests on conditions not known at scan time (" + why + "); they are counted as if they hold.")
	} else if len(p.Effective.Notes) > 0 {
		b.WriteString(" " + strings.Join(p.Effective.Notes, " "))
	}
	return b.String()
}

func pathRemediation(p *RolePath) finding.Remediation {
	name := ShellQuote(roleNameOf(p.RoleARN))
	first := sortedAssumers(p.Assumers)[0]
	text := "Remove the outside principals from the role's trust policy, or, if they are partners, declare their accounts trusted (--trusted-account); a web identity trust needs a StringEquals condition on the provider's sub claim naming the exact repository or subject. Otherwise take the Lambda actions out of the role's policies or add a permission boundary without them."
	return finding.Remediation{
		Text: text,
		Commands: []string{
			"aws iam get-role --role-name " + name + " --query Role.AssumeRolePolicyDocument > trust.json",
			"# edit trust.json: remove or pin " + stmtName(first.Statement) + " (" + first.Principal + ")",
			"aws iam update-assume-role-policy --role-name " + name + " --policy-document file://trust.json",
		},
	}
}

func stmtRefLabel(st *policy.Statement) string {
	if st.Sid != "" {
		return `statement "` + st.Sid + `"`
	}
	return "statement " + itoa(st.Index) + " (no Sid)"
}

// joinAnd joins at most n items with commas and "and", saying how many
// more there are.
func joinAnd(items []string, n int) string {
	switch {
	case len(items) == 0:
		return ""
	case len(items) > n:
		return strings.Join(items[:n], ", ") + " and " + itoa(len(items)-n) + " more"
	case len(items) == 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// upperFirst starts a sentence; an ARN keeps its case.
func upperFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "arn:") {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func itoa(n int) string { return strconv.Itoa(n) }
