package policy

import (
	"testing"
)

func identitySeeds(f *testing.F) {
	for _, c := range permCases {
		for _, stmts := range [][]string{c.identity, c.inline, c.boundary} {
			if stmts != nil {
				f.Add([]byte(doc(stmts...)))
			}
		}
		for _, s := range c.scps {
			f.Add([]byte(doc(s...)))
		}
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:lambda:*:${aws:PrincipalAccount}:function:${x}"}}`))
	f.Add([]byte(`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":["o-abc123def4"]},"Null":{"aws:SourceArn":"true"}}}]}`))
}

// FuzzIdentityPolicy: whatever identity policy or SCP the reader accepts,
// the evaluator judges without panicking, in every role (identity policy,
// boundary, SCP), and never reports less than IAM would allow.
func FuzzIdentityPolicy(f *testing.F) {
	identitySeeds(f)
	allowAll, err := ParseIdentity([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseIdentity(data)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		caller := Caller{Kind: CallerIAM, Account: owner, ARN: roleARN}
		known := RoleSessionContext(owner, roleARN, myOrg)
		sets := []*PermissionSet{
			{Identity: []IdentityPolicy{{Name: "p", Doc: d}}},
			{Identity: []IdentityPolicy{{Name: "all", Doc: allowAll}}, Boundary: &IdentityPolicy{Name: "b", Doc: d}},
			{Identity: []IdentityPolicy{{Name: "all", Doc: allowAll}}, SCPs: []IdentityPolicy{{Name: "s", Doc: d}, {Name: "s2", Doc: d}}},
		}
		for _, ps := range sets {
			ps.Caller, ps.Known = caller, known
			for _, arn := range []string{fnARN, aliasARN, layerARN, ""} {
				e := ps.Evaluate(arn)
				for i := range e.Grants {
					if e.Grants[i].Describe() == "" {
						t.Fatal("grant without description")
					}
				}
				for _, a := range []string{"lambda:InvokeFunction", "lambda:GetLayerVersion", "lambda:UpdateFunctionCode"} {
					if ps.Decide(Request{Caller: caller, Action: a, Resource: arn, Context: knownContext(known)}) == Allowed && !e.Allows(a) {
						t.Fatalf("IAM allows %s on %q but Evaluate does not", a, arn)
					}
				}
			}
		}
	})
}

// FuzzTrustPolicy: whatever trust policy the reader accepts is judged
// without panicking, and every outside assumer is explained.
func FuzzTrustPolicy(f *testing.F) {
	f.Add([]byte(trustDoc(trustStmt(aws(foreign), assume, `{"StringEquals":{"sts:ExternalId":"x"}}`))))
	f.Add([]byte(trustDoc(trustStmt(github, webID, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}`))))
	f.Add([]byte(trustDoc(trustStmt(star, `"sts:*"`, ""), `{"Effect":"Deny","NotPrincipal":{"AWS":"1"},"Action":"*"}`)))
	f.Add([]byte(trustDoc(trustStmt(samlProv, `"sts:AssumeRoleWithSAML"`, ""))))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		v := JudgeTrust(d, roleARN, Context{Trusted: []string{trusted}, OrgID: myOrg})
		for _, a := range v.Assumers {
			if a.Class < CrossAccount || a.Who == "" || a.Reason == "" || len(a.Actions()) == 0 {
				t.Fatalf("incomplete assumer %+v", a)
			}
		}
	})
}
