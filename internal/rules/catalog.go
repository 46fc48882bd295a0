package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
)

// Trust is the owner's trust boundary beyond the resource's own account.
type Trust struct {
	Trusted []string
	OrgID   string
}

// NewSubject parses a resource's policies and judges them. A policy that
// does not parse is an error: the caller reports the resource as unknown.
func NewSubject(res *inventory.Resource, trust Trust) (*Subject, error) {
	s := &Subject{Resource: res}
	if res.Policy != nil {
		d, err := policy.Parse([]byte(res.Policy.Document))
		if err != nil {
			return nil, err
		}
		s.Own = d
	}
	if res.FunctionPolicy != nil {
		d, err := policy.Parse([]byte(res.FunctionPolicy.Document))
		if err != nil {
			return nil, fmt.Errorf("function policy: %w", err)
		}
		s.Function = d
	}
	ctx := policy.Context{
		Resource: res.ARN,
		Kind:     res.Kind,
		Owner:    res.Account,
		Trusted:  trust.Trusted,
		OrgID:    trust.OrgID,
	}
	if res.ARNInferred {
		ctx.Resource = ""
		if a, err := inventory.ParseLambdaARN(res.ARN); err == nil {
			ctx.Owner = a.Account
		}
	}
	if res.URL != nil {
		ctx.URLAuthType = res.URL.AuthType
	}
	s.Result = policy.Analyze(s.Own, s.Function, ctx)
	s.judgeRole(trust)
	return s, nil
}

// judgeRole reads the execution role's trust and permissions policies. A
// role document that does not parse leaves that check out, with a note;
// it does not hide the resource policy's verdict.
func (s *Subject) judgeRole(trust Trust) {
	role := s.Resource.ExecutionRole
	if role == nil {
		return
	}
	if role.Unknown != "" {
		s.Notes = append(s.Notes, "The execution role "+role.ARN+" could not be read ("+role.Unknown+"); role checks were not run.")
		return
	}
	if role.TrustPolicy != "" {
		d, err := policy.Parse([]byte(role.TrustPolicy))
		if err != nil {
			s.Notes = append(s.Notes, "The trust policy of "+role.ARN+" does not parse ("+err.Error()+"); who may assume it is unknown.")
		} else {
			s.RoleTrust = policy.Analyze(d, nil, policy.Context{Resource: role.ARN, Kind: inventory.KindExecutionRole, Owner: s.Resource.Account, Trusted: trust.Trusted, OrgID: trust.OrgID})
		}
	}
	s.RolePolicies = make([]*policy.Document, len(role.Policies))
	for i, p := range role.Policies {
		if p.Document == "" {
			continue
		}
		d, err := policy.ParseIdentity([]byte(p.Document))
		if err != nil {
			s.Notes = append(s.Notes, "The policy "+p.Name+" of "+role.ARN+" does not parse ("+err.Error()+"); it was not checked for administrative access.")
			continue
		}
		s.RolePolicies[i] = d
	}
}

// lambdaServices may assume an execution role: that is what it is for.
var lambdaServices = map[string]bool{"lambda.amazonaws.com": true, "edgelambda.amazonaws.com": true}

