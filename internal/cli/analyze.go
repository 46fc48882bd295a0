package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/policy"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
	"github.com/lambdawarden/lambdawarden/internal/scan"
	"github.com/spf13/cobra"
)

type trustFlags struct {
	trusted []string
	orgID   string
}

func (t *trustFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&t.trusted, "trusted-account", nil, "an account id that counts as the owner (repeatable, or comma-separated)")
	cmd.Flags().StringVar(&t.orgID, "org-id", "", "your AWS Organizations id (o-...); org-scoped grants to another organization are cross-account")
}

func (t *trustFlags) parse() (rules.Trust, error) {
	var out rules.Trust
	for _, v := range t.trusted {
		for _, id := range strings.Split(v, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if !isAccountID(id) {
				return out, usagef("--trusted-account %q: an account id is 12 digits", id)
			}
			out.Trusted = append(out.Trusted, id)
		}
	}
	if t.orgID != "" && !strings.HasPrefix(t.orgID, "o-") {
		return out, usagef("--org-id %q: an organization id starts with o- (for example o-abc123def4)", t.orgID)
	}
	out.OrgID = t.orgID
	return out, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (e *env) analyzeCommand() *cobra.Command {
	var (
		out         outputFlags
		trust       trustFlags
		files       settingsFlags
		resourceARN string
		urlAuthType string
	)
	cmd := &cobra.Command{
		Use:   "analyze POLICY_FILE|-",
		Short: "Judge one Lambda or layer policy: who outside your boundary can do what",
		Long: `Reads a resource-based policy and reports its exposure, statement by statement.

The input may be a bare policy document or what AWS CLI commands print:
  aws lambda get-policy --function-name NAME           > p.json
  aws lambda get-resource-policy --resource-arn ARN    > p.json
  aws lambda get-layer-version-policy --layer-name L --version-number N > p.json
(their "Policy" field holds the document as a JSON string). Use - for stdin.

Without --resource-arn the resource is read from the statements' Resource.`,
		Example: `  aws lambda get-policy --function-name intake | lambdawarden analyze -
  lambdawarden analyze policy.json --resource-arn arn:aws:lambda:us-east-1:111122223333:function:intake:prod -o json`,
		Args: exactArgs(1, "a policy file, or - for standard input"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := files.load(e, cmd, &out, &trust, nil, false)
			if err != nil {
				return err
			}
			targets, failOn, err := out.parse(e)
			if err != nil {
				return err
			}
			tr, err := trust.parse()
			if err != nil {
				return err
			}
			auth := strings.ToUpper(urlAuthType)
			if auth != "" && auth != "NONE" && auth != "AWS_IAM" {
				return usagef("--url-auth-type %q: want NONE or AWS_IAM", urlAuthType)
			}
			data, err := e.readInput(args[0])
			if err != nil {
				return err
			}
			doc, err := unwrapPolicy(data)
			if err != nil {
				return usagef("%s: %s", displayName(args[0]), err)
			}
			if !json.Valid(doc) {
				return usagef("%s: %s", displayName(args[0]), notJSON(doc))
			}
			if len(doc) > lambdaPolicyLimit {
				fmt.Fprintf(e.stderr, "lambdawarden: warning: %s: the policy is %d bytes, over Lambda's %d KB limit for a resource-based policy (AWS would refuse it); judged anyway\n",
					displayName(args[0]), len(doc), lambdaPolicyLimit/1024)
			}
			parsed, err := policy.Parse(doc)
			if err != nil {
				return usagef("%s: %s", displayName(args[0]), err)
			}
			if resourceARN != "" {
				if _, err := inventory.ParseLambdaARN(resourceARN); err != nil {
					return usagef("--resource-arn: %s", err)
				}
			}
			if resourceARN != "" && !parsed.AppliesTo(resourceARN) {
				named := "no Resource"
				if rs := parsed.NamedResources(); len(rs) > 0 {
					named = strings.Join(capList(rs, 5), ", ")
				}
				return usagef("--resource-arn %s: no statement of the policy applies to it (they name %s); check the ARN for a typo, or give the one the policy is attached to (an alias's policy names function:NAME:ALIAS)", resourceARN, named)
			}
			res, err := analyzedResource(parsed, doc, resourceARN)
			if err != nil {
				return err
			}
			res.Policy.Source = inventory.Source{File: args[0]}
			if auth != "" {
				res.URL = &inventory.FunctionURL{AuthType: auth}
				res.URLChecked = true
			}
			d := &report.Document{SchemaVersion: report.SchemaVersion, Tool: toolInfo(), FailOn: failOn}
			d.Resources = []report.Resource{scan.Assess(res, scan.Options{Trust: tr})}
			if resourceARN == "" && res.ARN != "" {
				// The verdict was reached with every statement applying;
				// say which resource the commands were written for.
				d.Resources[0].Notes = append(d.Resources[0].Notes, "No --resource-arn given: every statement was counted, and the fix commands name "+res.ARN+", read from the statements' Resource.")
			}
			d.Summarize()
			e.suppress(st, d)
			opt := st.writer
			opt.Single = true
			text := textView(d)
			view := func(w report.Writer) *report.Document {
				if w.Name() == "text" {
					return text
				}
				return d
			}
			if err := e.writeViews(targets, view, opt); err != nil {
				return err
			}
			return verdict(d, failOn)
		},
	}
	out.register(cmd)
	trust.register(cmd)
	files.register(cmd)
	cmd.Flags().StringVar(&resourceARN, "resource-arn", "", "the function, alias, version or layer version the policy is attached to")
	cmd.Flags().StringVar(&urlAuthType, "url-auth-type", "", "the function URL's auth type on that resource: NONE or AWS_IAM (omit when there is no URL)")
	return cmd
}

func displayName(arg string) string {
	if arg == "-" {
		return "standard input"
	}
	return arg
}

func (e *env) readInput(arg string) ([]byte, error) {
	if arg == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, 10<<20))
		if err != nil {
			return nil, usagef("cannot read standard input: %s", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usagef("%s: no such file (give a policy file, or - to read standard input)", arg)
		}
		return nil, usagef("cannot read %s: %s", arg, unwrapPathError(err))
	}
	return data, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unwrapPolicy accepts a bare document or the {"Policy": "...",
// "RevisionId": "..."} envelope the get-*-policy commands print.
func unwrapPolicy(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("the input is empty; expected a policy document")
	}
	if err := policy.CheckJSON(trimmed); err != nil {
		return trimmed, nil // policy.Parse reports the JSON error
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return trimmed, nil // policy.Parse reports the JSON error
	}
	var inner json.RawMessage
	for k, v := range probe {
		if strings.EqualFold(k, "Policy") {
			if inner != nil {
				return nil, fmt.Errorf("the envelope holds the Policy field twice (in different case); which one AWS returned is ambiguous")
			}
			inner = v
		}
	}
	if inner == nil {
		return trimmed, nil
	}
	if b := bytes.TrimSpace(inner); len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("the Policy field is not a valid JSON string: %s", err)
		}
		return []byte(s), nil
	}
	return inner, nil
}

