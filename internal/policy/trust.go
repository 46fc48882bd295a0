package policy

import (
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// AssumerKind is what kind of outsider can assume a role.
type AssumerKind string

// Assumer kinds.
const (
	AssumerAccount  AssumerKind = "account"  // a foreign account, or a user or role in one
	AssumerEveryone AssumerKind = "everyone" // "*" and its equivalents: any AWS account
	AssumerOIDC     AssumerKind = "oidc"     // a web identity (OIDC) provider's users
	AssumerSAML     AssumerKind = "saml"     // a SAML identity provider's users
	AssumerOpaque   AssumerKind = "opaque"   // a unique ID whose account cannot be read
)

// Assumer is one principal outside the owner and the trusted accounts that
// a role's trust policy lets assume the role.
type Assumer struct {
	// Principal is the value as written in the trust policy.
	Principal string
	// Who describes it for people.
	Who     string
	Kind    AssumerKind
	Account string // AssumerAccount: the foreign account
	// Accounts, for AssumerEveryone, are the accounts a condition or a
	// Deny confines "*" to, when it names them (nil: not confined to
	// named accounts, e.g. unpinned or pinned to an organization).
	Accounts []string
	// Class is Public (anyone: "*" unpinned, a web identity provider with
	// no subject pin) or CrossAccount (named outsiders, a pinned or SAML
	// federation).
	Class     Class
	Statement *Statement
	// Reason says why the principal is outside the trust boundary.
	Reason string
	// Narrowed says what narrows it without making it trusted (an
	// sts:ExternalId condition), or "".
	Narrowed string
	actions  actionSet
}

// Actions lists the sts actions the trust statement lets it call.
func (a *Assumer) Actions() []string { return a.actions.names() }

// TrustVerdict is the judgement of a role's trust policy.
type TrustVerdict struct {
	Assumers []Assumer
	Notes    []string
}

// assumeActions are the calls that hand out the role's credentials;
// sts:TagSession and sts:SetSourceIdentity only accompany them.
var assumeActions = func() actionSet {
	var s actionSet
	for _, n := range []string{"sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"} {
		s = s.with(actionIndex[n])
	}
	return s
}()

// JudgeTrust reads a role's trust policy and returns every principal
// outside ctx's trust boundary (the owner, the trusted accounts, the
// organization) that may assume the role. Conditions are judged like
// resource-policy pins (SEMANTICS.md section 4): they narrow only "*";
// a named foreign account stays cross-account whatever they say, and
// sts:ExternalId is recorded as a narrowing, never as trust. A web
// identity provider is public unless its subject claim is pinned.
func JudgeTrust(d *Document, roleARN string, ctx Context) *TrustVerdict {
	ctx.Resource, ctx.Kind = roleARN, inventory.KindExecutionRole
	if ctx.Owner == "" {
		if a, err := inventory.ParseARN(roleARN); err == nil {
			ctx.Owner = a.Account
		}
	}
	a := &analyzer{ctx: ctx, mask: assumeActions}
	if len(ctx.Trusted) > 0 {
		a.trusted = map[string]bool{}
		for _, t := range ctx.Trusted {
			a.trusted[t] = true
		}
	}
	for _, s := range d.Statements {
		if s.Effect == Deny && s.resourceMatches(roleARN) {
			a.denies = append(a.denies, s)
		}
	}
	v := &TrustVerdict{}
	for _, s := range d.Statements {
		if s.Effect != Allow || s.Principal == nil && s.NotPrincipal == nil {
			continue
		}
		acts := s.actions.and(assumeActions)
		if acts.empty() {
			continue
		}
		narrowed := externalIDNarrowing(s)
		for _, t := range s.terms() {
			if t.kind == pkService {
				continue // a service assuming its role is what roles are for
			}
			var tr termResult
			as := Assumer{Principal: t.name, Who: t.display, Statement: s, Narrowed: narrowed}
			if fed := federatedKind(t); fed != "" {
				as.Kind = fed
				as.Class, as.Who, as.Reason = a.federated(s, t, fed)
				tr.t, tr.class = t, as.Class
				tr.segments = append(tr.segBuf[:0], segment{as.Class, acts})
				a.applyDenies(&tr, t)
			} else {
				a.term(&tr, s, t, acts)
				if tr.class == ServiceUnscoped {
					// "*" pinned only by a resource that names no account.
					tr.class = CrossAccount
				}
				as.Kind, as.Account = assumerKind(t), t.account
				if t.kind == pkEveryone {
					if as.Principal == "" {
						as.Principal = "*"
					}
					as.Accounts = confinedAccounts(&tr)
				}
			}
			for _, sg := range tr.segments {
				if sg.class >= CrossAccount {
					as.actions = as.actions.or(sg.actions)
				}
			}
			if tr.class < CrossAccount || as.actions.empty() {
				continue
			}
			as.Class = tr.class
			switch {
			case tr.narrowedBy != nil:
				as.Reason = lowerFirst(stmtLabel(tr.narrowedBy)) + " denies every caller except " + a.exemptionDesc(tr.narrowEx) + ", who are outside the owner and the trusted accounts"
			case as.Reason == "":
				as.Reason = a.reason(&tr)
			}
			v.Assumers = append(v.Assumers, as)
		}
	}
	v.Notes = a.notes
	return v
}

// confinedAccounts lists the accounts that the pin or the Deny deciding
// a "*" principal's class names, or nil when they are not all accounts.
func confinedAccounts(tr *termResult) []string {
	var out []string
	if tr.narrowedBy != nil {
		if tr.narrowEx.services {
			return nil
		}
		for _, x := range tr.narrowEx.listed {
			if x.kind != pkAccount {
				return nil
			}
			out = append(out, x.account)
		}
		for _, aud := range tr.narrowEx.auds {
			accts := audienceAccounts(aud)
			if accts == nil {
				return nil
			}
			out = append(out, accts...)
		}
		return out
	}
	if !tr.hasPin {
		return nil
	}
	return audienceAccounts(tr.pin)
}

// audienceAccounts lists the accounts a fixed account or ARN pin names.
func audienceAccounts(aud audience) []string {
	c := aud.cond
	if c == nil || aud.unfixed {
		return nil
	}
	out := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		switch c.pin {
		case pinAccount:
			out = append(out, v)
		case pinARN:
			acct, ok := arnAccount(c, v)
			if !ok || acct == "" {
				return nil
			}
			out = append(out, acct)
		default:
			return nil
		}
	}
	return out
}

