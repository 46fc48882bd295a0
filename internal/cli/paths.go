package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// pathFlags are the flags about access paths through assumable roles.
type pathFlags struct {
	scps    []string
	noPaths bool
}

func (p *pathFlags) register(cmd *cobra.Command, optional bool) {
	cmd.Flags().StringArrayVar(&p.scps, "scp", nil, "an SCP file (policy JSON, or the output of aws organizations describe-policy) applied to every scanned account but the management account; repeatable, one file per organization level (root, OU, account): their Allow lists intersect")
	if optional {
		cmd.Flags().BoolVar(&p.noPaths, "no-paths", false, "skip access paths through assumable roles (the iam:GetAccountAuthorizationDetails read of each account)")
	}
}

// load reads every --scp file; a file that cannot be read or is not a
// policy is a usage error, before any work.
func (p *pathFlags) load() ([]rules.SCP, error) {
	var out []rules.SCP
	for _, path := range p.scps {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, usagef("--scp %s: %s; pass the path of an SCP policy document (JSON)", path, describeOSError(err))
		}
		d, err := parseSCP(data)
		if err != nil {
			return nil, usagef("--scp %s: not an SCP policy document: %s", path, err)
		}
		out = append(out, rules.SCP{Name: path, Doc: d})
	}
	return out, nil
}

// parseSCP reads a policy document, or the answer of
// `aws organizations describe-policy`, whose Policy.Content holds it.
func parseSCP(data []byte) (*policy.Document, error) {
	var wrapped struct {
		Policy *struct {
			Content *string `json:"Content"`
		} `json:"Policy"`
	}
	if json.Unmarshal(data, &wrapped) == nil && wrapped.Policy != nil && wrapped.Policy.Content != nil {
		data = []byte(*wrapped.Policy.Content)
	}
	return policy.ParseIdentity(data)
}

