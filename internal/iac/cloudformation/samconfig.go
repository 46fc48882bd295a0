package cloudformation

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Override is a parameter value a deployment configuration sets
// (samconfig.toml parameter_overrides): Value, or Unknown saying why the
// value cannot be told (environments that set it differently).
type Override struct {
	Value, Unknown string
}

// SAMConfig reads the parameter_overrides of a samconfig.toml or
// samconfig.yaml, which `sam deploy` passes over the template's
// defaults. A parameter set to one value in every environment that sets
// it, with no environment leaving it to its default, takes that value;
// one that environments set differently is unknown. name is the file's
// name for messages.
func SAMConfig(data []byte, name string) map[string]Override {
	var envs map[string][]string // environment -> override strings
	if strings.HasSuffix(name, ".toml") {
		envs = tomlOverrides(data)
	} else {
		envs = yamlOverrides(data)
	}
	values := map[string]map[string]string{} // parameter -> env -> value
	bad := map[string]string{}
	for env, list := range envs {
		for _, s := range list {
			kv, err := splitOverrides(s)
			if err != "" {
				bad["*"] = fmt.Sprintf("%s: the parameter_overrides of %s cannot be read: %s", name, env, err)
				continue
			}
			for k, v := range kv {
				if values[k] == nil {
					values[k] = map[string]string{}
				}
				values[k][env] = v
			}
		}
	}
	out := map[string]Override{}
	for k, byEnv := range values {
		var distinct []string
		seen := map[string]bool{}
		for _, v := range byEnv {
			if !seen[v] {
				seen[v] = true
				distinct = append(distinct, v)
			}
		}
		sort.Strings(distinct)
		switch {
		case len(distinct) == 1 && len(byEnv) == len(envs):
			out[k] = Override{Value: distinct[0]}
		case len(distinct) == 1:
			out[k] = Override{Unknown: fmt.Sprintf("%s sets %s to %q in some environments and leaves the default in others", name, k, distinct[0])}
		default:
			out[k] = Override{Unknown: fmt.Sprintf("%s sets %s differently per environment (%s)", name, k, strings.Join(distinct, ", "))}
		}
	}
	if why, ok := bad["*"]; ok {
		// Which parameters it sets is not known: every one may be.
		out["*"] = Override{Unknown: why}
	}
	return out
}

// splitOverrides reads "Key=Value Key2=\"a b\"" (the form sam deploy
// takes); the CloudFormation form ParameterKey=K,ParameterValue=V too.
func splitOverrides(s string) (map[string]string, string) {
	out := map[string]string{}
	var tokens []string
	var cur strings.Builder
	quote := rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if cur.Len() > 0 {
				tokens = append(tokens, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, "an unclosed quote"
	}
	if cur.Len() > 0 {
		tokens = append(tokens, cur.String())
	}
	for _, tok := range tokens {
		if strings.HasPrefix(tok, "ParameterKey=") {
			k, v, ok := strings.Cut(strings.TrimPrefix(tok, "ParameterKey="), ",ParameterValue=")
			if !ok {
				return nil, "ParameterKey without ParameterValue"
			}
			out[k] = v
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok || k == "" {
			return nil, fmt.Sprintf("%q is not Key=Value", tok)
		}
		out[k] = v
	}
	return out, ""
}

// tomlOverrides reads the parameter_overrides lines of each
// [ENV.COMMAND.parameters] table: a string, or an array of strings.
func tomlOverrides(data []byte) map[string][]string {
	envs := map[string][]string{}
	env := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			parts := strings.Split(strings.Trim(line, "[] "), ".")
			env = strings.Trim(parts[0], `"' `)
			if _, ok := envs[env]; !ok {
				envs[env] = nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") {
			for !strings.Contains(v, "]") && i+1 < len(lines) {
				i++
				v += " " + strings.TrimSpace(lines[i])
			}
			v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
			for _, item := range splitTOMLArray(v) {
				envs[env] = append(envs[env], tomlString(item))
			}
			continue
		}
		envs[env] = append(envs[env], tomlString(v))
	}
	// Environments that set no overrides still count: they deploy the
	// defaults.
	for e := range envs {
		if !hasOverrides(data, e) {
			delete(envs, e)
		}
	}
	return envs
}

// hasOverrides tells whether an environment has a deploy table: one
// without (only build or global settings) deploys nothing itself.
func hasOverrides(data []byte, env string) bool {
	s := string(data)
	return strings.Contains(s, "["+env+".deploy") || strings.Contains(s, "["+env+".global")
}

func splitTOMLArray(s string) []string {
	var out []string
	var cur strings.Builder
	quote := rune(0)
	esc := false
	for _, r := range s {
		switch {
		case esc:
			esc = false
			cur.WriteRune(r)
			continue
		case quote == '"' && r == '\\':
			esc = true
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && r == ',':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// tomlString unquotes a TOML basic ("...") or literal ('...') string.
func tomlString(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 && !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "'") {
		v = strings.TrimSpace(v[:i])
	}
	if strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2 {
		return v[1 : len(v)-1]
	}
	if strings.HasPrefix(v, `"`) {
		end := strings.LastIndex(v, `"`)
		if end > 0 {
			if s, err := strconv.Unquote(v[:end+1]); err == nil {
				return s
			}
			return v[1:end]
		}
	}
	return v
}

// yamlOverrides reads samconfig.yaml: ENV: {COMMAND: {parameters:
// {parameter_overrides: string or list}}}.
func yamlOverrides(data []byte) map[string][]string {
	var root map[string]any
	if yaml.Unmarshal(data, &root) != nil {
		return map[string][]string{"?": {"\""}} // unreadable: everything unknown
	}
	envs := map[string][]string{}
	for env, v := range root {
		cmds, ok := v.(map[string]any)
		if !ok {
			continue
		}
		deploys := false
		for cmd, c := range cmds {
			if cmd == "deploy" || cmd == "global" {
				deploys = true
			}
			cm, _ := c.(map[string]any)
			params, _ := cm["parameters"].(map[string]any)
			switch po := params["parameter_overrides"].(type) {
			case string:
				envs[env] = append(envs[env], po)
			case []any:
				for _, it := range po {
					envs[env] = append(envs[env], fmt.Sprint(it))
				}
			}
		}
		if deploys {
			if _, ok := envs[env]; !ok {
				envs[env] = nil
			}
		}
	}
	return envs
}
