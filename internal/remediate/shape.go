package remediate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// addPermissionShaped is rules.AddPermissionShaped: the same test the
// scan used to word its fix command.
func addPermissionShaped(st *policy.Statement) bool { return rules.AddPermissionShaped(st) }

// permissionOf recovers the AddPermission (or AddLayerVersionPermission)
// parameters that write the statement, for restore. exact is true only
// when calling the API with them stores the very same statement text; a
// restore then needs no full-policy write.
func permissionOf(st *policy.Statement, raw []byte, ref Ref) (p Permission, exact bool, err error) {
	if !addPermissionShaped(st) {
		return p, false, fmt.Errorf("the statement is not in the shape add-permission writes")
	}
	p.StatementID = st.Sid
	p.Action = st.Action[0]
	pr := st.Principal
	switch {
	case pr.Everyone:
		p.Principal = "*"
	case len(pr.AWS) == 1:
		p.Principal = pr.AWS[0]
		if a, err := inventory.ParseARN(p.Principal); err == nil && a.Service == "iam" && a.Resource == "root" {
			p.Principal = a.Account
		}
	case len(pr.Service) == 1:
		p.Principal = pr.Service[0]
	}
	for _, c := range st.Conditions {
		if len(c.Values) != 1 || c.Op.Set != policy.SingleValued || c.Op.IfExists {
			return p, false, fmt.Errorf("condition %s cannot be given to add-permission", c)
		}
		v := c.Values[0]
		switch c.KeyLower() {
		case "aws:sourcearn":
			p.SourceArn = v
		case "aws:sourceaccount":
			p.SourceAccount = v
		case "aws:principalorgid":
			p.PrincipalOrgID = v
		case "lambda:eventsourcetoken":
			p.EventSourceToken = v
		case "lambda:functionurlauthtype":
			p.FunctionURLAuthType = v
		case "lambda:invokedviafunctionurl":
			if !strings.EqualFold(v, "true") {
				return p, false, fmt.Errorf("condition %s cannot be given to add-permission", c)
			}
			p.InvokedViaFunctionURL = true
		}
	}
	if ref.Kind == inventory.KindLayerVersion {
		if p.Action != "lambda:GetLayerVersion" || p.SourceArn != "" || p.SourceAccount != "" || p.EventSourceToken != "" || p.FunctionURLAuthType != "" || p.InvokedViaFunctionURL {
			return p, false, fmt.Errorf("the statement is not in the shape add-layer-version-permission writes")
		}
	}
	return p, compact(raw) == canonicalStatement(p, ref), nil
}