func describeOSError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (e *env) pathsCommand() *cobra.Command {
	var (
		sf      scanFlags
		trust   trustFlags
		files   settingsFlags
		role    string
		from    string
		outputs []string
		failOn  string
	)
	cmd := &cobra.Command{
		Use:   "paths",
		Short: "Which functions a role, or an outside account, can reach through assumable roles",
		Long: `Reads the accounts like scan does and lists the access paths from outside through
assumable roles, role by role: who outside the owner and the trusted accounts may
assume each role (its trust policy), and which functions, aliases and versions its
permissions reach once its permission boundary, the SCPs (--scp) and every Deny
are applied. --role ARN shows one role; --from ACCOUNT the roles one outside
account can assume (by name, or because the trust lets "*" in). Only List* and
Get* APIs are called. Exit 1 when a path is at or above --fail-on, 3 when
something could not be read.`,
		Example: `  lambdawarden paths --profile audit --all-regions
  lambdawarden paths --from 444455556666 --scp org-root.json --scp ou-prod.json
  lambdawarden paths --role arn:aws:iam::111122223333:role/partner -o json=paths.json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := files.load(e, cmd, &outputFlags{}, &trust, &sf.regions, false); err != nil {
				return err
			}
			targets, err := parsePathOutputs(outputs, e.isTerminal)
			if err != nil {
				return err
			}
			threshold, err := finding.ParseSeverity(failOn)
			if err != nil {
				return usagef("--fail-on: %s", err)
			}
			tr, err := trust.parse()
			if err != nil {
				return err
			}
			if err := sf.validate(e, cmd.Flags().Changed); err != nil {
				return err
			}
			if err := e.checkSpool(); err != nil {
				return err
			}
			if role != "" && from != "" {
				return usagef("--role and --from are exclusive: ask about one role, or about one outside account")
			}
			if role != "" && !isRoleARN(role) {
				return usagef("--role %q: want a role ARN (arn:aws:iam::111122223333:role/NAME)", role)
			}
			if from != "" && !isAccountID(from) {
				return usagef("--from %q: an account id is 12 digits", from)
			}
			if tr.SCPs, err = sf.paths.load(); err != nil {
				return err
			}
			pathRule, err := rules.ByID("lambda-external-path-via-role")
			if err != nil {
				return err
			}
			sf.rules = []*rules.Rule{pathRule}
			d, err := e.runScan(sf, tr, nil, nil, false)
			if err != nil {
				return err
			}
			defer d.Close()
			v, err := buildPathsView(d, role, from)
			if err != nil {
				return err
			}
			for _, t := range targets {
				if err := e.writePaths(t, v); err != nil {
					return err
				}
			}
			return pathsVerdict(v, threshold)
		},
	}
	sf.register(cmd)
	trust.register(cmd)
	sf.paths.register(cmd, false)
	cmd.Flags().StringVar(&files.config, "config", "", "configuration file (default: ./lambdawarden.yaml when it exists): trusted accounts, org id, regions")
	cmd.Flags().StringVar(&role, "role", "", "show only this role (its ARN)")
	cmd.Flags().StringVar(&from, "from", "", "show only the roles this outside account can assume, and what they reach")
	cmd.Flags().StringArrayVarP(&outputs, "output", "o", nil, "output FORMAT[=FILE], repeatable: text or json (default: text on a terminal, json otherwise)")
	cmd.Flags().StringVar(&failOn, "fail-on", "high", "exit 1 when a path is at or above this severity: critical, high, medium, low, info, none")
	return cmd
}

func isRoleARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && isAccountID(parts[4]) && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}

// pathsView is the reverse view: roles, who may assume them, what they
// reach. Its JSON shape is documented in docs/paths.md.
type pathsView struct {
	SchemaVersion string      `json:"schema_version"`
	Tool          report.Tool `json:"tool"`
	Filter        pathsFilter `json:"filter"`
	Roles         []roleView  `json:"roles"`
	// Unknown lists what could not be read or judged: the view is then
	// incomplete, never clean.
	Unknown  []string `json:"unknown,omitempty"`
	Complete bool     `json:"complete"`
}

type pathsFilter struct {
	Role string `json:"role,omitempty"`
	From string `json:"from,omitempty"`
}

type roleView struct {
	Role     string                  `json:"role"`
	From     []finding.PathPrincipal `json:"from"`
	Severity finding.Severity        `json:"severity"`
	Reaches  []reachView             `json:"reaches"`
}

type reachView struct {
	ARN                 string                `json:"arn"`
	Kind                string                `json:"kind"`
	Region              string                `json:"region"`
	Actions             []string              `json:"actions"`
	ConditionalActions  []string              `json:"conditional_actions,omitempty"`
	PermissionStatement finding.PermissionRef `json:"permission_statement"`
	Suppressed          bool                  `json:"suppressed,omitempty"`
}

// buildPathsView turns the scan's path findings around: per role, what it
// reaches.
func buildPathsView(d *report.Document, role, from string) (*pathsView, error) {
	v := &pathsView{SchemaVersion: report.SchemaVersion, Tool: d.Tool, Filter: pathsFilter{Role: role, From: from}, Roles: []roleView{}}
	byRole := map[string]*roleView{}
	err := d.Each(func(r *report.Resource) error {
		if r.Status == "unknown" {
			v.Unknown = append(v.Unknown, r.ARN+": "+r.UnknownReason)
			return nil
		}
		for _, f := range r.Findings {
			p := f.Path
			if p == nil || role != "" && p.ViaRole != role {
				continue
			}
			principals := p.From
			if from != "" {
				principals = principalsOf(p.From, from)
				if len(principals) == 0 {
					continue
				}
			}
			rv := byRole[p.ViaRole]
			if rv == nil {
				rv = &roleView{Role: p.ViaRole, From: principals, Severity: pathSeverity(principals)}
				byRole[p.ViaRole] = rv
			}
			rv.Reaches = append(rv.Reaches, reachView{ARN: r.ARN, Kind: r.Kind, Region: r.Region, Actions: p.Actions, ConditionalActions: p.ConditionalActions,
				PermissionStatement: p.PermissionStatement, Suppressed: f.Suppressed})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, rv := range byRole {
		v.Roles = append(v.Roles, *rv)
	}
	sort.Slice(v.Roles, func(i, j int) bool {
		if v.Roles[i].Severity != v.Roles[j].Severity {
			return v.Roles[i].Severity > v.Roles[j].Severity
		}
		return v.Roles[i].Role < v.Roles[j].Role
	})
	if d.Scan != nil {
		v.Unknown = append(append([]string(nil), d.Scan.Errors...), v.Unknown...)
	}
	v.Complete = len(v.Unknown) == 0
	return v, nil
}

// principalsOf keeps the principals an outside account is among: named,
// or let in by "*" (unless a condition or Deny confines "*" to other
// named accounts).
func principalsOf(all []finding.PathPrincipal, account string) []finding.PathPrincipal {
	var out []finding.PathPrincipal
	for _, p := range all {
		if p.Account == account || p.Kind == string(policy.AssumerEveryone) && (p.Accounts == nil || slices.Contains(p.Accounts, account)) {
			out = append(out, p)
		}
	}
	return out
}

func pathSeverity(ps []finding.PathPrincipal) finding.Severity {
	for _, p := range ps {
		if p.Exposure == policy.Public.String() {
			return finding.Critical
		}
	}
	return finding.High
}

func pathsVerdict(v *pathsView, failOn finding.Severity) error {
	for _, r := range v.Roles {
		for _, x := range r.Reaches {
			if r.Severity >= failOn && !x.Suppressed {
				return exitCode(exitFindings)
			}
		}
	}
	if !v.Complete {
		return exitCode(exitIncomplete)
	}
	return nil
}

type pathsTarget struct{ format, file string }

func parsePathOutputs(specs []string, terminal bool) ([]pathsTarget, error) {
	if len(specs) == 0 {
		if terminal {
			specs = []string{"text"}
		} else {
			specs = []string{"json"}
		}
	}
	var out []pathsTarget
	stdout := 0
	for _, s := range specs {
		name, file, hasFile := strings.Cut(s, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "text" && name != "json" {
			return nil, usagef("-o %s: paths writes text or json", s)
		}
		if hasFile && file == "" {
			return nil, usagef("-o %s: missing file name after '='", s)
		}
		if file != "" {
			if err := checkOutputFile(file); err != nil {
				return nil, usagef("-o %s: cannot write %s: %s", s, file, err)
			}
		}
		if file == "" {
			stdout++
		}
		out = append(out, pathsTarget{name, file})
	}
	if stdout > 1 {
		return nil, usagef("only one -o format can go to standard output; give the others a file (-o json=paths.json)")
	}
	return out, nil
}

func (e *env) writePaths(t pathsTarget, v *pathsView) error {
	render := func(w io.Writer) error {
		if t.format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		return writePathsText(w, v)
	}
	if t.file == "" {
		w := bufio.NewWriter(e.stdout)
		if err := render(w); err != nil {
			return err
		}
		return w.Flush()
	}
	err := writeOutputFile(t.file, render)
	var fe *fileError
	if errors.As(err, &fe) {
		return usagef("cannot write %s: %s", t.file, fe.err)
	}
	return err
}

func writePathsText(out io.Writer, v *pathsView) error {
	w := bufio.NewWriter(out)
	reaches := 0
	for _, r := range v.Roles {
		reaches += len(r.Reaches)
	}
	scope := ""
	switch {
	case v.Filter.Role != "":
		scope = " for role " + inertField(v.Filter.Role)
	case v.Filter.From != "":
		scope = " from account " + v.Filter.From
	}
	fmt.Fprintf(w, "Access paths through assumable roles%s: %d role(s), %d resource(s) reached\n\n", scope, len(v.Roles), reaches)
	for _, r := range v.Roles {
		fmt.Fprintf(w, "%s  role %s\n", strings.ToUpper(r.Severity.String()), inertField(r.Role))
		for _, p := range r.From {
			line := "  assumable by " + inertField(p.Principal) + " (" + p.Kind + ", " + p.Exposure + ", trust statement " + statementText(p.TrustStatement) + ")"
			if p.Narrowed != "" {
				line += "; " + inertField(p.Narrowed)
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "  reaches %d resource(s):\n", len(r.Reaches))
		for _, x := range r.Reaches {
			acts := strings.Join(x.Actions, ", ")
			if len(x.Actions) > 4 {
				acts = strings.Join(x.Actions[:4], ", ") + " and " + strconv.Itoa(len(x.Actions)-4) + " more"
			}
			line := "    " + inertField(x.ARN) + "  " + acts + "  (policy " + inertField(x.PermissionStatement.Policy) + ", statement " + statementText(finding.StatementRef{Sid: x.PermissionStatement.Sid, Index: x.PermissionStatement.Index}) + ")"
			if len(x.ConditionalActions) > 0 {
				line += "  [conditional: " + strings.Join(x.ConditionalActions, ", ") + "]"
			}
			if x.Suppressed {
				line += "  [SUPPRESSED]"
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
	}
	if len(v.Roles) == 0 {
		fmt.Fprintln(w, "No role lets anyone outside the owner and the trusted accounts reach a Lambda resource.")
	}
	if len(v.Unknown) > 0 {
		fmt.Fprintf(w, "Incomplete: %d thing(s) could not be read or judged, so paths may be missing:\n", len(v.Unknown))
		for i, u := range v.Unknown {
			if i == 100 {
				fmt.Fprintf(w, "  ... and %d more (all of them are in -o json)\n", len(v.Unknown)-100)
				break
			}
			fmt.Fprintf(w, "  %s\n", inertField(u))
		}
	}
	return w.Flush()
}

func statementText(s finding.StatementRef) string {
	if s.Sid != "" {
		return strconv.Quote(s.Sid)
	}
	return strconv.Itoa(s.Index) + " (no Sid)"
}

// inertField makes a string from AWS safe to print (control and
// invisible characters escaped) and caps it.
func inertField(s string) string { return report.Inert(s, report.InertField) }
