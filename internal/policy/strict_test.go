package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestRejectsWhatIAMWouldReject holds the documents outside testing found
// judged leniently: each must be a parse error naming the problem, never a
// verdict (SEMANTICS.md section 3).
func TestRejectsWhatIAMWouldReject(t *testing.T) {
	pinned := `{"Sid":"s","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"FN"`
	cases := []struct {
		name, in string
		stmt     int
		want     string
	}{
		{"unknown policy language Version", `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"}]}`, -1, `Version "2012-10-18" is not a policy language version`},
		{"lower-case Effect allow", doc(`{"Sid":"a","Effect":"allow","Principal":"*","Action":"lambda:InvokeFunction"}`), 0, `Effect is "allow"`},
		{"upper-case Effect DENY", doc(`{"Sid":"a","Effect":"DENY","Principal":"*","Action":"lambda:InvokeFunction"}`), 0, `Effect is "DENY"`},
		{"lower-case operator stringequals with a SourceAccount pin", doc(pinned + `,"Condition":{"stringequals":{"AWS:SourceAccount":"` + owner + `"}}}`), 0, `"stringequals": operator names are case-sensitive (did you mean StringEquals?)`},
		{"mixed-case operator ArnLIKE", doc(pinned + `,"Condition":{"ArnLIKE":{"AWS:SourceArn":"arn:aws:s3:::b"}}}`), 0, "case-sensitive"},
		{"lower-case IfExists suffix", doc(pinned + `,"Condition":{"StringEqualsifexists":{"AWS:SourceAccount":"` + owner + `"}}}`), 0, "unknown condition operator"},
		{"lower-case set qualifier", doc(pinned + `,"Condition":{"forAnyValue:StringEquals":{"AWS:SourceAccount":"` + owner + `"}}}`), 0, "unknown set operator"},
		{"two Effects in one statement", doc(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Effect":"Deny"}`), 0, `key "Effect" appears twice in Statement[0]`},
		{"two StringEquals blocks", doc(pinned + `,"Condition":{"StringEquals":{"AWS:SourceAccount":"` + foreign + `"},"StringEquals":{"AWS:SourceAccount":"` + owner + `"}}}`), 0, `key "StringEquals" appears twice in Statement[0].Condition`},
		{"two Conditions", doc(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"AWS:SourceAccount":"` + owner + `"}},"Condition":{}}`), 0, `key "Condition" appears twice`},
		{"Condition and condition", doc(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"AWS:SourceAccount":"` + owner + `"}},"condition":{}}`), 0, "element Condition appears twice"},
		{"same condition key twice", doc(pinned + `,"Condition":{"StringEquals":{"AWS:SourceAccount":"` + owner + `","AWS:SourceAccount":"` + foreign + `"}}}`), 0, `key "AWS:SourceAccount" appears twice`},
		{"condition key twice in different case", doc(pinned + `,"Condition":{"StringEquals":{"AWS:SourceAccount":"` + owner + `","aws:sourceaccount":"` + foreign + `"}}}`), 0, "twice"},
		{"two Statement lists", `{"Version":"2012-10-17","Statement":[],"Statement":[]}`, -1, `key "Statement" appears twice in the top-level object`},
		{"two principal types of one kind", doc(`{"Sid":"a","Effect":"Allow","Principal":{"AWS":"` + owner + `","AWS":"*"},"Action":"lambda:InvokeFunction"}`), 0, `key "AWS" appears twice in Statement[0].Principal`},
		{"principal type twice in different case", doc(`{"Sid":"a","Effect":"Allow","Principal":{"AWS":"` + owner + `","aws":"*"},"Action":"lambda:InvokeFunction"}`), 0, "appears twice"},
		{"invalid UTF-8 in a value", "{\"Statement\":{\"Sid\":\"a\xff\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\"}}", -1, "UTF-8"},
		{"nesting no policy has", `{"Statement":{"Condition":{"a":{"b":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}}}`, -1, "nests deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("no error; judged as %s", Analyze(d, nil, baseCtx()).Exposure)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *ParseError", err)
			}
			if pe.Statement != c.stmt {
				t.Errorf("statement index = %d, want %d (%v)", pe.Statement, c.stmt, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestStrictReaderKeepsWhatIAMAccepts: the strict reader must not reject
// documents AWS writes (AddPermission's shape, pretty-printed, escapes).
func TestStrictReaderKeepsWhatIAMAccepts(t *testing.T) {
	in := "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\": \"default\",\n  \"Statement\": [ {\"Sid\":\"a\\u0062\", \"Effect\":\"Allow\",\n \"Principal\":{\"Service\":\"s3.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"" + fnARN + "\",\n" +
		"\"Condition\":{\"StringEquals\":{\"AWS:SourceAccount\":\"" + owner + "\"},\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:s3:::b\"},\"NumericLessThan\":{\"n\":12.5e1},\"Bool\":{\"aws:SecureTransport\":true}}} ]\n}\n"
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Statements[0]
	if s.Sid != "ab" || len(s.Conditions) != 4 {
		t.Fatalf("read %q with %d conditions", s.Sid, len(s.Conditions))
	}
	if !strings.HasPrefix(string(s.Raw), `{"Sid"`) || !strings.HasSuffix(string(s.Raw), "}}}") {
		t.Errorf("Raw is not the statement as written: %q", s.Raw)
	}
	for _, c := range s.Conditions {
		if c.Op.Base == "NumericLessThan" && c.Values[0] != "12.5e1" {
			t.Errorf("a number is compared as written; got %q", c.Values[0])
		}
	}
	if got := Analyze(d, nil, baseCtx()).Exposure; got != Private {
		t.Errorf("exposure = %s, want private", got)
	}
}

// TestAcceptsBothPolicyLanguageVersions: IAM's two versions, and none at
// all, are read.
func TestAcceptsBothPolicyLanguageVersions(t *testing.T) {
	for _, v := range []string{`"Version":"2012-10-17",`, `"Version":"2008-10-17",`, ``} {
		d, err := Parse([]byte(`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"FN"}]}`))
		if err != nil || len(d.Statements) != 1 {
			t.Errorf("%s: %v", v, err)
		}
	}
}
