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
	"strings"

	"go.yaml.in/yaml/v3"
)

// Root decodes exactly one YAML document and returns its top node with
// aliases resolved, or nil when the file is empty or null. name is the
// file's path, used in errors.
func Root(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, fmt.Errorf("%s:%d: only one YAML document is allowed", name, more.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	root := Resolve(&doc)
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

// Resolve follows YAML aliases to the node they name.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

var lineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML syntax error into "file:line: ...".
func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: YAML syntax: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "yaml: "))
}
