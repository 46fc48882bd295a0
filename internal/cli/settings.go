package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/config"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/suppress"
)

// settingsFlags are the flags that bring in files: the configuration
// file, the suppressions file, and writer options.
type settingsFlags struct {
	config         string
	suppressions   string
	ocsfCompliance bool
}

func (s *settingsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.config, "config", "", "configuration file (default: ./"+config.FileName+" when it exists); flags override it")
	fl.StringVar(&s.suppressions, "suppressions", "", "suppressions file (YAML): accepted findings with reason, expiry and approver")
	fl.BoolVar(&s.ocsfCompliance, "ocsf-compliance", false, "ocsf output: add one Compliance Finding (class 2003) per requirement")
}

// settings is what the files say, merged under the flags.
type settings struct {
	suppressions *suppress.Set
	writer       report.Options
	// history is the configuration file's history DSN ("" when unset).
	history string
}

// load reads the configuration file and fills every flag the user did not
// set from it, then loads the suppressions. regions is nil for commands
// that take no Regions; the file's outputs apply to scan only (forScan).
func (s *settingsFlags) load(e *env, cmd *cobra.Command, out *outputFlags, trust *trustFlags, regions *[]string, forScan bool) (*settings, error) {
	path := s.config
	if path == "" {
		if found, ok := config.Find("."); ok {
			path = found
		}
	}
	changed := cmd.Flags().Changed
	suppressFrom := "--suppressions"
	cfgHistory := ""
	if path != "" {
		cfg, err := loadConfig(path)
		if err != nil {
			return nil, err
		}
		if !changed("trusted-account") && len(cfg.TrustedAccounts) > 0 {
			trust.trusted = cfg.TrustedAccounts
		}
		if !changed("org-id") && cfg.OrgID != "" {
			trust.orgID = cfg.OrgID
		}
		if regions != nil && !changed("region") && !changed("regions") && !changed("all-regions") && len(cfg.Regions) > 0 {
			*regions = cfg.Regions
		}
		if forScan && !changed("output") && len(cfg.Outputs) > 0 {
			out.outputs = cfg.Outputs
			out.origin = "outputs: in " + path
		}
		if !changed("fail-on") && cfg.FailOn != "" {
			out.failOn = cfg.FailOn
		}
		if !changed("suppressions") && cfg.Suppressions != "" {
			s.suppressions = cfg.Suppressions
			suppressFrom = "suppressions: in " + path
		}
		cfgHistory = cfg.History
	}
	st := &settings{writer: report.Options{OCSFCompliance: s.ocsfCompliance}, history: cfgHistory}
	if s.suppressions != "" {
		set, err := loadSuppressions(s.suppressions, suppressFrom)
		if err != nil {
			return nil, err
		}
		if len(set.Entries) == 0 {
			fmt.Fprintf(e.stderr, "lambdawarden: warning: %s holds no suppressions; it suppresses nothing\n", s.suppressions)
		}
		st.suppressions = set
	}
	return st, nil
}

func loadConfig(path string) (*config.Config, error) {
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		what := "no such file"
		if err == nil {
			what = "a folder, not a file"
		} else if !errors.Is(err, fs.ErrNotExist) {
			what = unwrapPathError(err).Error()
		}
		return nil, usagef("--config %s: %s (give the configuration file, or leave --config out)", path, what)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usagef("%s", err)
	}
	return cfg, nil
}

// loadSuppressions reads the file named by from (the flag, or the
// config file's field).
func loadSuppressions(path, from string) (*suppress.Set, error) {
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		what := "no such file"
		if err == nil {
			what = "a folder, not a file"
		} else if !errors.Is(err, fs.ErrNotExist) {
			what = unwrapPathError(err).Error()
		}
		return nil, usagef("%s %s: %s (give the suppressions file, YAML)", from, path, what)
	}
	set, err := suppress.Load(path)
	if err != nil {
		return nil, usagef("%s", err)
	}
	return set, nil
}

// suppress marks accepted findings of a document in memory (they stay in
// every report) and warns about entries that expired or matched nothing.
func (e *env) suppress(st *settings, d *report.Document) {
	if st.suppressions == nil {
		return
	}
	e.warnSuppressions(st.suppressions.Apply(d, time.Now()))
}

// marker is the suppressions as a scan applies them, resource by
// resource before they are spooled; nil without a suppressions file.
func (st *settings) marker() *suppress.Marker {
	if st.suppressions == nil {
		return nil
	}
	return st.suppressions.Marker(time.Now())
}

// warnSuppressions warns about entries that expired or matched nothing.
func (e *env) warnSuppressions(o suppress.Outcome) {
	for _, x := range o.ExpiredEntries {
		fmt.Fprintf(e.stderr, "lambdawarden: suppression at %s expired; its findings count again\n", x.Where())
	}
	for _, x := range o.Unused {
		fmt.Fprintf(e.stderr, "lambdawarden: suppression at %s matched no finding\n", x.Where())
	}
}