func roleNameOf(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

var functionKinds = []inventory.Kind{inventory.KindFunction, inventory.KindAlias, inventory.KindVersion}

// grantsAt returns a hit per grant of the given class.
func grantsAt(s *Subject, c policy.Class) []Hit {
	var out []Hit
	for _, g := range s.Result.Grants {
		if g.Class == c {
			out = append(out, Hit{Grant: g, Exposure: c, Explanation: g.Explanation(), Remediation: withHint(removeStatement(s.Resource, g), g)})
		}
	}
	return out
}

func withHint(r finding.Remediation, g *policy.Grant) finding.Remediation {
	if g.Missing() != "" {
		r.Text = strings.TrimSpace(r.Text + " " + g.Missing())
	}
	return r
}

// publicURLGrants returns the public grants of lambda:InvokeFunctionUrl.
func publicURLGrants(s *Subject) []*policy.Grant {
	var out []*policy.Grant
	for _, g := range s.Result.Grants {
		if g.Class == policy.Public && g.GrantsURLInvoke() {
			out = append(out, g)
		}
	}
	return out
}

func urlNone(s *Subject) bool {
	return s.Resource.URL != nil && strings.EqualFold(s.Resource.URL.AuthType, "NONE")
}

var catalog = append(append(resourcePolicyChecks, roleChecks...), roleMissing)

var resourcePolicyChecks = []*Rule{
	{
		ID:          "lambda-public-access",
		Title:       "Lambda functions should restrict public access",
		Severity:    finding.Critical,
		Rationale:   "A resource-based policy statement that lets anyone (any AWS account, or anonymous callers) invoke, read or change a function exposes the protected health information it handles. Conditions that do not pin the caller to a fixed account, organization or source resource do not help.",
		Remediation: "Remove the statement, or restrict it to named accounts, your organization (aws:PrincipalOrgID) or a source pinned to your account (AWS:SourceAccount).",
		Kinds:       functionKinds,
		Check:       func(s *Subject) []Hit { return grantsAt(s, policy.Public) },
		Examples: []Example{
			example("public invoke", true, `{"Sid":"oops","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s"}`),
			example("source ARN wildcard", true, `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"StringLike":{"aws:SourceArn":"*"}}}`),
			example("pinned to owner", false, `{"Sid":"ok","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"}}}`),
			example("org only", false, `{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`),
		},
	},
	{
		ID:          "lambda-public-function-url",
		Title:       "Lambda function URLs should not allow unauthenticated public access",
		Severity:    finding.Critical,
		Rationale:   "A function URL with AuthType NONE plus a policy that lets anyone call lambda:InvokeFunctionUrl is reachable by anyone on the internet without signing a request.",
		Remediation: "Switch the URL to AuthType AWS_IAM and grant lambda:InvokeFunctionUrl only to named principals, or remove the public grant if the URL is not meant to be public.",
		Kinds:       []inventory.Kind{inventory.KindFunction, inventory.KindAlias},
		Check: func(s *Subject) []Hit {
			if !urlNone(s) {
				return nil
			}
			var out []Hit
			for _, g := range publicURLGrants(s) {
				rem := finding.Remediation{
					Text:     "Switch the function URL to AWS_IAM (this breaks unsigned callers), then remove the public grant.",
					Commands: []string{"aws lambda update-function-url-config " + functionFlags(s.Resource) + " --auth-type AWS_IAM"},
				}
				rem.Commands = append(rem.Commands, removeStatement(s.Resource, g).Commands...)
				expl := g.Explanation()
				if u := s.Resource.URL.URL; u != "" {
					expl = "Function URL " + u + ": " + expl
				}
				out = append(out, Hit{Grant: g, Exposure: policy.Public, Explanation: expl, Remediation: rem})
			}
			return out
		},
		Examples: []Example{
			withURL(example("URL NONE with public grant", true, `{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"%s","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`), "NONE"),
			withURL(example("URL AWS_IAM", false, `{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"%s","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}`), "AWS_IAM"),
			withURL(example("URL NONE, grant to one account", false, `{"Sid":"acct","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:InvokeFunctionUrl","Resource":"%s"}`), "NONE"),
		},
	},
	{
		ID:          "lambda-cross-account-access",
		Title:       "Lambda resources should not grant access to untrusted accounts",
		Severity:    finding.High,
		Rationale:   "A grant to an account, role or network outside the owner and the declared trusted accounts lets someone outside the trust boundary invoke, read or change the resource. HIPAA requires access to be established and reviewed deliberately.",
		Remediation: "Remove the grant, or declare the partner account trusted (--trusted-account) once the access is approved.",
		Kinds:       append(append([]inventory.Kind(nil), functionKinds...), inventory.KindLayerVersion),
		Check:       func(s *Subject) []Hit { return grantsAt(s, policy.CrossAccount) },
		Examples: []Example{
			example("foreign account", true, `{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"%s"}`),
			example("foreign organization", true, `{"Sid":"o","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}}`),
			example("owner account", false, `{"Sid":"self","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"%s"}`),
		},
	},
	{
		ID:          "lambda-service-unscoped",
		Title:       "Lambda permissions for AWS services should be pinned to the owner's resources",
		Severity:    finding.High,
		Rationale:   "A grant to an AWS service principal without AWS:SourceAccount (or an AWS:SourceArn naming your account) lets the service act for any account's resource: another account's bucket, topic or rule can trigger the function (the confused deputy). An S3 bucket ARN names no account, so it is not enough on its own.",
		Remediation: "Pin the grant, do not remove it (it is a trigger someone relies on): add a StringEquals AWS:SourceAccount condition with your account id, keeping ArnLike AWS:SourceArn for the exact source.",
		Kinds:       functionKinds,
		Check: func(s *Subject) []Hit {
			hits := grantsAt(s, policy.ServiceUnscoped)
			for i := range hits {
				hits[i].Remediation = pinStatement(s.Resource, hits[i].Grant)
			}
			return hits
		},
		Examples: []Example{
			example("S3 without SourceAccount", true, `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}}`),
			example("SNS with no condition", true, `{"Sid":"sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"%s"}`),
			example("S3 with SourceAccount", false, `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"%s","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"},"StringEquals":{"AWS:SourceAccount":"111122223333"}}}`),
		},
	},
	{
		ID:          "lambda-layer-public",
		Title:       "Lambda layer versions should not be shared with every AWS account",
		Severity:    finding.High,
		Rationale:   "A layer version shared with \"*\" can be downloaded by any AWS account; layers often carry internal libraries, configuration or secrets.",
		Remediation: "Remove the public grant and share the layer with named accounts or with your organization.",
		Kinds:       []inventory.Kind{inventory.KindLayerVersion},
		Check:       func(s *Subject) []Hit { return grantsAt(s, policy.Public) },
		Examples: []Example{
			layerExample("public layer", true, `{"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"%s"}`),
			layerExample("org layer", false, `{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"%s","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`),
		},
	},
	{
		ID:          "lambda-url-dormant-none-auth",
		Title:       "Lambda function URLs with AuthType NONE are one statement away from public",
		Severity:    finding.Info,
		Rationale:   "A function URL with AuthType NONE is not reachable until a policy grants lambda:InvokeFunctionUrl to everyone, but a single add-permission makes it public. Unused URLs should use AWS_IAM or be deleted.",
		Remediation: "Switch the URL to AuthType AWS_IAM, or delete it if it is not used.",
		Kinds:       []inventory.Kind{inventory.KindFunction, inventory.KindAlias},
		Check: func(s *Subject) []Hit {
			if !urlNone(s) || len(publicURLGrants(s)) > 0 {
				return nil
			}
			return []Hit{{
				Explanation: "The function URL " + urlName(s.Resource.URL) + "has AuthType NONE; no statement grants lambda:InvokeFunctionUrl to everyone today, so it answers 403, but one add-permission would make it public.",
				Remediation: finding.Remediation{
					Text:     "Switch the URL to AWS_IAM, or delete it if it is not used.",
					Commands: []string{"aws lambda update-function-url-config " + functionFlags(s.Resource) + " --auth-type AWS_IAM"},
				},
			}}
		},
		Examples: []Example{
			withURL(Example{Name: "URL NONE, no policy", Bad: true, Resource: baseResource()}, "NONE"),
			withURL(Example{Name: "URL AWS_IAM, no policy", Bad: false, Resource: baseResource()}, "AWS_IAM"),
		},
	},
	{
		ID:          "lambda-url-cors-wildcard-credentials",
		Title:       "Lambda function URL CORS should not allow credentials from any origin",
		Severity:    finding.Medium,
		Rationale:   "AllowOrigins [\"*\"] with AllowCredentials true lets any web page make credentialed cross-origin calls to the URL from a signed-in user's browser.",
		Remediation: "List the exact origins that may call the URL, or turn AllowCredentials off.",
		Kinds:       []inventory.Kind{inventory.KindFunction, inventory.KindAlias},
		Check: func(s *Subject) []Hit {
			u := s.Resource.URL
			if u == nil || u.CORS == nil || !u.CORS.AllowCredentials {
				return nil
			}
			for _, o := range u.CORS.AllowOrigins {
				if strings.TrimSpace(o) == "*" {
					return []Hit{{
						Explanation: "The function URL " + urlName(u) + "allows credentialed CORS requests (AllowCredentials true) from any origin (AllowOrigins \"*\").",
						Remediation: finding.Remediation{
							Text:     "List the exact origins, or turn AllowCredentials off.",
							Commands: []string{"aws lambda update-function-url-config " + functionFlags(s.Resource) + " --cors 'AllowOrigins=https://app.example.com,AllowCredentials=true'"},
						},
					}}
				}
			}
			return nil
		},
		Examples: []Example{
			withCORS(Example{Name: "wildcard with credentials", Bad: true, Resource: baseResource()}, true),
			withCORS(Example{Name: "wildcard without credentials", Bad: false, Resource: baseResource()}, false),
		},
	},
	{
		ID:          "lambda-not-in-vpc",
		Title:       "Lambda functions should be in a VPC",
		Severity:    finding.Low,
		Rationale:   "A function attached to private subnets of a VPC keeps its traffic to databases and internal services off the public network and under security groups (Security Hub Lambda.3).",
		Remediation: "Attach the function to private subnets (at least two) with a security group that allows only what it needs.",
		Kinds:       []inventory.Kind{inventory.KindFunction},
		Check: func(s *Subject) []Hit {
			r := s.Resource
			if !r.ConfigKnown || (r.VPC != nil && len(r.VPC.SubnetIDs) > 0) {
				return nil
			}
			return []Hit{{
				Explanation: "The function " + r.Name + " is not attached to a VPC, so its outbound traffic leaves through Lambda's shared network rather than your private subnets.",
				Remediation: finding.Remediation{
					Text:     "Attach the function to private subnets with a restrictive security group.",
					Commands: []string{"aws lambda update-function-configuration --function-name " + ShellQuote(nameOr(r.Name, "FUNCTION")) + " --vpc-config SubnetIds=subnet-PRIVATE1,subnet-PRIVATE2,SecurityGroupIds=sg-FUNCTION" + regionFlag(r.Region)},
				},
			}}
		},
		Examples: []Example{
			{Name: "no VPC", Bad: true, Resource: withConfig(baseResource(), nil)},
			{Name: "in VPC", Bad: false, Resource: withConfig(baseResource(), &inventory.VPCConfig{SubnetIDs: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}})},
		},
	},
}

