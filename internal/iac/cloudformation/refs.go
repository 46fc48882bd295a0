package cloudformation

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// What a template's resources resolve to: the names and ARNs that Ref and
// GetAtt give for each resource type, and SAM's generated resources.

// samRef resolves the references SAM adds for a function with
// AutoPublishAlias: MyFunction.Alias is the alias's ARN, MyFunction.Version
// the published version's.
func (t *template) samRef(name string) (any, bool) {
	id, attr, ok := strings.Cut(name, ".")
	if !ok || attr != "Alias" && attr != "Version" {
		return nil, false
	}
	if typ, _ := t.resourceType(id); typ != "AWS::Serverless::Function" {
		return nil, false
	}
	fn := t.nameOf(id, "FunctionName")
	opt := estate.Options{Owner: t.opt.Owner, Partition: t.opt.Partition}
	for aid, parts := range t.generatedAlias {
		f, alias, _ := strings.Cut(parts, "\x00")
		if strings.HasPrefix(aid, id+"Alias") && f == fn {
			if attr == "Alias" {
				return opt.FunctionARN("", "", fn, alias), true
			}
			return opt.FunctionARN("", "", fn, estate.Published), true
		}
	}
	return nil, false
}

func (t *template) resourceType(id string) (string, bool) {
	if r, ok := t.resources[id]; ok {
		_, tn := child(r, "Type")
		if tn != nil {
			return tn.Value, true
		}
		return "", true
	}
	if typ, ok := t.generated[id]; ok {
		return typ, true
	}
	return "", false
}

// nameOf is the physical name a template resource gets: its name
// property when the template fixes it, else its logical id (CloudFormation
// makes one up from it at deployment).
func (t *template) nameOf(id, prop string) string {
	if r, ok := t.resources[id]; ok {
		_, props := child(r, "Properties")
		if _, n := child(props, prop); n != nil {
			if s, ok := str(t.eval(n)); ok {
				return s
			}
		}
	}
	return t.generatedName(id)
}

// generatedName is the name a resource without a name property is known
// by: its logical id, or, when two stacks of the tree have a resource of
// that logical id (two SAM applications with HelloWorldFunction), the
// stack's name and the logical id, as CloudFormation names it
// (STACK-LogicalId-SUFFIX).
func (t *template) generatedName(id string) string {
	if t.opt.StackName != "" {
		return t.opt.StackName + "-" + id
	}
	return id
}

func (t *template) refResource(id, typ string) any {
	switch typ {
	case "AWS::Lambda::Function", "AWS::Serverless::Function":
		return t.nameOf(id, "FunctionName")
	case "AWS::Lambda::Alias":
		fn, name := t.aliasParts(id)
		return estate.Options{Owner: t.opt.Owner, Partition: t.opt.Partition}.FunctionARN("", "", fn, name)
	case "AWS::Lambda::Version":
		fn := t.functionOf(id)
		return estate.Options{Owner: t.opt.Owner, Partition: t.opt.Partition}.FunctionARN("", "", fn, estate.Published)
	case "AWS::Lambda::LayerVersion", "AWS::Serverless::LayerVersion":
		return estate.Options{Owner: t.opt.Owner, Partition: t.opt.Partition}.LayerARN("", "", t.nameOf(id, "LayerName"), estate.Published)
	case "AWS::SNS::Topic":
		return t.arnFor(id, typ)
	}
	// Other resources' Ref is a name or id fixed at deployment; as a
	// token it keeps the owner's account wherever it is put in an ARN.
	return id
}

// aliasParts reads an alias resource's function and name.
func (t *template) aliasParts(id string) (string, string) {
	if typ, ok := t.generated[id]; ok && typ == "AWS::Lambda::Alias" {
		fn, name, _ := strings.Cut(t.generatedAlias[id], "\x00")
		return fn, name
	}
	fn := t.functionOf(id)
	name := id
	if r, ok := t.resources[id]; ok {
		_, props := child(r, "Properties")
		if _, n := child(props, "Name"); n != nil {
			if s, ok := str(t.eval(n)); ok {
				name = s
			}
		}
	}
	return fn, name
}

