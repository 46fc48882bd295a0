package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/report"
)

// lambdaPolicyLimit is Lambda's size limit of a resource-based policy.
const lambdaPolicyLimit = 20 * 1024

// getPolicyHint is how to get the policy as analyze wants it.
const getPolicyHint = "pass the policy JSON, e.g. aws lambda get-policy --function-name NAME --output json"

// notJSON explains input that is not one JSON document, by what it looks
// like, so the user knows what to change ("this looks like YAML").
func notJSON(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "the input is empty or only white space; " + getPolicyHint
	}
	if !utf8.Valid(data) {
		return "this is not text (binary data?); " + getPolicyHint
	}
	switch {
	case data[0] == '{' || data[0] == '[':
		dec := json.NewDecoder(bytes.NewReader(data))
		var v any
		if err := dec.Decode(&v); err == nil {
			rest := strings.TrimSpace(string(data[dec.InputOffset():]))
			if strings.HasPrefix(string(data), "{") && rest != "" && !strings.ContainsAny(rest, "{}[]") {
				return "this looks like 'aws ... --output text' (a policy followed by " + quoteShort(rest) + "); " + getPolicyHint
			}
			return "more than one JSON value; give one policy document"
		} else {
			return "not valid JSON: " + jsonPosition(data, err)
		}
	case looksLikeTable(data):
		return "this looks like 'aws ... --output table'; " + getPolicyHint
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err == nil && len(node.Content) > 0 {
		if k := node.Content[0].Kind; k == yaml.MappingNode || k == yaml.SequenceNode {
			return "this looks like YAML, not JSON (aws ... --output yaml?); " + getPolicyHint
		}
	}
	return "this looks like text, not JSON (starting " + quoteShort(firstLine(data)) + "); " + getPolicyHint
}

// jsonPosition says where a JSON syntax error is, as line and column.
func jsonPosition(data []byte, err error) string {
	var se *json.SyntaxError
	offset := int64(-1)
	if errors.As(err, &se) {
		offset = se.Offset
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("it ends early, at line %d (a bracket or quote is not closed)", bytes.Count(data, []byte("\n"))+1)
	}
	if offset < 0 {
		return err.Error()
	}
	before := data[:min(int(offset), len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	if line == 1 {
		col = len(before)
	}
	return fmt.Sprintf("%s at line %d, column %d", err, line, max(col, 1))
}

func looksLikeTable(data []byte) bool {
	l := firstLine(data)
	return strings.HasPrefix(l, "---") && strings.Trim(l, "-") == "" || strings.HasPrefix(l, "|") || strings.HasPrefix(l, "+-")
}

func firstLine(data []byte) string {
	l, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(l)
}

// quoteShort quotes s for a message, at most 40 characters of it.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Caps of analyze's text output; -o json always has everything.
const (
	textMaxStatements = 100
	textMaxWhy        = 500 // characters of one explanation
)

// textView is the analyzed document as the text writer should show it:
// at most textMaxStatements statements, each explanation capped, saying
// what was left out.
func textView(d *report.Document) *report.Document {
	if len(d.Resources) != 1 {
		return d
	}
	v := *d
	r := d.Resources[0]
	if n := len(r.Grants); n > textMaxStatements {
		r.Grants = r.Grants[:textMaxStatements:textMaxStatements]
		r.Notes = append(append([]string(nil), r.Notes...), fmt.Sprintf("%d more statements are not listed here; -o json lists every one.", n-textMaxStatements))
	}
	grants := make([]report.Grant, len(r.Grants))
	for i, g := range r.Grants {
		g.Explanation = capWhy(g.Explanation)
		grants[i] = g
	}
	r.Grants = grants
	findings := append(r.Findings[:0:0], r.Findings...)
	for i := range findings {
		findings[i].Explanation = capWhy(findings[i].Explanation)
	}
	r.Findings = findings
	v.Resources = []report.Resource{r}
	return &v
}

func capWhy(s string) string {
	r := []rune(s)
	if len(r) <= textMaxWhy {
		return s
	}
	return string(r[:textMaxWhy]) + fmt.Sprintf("… (%d more characters; -o json has all of it)", len(r)-textMaxWhy)
}