func assumerKind(t term) AssumerKind {
	switch t.kind {
	case pkEveryone:
		return AssumerEveryone
	case pkOpaque:
		return AssumerOpaque
	}
	return AssumerAccount
}

// federatedKind tells a web identity or SAML provider from other
// principals: IAM provider ARNs carry the owner's account, which does not
// make their users the owner's.
func federatedKind(t term) AssumerKind {
	switch {
	case strings.Contains(t.name, ":saml-provider/"):
		return AssumerSAML
	case strings.Contains(t.name, ":oidc-provider/"):
		return AssumerOIDC
	case t.kind == pkFederated:
		return AssumerOIDC // accounts.google.com, cognito-identity.amazonaws.com, ...
	}
	return ""
}

// federated classes a federated principal: who the provider vouches for,
// narrowed only by a fixed subject (web identity) condition.
func (a *analyzer) federated(s *Statement, t term, kind AssumerKind) (Class, string, string) {
	if kind == AssumerSAML {
		name := t.name[strings.Index(t.name, ":saml-provider/")+len(":saml-provider/"):]
		who := "users of the SAML identity provider " + name
		if pin := a.claimPin(s, "saml:sub"); pin != nil {
			return CrossAccount, who + " whose SAML:sub is " + quoteList(pin.Values), "federation: " + pin.String() + " limits it to those subjects, who sign in outside IAM"
		}
		return CrossAccount, who, "federation: whoever that identity provider signs in can assume the role, and no SAML:sub condition names who"
	}
	host := t.name
	if i := strings.Index(host, ":oidc-provider/"); i >= 0 {
		host = host[i+len(":oidc-provider/"):]
	}
	key := strings.ToLower(host) + ":sub"
	if host == "cognito-identity.amazonaws.com" {
		// A Cognito identity is pinned by its identity pool, the aud claim.
		key = host + ":aud"
	}
	aud := a.claimPin(s, strings.ToLower(host)+":aud")
	audNote := ""
	if aud == nil && !strings.HasSuffix(key, ":aud") {
		audNote = "; no " + host + ":aud condition pins the audience either"
	}
	if pin := a.claimPin(s, key); pin != nil {
		who := "tokens from " + host + " whose " + pin.Key + " is " + quoteList(pin.Values)
		return CrossAccount, who, pin.String() + " limits it to those subjects, outside the owner's AWS accounts" + audNote
	}
	who := "anyone with a token from " + host
	return Public, who + " (no condition pins the subject)", "no " + key + " condition with a fixed value names who may assume the role, so any identity of that provider can" + audNote
}