// roleChecks are the execution-role rules.
var roleChecks = []*Rule{
	{
		ID:          "lambda-role-trust-broad",
		Title:       "Lambda execution roles should be assumable only by Lambda",
		Severity:    finding.High,
		Rationale:   "An execution role carries the function's permissions to PHI stores. If its trust policy lets anyone other than the Lambda service (or principals of the owner account) assume it, they get those permissions without touching the function.",
		Remediation: "Limit the trust policy to the lambda.amazonaws.com service principal.",
		Kinds:       []inventory.Kind{inventory.KindFunction},
		Check: func(s *Subject) []Hit {
			if s.RoleTrust == nil {
				return nil
			}
			role := s.Resource.ExecutionRole
			var out []Hit
			for _, g := range s.RoleTrust.Grants {
				for _, p := range g.Principals() {
					if p.Class <= policy.Private || lambdaServices[p.Service] {
						continue
					}
					// No Grant on the hit: its statement is in the role's trust
					// policy, not in the resource policy a statement ref names.
					out = append(out, Hit{Exposure: p.Class,
						Explanation: "The execution role " + role.ARN + " can be assumed by " + p.Who + " (" + p.Class.String() + "): " + g.Explanation(),
						Remediation: finding.Remediation{
							Text:     "Rewrite the trust policy so that only lambda.amazonaws.com can assume the role.",
							Commands: []string{"aws iam update-assume-role-policy --role-name " + ShellQuote(roleNameOf(role.ARN)) + ` --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`},
						}})
					break
				}
			}
			return out
		},
		Examples: []Example{
			withRole("foreign account may assume", true, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`),
			withRole("only Lambda", false, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		},
	},
	{
		ID:          "lambda-role-admin",
		Title:       "Lambda execution roles should not have administrative permissions",
		Severity:    finding.Medium,
		Rationale:   `A function whose role can do everything ("*" on "*", or AdministratorAccess) turns any code flaw into full control of the account and every PHI store in it. HIPAA's minimum-necessary access applies to workloads too.`,
		Remediation: "Replace the administrative policy with one that grants only the actions and resources the function uses.",
		Kinds:       []inventory.Kind{inventory.KindFunction},
		Check: func(s *Subject) []Hit {
			role := s.Resource.ExecutionRole
			if role == nil || role.Unknown != "" {
				return nil
			}
			name := ShellQuote(roleNameOf(role.ARN))
			var out []Hit
			for i, p := range role.Policies {
				switch {
				case p.ARN == "arn:aws:iam::aws:policy/AdministratorAccess":
					out = append(out, Hit{
						Explanation: "The execution role " + role.ARN + " has the AWS managed policy AdministratorAccess attached: the function's code can do anything in the account.",
						Remediation: finding.Remediation{Text: "Attach a least-privilege policy, then detach AdministratorAccess.", Commands: []string{"aws iam detach-role-policy --role-name " + name + " --policy-arn " + p.ARN}},
					})
				case i < len(s.RolePolicies) && s.RolePolicies[i] != nil:
					st := s.RolePolicies[i].AdminStatement()
					if st == nil {
						continue
					}
					cond := ""
					if len(st.Conditions) > 0 {
						cond = " (under conditions, which still leave it administrative whenever they hold)"
					}
					cmd := "aws iam delete-role-policy --role-name " + name + " --policy-name " + ShellQuote(p.Name)
					if p.ARN != "" {
						cmd = "aws iam detach-role-policy --role-name " + name + " --policy-arn " + p.ARN
					}
					out = append(out, Hit{
						Explanation: "The execution role " + role.ARN + " has policy " + p.Name + " whose statement " + strconv.Itoa(st.Index) + " allows every action on every resource" + cond + ".",
						Remediation: finding.Remediation{Text: "Replace the policy with one limited to what the function needs.", Commands: []string{cmd}},
					})
				}
			}
			return out
		},
		Examples: []Example{
			withRolePolicy("inline star on star", true, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
			withRolePolicy("scoped policy", false, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::phi/*"}]}`),
		},
	},
}

// roleMissing is the rule for a function whose execution role no longer
// exists.
var roleMissing = &Rule{
	ID:       "lambda-role-missing",
	Title:    "Lambda functions should have an execution role that exists",
	Severity: finding.Low,
	Rationale: "AWS keeps a function's role ARN after the role is deleted. The function cannot run, so whatever relies on its trigger silently stops; " +
		"and anyone who may create a role of that name in the account (iam:CreateRole) gets the function's triggers and events, with whatever permissions they attach.",
	Remediation: "Re-create the role yourself so no one else can (trust only lambda.amazonaws.com, then attach the least-privilege policy the function needs), point the function at another role, or delete the function if nothing uses it.",
	Kinds:       []inventory.Kind{inventory.KindFunction},
	Check: func(s *Subject) []Hit {
		role := s.Resource.ExecutionRole
		if role == nil || !role.Missing {
			return nil
		}
		path, name := rolePathAndName(role.ARN)
		create := "aws iam create-role --role-name " + ShellQuote(name)
		if path != "/" {
			create += " --path " + ShellQuote(path)
		}
		create += ` --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`
		return []Hit{{
			Explanation: "The execution role " + role.ARN + " does not exist (IAM answered NoSuchEntity): the function cannot run, and whoever creates a role named " + name + " in account " + s.Resource.Account + " inherits it.",
			Remediation: finding.Remediation{
				Text:     "Re-create the role with a trust policy for lambda.amazonaws.com only (the command below), then attach the least-privilege policy the function needs; or point the function at another role, or delete the function if nothing uses it.",
				Commands: []string{create},
			},
		}}
	},
	Examples: []Example{
		{Name: "role deleted", Bad: true, Resource: withMissingRole(true)},
		{Name: "role exists", Bad: false, Resource: withMissingRole(false)},
	},
}

func withMissingRole(missing bool) inventory.Resource {
	r := baseResource()
	r.ExecutionRole = &inventory.ExecutionRole{ARN: "arn:aws:iam::111122223333:role/service/intake", Missing: missing}
	if !missing {
		r.ExecutionRole.TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	}
	return r
}

// rolePathAndName splits a role ARN's resource into IAM's path ("/" or
// "/a/b/") and name.
func rolePathAndName(arn string) (path, name string) {
	res := arn
	if a, err := inventory.ParseARN(arn); err == nil {
		res = a.Resource
	}
	res = strings.TrimPrefix(res, "role")
	i := strings.LastIndex(res, "/")
	if i < 0 {
		return "/", res
	}
	return res[:i+1], res[i+1:]
}

func withRole(name string, bad bool, trust string) Example {
	r := baseResource()
	r.ExecutionRole = &inventory.ExecutionRole{ARN: "arn:aws:iam::111122223333:role/intake", TrustPolicy: trust}
	return Example{Name: name, Bad: bad, Resource: r}
}

func withRolePolicy(name string, bad bool, doc string) Example {
	e := withRole(name, bad, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	e.Resource.ExecutionRole.Policies = []inventory.RolePolicy{{Name: "app", Document: doc}}
	return e
}

const exampleFunction = "arn:aws:lambda:us-east-1:111122223333:function:intake"

func baseResource() inventory.Resource {
	return inventory.Resource{ARN: exampleFunction, Kind: inventory.KindFunction, Account: "111122223333", Region: "us-east-1", Name: "intake"}
}

func example(name string, bad bool, statement string) Example {
	r := baseResource()
	r.Policy = &inventory.Policy{Document: `{"Version":"2012-10-17","Statement":[` + fmt.Sprintf(statement, r.ARN) + `]}`}
	return Example{Name: name, Bad: bad, Resource: r}
}

func layerExample(name string, bad bool, statement string) Example {
	arn := "arn:aws:lambda:us-east-1:111122223333:layer:shared-libs:3"
	r := inventory.Resource{ARN: arn, Kind: inventory.KindLayerVersion, Account: "111122223333", Region: "us-east-1", Name: "shared-libs", Qualifier: "3", LayerVersion: 3}
	r.Policy = &inventory.Policy{Document: `{"Version":"2012-10-17","Statement":[` + fmt.Sprintf(statement, arn) + `]}`}
	return Example{Name: name, Bad: bad, Resource: r}
}

func withURL(e Example, auth string) Example {
	e.Resource.URL = &inventory.FunctionURL{URL: "https://abc123.lambda-url.us-east-1.on.aws/", AuthType: auth}
	e.Resource.URLChecked = true
	return e
}

func withCORS(e Example, creds bool) Example {
	e = withURL(e, "AWS_IAM")
	e.Resource.URL.CORS = &inventory.CORS{AllowOrigins: []string{"*"}, AllowCredentials: creds}
	return e
}

func withConfig(r inventory.Resource, vpc *inventory.VPCConfig) inventory.Resource {
	r.ConfigKnown = true
	r.VPC = vpc
	return r
}

// urlName is the URL followed by a space, or nothing when unknown.
func urlName(u *inventory.FunctionURL) string {
	if u.URL == "" {
		return ""
	}
	return u.URL + " "
}
