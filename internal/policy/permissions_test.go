package policy

import (
	"slices"
	"strings"
	"testing"
)

const (
	roleARN  = "arn:aws:iam::111122223333:role/partner"
	otherFn  = "arn:aws:lambda:us-east-1:111122223333:function:billing"
	version1 = "arn:aws:lambda:us-east-1:111122223333:function:intake:1"
)

// idDoc builds an identity policy from statements.
func idDoc(t testing.TB, stmts ...string) *Document {
	t.Helper()
	d, err := ParseIdentity([]byte(doc(stmts...)))
	if err != nil {
		t.Fatalf("identity policy: %v", err)
	}
	return d
}

func idStmt(effect, actionKey, action, resourceKey, resource, cond string) string {
	s := `{"Effect":"` + effect + `","` + actionKey + `":` + action
	if resourceKey != "" {
		s += `,"` + resourceKey + `":` + resource
	}
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

func allowID(action, resource string) string {
	return idStmt("Allow", "Action", action, "Resource", resource, "")
}

func denyID(action, resource string) string {
	return idStmt("Deny", "Action", action, "Resource", resource, "")
}

type permCase struct {
	name      string
	identity  []string // statements of one identity policy
	inline    []string // statements of a second identity policy
	boundary  []string // nil: no boundary
	scps      [][]string
	own       string // the resource's own policy, "" for none
	resource  string
	want      []string // allowed Lambda actions among wantCheck
	check     []string // actions to look at; default invoke + GetFunction + UpdateFunctionCode
	cond      []string // actions expected to be conditional
	blockedBy string   // substring of a Block's By
}

var permCases = []permCase{
	{name: "invoke on star reaches the function", identity: []string{allowID(invoke, star)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "invoke on star reaches a version", identity: []string{allowID(invoke, star)}, resource: version1, want: []string{"lambda:InvokeFunction"}},
	{name: "invoke on one ARN reaches it", identity: []string{allowID(invoke, fn)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "invoke on one ARN misses another function", identity: []string{allowID(invoke, fn)}, resource: otherFn},
	{name: "unqualified ARN does not cover a version", identity: []string{allowID(invoke, fn)}, resource: version1},
	{name: "FN:* covers a version", identity: []string{allowID(invoke, `"FN:*"`)}, resource: version1, want: []string{"lambda:InvokeFunction"}},
	{name: "lambda:* on star", identity: []string{allowID(`"lambda:*"`, star)}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"}},
	{name: "star action", identity: []string{allowID(star, star)}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"}},
	{name: "case-insensitive action wildcard", identity: []string{allowID(`"LAMBDA:invoke*"`, star)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "Get* does not invoke", identity: []string{allowID(`"lambda:Get*"`, star)}, resource: fnARN, want: []string{"lambda:GetFunction"}},
	{name: "wildcard in the resource", identity: []string{allowID(invoke, `"arn:aws:lambda:*:111122223333:function:int*"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "wildcard resource misses", identity: []string{allowID(invoke, `"arn:aws:lambda:*:111122223333:function:bill*"`)}, resource: fnARN},
	{name: "other services only", identity: []string{allowID(`["s3:*","dynamodb:GetItem"]`, star)}, resource: fnARN},
	{name: "NotAction allows everything else", identity: []string{idStmt("Allow", "NotAction", `"lambda:InvokeFunction"`, "Resource", star, "")}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:UpdateFunctionCode"}},
	{name: "NotAction iam:* still grants lambda", identity: []string{idStmt("Allow", "NotAction", `"iam:*"`, "Resource", star, "")}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"}},
	{name: "NotResource excludes the function", identity: []string{idStmt("Allow", "Action", invoke, "NotResource", fn, "")}, resource: fnARN},
	{name: "NotResource covers another", identity: []string{idStmt("Allow", "Action", invoke, "NotResource", fn, "")}, resource: otherFn, want: []string{"lambda:InvokeFunction"}},
	{name: "Deny wins", identity: []string{allowID(`"lambda:*"`, star), denyID(invoke, star)}, resource: fnARN, want: []string{"lambda:GetFunction", "lambda:UpdateFunctionCode"}, blockedBy: "Deny in identity"},
	{name: "Deny in another policy wins", identity: []string{allowID(invoke, star)}, inline: []string{denyID(`"lambda:Invoke*"`, fn)}, resource: fnARN, blockedBy: "Deny in inline"},
	{name: "Deny on another resource does not", identity: []string{allowID(invoke, star)}, inline: []string{denyID(invoke, `"`+otherFn+`"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "Deny NotAction", identity: []string{allowID(`"lambda:*"`, star), idStmt("Deny", "NotAction", `"lambda:Get*"`, "Resource", star, "")}, resource: fnARN, want: []string{"lambda:GetFunction"}},
	{name: "Deny NotResource spares the function", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "NotResource", fn, "")}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "boundary without lambda removes", identity: []string{allowID(`"lambda:*"`, star)}, boundary: []string{allowID(`"s3:*"`, star)}, resource: fnARN, blockedBy: "permission boundary"},
	{name: "boundary with invoke keeps invoke", identity: []string{allowID(`"lambda:*"`, star)}, boundary: []string{allowID(invoke, star)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "boundary alone grants nothing", boundary: []string{allowID(star, star)}, resource: fnARN},
	{name: "boundary on another function", identity: []string{allowID(invoke, star)}, boundary: []string{allowID(invoke, `"`+otherFn+`"`)}, resource: fnARN},
	{name: "boundary Deny", identity: []string{allowID(invoke, star)}, boundary: []string{allowID(star, star), denyID(invoke, star)}, resource: fnARN},
	{name: "SCP denying invoke removes", identity: []string{allowID(invoke, star)}, scps: [][]string{{denyID(invoke, star)}}, resource: fnARN, blockedBy: "Deny in SCP scp-0.json"},
	{name: "SCP deny list of another action keeps", identity: []string{allowID(invoke, star)}, scps: [][]string{{denyID(`"lambda:DeleteFunction"`, star)}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "SCP allow list without lambda removes", identity: []string{allowID(invoke, star)}, scps: [][]string{{allowID(`"s3:*"`, star)}}, resource: fnARN, blockedBy: "SCP"},
	{name: "SCP allow lists intersect", identity: []string{allowID(`"lambda:*"`, star)}, scps: [][]string{{allowID(`"lambda:*"`, star)}, {allowID(`["lambda:Get*","s3:*"]`, star)}}, resource: fnARN, want: []string{"lambda:GetFunction"}},
	{name: "FullAWSAccess SCP keeps", identity: []string{allowID(invoke, star)}, scps: [][]string{{allowID(star, star)}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "SCP NotAction deny", identity: []string{allowID(`"lambda:*"`, star)}, scps: [][]string{{allowID(star, star), idStmt("Deny", "NotAction", `"lambda:InvokeFunction"`, "Resource", star, "")}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "unknown condition on Allow counts, conditional", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "unknown condition on Deny does not count", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "Resource", star, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "known false condition on Allow", identity: []string{idStmt("Allow", "Action", invoke, "Resource", star, `{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}`)}, resource: fnARN},
	{name: "known true condition on Deny", identity: []string{allowID(invoke, star), idStmt("Deny", "Action", invoke, "Resource", star, `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`)}, resource: fnARN},
	{name: "SCP deny outside the org spares the org's role", identity: []string{allowID(invoke, star)}, scps: [][]string{{idStmt("Deny", "Action", star, "Resource", star, `{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}`)}}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource variable resolved", identity: []string{allowID(invoke, `"arn:aws:lambda:*:${aws:PrincipalAccount}:function:*"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource variable unresolved is conditional", identity: []string{allowID(invoke, `"arn:aws:lambda:*:*:function:${aws:PrincipalTag/app}"`)}, resource: fnARN, want: []string{"lambda:InvokeFunction"}, cond: []string{"lambda:InvokeFunction"}},
	{name: "resource policy naming the role grants", own: doc(allow("r", aws(roleARN), invoke, fn, "")), resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy naming the account does not count here", own: doc(allow("r", aws(owner), invoke, fn, "")), resource: fnARN},
	{name: "resource policy grant still meets the boundary", own: doc(allow("r", aws(roleARN), invoke, fn, "")), boundary: []string{allowID(`"s3:*"`, star)}, resource: fnARN},
	{name: "resource policy Deny on everyone removes", identity: []string{allowID(invoke, star)}, own: doc(deny("d", star, invoke, fn, "")), resource: fnARN},
	{name: "resource policy Deny outside the org keeps", identity: []string{allowID(invoke, star)}, own: doc(deny("d", star, invoke, fn, `{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}`)), resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy grant to star in the own org holds for the role session", own: doc(allow("org", star, invoke, fn, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}`)), resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy grant to star in the own account holds for the role session", own: doc(allow("acct", star, invoke, fn, `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`)), resource: fnARN, want: []string{"lambda:InvokeFunction"}},
	{name: "resource policy grant to star in another org does not", own: doc(allow("other", star, invoke, fn, `{"StringEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}`)), resource: fnARN},
	{name: "resource policy service grant pinned by SourceAccount does not hold for a direct call", own: doc(allow("svc", star, invoke, fn, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`)), resource: fnARN},
	{name: "layer actions on a layer", identity: []string{allowID(`"lambda:*"`, star)}, resource: layerARN, check: []string{"lambda:GetLayerVersion", "lambda:InvokeFunction"}, want: []string{"lambda:GetLayerVersion"}},
}

func (c *permCase) set(t testing.TB) *PermissionSet {
	ps := &PermissionSet{Caller: Caller{Kind: CallerIAM, Account: owner, ARN: roleARN}, Known: RoleSessionContext(owner, roleARN, myOrg)}
	if c.identity != nil {
		ps.Identity = append(ps.Identity, IdentityPolicy{Name: "identity policy app", Doc: idDoc(t, c.identity...)})
	}
	if c.inline != nil {
		ps.Identity = append(ps.Identity, IdentityPolicy{Name: "inline policy extra", Doc: idDoc(t, c.inline...)})
	}
	if c.boundary != nil {
		ps.Boundary = &IdentityPolicy{Name: "arn:aws:iam::111122223333:policy/boundary", Doc: idDoc(t, c.boundary...)}
	}
	for i, s := range c.scps {
		ps.SCPs = append(ps.SCPs, IdentityPolicy{Name: "SCP scp-" + itoa(i) + ".json", Doc: idDoc(t, s...)})
	}
	if c.own != "" {
		d, err := Parse([]byte(c.own))
		if err != nil {
			t.Fatal(err)
		}
		ps.Own = d
	}
	return ps
}

func TestPermissionTable(t *testing.T) { runPermCases(t, permCases) }

func runPermCases(t *testing.T, cases []permCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := c.set(t)
			e := ps.Evaluate(c.resource)
			check := c.check
			if check == nil {
				check = []string{"lambda:GetFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"}
			}
			var got []string
			for _, a := range check {
				if e.Allows(a) {
					got = append(got, a)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("allowed %v, want %v (all: %v; blocks %+v)", got, c.want, e.Actions(), e.Blocks)
			}
			var cond []string
			for _, a := range e.Conditional() {
				if slices.Contains(check, a) {
					cond = append(cond, a)
				}
			}
			if !slices.Equal(cond, c.cond) {
				t.Errorf("conditional %v, want %v", cond, c.cond)
			}
			if len(c.cond) > 0 && len(e.Notes) == 0 && !strings.Contains(grantTexts(e), "not known at scan time") {
				t.Errorf("a conditional verdict must say so: notes %v, grants %s", e.Notes, grantTexts(e))
			}
			if c.blockedBy != "" {
				found := false
				for _, b := range e.Blocks {
					found = found || strings.Contains(b.By, c.blockedBy)
				}
				if !found {
					t.Errorf("no block by %q: %+v", c.blockedBy, e.Blocks)
				}
			}
			if len(c.want) > 0 && e.FirstGrant() == nil {
				t.Errorf("allowed without a grant to name")
			}
			// The concrete evaluator agrees for a request that carries
			// only what is known.
			for _, a := range check {
				r := Request{Caller: ps.Caller, Action: a, Resource: c.resource, Context: knownContext(ps.Known)}
				d := ps.Decide(r)
				certain := e.Allows(a) && !slices.Contains(e.Conditional(), a)
				if certain && d != Allowed {
					t.Errorf("%s: certain allow but Decide says %s", a, d)
				}
				if d == Allowed && !e.Allows(a) {
					t.Errorf("%s: Decide allows what Evaluate does not", a)
				}
			}
		})
	}
}

func grantTexts(e *Effective) string {
	var b strings.Builder
	for i := range e.Grants {
		b.WriteString(e.Grants[i].Describe())
	}
	return b.String()
}

func knownContext(k Known) map[string][]string {
	out := map[string][]string{}
	for key, v := range k {
		if v != nil {
			out[key] = v
		}
	}
	return out
}

func TestPermissionGrantDescribesTheStatement(t *testing.T) {
	ps := &PermissionSet{Identity: []IdentityPolicy{{Name: `inline policy "invoke"`, Doc: idDoc(t, `{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}`)}}}
	e := ps.Evaluate(fnARN)
	g := e.FirstGrant()
	if g == nil {
		t.Fatal("no grant")
	}
	want := `inline policy "invoke" statement "Invoke" allows lambda:InvokeFunction on "*"`
	if g.Describe() != want {
		t.Errorf("Describe = %q\nwant       %q", g.Describe(), want)
	}
}
