// Package yamldoc reads the single-document YAML files lambdawarden takes
// (the configuration and suppressions files) into nodes that keep their
// line numbers, so every error can say "file:line: ...".
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Root decodes exactly one YAML document and returns its top node with
// aliases resolved, or nil when the file is empty or null. name is the
// file's path, used in errors.
func Root(data []byte, name string) (*yaml.Node, error) {
	doc, more, err := decode(data)
	if err != nil {
		return nil, syntaxError(name, data, err)
	}
	if doc == nil {
		return nil, nil
	}
	if more != nil {
		return nil, fmt.Errorf("%s:%d: only one YAML document is allowed", name, more.Line)
	}
	root := Resolve(doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = Resolve(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

// decode reads the first document and tells whether a second one
// follows; (nil, nil, nil) is an empty file.
func decode(data []byte) (doc, more *yaml.Node, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return &first, &second, nil
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	return &first, nil, nil
}

// Resolve follows YAML aliases to the node they name.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

var lineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// maxLinesSearched bounds the search for the line of a syntax error.
const maxLinesSearched = 2000

// syntaxError turns a YAML syntax error into "file:line: ...". The YAML
// library names the line where the enclosing construct began (line 1
// for an entry mis-indented at line 40); the line people need is where
// the document stops making sense: the shortest run of leading lines that
// fails the same way.
func syntaxError(name string, data []byte, err error) error {
	line, what := parseYAMLError(err)
	if at := problemLine(data, what); at > line {
		line = at
	}
	if line > 0 {
		return fmt.Errorf("%s:%d: YAML syntax: %s", name, line, what)
	}
	return fmt.Errorf("%s: %s", name, what)
}

func parseYAMLError(err error) (int, string) {
	msg := err.Error()
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// problemLine returns the smallest n such that the first n lines fail
// with the message what, or 0.
func problemLine(data []byte, what string) int {
	lines := splitLines(data)
	if len(lines) > maxLinesSearched {
		return 0
	}
	prefix := make([]byte, 0, len(data))
	for n, l := range lines {
		prefix = append(prefix, l...)
		if _, _, err := decode(prefix); err != nil {
			if _, w := parseYAMLError(err); w == what {
				return n + 1
			}
		}
	}
	return 0
}

// splitLines splits data after each line break as YAML counts them: "\n",
// "\r\n", or a lone "\r".
func splitLines(data []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			out = append(out, data[start:i+1])
			start = i + 1
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				continue
			}
			out = append(out, data[start:i+1])
			start = i + 1
		}
	}
	return append(out, data[start:])
}
