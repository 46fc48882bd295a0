package config

import "testing"

// FuzzParse: the configuration parser never panics and never returns a
// config together with an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte("trusted_accounts: [\"444455556666\"]\norg_id: o-abc123def4\nregions: [us-east-1]\noutputs: [text, json=r.json]\nfail_on: high\n"))
	f.Add([]byte("regions: us-east-1\n"))
	f.Add([]byte("{]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil && c != nil {
			t.Fatal("a config and an error")
		}
		if err == nil && c == nil {
			t.Fatal("neither a config nor an error")
		}
	})
}
