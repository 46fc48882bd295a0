package policy

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

const (
	owner    = "111122223333"
	foreign  = "444455556666"
	trusted  = "999988887777"
	myOrg    = "o-abc123def4"
	fnARN    = "arn:aws:lambda:us-east-1:111122223333:function:intake"
	aliasARN = "arn:aws:lambda:us-east-1:111122223333:function:intake:prod"
	layerARN = "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:3"
)

// doc builds a policy from statements; FN, ALIAS and LAYER stand for the
// ARNs above.
func doc(stmts ...string) string {
	r := strings.NewReplacer(`"FN"`, `"`+fnARN+`"`, `"ALIAS"`, `"`+aliasARN+`"`, `"LAYER"`, `"`+layerARN+`"`, `"FN:*"`, `"`+fnARN+`:*"`)
	return r.Replace(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
}

// verdictTopics are what the verdict table must cover, each by at
// least one case.
var verdictTopics = map[string]string{
	"1": "where access is granted: function, alias, version and layer policies, and the function's statements that match an alias or version",
	"2": "function URLs and their AuthType",
	"3": "IAM evaluation: Allow and Deny, NotPrincipal, NotAction, wildcards, condition operators",
	"4": "which conditions restrict who can call",
	"5": "exposure classes and their order",
}

type verdictCase struct {
	name string
	// section is the topic the case covers (see verdictTopics)
	section string
	policy  string
	// function is the unqualified function's policy, for alias cases
	function string
	ctx      func(*Context)
	want     Class
	// flagged is the Sid of the first grant at the wanted class ("" when
	// nothing is granted).
	flagged string
}

func allow(sid, principal, action, resource, cond string) string {
	s := `{"Sid":"` + sid + `","Effect":"Allow","Principal":` + principal + `,"Action":` + action + `,"Resource":` + resource
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

func deny(sid, principal, action, resource, cond string) string {
	return strings.Replace(allow(sid, principal, action, resource, cond), `"Allow"`, `"Deny"`, 1)
}

const (
	star   = `"*"`
	invoke = `"lambda:InvokeFunction"`
	fn     = `"FN"`
)

func svc(name string) string { return `{"Service":"` + name + `"}` }
func aws(v string) string    { return `{"AWS":"` + v + `"}` }
func cond(op, key, v string) string {
	if !strings.HasPrefix(v, "[") {
		v = `"` + v + `"`
	}
	return `{"` + op + `":{"` + key + `":` + v + `}}`
}

var verdictCases = []verdictCase{
	// Section 3: principals.
	{name: "principal star", section: "3", policy: doc(allow("oops", star, invoke, fn, "")), want: Public, flagged: "oops"},
	{name: "AWS star", section: "3", policy: doc(allow("a", aws("*"), invoke, fn, "")), want: Public, flagged: "a"},
	{name: "AWS star in array", section: "3", policy: doc(allow("a", `{"AWS":["*"]}`, invoke, fn, "")), want: Public, flagged: "a"},
	{name: "foreign account id", section: "3", policy: doc(allow("x", aws(foreign), invoke, fn, "")), want: CrossAccount, flagged: "x"},
	{name: "foreign account root", section: "3", policy: doc(allow("x", aws("arn:aws:iam::"+foreign+":root"), invoke, fn, "")), want: CrossAccount, flagged: "x"},
	{name: "owner root", section: "3", policy: doc(allow("self", aws("arn:aws:iam::"+owner+":root"), invoke, fn, "")), want: Private, flagged: "self"},
	{name: "owner bare id", section: "3", policy: doc(allow("self", aws(owner), invoke, fn, "")), want: Private, flagged: "self"},
	{name: "trusted account", section: "5", policy: doc(allow("partner", aws(trusted), invoke, fn, "")), want: Private, flagged: "partner"},
	{name: "foreign role", section: "3", policy: doc(allow("r", aws("arn:aws:iam::"+foreign+":role/etl"), invoke, fn, "")), want: CrossAccount, flagged: "r"},
	{name: "wildcard account in principal ARN", section: "3", policy: doc(allow("w", aws("arn:aws:iam::*:root"), invoke, fn, "")), want: Public, flagged: "w"},
	{name: "service without condition", section: "4", policy: doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, "")), want: ServiceUnscoped, flagged: "sns"},
	{name: "federated web identity", section: "3", policy: doc(allow("f", `{"Federated":"accounts.google.com"}`, invoke, fn, "")), want: Public, flagged: "f"},
	{name: "federated SAML provider of another account", section: "3", policy: doc(allow("f", `{"Federated":"arn:aws:iam::`+foreign+`:saml-provider/okta"}`, invoke, fn, "")), want: CrossAccount, flagged: "f"},
	{name: "canonical user", section: "3", policy: doc(allow("c", `{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, invoke, fn, "")), want: CrossAccount, flagged: "c"},
	{name: "unique id of a deleted principal", section: "3", policy: doc(allow("u", aws("AIDACKCEVSQ6C2EXAMPLE"), invoke, fn, "")), want: CrossAccount, flagged: "u"},
	{name: "several principals, worst wins", section: "3", policy: doc(allow("m", `{"AWS":["`+owner+`","`+foreign+`"]}`, invoke, fn, "")), want: CrossAccount, flagged: "m"},
	{name: "service wildcard", section: "3", policy: doc(allow("sw", svc("*.amazonaws.com"), invoke, fn, "")), want: Public, flagged: "sw"},
	{name: "NotPrincipal in Allow is everyone else", section: "3", policy: doc(`{"Sid":"np","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::` + foreign + `:root"},"Action":"lambda:InvokeFunction","Resource":"FN"}`), want: Public, flagged: "np"},

	// Section 3: actions and resources.
	{name: "NotAction grants the rest, write included", section: "3", policy: doc(`{"Sid":"na","Effect":"Allow","Principal":"*","NotAction":"lambda:GetPolicy","Resource":"FN"}`), want: Public, flagged: "na"},
	{name: "NotAction of every Lambda action grants nothing", section: "3", policy: doc(`{"Sid":"na","Effect":"Allow","Principal":"*","NotAction":"lambda:*","Resource":"FN"}`), want: Private},
	{name: "action names are case-insensitive", section: "3", policy: doc(allow("lc", star, `"LAMBDA:invokefunction"`, fn, "")), want: Public, flagged: "lc"},
	{name: "action prefix wildcard", section: "3", policy: doc(allow("iw", star, `"lambda:Invoke*"`, fn, "")), want: Public, flagged: "iw"},
	{name: "action star", section: "3", policy: doc(allow("all", star, `"*"`, fn, "")), want: Public, flagged: "all"},
	{name: "question-mark action wildcard", section: "3", policy: doc(allow("q", star, `"lambda:GetFunctio?"`, fn, "")), want: Public, flagged: "q"},
	{name: "non-Lambda action grants nothing", section: "3", policy: doc(allow("s3", star, `"s3:GetObject"`, `"*"`, "")), want: Private},
	{name: "statement for another function does not apply", section: "3", policy: doc(allow("other", star, invoke, `"arn:aws:lambda:us-east-1:111122223333:function:billing"`, "")), want: Private},
	{name: "function wildcard resource applies", section: "3", policy: doc(allow("fw", star, invoke, `"arn:aws:lambda:us-east-1:111122223333:function:*"`, "")), want: Public, flagged: "fw"},
	{name: "qualified wildcard does not cover the unqualified ARN", section: "3", policy: doc(allow("qw", star, invoke, `"FN:*"`, "")), want: Private},
	{name: "NotResource naming another function applies", section: "3", policy: doc(`{"Sid":"nr","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","NotResource":"arn:aws:lambda:us-east-1:111122223333:function:billing"}`), want: Public, flagged: "nr"},
	{name: "NotResource naming this function does not apply", section: "3", policy: doc(`{"Sid":"nr","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","NotResource":"FN"}`), want: Private},
	{name: "resource ARNs are case-sensitive", section: "3", policy: doc(allow("cs", star, invoke, `"arn:aws:lambda:us-east-1:111122223333:function:INTAKE"`, "")), want: Private},
	{name: "public write", section: "5", policy: doc(allow("w", star, `"lambda:UpdateFunctionCode"`, fn, "")), want: Public, flagged: "w"},
	{name: "public read of code", section: "5", policy: doc(allow("r", star, `"lambda:GetFunction"`, fn, "")), want: Public, flagged: "r"},

	// Section 3: conditions, missing keys and operators.
	{name: "condition key names are case-insensitive", section: "3", policy: doc(allow("s", svc("s3.amazonaws.com"), invoke, fn, cond("StringEquals", "aws:sourceaccount", owner))), want: Private, flagged: "s"},
	{name: "values of one key are ORed", section: "3", policy: doc(allow("s", star, invoke, fn, cond("StringEquals", "aws:SourceAccount", `["`+owner+`","`+foreign+`"]`))), want: CrossAccount, flagged: "s"},
	{name: "negated operator does not pin", section: "4", policy: doc(allow("n", star, invoke, fn, cond("StringNotEquals", "aws:SourceAccount", foreign))), want: Public, flagged: "n"},
	{name: "IfExists does not pin", section: "4", policy: doc(allow("ie", star, invoke, fn, cond("StringEqualsIfExists", "aws:SourceAccount", owner))), want: Public, flagged: "ie"},
	{name: "IfExists plus Null false pins", section: "4", policy: doc(allow("ie", star, invoke, fn, `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"`+myOrg+`"},"Null":{"aws:PrincipalOrgID":"false"}}`)), want: Org, flagged: "ie"},
	{name: "ForAllValues alone does not pin", section: "4", policy: doc(allow("fa", star, invoke, fn, cond("ForAllValues:StringLike", "aws:PrincipalOrgPaths", myOrg+"/*"))), want: Public, flagged: "fa"},
	{name: "ForAllValues plus Null false pins", section: "4", policy: doc(allow("fa", star, invoke, fn, `{"ForAllValues:StringLike":{"aws:PrincipalOrgPaths":"`+myOrg+`/*"},"Null":{"aws:PrincipalOrgPaths":"false"}}`)), want: Org, flagged: "fa"},
	{name: "ForAnyValue org paths pins", section: "4", policy: doc(allow("fv", star, invoke, fn, cond("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", myOrg+"/r-ab12/*"))), want: Org, flagged: "fv"},
	{name: "ForAnyValue org id pins", section: "4", policy: doc(allow("fv", star, invoke, fn, cond("ForAnyValue:StringEquals", "aws:PrincipalOrgID", myOrg))), want: Org, flagged: "fv"},
	{name: "Null alone does not pin", section: "4", policy: doc(allow("nl", star, invoke, fn, cond("Null", "aws:PrincipalOrgID", "false"))), want: Public, flagged: "nl"},
	{name: "Bool SecureTransport does not pin", section: "4", policy: doc(allow("tls", star, invoke, fn, cond("Bool", "aws:SecureTransport", "true"))), want: Public, flagged: "tls"},
	{name: "CurrentTime does not pin", section: "4", policy: doc(allow("t", star, invoke, fn, cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"))), want: Public, flagged: "t"},
	{name: "username does not pin", section: "4", policy: doc(allow("u", star, invoke, fn, cond("StringEquals", "aws:username", "alice"))), want: Public, flagged: "u"},
	{name: "pin plus non-pin: the pin holds", section: "4", policy: doc(allow("pp", star, invoke, fn, `{"StringEquals":{"aws:PrincipalOrgID":"`+myOrg+`"},"Bool":{"aws:SecureTransport":"true"}}`)), want: Org, flagged: "pp"},

	// Section 4: values that do not pin.
	{name: "StringLike SourceArn star", section: "4", policy: doc(allow("sa", star, invoke, fn, cond("StringLike", "aws:SourceArn", "*"))), want: Public, flagged: "sa"},
	{name: "StringLike PrincipalOrgID star", section: "4", policy: doc(allow("so", star, invoke, fn, cond("StringLike", "aws:PrincipalOrgID", "*"))), want: Public, flagged: "so"},
	{name: "org id wildcard o-*", section: "4", policy: doc(allow("so", star, invoke, fn, cond("StringLike", "aws:PrincipalOrgID", "o-*"))), want: Public, flagged: "so"},
	{name: "account prefix wildcard", section: "4", policy: doc(allow("ap", star, invoke, fn, cond("StringLike", "aws:SourceAccount", "1111*"))), want: Public, flagged: "ap"},
	{name: "policy variable is not fixed", section: "4", policy: doc(allow("pv", star, invoke, fn, cond("StringEquals", "aws:SourceAccount", "${aws:PrincipalAccount}"))), want: Public, flagged: "pv"},
	{name: "S3 wildcard bucket ARN pins nothing (service)", section: "4", policy: doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::*"))), want: ServiceUnscoped, flagged: "s3"},
	{name: "S3 wildcard bucket ARN pins nothing (everyone)", section: "4", policy: doc(allow("s3", star, invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::*"))), want: Public, flagged: "s3"},
	{name: "ARN with wildcard account", section: "4", policy: doc(allow("wa", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:*:alerts"))), want: ServiceUnscoped, flagged: "wa"},
	{name: "StringLike ARN with wildcard before the account can span colons", section: "4", policy: doc(allow("sl", svc("sns.amazonaws.com"), invoke, fn, cond("StringLike", "AWS:SourceArn", "arn:aws:sns:*:"+owner+":alerts"))), want: ServiceUnscoped, flagged: "sl"},
	{name: "ArnLike with wildcard region still pins the account", section: "4", policy: doc(allow("al", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:*:"+owner+":alerts"))), want: Private, flagged: "al"},

	// Section 4: pins.
	{name: "everyone pinned to owner by SourceAccount", section: "4", policy: doc(allow("p", star, invoke, fn, cond("StringEquals", "AWS:SourceAccount", owner))), want: Private, flagged: "p"},
	{name: "everyone pinned to foreign SourceAccount", section: "4", policy: doc(allow("p", star, invoke, fn, cond("StringEquals", "AWS:SourceAccount", foreign))), want: CrossAccount, flagged: "p"},
	{name: "SourceOwner pins", section: "4", policy: doc(allow("so", svc("ses.amazonaws.com"), invoke, fn, cond("StringEquals", "aws:SourceOwner", owner))), want: Private, flagged: "so"},
	{name: "SNS topic ARN in owner account", section: "4", policy: doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:"+owner+":alerts"))), want: Private, flagged: "sns"},
	{name: "SNS topic ARN in foreign account", section: "4", policy: doc(allow("sns", svc("sns.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:sns:us-east-1:"+foreign+":alerts"))), want: CrossAccount, flagged: "sns"},
	{name: "API Gateway ARN pins its account", section: "4", policy: doc(allow("api", svc("apigateway.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:execute-api:us-east-1:"+owner+":abc123/*/GET/items"))), want: Private, flagged: "api"},
	{name: "S3 bucket without SourceAccount", section: "4", policy: doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::phi-uploads"))), want: ServiceUnscoped, flagged: "s3"},
	{name: "S3 bucket with SourceAccount", section: "4", policy: doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-uploads"},"StringEquals":{"AWS:SourceAccount":"`+owner+`"}}`)), want: Private, flagged: "s3"},
	{name: "everyone pinned only by an S3 bucket ARN", section: "4", policy: doc(allow("s3", star, invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::phi-uploads"))), want: ServiceUnscoped, flagged: "s3"},
	{name: "PrincipalAccount owner", section: "4", policy: doc(allow("pa", star, invoke, fn, cond("StringEquals", "aws:PrincipalAccount", owner))), want: Private, flagged: "pa"},
	{name: "PrincipalArn role in owner account", section: "4", policy: doc(allow("pr", star, invoke, fn, cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::"+owner+":role/*"))), want: Private, flagged: "pr"},
	{name: "PrincipalArn role in foreign account", section: "4", policy: doc(allow("pr", star, invoke, fn, cond("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::"+foreign+":role/etl"))), want: CrossAccount, flagged: "pr"},
	{name: "PrincipalOrgID yours", section: "4", policy: doc(allow("org", star, invoke, fn, cond("StringEquals", "aws:PrincipalOrgID", myOrg))), want: Org, flagged: "org"},
	{name: "PrincipalOrgID of another organization", section: "5", policy: doc(allow("org", star, invoke, fn, cond("StringEquals", "aws:PrincipalOrgID", "o-zzzzzzzzzz"))), want: CrossAccount, flagged: "org"},
	{name: "PrincipalOrgID with no organization configured", section: "5", policy: doc(allow("org", star, invoke, fn, cond("StringEquals", "aws:PrincipalOrgID", "o-zzzzzzzzzz"))), ctx: func(c *Context) { c.OrgID = "" }, want: Org, flagged: "org"},
	{name: "PrincipalOrgID ignore case", section: "4", policy: doc(allow("org", star, invoke, fn, cond("StringEqualsIgnoreCase", "aws:PrincipalOrgID", strings.ToUpper(myOrg)))), want: Org, flagged: "org"},
	{name: "PrincipalOrgPaths yours", section: "4", policy: doc(allow("op", star, invoke, fn, cond("StringLike", "aws:PrincipalOrgPaths", myOrg+"/r-ab12/ou-ab12-11111111/*"))), want: Org, flagged: "op"},
	{name: "Alexa event source token", section: "4", policy: doc(allow("alexa", svc("alexa-appkit.amazon.com"), invoke, fn, cond("StringEquals", "lambda:EventSourceToken", "amzn1.ask.skill.1234"))), want: Private, flagged: "alexa"},
	{name: "userid pins to opaque principals", section: "4", policy: doc(allow("uid", star, invoke, fn, cond("StringLike", "aws:userid", "AROAEXAMPLEID:*"))), want: CrossAccount, flagged: "uid"},
	{name: "named account is classed by the account, whatever the conditions", section: "4", policy: doc(allow("na", aws(foreign), invoke, fn, cond("StringEquals", "aws:PrincipalOrgID", myOrg))), want: CrossAccount, flagged: "na"},
	{name: "owner account is private even with odd conditions", section: "4", policy: doc(allow("own", aws(owner), invoke, fn, cond("StringLike", "aws:SourceArn", "*"))), want: Private, flagged: "own"},
	{name: "two pins: the narrower wins", section: "4", policy: doc(allow("two", star, invoke, fn, `{"StringEquals":{"aws:PrincipalOrgID":"`+myOrg+`","aws:PrincipalAccount":"`+owner+`"}}`)), want: Private, flagged: "two"},
	{name: "SourceOrgID pins a service to your organization", section: "4", policy: doc(allow("so", svc("events.amazonaws.com"), invoke, fn, cond("StringEquals", "aws:SourceOrgID", myOrg))), want: Org, flagged: "so"},

	// Section 4: networks.
	{name: "private source IP range", section: "4", policy: doc(allow("ip", star, invoke, fn, cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))), want: CrossAccount, flagged: "ip"},
	{name: "all addresses", section: "4", policy: doc(allow("ip", star, invoke, fn, cond("IpAddress", "aws:SourceIp", "0.0.0.0/0"))), want: Public, flagged: "ip"},
	{name: "public source IP range", section: "4", policy: doc(allow("ip", star, invoke, fn, cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))), want: Public, flagged: "ip"},
	{name: "mixed private and public ranges", section: "4", policy: doc(allow("ip", star, invoke, fn, cond("IpAddress", "aws:SourceIp", `["10.0.0.0/8","203.0.113.7"]`))), want: Public, flagged: "ip"},
	{name: "IPv6 unique local range", section: "4", policy: doc(allow("ip6", star, invoke, fn, cond("IpAddress", "aws:SourceIp", "fd00::/8"))), want: CrossAccount, flagged: "ip6"},
	{name: "VPC endpoint", section: "4", policy: doc(allow("vpce", star, invoke, fn, cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"))), want: CrossAccount, flagged: "vpce"},
	{name: "VPC wildcard", section: "4", policy: doc(allow("vpc", star, invoke, fn, cond("StringLike", "aws:SourceVpc", "vpc-*"))), want: Public, flagged: "vpc"},
	{name: "NotIpAddress does not pin", section: "4", policy: doc(allow("nip", star, invoke, fn, cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"))), want: Public, flagged: "nip"},
	{name: "network plus account pin", section: "4", policy: doc(allow("both", star, invoke, fn, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalAccount":"`+owner+`"}}`)), want: Private, flagged: "both"},

	// Section 2: function URLs.
	{name: "console URL grant is public", section: "2", policy: doc(allow("FunctionURLAllowPublicAccess", star, `"lambda:InvokeFunctionUrl"`, fn, cond("StringEquals", "lambda:FunctionUrlAuthType", "NONE"))), ctx: func(c *Context) { c.URLAuthType = "NONE" }, want: Public, flagged: "FunctionURLAllowPublicAccess"},
	{name: "URL invoke via InvokedViaFunctionUrl is public", section: "2", policy: doc(allow("FunctionURLInvokeAllowPublicAccess", star, invoke, fn, cond("Bool", "lambda:InvokedViaFunctionUrl", "true"))), want: Public, flagged: "FunctionURLInvokeAllowPublicAccess"},
	{name: "URL grant without a URL today is still public", section: "2", policy: doc(allow("u", star, `"lambda:InvokeFunctionUrl"`, fn, cond("StringEquals", "lambda:FunctionUrlAuthType", "NONE"))), want: Public, flagged: "u"},
	{name: "AWS_IAM URL open to star", section: "2", policy: doc(allow("u", star, `"lambda:InvokeFunctionUrl"`, fn, cond("StringEquals", "lambda:FunctionUrlAuthType", "AWS_IAM"))), ctx: func(c *Context) { c.URLAuthType = "AWS_IAM" }, want: Public, flagged: "u"},
	{name: "URL grant to one account", section: "2", policy: doc(allow("u", aws(owner), `"lambda:InvokeFunctionUrl"`, fn, cond("StringEquals", "lambda:FunctionUrlAuthType", "AWS_IAM"))), want: Private, flagged: "u"},

	// Section 4: Deny narrowing.
	{name: "seed pattern: allow star, deny outside organization", section: "4", policy: doc(allow("AllowAll", star, `"lambda:InvokeFunction"`, fn, ""), deny("DenyOutsideOrg", star, `"lambda:*"`, fn, cond("StringNotEquals", "aws:PrincipalOrgID", myOrg))), want: Org, flagged: "AllowAll"},
	{name: "deny outside organization with IfExists", section: "4", policy: doc(allow("AllowAll", star, `"lambda:*"`, fn, ""), deny("D", star, `"*"`, `"*"`, cond("StringNotEqualsIfExists", "aws:PrincipalOrgID", myOrg))), want: Org, flagged: "AllowAll"},
	{name: "deny outside owner account", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, fn, cond("StringNotEquals", "aws:PrincipalAccount", owner))), want: Private, flagged: "AllowAll"},
	{name: "deny outside a foreign organization leaves cross-account", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, fn, cond("StringNotEquals", "aws:PrincipalOrgID", "o-zzzzzzzzzz"))), want: CrossAccount, flagged: "AllowAll"},
	{name: "unconditional deny removes the grant", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("DenyAll", star, `"lambda:*"`, `"*"`, "")), want: Private},
	{name: "deny of one action leaves the others", section: "4", policy: doc(allow("AllowAll", star, `"lambda:*"`, fn, ""), deny("NoInvoke", star, invoke, fn, "")), want: Public, flagged: "AllowAll"},
	{name: "deny of a named principal leaves the class", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("NoEvil", aws(foreign), invoke, fn, "")), want: Public, flagged: "AllowAll"},
	{name: "deny of the same named principal removes it", section: "4", policy: doc(allow("Partner", aws(foreign), invoke, fn, ""), deny("NoPartner", aws(foreign), invoke, fn, "")), want: Private},
	{name: "deny NotPrincipal owner", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), `{"Sid":"OnlyMe","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::`+owner+`:root"},"Action":"lambda:*","Resource":"FN"}`), want: Private, flagged: "AllowAll"},
	{name: "deny with a positive condition does not narrow", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("NoPlainHTTP", star, invoke, fn, cond("Bool", "aws:SecureTransport", "false"))), want: Public, flagged: "AllowAll"},
	{name: "deny with ForAnyValue negated does not narrow", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, fn, cond("ForAnyValue:StringNotLike", "aws:PrincipalOrgPaths", myOrg+"/*"))), want: Public, flagged: "AllowAll"},
	{name: "deny with wildcard org does not narrow", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, fn, cond("StringNotLike", "aws:PrincipalOrgID", "o-*"))), want: Public, flagged: "AllowAll"},
	{name: "deny sparing AWS services leaves services unscoped", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, fn, `{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"`+myOrg+`"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}`)), want: ServiceUnscoped, flagged: "AllowAll"},
	{name: "deny for another resource does not narrow", section: "4", policy: doc(allow("AllowAll", star, invoke, fn, ""), deny("D", star, invoke, `"arn:aws:lambda:us-east-1:111122223333:function:billing"`, cond("StringNotEquals", "aws:PrincipalOrgID", myOrg))), want: Public, flagged: "AllowAll"},
	{name: "deny outside owner SourceAccount narrows a service", section: "4", policy: doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, ""), deny("D", star, invoke, fn, cond("StringNotEquals", "aws:SourceAccount", owner))), want: Private, flagged: "s3"},
	{name: "worst statement wins", section: "5", policy: doc(allow("self", aws(owner), invoke, fn, ""), allow("partner", aws(foreign), invoke, fn, ""), allow("oops", star, invoke, fn, "")), want: Public, flagged: "oops"},

	// Layers.
	{name: "public layer version", section: "1", policy: doc(allow("all", star, `"lambda:GetLayerVersion"`, `"LAYER"`, "")), ctx: layerCtx, want: Public, flagged: "all"},
	{name: "layer shared with organization", section: "1", policy: doc(allow("org", star, `"lambda:GetLayerVersion"`, `"LAYER"`, cond("StringEquals", "aws:PrincipalOrgID", myOrg))), ctx: layerCtx, want: Org, flagged: "org"},
	{name: "layer shared with one account", section: "1", policy: doc(allow("acct", aws("arn:aws:iam::"+foreign+":root"), `"lambda:GetLayerVersion"`, `"LAYER"`, "")), ctx: layerCtx, want: CrossAccount, flagged: "acct"},
	{name: "function action on a layer grants nothing", section: "1", policy: doc(allow("inv", star, invoke, `"LAYER"`, "")), ctx: layerCtx, want: Private},

	// Section 1: aliases and versions.
	{name: "alias inherits a matching function-policy grant", section: "1", policy: "", function: doc(allow("allq", star, invoke, `"FN:*"`, "")), ctx: aliasCtx, want: Public, flagged: "allq"},
	{name: "alias does not inherit an unqualified grant", section: "1", policy: "", function: doc(allow("unq", star, invoke, fn, "")), ctx: aliasCtx, want: Private},
	{name: "alias's own deny narrows an inherited grant", section: "1", policy: doc(deny("D", star, `"lambda:*"`, `"ALIAS"`, cond("StringNotEquals", "aws:PrincipalOrgID", myOrg))), function: doc(allow("allq", star, invoke, `"FN:*"`, "")), ctx: aliasCtx, want: Org, flagged: "allq"},
	{name: "function-policy deny does not narrow the alias", section: "1", policy: doc(allow("own", star, invoke, `"ALIAS"`, "")), function: doc(deny("D", star, `"lambda:*"`, `"FN:*"`, "")), ctx: aliasCtx, want: Public, flagged: "own"},
	{name: "alias own public grant", section: "1", policy: doc(allow("aliaspub", star, invoke, `"ALIAS"`, "")), ctx: aliasCtx, want: Public, flagged: "aliaspub"},
}

func layerCtx(c *Context) { c.Resource = layerARN; c.Kind = inventory.KindLayerVersion }
func aliasCtx(c *Context) { c.Resource = aliasARN }

func baseCtx() Context {
	return Context{Resource: fnARN, Trusted: []string{trusted}, OrgID: myOrg}
}

func mustParse(t testing.TB, s string) *Document {
	t.Helper()
	if s == "" {
		return nil
	}
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	return d
}

func TestVerdictTable(t *testing.T) {
	if len(verdictCases) < 80 {
		t.Fatalf("the verdict table must hold at least 80 policies; it has %d", len(verdictCases))
	}
	sections := map[string]int{}
	for _, tc := range verdictCases {
		sections[tc.section]++
		t.Run(tc.name, func(t *testing.T) {
			ctx := baseCtx()
			if tc.ctx != nil {
				tc.ctx(&ctx)
			}
			res := Analyze(mustParse(t, tc.policy), mustParse(t, tc.function), ctx)
			if res.Exposure != tc.want {
				for _, g := range res.Grants {
					t.Logf("grant %s: %s", g.Class, g.Explanation())
				}
				t.Fatalf("exposure = %s, want %s", res.Exposure, tc.want)
			}
			var flagged *Grant
			for _, g := range res.Grants {
				if g.Class == tc.want {
					flagged = g
					break
				}
			}
			switch {
			case tc.flagged == "" && flagged != nil && tc.want != Private:
				t.Fatalf("unexpected grant %q at %s", flagged.Statement.Sid, flagged.Class)
			case tc.flagged != "" && flagged == nil:
				t.Fatalf("no grant at %s; want statement %q", tc.want, tc.flagged)
			case tc.flagged != "" && flagged.Statement.Sid != tc.flagged:
				t.Fatalf("flagged statement %q, want %q", flagged.Statement.Sid, tc.flagged)
			}
			if flagged != nil {
				if !strings.Contains(flagged.Explanation(), `"`+tc.flagged+`"`) {
					t.Errorf("explanation does not name the statement: %s", flagged.Explanation())
				}
				if flagged.Class.Exposed() && flagged.Missing() == "" {
					t.Errorf("an exposed grant must say what would narrow it")
				}
			}
		})
	}
	for s, topic := range verdictTopics {
		if sections[s] == 0 {
			t.Errorf("no case covers topic %s (%s)", s, topic)
		}
	}
}

func TestExplanationSentences(t *testing.T) {
	ctx := baseCtx()
	cases := []struct {
		policy string
		want   []string
	}{
		{doc(allow("oops", star, invoke, fn, "")), []string{`Statement "oops" allows anyone (Principal "*") to call lambda:InvokeFunction; no condition limits the caller.`}},
		{doc(allow("s3", svc("s3.amazonaws.com"), invoke, fn, cond("ArnLike", "AWS:SourceArn", "arn:aws:s3:::phi-uploads"))), []string{"s3.amazonaws.com", "arn:aws:s3:::phi-uploads", "names no account"}},
		{doc(allow("AllowAll", star, invoke, fn, ""), deny("DenyOutsideOrg", star, `"lambda:*"`, fn, cond("StringNotEquals", "aws:PrincipalOrgID", myOrg))), []string{`statement "DenyOutsideOrg" denies every caller except organization o-abc123def4 (yours)`}},
		{doc(allow("ip", star, invoke, fn, cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))), []string{"only limit is the network", "10.0.0.0/8"}},
		{doc(allow("w", star, `"lambda:*"`, fn, "")), []string{"worst exposure", "lambda:UpdateFunctionCode"}},
		{doc(allow("p", aws(foreign), invoke, fn, "")), []string{"account " + foreign + " is outside the owner (" + owner + ")"}},
	}
	for _, c := range cases {
		res := Analyze(mustParse(t, c.policy), nil, ctx)
		if len(res.Grants) == 0 {
			t.Fatalf("no grant for %s", c.policy)
		}
		for _, w := range c.want {
			if !strings.Contains(res.Grants[0].Explanation(), w) {
				t.Errorf("explanation %q lacks %q", res.Grants[0].Explanation(), w)
			}
		}
	}
}
