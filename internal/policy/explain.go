package policy

import (
	"strings"
)

// explain writes the grant's one-sentence verdict and the hint to fix it.
func (a *analyzer) explain(g *Grant, tr *termResult, at actionSet) {
	s := g.Statement
	var b strings.Builder
	b.WriteString(stmtLabel(s))
	b.WriteString(" allows ")
	b.WriteString(tr.t.display)
	b.WriteString(" to call ")
	if tr.class == ClassNone {
		// Everything the statement grants is denied again; name what it
		// tried to grant.
		at = s.actions.and(a.mask)
	}
	b.WriteString(actionsPhrase(s, at))
	switch {
	case tr.class == ClassNone:
		b.WriteString(", but ")
		b.WriteString(lowerFirst(stmtLabel(tr.removedBy)))
		b.WriteString(" denies it to every such caller, so nothing is granted.")
	case tr.narrowedBy != nil:
		b.WriteString(", but ")
		b.WriteString(lowerFirst(stmtLabel(tr.narrowedBy)))
		b.WriteString(" denies every caller except ")
		b.WriteString(a.exemptionDesc(tr.narrowEx))
		b.WriteString(", so only they can.")
	default:
		b.WriteString("; ")
		b.WriteString(a.reason(tr))
		b.WriteString(".")
	}

	has := func(gr Group) bool { return !at.and(groupActions[gr]).empty() }
	switch {
	case g.Class == Public && has(GroupWrite):
		b.WriteString(" Anyone could change its code or permissions: public write access is the worst exposure there is.")
	case g.Class == CrossAccount && has(GroupWrite):
		b.WriteString(" Another account could change its code or permissions.")
	}
	if g.Class >= CrossAccount && has(GroupRead) && at.has(actionIndex["lambda:getfunction"]) {
		b.WriteString(" lambda:GetFunction hands out a download link to the code and the environment variables.")
	}
	if g.Class == Public && has(GroupURLInvoke) {
		switch strings.ToUpper(a.ctx.URLAuthType) {
		case "NONE":
			b.WriteString(" The function URL has AuthType NONE: anyone on the internet can call it without signing.")
		case "AWS_IAM":
			b.WriteString(" The function URL uses AWS_IAM, so any signed-in principal of any AWS account can call it.")
		}
	}
	if g.Inherited {
		b.WriteString(" (The statement is in the unqualified function's policy; its Resource matches this ARN, so lambdawarden counts it here too: the stricter reading, as AWS does not document whether it applies.)")
	}
	g.text.sentence = b.String()
	g.text.missing = a.missing(g, tr)
	if tr.hasPin && tr.pin.network && tr.class == CrossAccount {
		g.text.network = a.describe(tr.pin)
	}
}

// reason says why a principal ends in its class.
func (a *analyzer) reason(tr *termResult) string {
	loose := ""
	if len(tr.loose) > 0 {
		texts := make([]string, len(tr.loose))
		for i, c := range tr.loose {
			texts[i] = c.String()
		}
		loose = "its conditions (" + joinLimited(texts, 3) + ") do not pin the caller to a fixed account, organization or source resource"
	}
	switch tr.class {
	case Public:
		if loose != "" {
			return loose
		}
		return "no condition limits the caller"
	case CrossAccount:
		if !tr.hasPin {
			if tr.t.kind == pkOpaque {
				return "its account cannot be checked against the owner and the trusted accounts"
			}
			return "account " + tr.t.account + " is outside the owner" + a.ownerSuffix() + " and the trusted accounts"
		}
		if tr.pin.network {
			return "the only limit is the network (" + tr.pin.cond.String() + "): any principal of any account on " + a.describe(tr.pin) + " can call it"
		}
		return tr.pin.cond.Key + " limits it to " + a.describe(tr.pin) + ", outside the owner and the trusted accounts"
	case ServiceUnscoped:
		if tr.hasPin {
			return tr.pin.cond.Key + " limits it to " + a.describe(tr.pin) + "; nothing pins the owner account"
		}
		s := "no aws:SourceAccount or aws:SourceArn condition ties the call to your account, so the service acting for any account's resource can call it (confused deputy)"
		if loose != "" {
			s += "; " + loose
		}
		return s
	case Org:
		return tr.pin.cond.Key + " limits it to " + a.describe(tr.pin)
	case Private:
		if tr.hasPin {
			return tr.pin.cond.Key + " pins it to " + a.describe(tr.pin)
		}
		if a.trusted[tr.t.account] {
			return "account " + tr.t.account + " is trusted"
		}
		return "account " + tr.t.account + " is the owner"
	}
	return "nothing is granted"
}

func (a *analyzer) ownerSuffix() string {
	if a.ctx.Owner == "" {
		return " (not known: pass --resource-arn)"
	}
	return " (" + a.ctx.Owner + ")"
}

// missing says what would narrow an exposed grant.
func (a *analyzer) missing(g *Grant, tr *termResult) string {
	owner := a.ctx.Owner
	if owner == "" {
		owner = "<owner account>"
	}
	switch g.Class {
	case Public:
		if g.HasGroup(GroupURLInvoke) && strings.EqualFold(a.ctx.URLAuthType, "NONE") {
			return "Remove the public grant, or switch the function URL to AuthType AWS_IAM and grant only named principals."
		}
		if tr.t.kind == pkEveryone && g.at.minus(groupActions[GroupLayerUse]).empty() {
			return "Remove the grant, or share the layer with named accounts or with your organization (add-layer-version-permission --organization-id)."
		}
		org := a.ctx.OrgID
		if org == "" {
			org = "<your org id>"
		}
		return "Remove the statement, or name the caller: an account principal, a StringEquals aws:PrincipalOrgID " + org + " condition, or for a service StringEquals AWS:SourceAccount " + owner + "."
	case ServiceUnscoped:
		return "Add a StringEquals AWS:SourceAccount " + owner + " condition (and ArnLike AWS:SourceArn for the exact source resource)."
	case CrossAccount:
		if tr.t.kind == pkAccount {
			return "Remove the grant if account " + tr.t.account + " is not a partner; if it is, declare it trusted (--trusted-account " + tr.t.account + ")."
		}
		return "Remove the grant, or pin it to the owner, a trusted account or your organization."
	}
	return ""
}

// actionsPhrase names the actions a grant reaches, briefly.
func actionsPhrase(s *Statement, at actionSet) string {
	names := at.names()
	if len(names) <= 3 {
		if len(names) == 0 {
			return "no Lambda action"
		}
		return strings.Join(names, ", ")
	}
	var head string
	if s.HasAction {
		head = quoteList(s.Action)
	} else {
		head = "every action except " + quoteList(s.NotAction) + " (NotAction)"
	}
	var examples []string
	for _, n := range []string{"lambda:UpdateFunctionCode", "lambda:AddPermission", "lambda:GetFunction", "lambda:InvokeFunction", "lambda:GetLayerVersion"} {
		if at.has(actionIndex[strings.ToLower(n)]) {
			examples = append(examples, n)
		}
	}
	if len(examples) == 0 {
		examples = names[:2]
	}
	return head + " (" + itoa(len(names)) + " Lambda actions, among them " + strings.Join(examples, ", ") + ")"
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = `"` + s + `"`
	}
	return joinLimited(q, 3)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
