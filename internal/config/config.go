// Package config reads lambdawarden's configuration file (--config, or
// ./lambdawarden.yaml when present). Flags override it; merging is the
// command line's job, so a field left out of the file is the zero value
// here and the flag's default applies.
//
//	trusted_accounts: ["444455556666"]   # accounts that count as the owner
//	org_id: o-abc123def4                  # your AWS Organizations id
//	regions: [us-east-1, eu-west-1]
//	outputs: [text, json=report.json, sarif=report.sarif]   # scan's -o FORMAT[=FILE], relative to this file
//	suppressions: suppressions.yaml       # relative to this file
//	fail_on: high                         # critical, high, medium, low, info, none
//	history: ~/.lambdawarden/history.db   # scan records into it (or postgres://…)
//
// The file is strict: an unknown field, a value of the wrong shape or an
// invalid id is an error naming the file, the line and the field, so a
// typo can never silently widen the trust boundary.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lambdawarden/lambdawarden/internal/yamldoc"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/report"
)

// FileName is the configuration file looked for in the working directory
// when --config is not given.
const FileName = "lambdawarden.yaml"

// Config is the file's content, validated.
type Config struct {
	// Path is the file it was read from.
	Path string
	// TrustedAccounts count as the owner (12-digit ids).
	TrustedAccounts []string
	// OrgID is the AWS Organizations id (o-...).
	OrgID string
	// Regions to scan.
	Regions []string
	// Outputs are scan's -o values, FORMAT[=FILE], in order; a relative
	// FILE is resolved against the config file's directory ("-" and
	// absolute paths are kept).
	Outputs []string
	// Suppressions is the suppressions file, resolved against the config
	// file's directory when relative; "" when not set.
	Suppressions string
	// FailOn is the --fail-on severity name as written; "" when not set.
	FailOn string
	// History is the history DSN (scan --history): a SQLite path,
	// resolved against the config file's directory when relative ("~/"
	// is the home directory), or a postgres:// URL; "" when not set.
	History string
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
)

const knownFields = "trusted_accounts, org_id, regions, outputs, suppressions, fail_on, history"

// Find returns dir/lambdawarden.yaml when it exists as a file.
func Find(dir string) (string, bool) {
	p := filepath.Join(dir, FileName)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse validates a configuration file's contents; name is the file's
// path, used in errors and to resolve a relative suppressions path.
func Parse(data []byte, name string) (*Config, error) {
	c := &Config{Path: name}
	errf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	root, err := yamldoc.Root(data, name)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return c, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, errf(root.Line, "want a mapping of settings (%s)", knownFields)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], yamldoc.Resolve(root.Content[i+1])
		field := k.Value
		if seen[field] {
			return nil, errf(k.Line, "field %q: given twice", field)
		}
		seen[field] = true
		var err error
		switch field {
		case "trusted_accounts":
			c.TrustedAccounts, err = list(v, field, errf, func(s string) string {
				if !accountRe.MatchString(s) {
					return fmt.Sprintf("%q is not a 12-digit AWS account id (quote it in YAML)", s)
				}
				return ""
			})
		case "regions":
			c.Regions, err = list(v, field, errf, func(s string) string {
				if !regionRe.MatchString(s) {
					return fmt.Sprintf("%q is not an AWS region name like us-east-1", s)
				}
				return ""
			})
		case "outputs":
			c.Outputs, err = list(v, field, errf, checkOutput)
			for i, o := range c.Outputs {
				c.Outputs[i] = resolveOutput(o, filepath.Dir(name))
			}
		case "org_id":
			c.OrgID, err = scalar(v, field, errf)
			if err == nil && !orgRe.MatchString(c.OrgID) {
				err = errf(v.Line, "field %q: %q is not an AWS Organizations id like o-abc123def4", field, c.OrgID)
			}
		case "suppressions":
			c.Suppressions, err = scalar(v, field, errf)
			if err == nil && c.Suppressions == "" {
				err = errf(v.Line, "field %q: must not be empty (leave it out for none)", field)
			}
			if err == nil && !filepath.IsAbs(c.Suppressions) {
				c.Suppressions = filepath.Join(filepath.Dir(name), c.Suppressions)
			}
		case "fail_on":
			c.FailOn, err = scalar(v, field, errf)
			if err == nil {
				if _, perr := finding.ParseSeverity(c.FailOn); perr != nil {
					err = errf(v.Line, "field %q: %v", field, perr)
				}
			}
		case "history":
			c.History, err = scalar(v, field, errf)
			if err == nil {
				c.History, err = historyDSN(c.History, name)
				if err != nil {
					err = errf(v.Line, "field %q: %v", field, err)
				}
			}
		default:
			err = errf(k.Line, "field %q: unknown field (known: %s)", field, knownFields)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// historyDSN resolves the history setting: a postgres:// URL as it is, a
// path relative to the configuration file's directory or the home
// directory ("~/").
func historyDSN(v, configPath string) (string, error) {
	switch {
	case v == "":
		return "", fmt.Errorf("must not be empty (leave it out for none)")
	case strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://"):
		return v, nil
	case strings.Contains(v, "://"):
		return "", fmt.Errorf("%q: want a SQLite file path or a postgres:// URL", v)
	case strings.HasPrefix(v, "~/"):
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, v[2:]), nil
	case filepath.IsAbs(v):
		return v, nil
	}
	return filepath.Join(filepath.Dir(configPath), v), nil
}

// checkOutput validates one FORMAT[=FILE] against the known formats.
func checkOutput(s string) string {
	format, file, hasFile := strings.Cut(s, "=")
	if _, err := report.Lookup(strings.ToLower(strings.TrimSpace(format))); err != nil {
		return err.Error()
	}
	if hasFile && strings.TrimSpace(file) == "" {
		return fmt.Sprintf("%q: missing file name after '='", s)
	}
	return ""
}

// resolveOutput makes FORMAT=FILE's FILE relative to dir, as the
// suppressions path is: the file means the same wherever scan runs from.
func resolveOutput(spec, dir string) string {
	format, file, hasFile := strings.Cut(spec, "=")
	file = strings.TrimSpace(file)
	if !hasFile || file == "-" || filepath.IsAbs(file) {
		return spec
	}
	return format + "=" + filepath.Join(dir, file)
}

func scalar(v *yaml.Node, field string, errf func(int, string, ...any) error) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errf(v.Line, "field %q: want a single value", field)
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(v.Value), nil
}

// list reads a sequence of scalars, checking each with check (which
// returns a problem, or "").
func list(v *yaml.Node, field string, errf func(int, string, ...any) error, check func(string) string) ([]string, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, errf(v.Line, "field %q: want a list ([a, b], or one \"- item\" per line)", field)
	}
	out := []string{}
	for i, item := range v.Content {
		item = yamldoc.Resolve(item)
		if item.Kind != yaml.ScalarNode {
			return nil, errf(item.Line, "field %q: item %d: want a single value", field, i+1)
		}
		s := strings.TrimSpace(item.Value)
		if problem := check(s); problem != "" {
			return nil, errf(item.Line, "field %q: item %d: %s", field, i+1, problem)
		}
		out = append(out, s)
	}
	return out, nil
}
