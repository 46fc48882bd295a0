package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const full = `# lambdawarden settings
trusted_accounts: ["444455556666", "777788889999"]
org_id: o-abc123def4
regions:
  - us-east-1
  - eu-west-1
outputs: [text, json=report.json, "sarif=out/report.sarif", "csv=/tmp/r.csv", "junit=-"]
suppressions: suppressions.yaml
fail_on: critical
`

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(full), filepath.Join("conf", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.TrustedAccounts, ",") != "444455556666,777788889999" || c.OrgID != "o-abc123def4" ||
		strings.Join(c.Regions, ",") != "us-east-1,eu-west-1" || c.FailOn != "critical" ||
		strings.Join(c.Outputs, ",") != "text,json=conf/report.json,sarif=conf/out/report.sarif,csv=/tmp/r.csv,junit=-" {
		t.Errorf("config = %+v", c)
	}
	if want := filepath.Join("conf", "suppressions.yaml"); c.Suppressions != want {
		t.Errorf("suppressions %q, want %q (relative to the config file)", c.Suppressions, want)
	}
	abs, err := Parse([]byte("suppressions: /etc/lw/s.yaml\n"), "x/lambdawarden.yaml")
	if err != nil || abs.Suppressions != "/etc/lw/s.yaml" {
		t.Errorf("absolute suppressions path: %+v %v", abs, err)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "---\n"} {
		c, err := Parse([]byte(text), FileName)
		if err != nil || c.OrgID != "" || c.TrustedAccounts != nil || c.FailOn != "" {
			t.Errorf("Parse(%q) = %+v, %v; want an empty config", text, c, err)
		}
	}
}

func TestStrictErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"unknown field", "org_id: o-abc123def4\ntrusted_acounts: [\"444455556666\"]\n", `lambdawarden.yaml:2: field "trusted_acounts": unknown field`},
		{"short account", "trusted_accounts:\n  - \"444455556666\"\n  - 12345\n", `lambdawarden.yaml:3: field "trusted_accounts": item 2: "12345" is not a 12-digit AWS account id`},
		{"account not a list", "trusted_accounts: \"444455556666\"\n", `lambdawarden.yaml:1: field "trusted_accounts": want a list`},
		{"bad org", "org_id: abc\n", `lambdawarden.yaml:1: field "org_id": "abc" is not an AWS Organizations id`},
		{"bad region", "regions: [us-east-1, useast1]\n", `lambdawarden.yaml:1: field "regions": item 2: "useast1" is not an AWS region`},
		{"unknown format", "outputs: [text, pdf=r.pdf]\n", `lambdawarden.yaml:1: field "outputs": item 2: unknown output format "pdf"`},
		{"output without file", "outputs: [\"json=\"]\n", `lambdawarden.yaml:1: field "outputs": item 1: "json=": missing file name`},
		{"bad fail_on", "fail_on: severe\n", `lambdawarden.yaml:1: field "fail_on": unknown severity "severe"`},
		{"fail_on list", "fail_on: [high]\n", `lambdawarden.yaml:1: field "fail_on": want a single value`},
		{"twice", "org_id: o-abc123def4\norg_id: o-abc123def5\n", `lambdawarden.yaml:2: field "org_id": given twice`},
		{"empty suppressions", "suppressions: \"\"\n", `lambdawarden.yaml:1: field "suppressions": must not be empty`},
		{"not a mapping", "- text\n", `lambdawarden.yaml:1: want a mapping of settings`},
		{"syntax", "regions: [us-east-1\n", `lambdawarden.yaml:`},
		{"two documents", "org_id: o-abc123def4\n---\norg_id: o-abc123def4\n", `lambdawarden.yaml:2: only one YAML document`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.text), FileName)
			if err == nil {
				t.Fatalf("no error for %q", c.text)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to start with %q", err, c.want)
			}
		})
	}
}

func TestFindAndLoad(t *testing.T) {
	dir := t.TempDir()
	if p, ok := Find(dir); ok {
		t.Fatalf("Find in an empty directory = %q", p)
	}
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	p, ok := Find(dir)
	if !ok || p != path {
		t.Fatalf("Find = %q, %v; want %q", p, ok, path)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.Suppressions != filepath.Join(dir, "suppressions.yaml") {
		t.Errorf("Load = %+v", c)
	}
	if _, err := Load(filepath.Join(dir, "nope.yaml")); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
	// A directory named like the file is not a config file.
	sub := t.TempDir()
	if err := os.Mkdir(filepath.Join(sub, FileName), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := Find(sub); ok {
		t.Error("Find accepted a directory")
	}
}

func TestHistorySetting(t *testing.T) {
	home, _ := os.UserHomeDir()
	cases := []struct{ value, want, err string }{
		{value: "history.db", want: filepath.Join("conf", "history.db")},
		{value: "/var/lib/lw/history.db", want: "/var/lib/lw/history.db"},
		{value: "~/h.db", want: filepath.Join(home, "h.db")},
		{value: "postgres://lw@db.internal/history", want: "postgres://lw@db.internal/history"},
		{value: "mysql://x", err: "want a SQLite file path or a postgres:// URL"},
		{value: `""`, err: "must not be empty"},
	}
	for _, tc := range cases {
		c, err := Parse([]byte("history: "+tc.value+"\n"), filepath.Join("conf", FileName))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), ":1:") {
				t.Errorf("history %s: error %v, want %q with the line", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || c.History != tc.want {
			t.Errorf("history %s: %q %v, want %q", tc.value, c.History, err, tc.want)
		}
	}
}
