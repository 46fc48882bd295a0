package remediate

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

const (
	owner = "111122223333"
	fnARN = "arn:aws:lambda:us-east-1:111122223333:function:intake"
	orgID = "o-abc123def4"
)

var trust = rules.Trust{OrgID: orgID}

func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func stmt(sid, principal, action, resource, cond string) string {
	s := fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":%s,"Action":%q,"Resource":%q`, sid, principal, action, resource)
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

var (
	public    = stmt("oops", `"*"`, "lambda:InvokeFunction", fnARN, "")
	apigw     = stmt("apigw", `{"Service":"apigateway.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, `{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:111122223333:abc/*"}}`)
	orgGrant  = stmt("org", `"*"`, "lambda:InvokeFunction", fnARN, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}`)
	partner   = stmt("partner", `{"AWS":"arn:aws:iam::444455556666:root"}`, "lambda:InvokeFunction", fnARN, "")
	unscopedS = stmt("s3", `{"Service":"s3.amazonaws.com"}`, "lambda:InvokeFunction", fnARN, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}`)
)

func function(d string) *inventory.Resource {
	r := &inventory.Resource{ARN: fnARN, Kind: inventory.KindFunction, Account: owner, Region: "us-east-1", Name: "intake"}
	if d != "" {
		r.Policy = &inventory.Policy{Document: d, RevisionID: "rev-1"}
	}
	return r
}

func alias(name, d string, fn *inventory.Resource) *inventory.Resource {
	r := &inventory.Resource{ARN: fnARN + ":" + name, Kind: inventory.KindAlias, Account: owner, Region: "us-east-1", Name: "intake", Qualifier: name, FunctionPolicy: fn.Policy}
	if d != "" {
		r.Policy = &inventory.Policy{Document: d, RevisionID: "rev-a"}
	}
	return r
}

func only(t *testing.T, p *Plan) *Action {
	t.Helper()
	var with []*Action
	for _, a := range p.Actions {
		if a.HasWork() {
			with = append(with, a)
		}
	}
	if len(with) != 1 {
		t.Fatalf("want one action with calls, got %d: %+v", len(with), p.Actions)
	}
	return with[0]
}

func TestPlanRemovesOnlyFlaggedStatements(t *testing.T) {
	d := doc(apigw, public, orgGrant, partner)
	a := only(t, MakePlan([]*inventory.Resource{function(d)}, Options{Trust: trust}))
	var removed []string
	for _, c := range a.Changes {
		removed = append(removed, c.Sid)
		if c.Kind != Remove {
			t.Errorf("%s: %s, want remove", c.Sid, c.Kind)
		}
	}
	if strings.Join(removed, ",") != "oops,partner" {
		t.Fatalf("removed %v, want oops and partner only", removed)
	}
	if a.Kept != 2 {
		t.Errorf("kept %d statements, want 2", a.Kept)
	}
	for i, s := range a.Steps {
		if s.Op != OpRemovePermission || s.Sid != removed[i] {
			t.Errorf("step %d = %s %s, want RemovePermission %s", i, s.Op, s.Sid, removed[i])
		}
	}
	if !strings.Contains(a.Steps[0].CLI, "--revision-id rev-1") {
		t.Errorf("first call is not guarded by the RevisionId just read: %s", a.Steps[0].CLI)
	}
	if len(a.Effects) != 1 || a.Effects[0].Before != "public" || a.Effects[0].After != "org" {
		t.Errorf("effects %+v, want public → org", a.Effects)
	}
}

func TestPlanPicksTheCall(t *testing.T) {
	noSid := `{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"}`
	dupSid := stmt("apigw", `"*"`, "lambda:GetFunction", fnARN, "")
	netOnly := stmt("net", `"*"`, "lambda:InvokeFunction", fnARN, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)
	cases := []struct {
		name  string
		doc   string
		orig  inventory.PolicyOrigin
		op    Op
		after []string // Sids left in the new document, for PutResourcePolicy
	}{
		{name: "add-permission shape", doc: doc(apigw, public), op: OpRemovePermission},
		{name: "no Sid", doc: doc(apigw, noSid), op: OpPutResourcePolicy, after: []string{"apigw"}},
		{name: "Sid shared by two statements", doc: doc(apigw, dupSid), op: OpPutResourcePolicy, after: []string{"apigw"}},
		{name: "condition add-permission cannot write", doc: doc(apigw, netOnly), op: OpPutResourcePolicy, after: []string{"apigw"}},
		{name: "nothing left", doc: doc(netOnly), op: OpDeleteResourcePolicy},
		{name: "written by put-resource-policy", doc: doc(apigw, public), orig: inventory.OriginResourcePolicy, op: OpPutResourcePolicy, after: []string{"apigw"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := function(c.doc)
			r.Policy.Origin = c.orig
			a := only(t, MakePlan([]*inventory.Resource{r}, Options{Trust: trust}))
			if len(a.Steps) != 1 || a.Steps[0].Op != c.op {
				t.Fatalf("steps %+v, want one %s", a.Steps, c.op)
			}
			if c.op != OpPutResourcePolicy {
				return
			}
			d, err := policy.Parse([]byte(a.After))
			if err != nil {
				t.Fatalf("planned policy does not parse: %v", err)
			}
			var sids []string
			for _, s := range d.Statements {
				sids = append(sids, s.Sid)
			}
			if strings.Join(sids, ",") != strings.Join(c.after, ",") {
				t.Errorf("planned policy keeps %v, want %v", sids, c.after)
			}
			if !strings.Contains(a.After, apigw) {
				t.Errorf("the kept statement is not byte-identical:\n%s", a.After)
			}
		})
	}
}

func TestPlanLayerVersion(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:111122223333:layer:libs:3"
	r := &inventory.Resource{ARN: arn, Kind: inventory.KindLayerVersion, Account: owner, Region: "us-east-1", Name: "libs", Qualifier: "3", LayerVersion: 3,
		Policy: &inventory.Policy{Document: doc(stmt("all", `"*"`, "lambda:GetLayerVersion", arn, "")), RevisionID: "rev-l"}}
	a := only(t, MakePlan([]*inventory.Resource{r}, Options{Trust: trust, NarrowToOrg: true}))
	if a.Steps[0].Op != OpRemoveLayerVersionPermission || !strings.HasPrefix(a.Steps[0].CLI, "aws lambda remove-layer-version-permission --layer-name libs --version-number 3 --statement-id all --revision-id rev-l") {
		t.Errorf("step %+v", a.Steps[0])
	}
	if a.Changes[0].Kind != Remove || !strings.Contains(a.Changes[0].Note, "not narrowed") {
		t.Errorf("a layer statement cannot be rewritten, so it is removed and the plan says why: %+v", a.Changes[0])
	}
}

func TestInheritedStatementIsFixedOnTheFunction(t *testing.T) {
	wide := stmt("wide", `"*"`, "lambda:InvokeFunction", fnARN+":*", "")
	fn := function(doc(apigw, wide))
	prod := alias("prod", "", fn)
	p := MakePlan([]*inventory.Resource{fn, prod}, Options{Trust: trust})
	a := only(t, p)
	if a.Target.ARN != fnARN {
		t.Fatalf("the change is on %s, want the unqualified function", a.Target.ARN)
	}
	if a.Changes[0].Sid != "wide" || a.Changes[0].Findings[0].Resource != prod.ARN {
		t.Errorf("change %+v, want statement wide for the alias's finding", a.Changes[0])
	}
	found := false
	for _, e := range a.Effects {
		if e.Resource == prod.ARN && e.Before == "public" && e.After == "private" {
			found = true
		}
	}
	if !found {
		t.Errorf("the alias's exposure change is not shown: %+v", a.Effects)
	}
}

func TestFunctionURLIsSwitchedOnlyWhenAsked(t *testing.T) {
	urlGrant := stmt("FunctionURLAllowPublicAccess", `"*"`, "lambda:InvokeFunctionUrl", fnARN, `{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}`)
	r := function(doc(urlGrant))
	r.URL = &inventory.FunctionURL{URL: "https://x.lambda-url.us-east-1.on.aws/", AuthType: "NONE"}
	r.URLChecked = true

	a := only(t, MakePlan([]*inventory.Resource{r}, Options{Trust: trust}))
	if a.URL != nil {
		t.Error("the URL is switched without --url-auth")
	}
	if len(a.Skipped) != 1 || !strings.Contains(a.Skipped[0].Reason, "--url-auth aws-iam") {
		t.Errorf("the URL must be reported as left alone: %+v", a.Skipped)
	}

	a = only(t, MakePlan([]*inventory.Resource{r}, Options{Trust: trust, URLAuthIAM: true, NarrowToOrg: true}))
	if a.URL == nil || a.URL.To != "AWS_IAM" {
		t.Fatalf("URL change %+v", a.URL)
	}
	if last := a.Steps[len(a.Steps)-1]; last.Op != OpUpdateFunctionURLConfig {
		t.Errorf("the unguarded URL switch must come after the guarded policy writes: %+v", a.Steps)
	}
	if a.Changes[0].Kind != Remove {
		t.Errorf("the URL's public grant is removed when the URL switches, even with --narrow-to-org: %+v", a.Changes[0])
	}
}

func TestFilters(t *testing.T) {
	r := function(doc(public, partner, unscopedS))
	cases := []struct {
		name   string
		filter Filter
		want   string
	}{
		{"everything", Filter{}, "oops,partner,s3"},
		{"rule", Filter{Rules: []string{"lambda-cross-account-access"}}, "partner"},
		{"severity", Filter{MinSeverity: finding.Critical}, "oops"},
		{"exposure", Filter{Exposures: []string{"service-unscoped"}}, "s3"},
		{"resource matches", Filter{Resources: []string{"arn:aws:lambda:*:111122223333:function:in*"}}, "oops,partner,s3"},
		{"resource does not match", Filter{Resources: []string{"arn:aws:lambda:*:*:function:other"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := MakePlan([]*inventory.Resource{r}, Options{Trust: trust, Filter: c.filter})
			var sids []string
			for _, a := range p.Actions {
				for _, ch := range a.Changes {
					sids = append(sids, ch.Sid)
				}
			}
			if got := strings.Join(sids, ","); got != c.want {
				t.Errorf("changed %q, want %q", got, c.want)
			}
		})
	}
}

func TestUnknownResourcesAreNeverPlanned(t *testing.T) {
	bad := function("")
	bad.PolicyUnknown = "GetPolicy: AccessDeniedException"
	broken := function(`{"Statement":[]}`)
	broken.ARN = fnARN + "2"
	p := MakePlan([]*inventory.Resource{bad, broken}, Options{Trust: trust})
	if len(p.Actions) != 0 || len(p.Unknown) != 2 {
		t.Fatalf("actions %+v, unknown %+v", p.Actions, p.Unknown)
	}
}

func TestKeysMatchOnlyTheReviewedStatement(t *testing.T) {
	a := only(t, MakePlan([]*inventory.Resource{function(doc(apigw, public))}, Options{Trust: trust}))
	keys := a.Keys()
	if !keys(Candidate{Target: a.Target, Sid: "oops", Raw: compact([]byte(public))}) {
		t.Error("the planned statement is not accepted")
	}
	edited := strings.Replace(public, "lambda:InvokeFunction", "lambda:*", 1)
	if keys(Candidate{Target: a.Target, Sid: "oops", Raw: compact([]byte(edited))}) {
		t.Error("a statement with the same Sid but other text was accepted")
	}
}

func TestPermissionOfReproducesAddPermission(t *testing.T) {
	ref := Ref{ARN: fnARN, Kind: inventory.KindFunction, Name: "intake"}
	cases := []struct {
		stmt  string
		exact bool
		want  Permission
	}{
		{public, true, Permission{StatementID: "oops", Action: "lambda:InvokeFunction", Principal: "*"}},
		{partner, true, Permission{StatementID: "partner", Action: "lambda:InvokeFunction", Principal: "444455556666"}},
		{apigw, true, Permission{StatementID: "apigw", Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com", SourceArn: "arn:aws:execute-api:us-east-1:111122223333:abc/*"}},
		{stmt("u", `"*"`, "lambda:InvokeFunction", fnARN, `{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}`), true,
			Permission{StatementID: "u", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}},
		// Same meaning, other key order: add-permission would write other text.
		{`{"Sid":"o","Effect":"Allow","Action":"lambda:InvokeFunction","Principal":"*","Resource":"` + fnARN + `"}`, false,
			Permission{StatementID: "o", Action: "lambda:InvokeFunction", Principal: "*"}},
	}
	for _, c := range cases {
		d, err := policy.Parse([]byte(doc(c.stmt)))
		if err != nil {
			t.Fatal(err)
		}
		p, exact, err := permissionOf(d.Statements[0], []byte(c.stmt), ref)
		if err != nil {
			t.Fatalf("%s: %v", c.stmt, err)
		}
		if p != c.want || exact != c.exact {
			t.Errorf("%s:\n got %+v exact=%v\nwant %+v exact=%v", c.stmt, p, exact, c.want, c.exact)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*", fnARN, true},
		{"arn:aws:lambda:*:111122223333:function:intake", fnARN, true},
		{"arn:aws:lambda:*:111122223333:function:intake", fnARN + ":prod", false},
		{"arn:aws:lambda:*:111122223333:function:intake*", fnARN + ":prod", true},
		{"arn:aws:lambda:us-east-?:*", fnARN, true},
	} {
		if got := Glob(c.p, c.s); got != c.ok {
			t.Errorf("Glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// TestPlannerIsPure keeps the SDK out of the package (it lives in
// awsexec) and I/O out of the planner's files: the plan is a function of
// what was read.
func TestPlannerIsPure(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	planner := map[string]bool{"plan.go": true, "splice.go": true, "shape.go": true, "action.go": true, "filter.go": true, "treatment.go": true, "settle.go": true, "steps.go": true, "impact.go": true}
	seen := 0
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if strings.HasPrefix(path, "github.com/aws/") || path == "net" || path == "net/http" || path == "os/exec" {
					t.Errorf("%s imports %s; the SDK executor belongs in awsexec", name, path)
				}
				if planner[filepath.Base(name)] {
					seen++
					if path == "os" || path == "time" || path == "context" {
						t.Errorf("%s imports %s; the planner must stay pure", name, path)
					}
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no planner imports read; the check would prove nothing")
	}
}

// TestFilesStaySmall keeps each file of the package to one idea (issue
// 10 item 11): none grows past 600 lines.
func TestFilesStaySmall(t *testing.T) {
	for _, dir := range []string{".", "fixdoc", "awsexec", "guardrails"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(data), "\n"); n > 600 {
				t.Errorf("%s has %d lines; split it by idea", f, n)
			}
		}
	}
}
