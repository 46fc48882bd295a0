package history

import "context"

// PolicyVersion is one version of a resource's state: the scans that saw
// it unchanged, its policy text and what changed from the version before.
type PolicyVersion struct {
	FirstScan  Scan              `json:"first_scan"`
	LastScan   int64             `json:"last_scan"`
	Scans      int               `json:"scans"`
	Resource   ResourceState     `json:"resource"`
	Policy     string            `json:"policy,omitempty"`
	Statements []StatementChange `json:"statement_changes"`
}

// PolicyVersions folds a resource's history into its versions: a new
// version whenever its state (exposure, status, policy, URL) changed.
func PolicyVersions(ctx context.Context, s Store, arn string) ([]PolicyVersion, error) {
	h, err := s.ResourceHistory(ctx, arn)
	if err != nil {
		return nil, err
	}
	var out []PolicyVersion
	prevText := ""
	for _, v := range h {
		if n := len(out); n > 0 && out[n-1].Resource == v.Resource {
			out[n-1].LastScan = v.Scan.ID
			out[n-1].Scans++
			continue
		}
		text := ""
		if v.Resource.PolicySHA != "" {
			if text, err = s.Policy(ctx, v.Resource.PolicySHA); err != nil {
				return nil, err
			}
		}
		out = append(out, PolicyVersion{FirstScan: v.Scan, LastScan: v.Scan.ID, Scans: 1, Resource: v.Resource, Policy: text,
			Statements: nonNilChanges(DiffStatements(prevText, text))})
		prevText = text
	}
	return out, nil
}
