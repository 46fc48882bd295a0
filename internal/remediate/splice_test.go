package remediate

import (
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/policy"
)

const prettyDoc = `{
  "Version": "2012-10-17",
  "Id": "default",
  "Statement": [
    {"Sid": "a",   "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "lambda:InvokeFunction", "Resource": "*"},
    {"Sid": "b", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": "*"},
    {"Sid": "c",
     "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "lambda:InvokeFunction", "Resource": "*",
     "Condition": {"StringEquals": {"AWS:SourceAccount": "111122223333"}}}
  ]
}`

func TestRewriteKeepsOtherStatementsByteForByte(t *testing.T) {
	lay, err := layoutOf([]byte(prettyDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(lay.elems) != 3 {
		t.Fatalf("found %d statements, want 3", len(lay.elems))
	}
	a, c := string(lay.raw(0)), string(lay.raw(2))
	out, empty := lay.rewrite(map[int]bool{1: true}, nil)
	if empty {
		t.Fatal("two statements are left, not none")
	}
	got := string(out)
	if !strings.Contains(got, a) || !strings.Contains(got, c) {
		t.Errorf("kept statements are not byte-identical:\n%s", got)
	}
	if strings.Contains(got, `"Sid": "b"`) {
		t.Errorf("removed statement is still there:\n%s", got)
	}
	if !strings.HasPrefix(got, prettyDoc[:strings.Index(prettyDoc, "[")]) || !strings.HasSuffix(got, "\n  ]\n}") {
		t.Errorf("text around the statements changed:\n%s", got)
	}
	d, err := policy.Parse(out)
	if err != nil {
		t.Fatalf("rewritten policy does not parse: %v", err)
	}
	if d.Statements[0].Sid != "a" || d.Statements[1].Sid != "c" {
		t.Errorf("order changed: %s, %s", d.Statements[0].Sid, d.Statements[1].Sid)
	}

	if _, empty := lay.rewrite(map[int]bool{0: true, 1: true, 2: true}, nil); !empty {
		t.Error("removing every statement must report an empty policy (Lambda refuses one)")
	}

	repl := []byte(`{"Sid":"b2","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}`)
	out, _ = lay.rewrite(nil, map[int][]byte{1: repl})
	if !strings.Contains(string(out), string(repl)) || !strings.Contains(string(out), a) || !strings.Contains(string(out), c) {
		t.Errorf("replacement lost something:\n%s", out)
	}
}

func TestSingleStatementObject(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Sid":"only","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}}`
	lay, err := layoutOf([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !lay.single || len(lay.elems) != 1 {
		t.Fatalf("single=%v elems=%d", lay.single, len(lay.elems))
	}
	if _, empty := lay.rewrite(map[int]bool{0: true}, nil); !empty {
		t.Error("removing the only statement must empty the policy")
	}
	back := lay.insert(1, []byte(`{"Sid":"x","Effect":"Allow","Principal":"*","Action":"lambda:GetPolicy","Resource":"*"}`))
	d, err := policy.Parse(back)
	if err != nil || len(d.Statements) != 2 || d.Statements[1].Sid != "x" {
		t.Fatalf("insert into a single-object Statement: %v %s", err, back)
	}
}

func TestInsertKeepsNeighbours(t *testing.T) {
	lay, _ := layoutOf([]byte(prettyDoc))
	stmt := []byte(`{"Sid":"new","Effect":"Allow","Principal":"*","Action":"lambda:GetPolicy","Resource":"*"}`)
	for _, at := range []int{0, 1, 3, 9} {
		out := lay.insert(at, stmt)
		d, err := policy.Parse(out)
		if err != nil {
			t.Fatalf("insert at %d: %v\n%s", at, err, out)
		}
		want := at
		if want > 3 {
			want = 3
		}
		if d.Statements[want].Sid != "new" {
			t.Errorf("insert at %d put it at another position:\n%s", at, out)
		}
		for i := 0; i < 3; i++ {
			if !strings.Contains(string(out), string(lay.raw(i))) {
				t.Errorf("insert at %d changed statement %d", at, i)
			}
		}
	}
}

func TestAddCondition(t *testing.T) {
	cases := []struct {
		name, stmt, want, err string
	}{
		{name: "no Condition block",
			stmt: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}`,
			want: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`},
		{name: "another operator",
			stmt: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`,
			want: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}`},
		{name: "same operator",
			stmt: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"*","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`,
			want: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"*","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE","aws:PrincipalOrgID":"o-abc123def4"}}}`},
		{name: "key already tested, other case",
			stmt: `{"Sid":"s","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringLike":{"AWS:principalorgid":"o-*"}}}`,
			err:  "already tests"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := addCondition([]byte(c.stmt), "StringEquals", "aws:PrincipalOrgID", []string{"o-abc123def4"})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