// canonicalStatement is the statement AddPermission stores for p: keys
// Sid, Effect, Principal, Action, Resource, Condition; StringEquals
// (SourceAccount, PrincipalOrgID, EventSourceToken, FunctionUrlAuthType),
// then ArnLike, then Bool: the layout Lambda gives statements that
// AddPermission writes (the emulator writes the same).
func canonicalStatement(p Permission, ref Ref) string {
	var principal string
	switch {
	case p.Principal == "*":
		principal = `"*"`
	case isAccountID(p.Principal):
		principal = `{"AWS":` + quote("arn:aws:iam::"+p.Principal+":root") + `}`
	case strings.HasPrefix(p.Principal, "arn:"):
		principal = `{"AWS":` + quote(p.Principal) + `}`
	default:
		principal = `{"Service":` + quote(p.Principal) + `}`
	}
	var b strings.Builder
	b.WriteString(`{"Sid":` + quote(p.StatementID) + `,"Effect":"Allow","Principal":` + principal + `,"Action":` + quote(p.Action) + `,"Resource":` + quote(ref.ARN))
	var eq []string
	for _, kv := range [][2]string{{"AWS:SourceAccount", p.SourceAccount}, {"aws:PrincipalOrgID", p.PrincipalOrgID}, {"lambda:EventSourceToken", p.EventSourceToken}, {"lambda:FunctionUrlAuthType", p.FunctionURLAuthType}} {
		if kv[1] != "" {
			eq = append(eq, quote(kv[0])+":"+quote(kv[1]))
		}
	}
	var cond []string
	if len(eq) > 0 {
		cond = append(cond, `"StringEquals":{`+strings.Join(eq, ",")+`}`)
	}
	if p.SourceArn != "" {
		cond = append(cond, `"ArnLike":{"AWS:SourceArn":`+quote(p.SourceArn)+`}`)
	}
	if p.InvokedViaFunctionURL {
		cond = append(cond, `"Bool":{"lambda:InvokedViaFunctionUrl":"true"}`)
	}
	if len(cond) > 0 {
		b.WriteString(`,"Condition":{` + strings.Join(cond, ",") + `}`)
	}
	b.WriteString("}")
	return b.String()
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

// The AWS CLI equivalents of each call, so a reviewer can run or audit
// them by hand.

func cliRemovePermission(ref Ref, sid, revision string) string {
	if ref.Kind == inventory.KindLayerVersion {
		return "aws lambda remove-layer-version-permission --layer-name " + shellQuote(ref.Name) + " --version-number " + strconv.FormatInt(ref.LayerVersion, 10) +
			" --statement-id " + shellQuote(sid) + revisionFlag(revision) + regionFlag(ref.Region)
	}
	return "aws lambda remove-permission --function-name " + shellQuote(ref.Name) + qualifierFlag(ref.Qualifier) + " --statement-id " + shellQuote(sid) + revisionFlag(revision) + regionFlag(ref.Region)
}

func cliAddPermission(ref Ref, p Permission, revision string) string {
	if ref.Kind == inventory.KindLayerVersion {
		s := "aws lambda add-layer-version-permission --layer-name " + shellQuote(ref.Name) + " --version-number " + strconv.FormatInt(ref.LayerVersion, 10) +
			" --statement-id " + shellQuote(p.StatementID) + " --action " + shellQuote(p.Action) + " --principal " + shellQuote(p.Principal)
		if p.PrincipalOrgID != "" {
			s += " --organization-id " + shellQuote(p.PrincipalOrgID)
		}
		return s + revisionFlag(revision) + regionFlag(ref.Region)
	}
	s := "aws lambda add-permission --function-name " + shellQuote(ref.Name) + qualifierFlag(ref.Qualifier) +
		" --statement-id " + shellQuote(p.StatementID) + " --action " + shellQuote(p.Action) + " --principal " + shellQuote(p.Principal)
	for _, f := range [][2]string{{"--source-arn", p.SourceArn}, {"--source-account", p.SourceAccount}, {"--principal-org-id", p.PrincipalOrgID},
		{"--event-source-token", p.EventSourceToken}, {"--function-url-auth-type", p.FunctionURLAuthType}} {
		if f[1] != "" {
			s += " " + f[0] + " " + shellQuote(f[1])
		}
	}
	if p.InvokedViaFunctionURL {
		s += " --invoked-via-function-url"
	}
	return s + revisionFlag(revision) + regionFlag(ref.Region)
}

func cliPutResourcePolicy(ref Ref, doc, revision string) string {
	return "aws lambda put-resource-policy --resource-arn " + shellQuote(ref.ARN) + " --policy " + shellQuote(doc) + revisionFlag(revision) + regionFlag(ref.Region)
}

func cliDeleteResourcePolicy(ref Ref, revision string) string {
	return "aws lambda delete-resource-policy --resource-arn " + shellQuote(ref.ARN) + revisionFlag(revision) + regionFlag(ref.Region)
}

func cliUpdateURL(ref Ref, auth string) string {
	return "aws lambda update-function-url-config --function-name " + shellQuote(ref.Name) + qualifierFlag(ref.Qualifier) + " --auth-type " + auth + regionFlag(ref.Region)
}

func qualifierFlag(q string) string {
	if q == "" {
		return ""
	}
	return " --qualifier " + shellQuote(q)
}

func revisionFlag(r string) string {
	if r == "" {
		return ""
	}
	return " --revision-id " + shellQuote(r)
}

func regionFlag(r string) string {
	if r == "" {
		return ""
	}
	return " --region " + shellQuote(r)
}

// shellQuote is rules.ShellQuote.
func shellQuote(s string) string { return rules.ShellQuote(s) }