// claimPin returns the statement's condition that pins claim key to
// fixed subjects, or nil.
func (a *analyzer) claimPin(s *Statement, key string) *Condition {
	nullFalse := nullFalseKeys(s.Conditions)
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if c.key != key || !positivePinOps[c.Op.Base] || strings.HasPrefix(c.Op.Base, "Arn") {
			continue
		}
		if (c.Op.IfExists || c.Op.Set == ForAllValues) && !nullFalse[c.key] {
			continue
		}
		fixed := true
		for _, v := range c.Values {
			if !fixedClaim(key, v) {
				fixed = false
			}
		}
		if fixed {
			return c
		}
	}
	return nil
}

// fixedClaim reports whether a value of claim key names fixed subjects.
// Where a provider's subjects are namespaced by something anyone can
// create, a wildcard inside that part names nobody in particular: a
// GitHub sub "repo:acme*" also matches the organization "acme-evil", which
// anyone can register, so the owner must be complete ("repo:acme/*"; on
// gitlab.com "project_path:acme/*"); a
// Cognito identity pool id is opaque, so any wildcard in it matches other
// accounts' pools (our rule).
func fixedClaim(key, v string) bool {
	wild := strings.ContainsAny(v, "*?") || strings.Contains(v, "${")
	switch {
	case !wild:
	case key == "cognito-identity.amazonaws.com:aud":
		return false
	case strings.HasPrefix(key, "token.actions.githubusercontent.com") && strings.HasSuffix(key, ":sub"),
		key == "gitlab.com:sub":
		prefix := v[:strings.IndexAny(v+"*", "*?")]
		if i := strings.Index(prefix, "${"); i >= 0 {
			prefix = prefix[:i]
		}
		owner, ok := strings.CutPrefix(prefix, "repo:")
		if !ok {
			owner, ok = strings.CutPrefix(prefix, "project_path:") // GitLab: project_path:GROUP/PROJECT:...
		}
		if ok {
			if i := strings.IndexByte(owner, '/'); i <= 0 {
				return false // the owner (organization, user or group) is not complete
			}
		} else if !strings.HasSuffix(prefix, ":") && !strings.HasSuffix(prefix, "/") {
			return false // a customized sub: the wildcard cuts a value short
		}
	}
	return fixedSubject(v)
}

// fixedSubject reports whether a subject claim value names somebody: the
// part before its first wildcard or variable must say more than a claim
// label ("repo:" names no repository; "repo:acme/*" names acme's).
func fixedSubject(v string) bool {
	prefix := v
	if i := strings.IndexAny(v, "*?"); i >= 0 {
		prefix = v[:i]
	}
	if i := strings.Index(prefix, "${"); i >= 0 {
		prefix = prefix[:i]
	}
	if i := strings.IndexByte(prefix, ':'); i >= 0 && isLabel(prefix[:i]) {
		prefix = prefix[i+1:]
	}
	return strings.Trim(prefix, ":/") != ""
}

func isLabel(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// externalIDNarrowing says when a statement requires an sts:ExternalId.
func externalIDNarrowing(s *Statement) string {
	for _, c := range s.Conditions {
		if c.key == "sts:externalid" && positivePinOps[c.Op.Base] && !c.Op.IfExists {
			return "narrowed by ExternalId (" + c.String() + "): it guards against a confused deputy, it does not make the principal trusted"
		}
	}
	return ""
}
