package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	reAccountID    = regexp.MustCompile(`^\d{12}$`)
	reRegion       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	reFunctionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	reAliasName    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	reDigits       = regexp.MustCompile(`^[0-9]+$`)
	reLayerName    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,140}$`)
	reOrgID        = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reIAMName      = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// Validate checks a seed's values and cross references (unique ids and
// names, alias targets, enumerations, policy documents being JSON objects)
// and returns the first problem with its JSON path.
func (s *Seed) Validate() error {
	if s == nil {
		return nil
	}
	seenAcct := map[string]bool{}
	for i, a := range s.Accounts {
		p := fmt.Sprintf("accounts[%d]", i)
		if !reAccountID.MatchString(a.ID) {
			return fmt.Errorf("seed: %s.id: %q is not a 12-digit account id", p, a.ID)
		}
		if seenAcct[a.ID] {
			return fmt.Errorf("seed: %s.id: account %s appears twice", p, a.ID)
		}
		seenAcct[a.ID] = true
		if err := a.validate(p); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if o := s.Organization; o != nil {
		if !reOrgID.MatchString(o.ID) {
			return fmt.Errorf("seed: organization.id: %q is not an organization id (o- and 10 to 32 lowercase letters or digits)", o.ID)
		}
		if !seenAcct[o.ManagementAccount] {
			return fmt.Errorf("seed: organization.management_account: %q is not one of the seeded accounts", o.ManagementAccount)
		}
		switch o.FeatureSet {
		case "", "ALL", "CONSOLIDATED_BILLING":
		default:
			return fmt.Errorf("seed: organization.feature_set: %q is not ALL or CONSOLIDATED_BILLING", o.FeatureSet)
		}
	}
	return nil
}

func (a *SeedAccount) validate(p string) error {
	switch a.Status {
	case "", "ACTIVE", "SUSPENDED":
	default:
		return fmt.Errorf("%s.status: %q is not ACTIVE or SUSPENDED", p, a.Status)
	}
	switch a.JoinedMethod {
	case "", "CREATED", "INVITED":
	default:
		return fmt.Errorf("%s.joined_method: %q is not CREATED or INVITED", p, a.JoinedMethod)
	}
	if a.JoinedTimestamp != "" {
		if _, err := time.Parse(time.RFC3339, a.JoinedTimestamp); err != nil {
			return fmt.Errorf("%s.joined_timestamp: %q is not an RFC 3339 time", p, a.JoinedTimestamp)
		}
	}
	for field, list := range map[string][]string{"disabled_regions": a.DisabledRegions, "enabled_regions": a.EnabledRegions} {
		for j, r := range list {
			if !reRegion.MatchString(r) {
				return fmt.Errorf("%s.%s[%d]: %q is not a region name", p, field, j, r)
			}
		}
	}
	for _, r := range sortedRegionKeys(a.Regions) {
		rp := join(p+".regions", r)
		if !reRegion.MatchString(r) {
			return fmt.Errorf("%s: %q is not a region name like us-east-1", rp, r)
		}
		if err := validateRegion(rp, a.Regions[r]); err != nil {
			return err
		}
	}
	return validateIAM(p, a)
}

func sortedRegionKeys(m map[string]SeedRegion) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateRegion(rp string, r SeedRegion) error {
	names := map[string]bool{}
	for i, f := range r.Functions {
		fp := fmt.Sprintf("%s.functions[%d]", rp, i)
		if !reFunctionName.MatchString(f.Name) {
			return fmt.Errorf("%s.name: %q is not a function name (1 to 64 letters, digits, - or _)", fp, f.Name)
		}
		if names[f.Name] {
			return fmt.Errorf("%s.name: function %q appears twice in the region", fp, f.Name)
		}
		names[f.Name] = true
		if err := validatePolicy(fp, f.Policy, f.PolicyError); err != nil {
			return err
		}
		if err := validateURL(fp+".url", f.URL); err != nil {
			return err
		}
		if f.MemorySize < 0 || f.Timeout < 0 {
			return fmt.Errorf("%s: memory_size and timeout must not be negative", fp)
		}
		versions := map[FunctionVersion]bool{}
		for j, v := range f.Versions {
			vp := fmt.Sprintf("%s.versions[%d]", fp, j)
			if !reDigits.MatchString(string(v.Version)) || strings.HasPrefix(string(v.Version), "0") {
				return fmt.Errorf("%s.version: %q is not a published version number (1, 2, ...)", vp, v.Version)
			}
			if versions[v.Version] {
				return fmt.Errorf("%s.version: version %s appears twice", vp, v.Version)
			}
			versions[v.Version] = true
			if err := validatePolicy(vp, v.Policy, v.PolicyError); err != nil {
				return err
			}
		}
		aliases := map[string]bool{}
		for j, al := range f.Aliases {
			ap := fmt.Sprintf("%s.aliases[%d]", fp, j)
			if !reAliasName.MatchString(al.Name) || reDigits.MatchString(al.Name) {
				return fmt.Errorf("%s.name: %q is not an alias name (letters, digits, - or _, not all digits)", ap, al.Name)
			}
			if al.Name == "LATEST" || aliases[al.Name] {
				return fmt.Errorf("%s.name: alias %q appears twice or is reserved", ap, al.Name)
			}
			aliases[al.Name] = true
			if al.Version != "" && al.Version != "$LATEST" && !versions[al.Version] {
				return fmt.Errorf("%s.version: %q is neither $LATEST nor one of the function's versions", ap, al.Version)
			}
			if err := validatePolicy(ap, al.Policy, al.PolicyError); err != nil {
				return err
			}
			if err := validateURL(ap+".url", al.URL); err != nil {
				return err
			}
		}
	}
	layers := map[string]bool{}
	for i, l := range r.Layers {
		lp := fmt.Sprintf("%s.layers[%d]", rp, i)
		if !reLayerName.MatchString(l.Name) {
			return fmt.Errorf("%s.name: %q is not a layer name", lp, l.Name)
		}
		if layers[l.Name] {
			return fmt.Errorf("%s.name: layer %q appears twice in the region", lp, l.Name)
		}
		layers[l.Name] = true
		seen := map[int64]bool{}
		for j, v := range l.Versions {
			vp := fmt.Sprintf("%s.versions[%d]", lp, j)
			if v.Version < 1 {
				return fmt.Errorf("%s.version: %d is not a positive layer version number", vp, v.Version)
			}
			if seen[v.Version] {
				return fmt.Errorf("%s.version: version %d appears twice", vp, v.Version)
			}
			seen[v.Version] = true
			if err := validatePolicy(vp, v.Policy, v.PolicyError); err != nil {
				return err
			}
		}
	}
	return nil
}

func validatePolicy(p string, doc json.RawMessage, policyError string) error {
	if !isNullJSON(doc) && !isJSONObject(doc) {
		return fmt.Errorf("%s.policy: must be a policy document (a JSON object) or null", p)
	}
	if policyError != "" && !contains(PolicyErrors(), policyError) {
		return fmt.Errorf("%s.policy_error: %q is not one of %s", p, policyError, strings.Join(PolicyErrors(), ", "))
	}
	return nil
}

func validateURL(p string, u *SeedURL) error {
	if u == nil {
		return nil
	}
	switch u.AuthType {
	case "", "NONE", "AWS_IAM":
	default:
		return fmt.Errorf("%s.auth_type: %q is not NONE or AWS_IAM", p, u.AuthType)
	}
	switch u.InvokeMode {
	case "", "BUFFERED", "RESPONSE_STREAM":
	default:
		return fmt.Errorf("%s.invoke_mode: %q is not BUFFERED or RESPONSE_STREAM", p, u.InvokeMode)
	}
	return nil
}

func validateIAM(p string, a *SeedAccount) error {
	policies := map[string]bool{}
	for i, mp := range a.ManagedPolicies {
		pp := fmt.Sprintf("%s.managed_policies[%d]", p, i)
		if !reIAMName.MatchString(mp.Name) {
			return fmt.Errorf("%s.name: %q is not an IAM policy name", pp, mp.Name)
		}
		arn := managedPolicyARN(a.ID, mp)
		if policies[arn] {
			return fmt.Errorf("%s: policy %s appears twice", pp, arn)
		}
		policies[arn] = true
		if isNullJSON(mp.Document) {
			return fmt.Errorf("%s.document: a managed policy needs a document", pp)
		}
		if err := validatePolicy(pp, mp.Document, ""); err != nil {
			return fmt.Errorf("%s.document: must be a policy document (a JSON object)", pp)
		}
	}
	roles := map[string]bool{}
	for i, r := range a.Roles {
		rp := fmt.Sprintf("%s.roles[%d]", p, i)
		if !reIAMName.MatchString(r.Name) {
			return fmt.Errorf("%s.name: %q is not an IAM role name", rp, r.Name)
		}
		if roles[r.Name] {
			return fmt.Errorf("%s.name: role %q appears twice", rp, r.Name)
		}
		roles[r.Name] = true
		if err := validatePolicy(rp+".assume_role_policy", r.AssumeRolePolicy, ""); err != nil {
			return fmt.Errorf("%s.assume_role_policy: must be a policy document (a JSON object) or null", rp)
		}
		for j, arn := range r.AttachedPolicies {
			if !policies[arn] {
				return fmt.Errorf("%s.attached_policies[%d]: %q is not one of the account's managed_policies", rp, j, arn)
			}
		}
		if b := r.PermissionsBoundary; b != "" && !policies[b] {
			return fmt.Errorf("%s.permissions_boundary: %q is not one of the account's managed_policies", rp, b)
		}
		for name, doc := range r.InlinePolicies {
			if !reIAMName.MatchString(name) || isNullJSON(doc) || validatePolicy("", doc, "") != nil {
				return fmt.Errorf("%s: inline policy %q needs a valid name and a policy document (a JSON object)", join(rp+".inline_policies", name), name)
			}
		}
	}
	return nil
}

func managedPolicyARN(account string, mp SeedManagedPolicy) string {
	if mp.ARN != "" {
		return mp.ARN
	}
	return "arn:aws:iam::" + account + ":policy" + iamPath(mp.Path) + mp.Name
}

// iamPath normalises an IAM path to start and end with a slash.
func iamPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// isJSONObject reports whether b is one valid JSON object (cheaper than
// decoding it, which matters for seeds of 100,000 functions).
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func isNullJSON(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || string(t) == "null"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