// analyzedResource builds the resource the pasted policy belongs to,
// from --resource-arn or the statements' Resource.
func analyzedResource(doc *policy.Document, text []byte, arnFlag string) (*inventory.Resource, error) {
	res := &inventory.Resource{Kind: inventory.KindFunction, Policy: &inventory.Policy{Document: string(text)}}
	arn := arnFlag
	if arn == "" {
		arn = inferResource(doc)
	}
	if arn == "" {
		return res, nil
	}
	parsed, err := inventory.ParseLambdaARN(arn)
	if err != nil {
		if arnFlag != "" {
			return nil, usagef("--resource-arn: %s", err)
		}
		return res, nil
	}
	res.Kind = parsed.Kind
	res.Account = parsed.Account
	res.Region = parsed.Region
	res.Name = parsed.Name
	res.Qualifier = parsed.Qualifier
	if parsed.Kind == inventory.KindLayerVersion {
		var n int64
		fmt.Sscan(parsed.Qualifier, &n)
		res.LayerVersion = n
	}
	if arnFlag != "" {
		res.ARN = arn
		return res, nil
	}
	// Inferred: report the ARN but let every statement apply.
	res.ARN = arn
	res.ARNInferred = true
	return res, nil
}

// inferResource returns the first concrete Lambda ARN named in a
// statement's Resource.
func inferResource(doc *policy.Document) string {
	for _, s := range doc.Statements {
		for _, r := range s.Resource {
			if strings.ContainsAny(r, "*?") {
				continue
			}
			if _, err := inventory.ParseLambdaARN(r); err == nil {
				return r
			}
		}
	}
	return ""
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s (got %d arguments); see 'lambdawarden %s --help'", cmd.Name(), what, len(args), cmd.Name())
		}
		return nil
	}
}

func toolInfo() report.Tool { return report.Tool{Name: "lambdawarden", Version: version()} }

// capList keeps at most n items and says how many more there were.
func capList(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(items[:n:n], fmt.Sprintf("and %d more", len(items)-n))
}