// functionOf is the function name an alias or version names.
func (t *template) functionOf(id string) string {
	r := t.resources[id]
	_, props := child(r, "Properties")
	if _, n := child(props, "FunctionName"); n != nil {
		if s, ok := str(t.eval(n)); ok {
			return functionName(s)
		}
	}
	return id
}

// functionName takes the name out of a function ARN.
func functionName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if parts := strings.Split(s, ":"); len(parts) >= 7 {
			return parts[6]
		}
	}
	return s
}

// arnFor is the ARN of a resource of the template: owned by the
// deploying account. S3 bucket ARNs carry no account, as in AWS.
func (t *template) arnFor(id, typ string) string {
	p := t.opt.Partition
	region := estate.RegionPlaceholder
	parts := strings.Split(typ, "::")
	service := "unknown"
	if len(parts) == 3 {
		service = strings.ToLower(parts[1])
	}
	switch typ {
	case "AWS::S3::Bucket":
		return "arn:" + p + ":s3:::" + t.nameOf(id, "BucketName")
	case "AWS::SNS::Topic":
		return "arn:" + p + ":sns:" + region + ":" + t.opt.Owner + ":" + t.nameOf(id, "TopicName")
	case "AWS::SQS::Queue":
		return "arn:" + p + ":sqs:" + region + ":" + t.opt.Owner + ":" + t.nameOf(id, "QueueName")
	case "AWS::Events::Rule":
		return "arn:" + p + ":events:" + region + ":" + t.opt.Owner + ":rule/" + t.nameOf(id, "Name")
	case "AWS::Lambda::Function", "AWS::Serverless::Function":
		return estate.Options{Owner: t.opt.Owner, Partition: p}.FunctionARN("", "", t.nameOf(id, "FunctionName"), "")
	case "AWS::Logs::LogGroup":
		return "arn:" + p + ":logs:" + region + ":" + t.opt.Owner + ":log-group:" + t.nameOf(id, "LogGroupName") + ":*"
	}
	return "arn:" + p + ":" + service + ":" + region + ":" + t.opt.Owner + ":" + id
}

func (t *template) getAtt(node *yaml.Node, parts []string) any {
	where := fmt.Sprintf("%s (line %d)", describe(node), node.Line)
	if len(parts) != 2 {
		return unknown{why: where + ": Fn::GetAtt takes LogicalId.Attribute"}
	}
	id, attr := parts[0], parts[1]
	typ, ok := t.resourceType(id)
	if !ok {
		return unknown{why: where + ": " + id + " is not a resource of the template"}
	}
	switch {
	case attr == "Arn":
		switch typ {
		case "AWS::Lambda::Alias", "AWS::Lambda::Version", "AWS::Lambda::LayerVersion":
			return t.refResource(id, typ)
		}
		return t.arnFor(id, typ)
	case typ == "AWS::Lambda::Url" && attr == "FunctionUrl":
		return "https://" + strings.ToLower(id) + ".lambda-url." + estate.RegionPlaceholder + ".on.aws/"
	case attr == "Version" && typ == "AWS::Lambda::Version":
		return estate.Published
	case attr == "StreamArn":
		return t.arnFor(id, typ) + "/stream/*"
	case typ == "AWS::Lambda::Alias" && attr == "AliasArn":
		return t.refResource(id, typ)
	case typ == "AWS::Lambda::LayerVersion" && attr == "LayerVersionArn":
		return t.refResource(id, typ)
	case strings.HasPrefix(typ, "AWS::Lambda::") || typ == "AWS::Serverless::Function":
		// A Lambda attribute the reader does not derive would become a
		// token naming a function that does not exist.
		return unknown{why: where + ": the attribute " + attr + " of " + typ + " is not resolved statically"}
	}
	// An attribute of a resource of this stack: a token that keeps the
	// owner's account wherever it is used.
	return id + "." + attr
}
