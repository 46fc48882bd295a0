package remediate

import (
	"fmt"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// steps lists the calls. A policy written by AddPermission is changed
// statement by statement, the way Lambda changes such policies: a removal
// is remove-permission, a narrowing is remove-permission then
// add-permission of the narrowed statement under the same Sid. That needs
// every statement to have the shape AddPermission writes and a Sid no
// other statement shares (RemovePermission deletes by Sid) and, for a
// narrowing, a replacement AddPermission can write. Otherwise the policy
// is rewritten in one PutResourcePolicy, or deleted with
// DeleteResourcePolicy when nothing is left. Guarded policy writes come
// first and the URL switch, which takes no RevisionId, last: a concurrent
// change is then noticed before anything unguarded is done.
func (a *Action) steps(newDoc []byte, empty bool) {
	ref, rev := a.Target, a.RevisionID
	if len(a.Changes) > 0 {
		switch {
		case a.byPermission():
			for i, ch := range a.Changes {
				if ch.Kind == Narrow {
					const why = "made as remove-permission then add-permission under the same Sid (Lambda cannot edit an AddPermission statement in place): between the two calls the grant is briefly absent"
					if a.Changes[i].Note != "" {
						a.Changes[i].Note += "; "
					}
					a.Changes[i].Note += why
				}
				op := OpRemovePermission
				if ref.Kind == inventory.KindLayerVersion {
					op = OpRemoveLayerVersionPermission
				}
				cli := cliRemovePermission(ref, ch.Sid, rev)
				if len(a.Steps) > 0 {
					cli = cliRemovePermission(ref, ch.Sid, "") + ` --revision-id "$(` + cliCurrentRevision(ref) + `)"`
				}
				a.Steps = append(a.Steps, Step{Op: op, Sid: ch.Sid, CLI: cli})
				if ch.Kind == Narrow {
					p := a.addPerm[ch.Index]
					a.Steps = append(a.Steps, Step{Op: OpAddPermission, Sid: ch.Sid, Permission: &p,
						CLI: cliAddPermission(ref, p, "") + ` --revision-id "$(` + cliCurrentRevision(ref) + `)"`})
				}
			}
		case empty:
			a.Deleted = true
			a.Steps = append(a.Steps, Step{Op: OpDeleteResourcePolicy, CLI: cliDeleteResourcePolicy(ref, rev)})
		default:
			a.After = string(newDoc)
			a.Steps = append(a.Steps, Step{Op: OpPutResourcePolicy, Document: a.After, CLI: cliPutResourcePolicy(ref, a.After, rev)})
		}
	}
	if a.URL != nil {
		a.Steps = append(a.Steps, Step{Op: OpUpdateFunctionURLConfig, AuthType: a.URL.To, CLI: cliUpdateURL(ref, a.URL.To)})
	}
}

// byPermission reports whether every change can be made with the
// statement-by-statement calls.
func (a *Action) byPermission() bool {
	if a.Target.Kind == inventory.KindLayerVersion {
		return true // treatments kept only removable statements
	}
	if a.state.Policy.Origin == inventory.OriginResourcePolicy {
		return false
	}
	// A policy is AddPermission's only when every statement has its shape
	// and its own Sid; one Deny or one statement without a Sid makes it a
	// full JSON policy.
	sids := map[string]int{}
	for _, st := range a.doc.Statements {
		if sids[st.Sid]++; !addPermissionShaped(st) || sids[st.Sid] > 1 {
			return false
		}
	}
	for _, ch := range a.Changes {
		if _, ok := a.addPerm[ch.Index]; ch.Kind == Narrow && !ok {
			return false
		}
	}
	return true
}

// cliCurrentRevision reads the RevisionId again: RemovePermission answers
// without one, so the next call needs a fresh read.
func cliCurrentRevision(ref Ref) string {
	if ref.Kind == inventory.KindLayerVersion {
		return fmt.Sprintf("aws lambda get-layer-version-policy --layer-name %s --version-number %d --query RevisionId --output text%s", shellQuote(ref.Name), ref.LayerVersion, regionFlag(ref.Region))
	}
	return "aws lambda get-policy --function-name " + shellQuote(ref.Name) + qualifierFlag(ref.Qualifier) + " --query RevisionId --output text" + regionFlag(ref.Region)
}
