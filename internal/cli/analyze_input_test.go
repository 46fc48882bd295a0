package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

// TestAnalyzeSaysWhatTheInputLooksLike: input that is not a JSON policy
// is named for what it is, with the command that gives the right thing.
func TestAnalyzeSaysWhatTheInputLooksLike(t *testing.T) {
	const hint = "pass the policy JSON, e.g. aws lambda get-policy --function-name NAME --output json"
	cases := []struct{ name, stdin, stderr string }{
		{"YAML", "Version: \"2012-10-17\"\nStatement:\n  - Effect: Allow\n    Principal: \"*\"\n", "standard input: this looks like YAML, not JSON (aws ... --output yaml?); " + hint},
		{"aws --output yaml", "Policy: '{\"Version\":\"2012-10-17\"}'\nRevisionId: 4b6e\n", "this looks like YAML"},
		{"aws --output text", "{\"Version\":\"2012-10-17\",\"Statement\":[]}\t4b6e-11aa\n", `this looks like 'aws ... --output text' (a policy followed by "4b6e-11aa"); ` + hint},
		{"aws --output table", "-------------------\n|    GetPolicy    |\n+-----------------+\n", "this looks like 'aws ... --output table'; " + hint},
		{"text", "the policy is attached to intake\n", `this looks like text, not JSON (starting "the policy is attached to intake"); ` + hint},
		{"a number", "2012-10-17\n", "this looks like text, not JSON"},
		{"JSON with a syntax error", "{\"Version\": \"2012-10-17\",\n \"Statement\": [1 2]}", "not valid JSON: invalid character '2' after array element at line 2, column 19"},
		{"truncated JSON", "{\"Version\": \"2012-10-17\",\n \"Statement\": [", "not valid JSON: it ends early, at line 2"},
		{"two documents", "{} {}", "more than one JSON value; give one policy document"},
		{"binary", "\xff\xfe\x00\x01", "this is not text"},
		{"inner Policy string is text", `{"Policy": "not a policy", "RevisionId": "1"}`, "this looks like text, not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.stdin, "analyze", "-")
			if code != exitUsage || !strings.Contains(errOut, c.stderr) || out != "" {
				t.Errorf("exit %d, stderr %q\nwant 2 and %q", code, errOut, c.stderr)
			}
			if strings.Contains(errOut, "found a number") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("want one plain line: %q", errOut)
			}
		})
	}
}

// manyStatements is a policy of n public statements, each with a Sid.
func manyStatements(n int) string {
	var stmts []string
	for i := range n {
		stmts = append(stmts, fmt.Sprintf(`{"Sid": "s%03d", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:111122223333:function:intake"}`, i))
	}
	return `{"Version": "2012-10-17", "Statement": [` + strings.Join(stmts, ",\n") + `]}`
}

// TestAnalyzeLargePolicies: over Lambda's 20 KB the policy is still
// judged, with a warning; the text output lists at most 100 statements
// and caps a long why line, while the JSON has everything.
func TestAnalyzeLargePolicies(t *testing.T) {
	big := manyStatements(150)
	if len(big) <= lambdaPolicyLimit {
		t.Fatalf("precondition: the policy is %d bytes", len(big))
	}
	code, out, errOut := runCLI(t, big, "analyze", "-", "-o", "text")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := fmt.Sprintf("lambdawarden: warning: standard input: the policy is %d bytes, over Lambda's 20 KB limit for a resource-based policy (AWS would refuse it); judged anyway\n", len(big)); errOut != want {
		t.Errorf("stderr %q\nwant %q", errOut, want)
	}
	if n := strings.Count(out, "  [public] "); n != textMaxStatements {
		t.Errorf("text lists %d statements, want %d", n, textMaxStatements)
	}
	if !strings.Contains(out, "50 more statements are not listed here; -o json lists every one.") {
		t.Errorf("text does not say what it left out:\n%.2000s", out)
	}
	code, out, _ = runCLI(t, big, "analyze", "-", "-o", "json")
	var r report.Resource
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFindings {
		t.Fatalf("exit %d, %v", code, err)
	}
	if len(r.Grants) != 150 {
		t.Errorf("json has %d statements, want all 150", len(r.Grants))
	}

	// A 1,500-character Sid makes a long explanation.
	long := strings.Replace(manyStatements(1), `"s000"`, `"`+strings.Repeat("s", 1500)+`"`, 1)
	code, out, _ = runCLI(t, long, "analyze", "-", "-o", "text")
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  why ") || strings.HasPrefix(l, "  [public]") {
			if n := len([]rune(l)); n > textMaxWhy+100 {
				t.Errorf("a why line of %d characters: %.200s…", n, l)
			}
		}
	}
	if !strings.Contains(out, "more characters; -o json has all of it)") {
		t.Errorf("the long why line is not capped:\n%.1500s", out)
	}
	_, out, _ = runCLI(t, long, "analyze", "-", "-o", "json")
	if err := json.Unmarshal([]byte(out), &r); err != nil || len([]rune(r.Grants[0].Explanation)) <= textMaxWhy {
		t.Errorf("the json explanation must be whole: %v", err)
	}
}
