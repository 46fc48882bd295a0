package cloudformation

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// serverless expands an AWS::Serverless::Function the way SAM transforms
// it: the function, its AutoPublishAlias alias, its function URL (with
// the public permission SAM adds for AuthType NONE) and the permissions
// its event sources get. Each generated declaration points at the line
// of the property that makes SAM generate it.
func (t *template) serverless(est *estate.Estate, p *props, loc estate.Loc, id string) {
	fn := t.function(p, loc, id)
	est.Functions = append(est.Functions, fn)
	if fn.Name == "" {
		return
	}
	qualifier := ""
	if k, v := p.lookup("AutoPublishAlias"); k != nil {
		sub := &props{t: t}
		name := sub.stringOf("AutoPublishAlias", k, v)
		a := estate.Alias{Loc: estate.Loc{File: t.file, Line: k.Line, Address: id + "Alias" + name}, Function: fn.Name, Name: name}
		if name == "" {
			a.Unknown = orText(sub.reason(), "AutoPublishAlias is empty")
		}
		est.Aliases = append(est.Aliases, a)
		qualifier = name
	}
	if k, cfg := p.lookup("FunctionUrlConfig"); k != nil {
		sub := &props{t: t, node: cfg}
		u := estate.URL{Loc: estate.Loc{File: t.file, Line: k.Line, Address: id + "Url"}, Function: fn.Name, Qualifier: qualifier,
			AuthType: strings.ToUpper(sub.get("AuthType"))}
		_, cors := child(cfg, "Cors")
		u.CORS = sub.cors(cors)
		sub.authType(u.AuthType)
		u.Unknown = sub.reason()
		est.URLs = append(est.URLs, u)
		if u.AuthType == "NONE" {
			// SAM grants the URL to everyone, as the console does
			// (SEMANTICS.md section 2).
			l := estate.Loc{File: t.file, Line: k.Line, Address: id + "UrlPublicPermissions"}
			est.Permissions = append(est.Permissions,
				estate.Permission{Loc: l, Function: fn.Name, Qualifier: qualifier, StatementID: "FunctionURLAllowPublicAccess",
					Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"},
				estate.Permission{Loc: l, Function: fn.Name, Qualifier: qualifier, StatementID: "FunctionURLInvokeAllowPublicAccess",
					Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true})
		}
	}
	_, events := p.lookup("Events")
	names, nodes := mapping(events)
	for i, k := range names {
		t.eventPermission(est, fn.Name, qualifier, id, k.Value, k.Line, nodes[i])
	}
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// eventPermission adds the permission SAM generates for one event source.
// Sources SAM wires through an event source mapping or a role (SQS,
// Kinesis, DynamoDB, MSK, MQ, ScheduleV2) need none.
func (t *template) eventPermission(est *estate.Estate, fn, qualifier, id, event string, line int, node *yaml.Node) {
	_, typ := child(node, "Type")
	if typ == nil {
		return
	}
	_, pn := child(node, "Properties")
	ep := &props{t: t, node: pn}
	perm := estate.Permission{
		Loc:      estate.Loc{File: t.file, Line: line, Address: id + event + "Permission"},
		Function: fn, Qualifier: qualifier, StatementID: id + event + "Permission", Action: "lambda:InvokeFunction",
	}
	owner, part := t.opt.Owner, t.opt.Partition
	region := estate.RegionPlaceholder
	switch typ.Value {
	case "Api", "HttpApi":
		perm.Principal = "apigateway.amazonaws.com"
		// SAM writes the API's ARN with AWS::AccountId: always the owner.
		perm.SourceArn = "arn:" + part + ":execute-api:" + region + ":" + owner + ":*/*"
	case "S3":
		perm.Principal = "s3.amazonaws.com"
		perm.SourceAccount = owner
	case "SNS":
		if _, v := child(pn, "SqsSubscription"); viaQueue(t.eval(v)) {
			// SNS -> SQS -> Lambda: SAM subscribes a queue and reads it
			// through an event source mapping; it adds no permission.
			return
		}
		perm.Principal = "sns.amazonaws.com"
		perm.SourceArn = ep.arnPrefix("Topic")
	case "Schedule", "CloudWatchEvent", "EventBridgeRule":
		perm.Principal = "events.amazonaws.com"
		perm.SourceArn = "arn:" + part + ":events:" + region + ":" + owner + ":rule/*"
	case "CloudWatchLogs":
		perm.Principal = "logs.amazonaws.com"
		perm.SourceArn = "arn:" + part + ":logs:" + region + ":" + owner + ":log-group:*"
	case "IoTRule":
		perm.Principal = "iot.amazonaws.com"
		perm.SourceAccount = owner
	case "AlexaSkill":
		perm.Principal = "alexa-appkit.amazon.com"
		perm.EventSourceToken = ep.get("SkillId")
	case "Cognito":
		perm.Principal = "cognito-idp.amazonaws.com"
		perm.SourceArn = "arn:" + part + ":cognito-idp:" + region + ":" + owner + ":userpool/*"
	default:
		return
	}
	perm.Unknown = ep.reason()
	est.Permissions = append(est.Permissions, perm)
}

// viaQueue tells whether an SNS event's SqsSubscription routes the topic
// through a queue, as SAM reads it: true, or a non-empty mapping (an
// existing queue). false, absent, or a value that cannot be resolved is
// a direct subscription with its permission (the stricter reading).
func viaQueue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	case *omap:
		return len(x.keys) > 0
	}
	return false
}
