package inventory

// AccountIAM is an account's roles as one read of IAM reports them
// (GetAccountAuthorizationDetails): each role's trust policy, permissions
// policies and permission boundary. Access paths through roles rest on it,
// so it is read once per account and shared by the account's resources.
type AccountIAM struct {
	Account string    `json:"account"`
	Roles   []IAMRole `json:"roles,omitempty"`
	// Unknown says why the roles could not be read: every path through
	// them is then unknown, never absent.
	Unknown string `json:"unknown,omitempty"`
	Source  Source `json:"source"`
}

// IAMRole is one role with everything that decides what its sessions may
// do and who may start them.
type IAMRole struct {
	ARN         string `json:"arn"`
	Name        string `json:"name"`
	TrustPolicy string `json:"trust_policy,omitempty"`
	// Policies are the attached managed policies, then the inline ones.
	Policies []RolePolicy `json:"policies,omitempty"`
	// Boundary is the permission boundary, nil when the role has none.
	Boundary *RolePolicy `json:"boundary,omitempty"`
	// Unknown says why one of its documents is missing (a managed policy
	// the answer did not include); its paths are then unknown.
	Unknown string `json:"unknown,omitempty"`
}

// Role returns the role with the given ARN, or nil.
func (a *AccountIAM) Role(arn string) *IAMRole {
	if a == nil {
		return nil
	}
	for i := range a.Roles {
		if a.Roles[i].ARN == arn {
			return &a.Roles[i]
		}
	}
	return nil
}

// ExecutionRole returns the role in the shape execution-role posture
// reads, or nil when the account does not have it.
func (a *AccountIAM) ExecutionRole(arn string) *ExecutionRole {
	r := a.Role(arn)
	if r == nil {
		return nil
	}
	return &ExecutionRole{ARN: r.ARN, TrustPolicy: r.TrustPolicy, Policies: r.Policies, Unknown: r.Unknown}
}
