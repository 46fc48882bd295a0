package remediate

import (
	"fmt"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Every change says what stops working and what keeps working, in the
// terms of whoever relies on the grant: a reviewer approves a fix by what
// it breaks, not by its JSON.

// source names what a service principal's calls come from.
type source struct {
	what, one, many string
}

var serviceSources = map[string]source{
	"s3":                   {"S3 events", "bucket", "buckets"},
	"sns":                  {"SNS notifications", "topic", "topics"},
	"events":               {"EventBridge events", "rule", "rules"},
	"apigateway":           {"API Gateway requests", "API", "APIs"},
	"sqs":                  {"SQS messages", "queue", "queues"},
	"logs":                 {"CloudWatch Logs subscription events", "log group", "log groups"},
	"elasticloadbalancing": {"load balancer requests", "target group", "target groups"},
	"iot":                  {"IoT rule actions", "rule", "rules"},
	"cognito-idp":          {"Cognito triggers", "user pool", "user pools"},
	"secretsmanager":       {"Secrets Manager rotations", "secret", "secrets"},
	"config":               {"AWS Config rule evaluations", "rule", "rules"},
	"scheduler":            {"EventBridge Scheduler runs", "schedule", "schedules"},
	"kafka":                {"Kafka events", "cluster", "clusters"},
}

// sourceOf describes a service principal ("s3.amazonaws.com",
// "logs.us-east-1.amazonaws.com").
func sourceOf(service string) source {
	name := strings.ToLower(service)
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if s, ok := serviceSources[name]; ok {
		return s
	}
	return source{"calls from " + service, "resource", "resources"}
}

// sourceName is the short name of the resource a SourceArn names: the
// bucket, topic, rule, API or log group.
func sourceName(arn string) string {
	a, err := inventory.ParseARN(arn)
	if err != nil || a.Resource == "" || strings.ContainsAny(a.Resource, "*?") && a.Service != "execute-api" {
		return ""
	}
	r := a.Resource
	switch a.Service {
	case "execute-api":
		r, _, _ = strings.Cut(r, "/")
	case "events", "scheduler":
		if i := strings.LastIndexByte(r, '/'); i >= 0 {
			r = r[i+1:]
		}
	case "logs":
		r = strings.TrimSuffix(strings.TrimPrefix(r, "log-group:"), ":*")
	}
	if strings.ContainsAny(r, "*?") {
		return ""
	}
	return r
}

// conditionValue returns the first value of a condition key in a
// statement (key matched case-insensitively).
func conditionValue(st *policy.Statement, key string) string {
	for _, c := range st.Conditions {
		if c.KeyLower() == strings.ToLower(key) && len(c.Values) > 0 {
			return c.Values[0]
		}
	}
	return ""
}

// serviceImpact is what pinning a service grant to the owner account
// changes: the owner's triggers keep working, other accounts' stop.
func serviceImpact(st *policy.Statement, owner string) string {
	var parts []string
	services := []string{}
	if st.Principal != nil {
		services = st.Principal.Service
	}
	if len(services) == 0 {
		// Principal "*" limited by a source: name the source's service.
		if a, err := inventory.ParseARN(conditionValue(st, "aws:SourceArn")); err == nil && a.Service != "" {
			services = []string{a.Service + ".amazonaws.com"}
		} else {
			services = []string{"AWS services"}
		}
	}
	for _, svc := range services {
		src := sourceOf(svc)
		from := "account " + owner
		if n := sourceName(conditionValue(st, "aws:SourceArn")); n != "" {
			from = src.one + " " + n
		}
		parts = append(parts, fmt.Sprintf("%s from %s keep arriving; %s of other accounts no longer can", src.what, from, src.many))
	}
	return upperFirst(strings.Join(parts, "; ")) + "."
}

// removeImpact is what removing the statement takes away.
func (a *Action) removeImpact(st *policy.Statement, before map[string]*rules.Subject) string {
	var g *policy.Grant
	for _, v := range a.views {
		if g = grantOf(before[v.ARN], st.Index, v.ARN != a.Target.ARN); g != nil {
			break
		}
	}
	actions := "it"
	if g != nil {
		actions = actionList(g.Actions())
	}
	if st.Principal != nil && len(st.Principal.Service) > 0 && len(st.Principal.AWS) == 0 && !st.Principal.Everyone {
		var parts []string
		for _, svc := range st.Principal.Service {
			src := sourceOf(svc)
			from := "any " + src.one
			if n := sourceName(conditionValue(st, "aws:SourceArn")); n != "" {
				from = src.one + " " + n
			}
			parts = append(parts, fmt.Sprintf("%s from %s stop invoking it", src.what, from))
		}
		out := upperFirst(strings.Join(parts, "; ")) + "."
		if a.opt.Remove {
			out += " The trigger is removed, not pinned (--remove)."
		}
		return out
	}
	who := "The callers it names"
	if g != nil {
		who = upperFirst(g.Who())
	}
	out := fmt.Sprintf("%s can no longer call %s; principals of account %s keep what their own IAM policies allow.", who, actions, a.Target.Account)
	if u := a.state.URL; u != nil && strings.EqualFold(u.AuthType, "NONE") && g != nil && g.HasGroup(policy.GroupURLInvoke) {
		out += " Without it the function URL (AuthType NONE) answers 403 to unsigned callers."
	}
	return out
}

func orgImpact(org string, st *policy.Statement) string {
	return "Principals outside organization " + org + " can no longer call it; members of the organization keep access."
}

func denyPinImpact(op, key string, vals, views []string) string {
	reach := "its aliases and versions"
	if len(views) > 0 {
		reach = strings.Join(views, ", ")
	}
	return fmt.Sprintf("Callers for whom %s %s %s does not hold can no longer reach %s through this statement; the function itself keeps exactly the access it has today (its Deny already applies that limit).",
		op, key, strings.Join(vals, ", "), reach)
}

func scopeImpact(drop, keep []string) string {
	return fmt.Sprintf("The statement no longer covers %s, so callers it let in there lose that access; %s keeps the access it gives today.",
		strings.Join(drop, ", "), strings.Join(keep, ", "))
}

func urlImpact() string {
	return "Unsigned requests to the URL get 403; callers must sign them with credentials allowed lambda:InvokeFunctionUrl."
}

func actionList(actions []string) string {
	if len(actions) == 0 {
		return "it"
	}
	if len(actions) > 4 {
		return strings.Join(actions[:4], ", ") + fmt.Sprintf(" and %d more", len(actions)-4)
	}
	return strings.Join(actions, ", ")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
