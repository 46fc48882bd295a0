package rules

import (
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// AddPermissionShaped reports whether a statement looks like one written
// by AddPermission / AddLayerVersionPermission, so remove-permission can
// delete it by its Sid. The fixer uses the same test, so the plan does
// what the scan's fix command says.
func AddPermissionShaped(st *policy.Statement) bool {
	if st.Sid == "" || st.Effect != policy.Allow || st.Principal == nil || !st.HasAction || len(st.Action) != 1 || len(st.Resource) != 1 {
		return false
	}
	p := st.Principal
	if n := len(p.AWS) + len(p.Service) + len(p.Federated) + len(p.CanonicalUser); !(p.Everyone && n == 0 || n == 1 && len(p.Federated) == 0 && len(p.CanonicalUser) == 0) {
		return false
	}
	for _, c := range st.Conditions {
		switch c.KeyLower() {
		case "aws:sourcearn", "aws:sourceaccount", "aws:principalorgid", "lambda:eventsourcetoken", "lambda:functionurlauthtype", "lambda:invokedviafunctionurl":
		default:
			return false
		}
	}
	return true
}

// removeStatement returns how to remove one statement from the policy
// that holds it: remove-permission for AddPermission-style statements,
// otherwise a rewrite with put-resource-policy.
func removeStatement(res *inventory.Resource, g *policy.Grant) finding.Remediation {
	st := g.Statement
	origin := inventory.OriginUnknown
	qualifier := res.Qualifier
	targetARN := res.ARN
	if g.Inherited {
		qualifier = ""
		if a, err := inventory.ParseLambdaARN(res.ARN); err == nil {
			targetARN = a.Unqualified()
		}
		if res.FunctionPolicy != nil {
			origin = res.FunctionPolicy.Origin
		}
	} else if res.Policy != nil {
		origin = res.Policy.Origin
	}
	region := regionFlag(res.Region)
	if origin != inventory.OriginResourcePolicy && AddPermissionShaped(st) {
		if res.Kind == inventory.KindLayerVersion {
			return finding.Remediation{
				Text: "Remove the statement from the layer version's policy.",
				Commands: []string{"aws lambda remove-layer-version-permission --layer-name " + ShellQuote(nameOr(res.Name, "LAYER")) +
					" --version-number " + versionOr(res) + " --statement-id " + ShellQuote(st.Sid) + region},
			}
		}
		cmd := "aws lambda remove-permission --function-name " + ShellQuote(nameOr(res.Name, "FUNCTION"))
		if qualifier != "" {
			cmd += " --qualifier " + ShellQuote(qualifier)
		}
		cmd += " --statement-id " + ShellQuote(st.Sid) + region
		text := ""
		if g.Inherited {
			text = "Remove the statement from the unqualified function's policy (it also reaches this " + string(res.Kind) + ")."
		}
		return finding.Remediation{Text: text, Commands: []string{cmd}}
	}
	arn := targetARN
	if arn == "" {
		arn = "RESOURCE_ARN"
	}
	which := stmtName(st)
	return finding.Remediation{
		Text: "This statement is part of a full JSON policy: save the policy, delete " + which + " (or add a condition that pins the caller to your account or organization), and put it back guarded by its RevisionId so a concurrent change is not overwritten.",
		Commands: []string{
			"aws lambda get-resource-policy --resource-arn " + ShellQuote(arn) + region + " --query Policy --output text > policy.json",
			"# edit policy.json: remove " + which,
			"aws lambda put-resource-policy --resource-arn " + ShellQuote(arn) + " --policy file://policy.json --revision-id REVISION_ID_FROM_GET" + region,
		},
	}
}

// pinStatement returns how to pin an unscoped service grant to the owner
// account while keeping the trigger working: the least disruptive change,
// and what `fix` does by default. AddPermission statements cannot be
// edited in place, so it is remove-permission, then add-permission with
// the same Sid, principal, action and source plus --source-account.
func pinStatement(res *inventory.Resource, g *policy.Grant) finding.Remediation {
	st := g.Statement
	origin := inventory.OriginUnknown
	if res.Policy != nil {
		origin = res.Policy.Origin
	}
	p := st.Principal
	if g.Inherited || res.Kind == inventory.KindLayerVersion || origin == inventory.OriginResourcePolicy || !AddPermissionShaped(st) ||
		p == nil || len(p.Service) != 1 || res.Account == "" {
		r := withHint(removeStatement(res, g), g)
		r.Text = strings.TrimSpace(r.Text + " To keep the trigger, pin it instead of removing it: add StringEquals AWS:SourceAccount = " + nameOr(res.Account, "YOUR_ACCOUNT_ID") + " to " + stmtName(st) + ".")
		return r
	}
	var sourceARN, token string
	for _, c := range st.Conditions {
		switch c.KeyLower() {
		case "aws:sourcearn":
			if len(c.Values) == 1 {
				sourceARN = c.Values[0]
			}
		case "lambda:eventsourcetoken":
			if len(c.Values) == 1 {
				token = c.Values[0]
			}
		}
	}
	name := ShellQuote(nameOr(res.Name, "FUNCTION"))
	qual := ""
	if res.Qualifier != "" {
		qual = " --qualifier " + ShellQuote(res.Qualifier)
	}
	region := regionFlag(res.Region)
	add := "aws lambda add-permission --function-name " + name + qual + " --statement-id " + ShellQuote(st.Sid) +
		" --action " + ShellQuote(st.Action[0]) + " --principal " + ShellQuote(p.Service[0])
	if sourceARN != "" {
		add += " --source-arn " + ShellQuote(sourceARN)
	}
	if token != "" {
		add += " --event-source-token " + ShellQuote(token)
	}
	add += " --source-account " + ShellQuote(res.Account) + region
	return finding.Remediation{
		Text: "Pin the grant to your account so the trigger keeps working and other accounts' resources no longer can: re-add the statement with --source-account (AddPermission statements cannot be edited in place; the grant is absent between the two commands). `lambdawarden fix` does this, with a backup.",
		Commands: []string{
			"aws lambda remove-permission --function-name " + name + qual + " --statement-id " + ShellQuote(st.Sid) + region,
			add,
		},
	}
}

func stmtName(st *policy.Statement) string {
	if st.Sid != "" {
		return `the statement with Sid "` + st.Sid + `"`
	}
	return "statement " + strconv.Itoa(st.Index) + " (0-based, no Sid)"
}

func regionFlag(r string) string {
	if r == "" {
		return ""
	}
	return " --region " + ShellQuote(r)
}

func nameOr(n, placeholder string) string {
	if n == "" {
		return placeholder
	}
	return n
}

func versionOr(res *inventory.Resource) string {
	if res.LayerVersion > 0 {
		return strconv.FormatInt(res.LayerVersion, 10)
	}
	if res.Qualifier != "" {
		return ShellQuote(res.Qualifier)
	}
	return "VERSION"
}

// functionFlags names a function (and its alias) for update-function-* commands.
func functionFlags(res *inventory.Resource) string {
	s := "--function-name " + ShellQuote(nameOr(res.Name, "FUNCTION"))
	if res.Qualifier != "" {
		s += " --qualifier " + ShellQuote(res.Qualifier)
	}
	return s + regionFlag(res.Region)
}

// ShellQuote quotes a value for a POSIX shell when it needs it, so a
// copied command does exactly what it says even for hostile Sids.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:/=@+,%$", c)) {
			safe = false
			break
		}
	}
	if safe && !strings.Contains(s, "$") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
