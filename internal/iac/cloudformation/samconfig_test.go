package cloudformation

import "testing"

// TestSAMConfigForms: the string and array forms of parameter_overrides
// in TOML and YAML, quoted values, and the ParameterKey= form.
func TestSAMConfigForms(t *testing.T) {
	cases := []struct {
		name, text string
		want       map[string]Override
	}{
		{"samconfig.toml", "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"A=\\\"x y\\\" B=2 ParameterKey=C,ParameterValue=3\"\n",
			map[string]Override{"A": {Value: "x y"}, "B": {Value: "2"}, "C": {Value: "3"}}},
		{"samconfig.toml", "[default.deploy.parameters]\nparameter_overrides = ['A=1']\n[prod.deploy.parameters]\nparameter_overrides = ['A=2']\n",
			map[string]Override{"A": {Unknown: "samconfig.toml sets A differently per environment (1, 2)"}}},
		{"samconfig.yaml", "version: 0.1\ndefault:\n  deploy:\n    parameters:\n      parameter_overrides:\n        - A=1\n        - B=two\n",
			map[string]Override{"A": {Value: "1"}, "B": {Value: "two"}}},
		{"samconfig.yaml", "default: [\n", nil},
	}
	for _, c := range cases {
		got := SAMConfig([]byte(c.text), c.name)
		if c.want == nil {
			if got["*"].Unknown == "" {
				t.Errorf("%q: an unreadable file should make every parameter unknown, got %v", c.text, got)
			}
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.text, got, c.want)
		}
		for k, w := range c.want {
			if got[k] != w {
				t.Errorf("%q: %s = %+v, want %+v", c.text, k, got[k], w)
			}
		}
	}
}
