package remediate

import (
	"context"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
)

// ReadResources reads the current state of the resources named by ARN
// (from a saved report), so a fix never acts on a policy older than the
// moment it runs. A resource that cannot be read comes back unknown, with
// the reason; it is never treated as having no policy.
func ReadResources(ctx context.Context, exec Executor, arns []string) []*inventory.Resource {
	functions := map[string]State{}
	functionErr := map[string]string{}
	var out []*inventory.Resource
	for _, arn := range arns {
		ref, err := ParseRef(arn)
		r := &inventory.Resource{ARN: arn, Source: inventory.Source{API: "GetPolicy"}}
		if err != nil {
			r.Unknown = err.Error()
			out = append(out, r)
			continue
		}
		r.Kind, r.Account, r.Region, r.Name, r.Qualifier, r.LayerVersion = ref.Kind, ref.Account, ref.Region, ref.Name, ref.Qualifier, ref.LayerVersion
		st, err := exec.Read(ctx, ref)
		if err != nil {
			r.PolicyUnknown = err.Error()
			out = append(out, r)
			continue
		}
		r.Policy, r.URL, r.URLChecked = st.Policy, st.URL, ref.hasURL()
		if ref.Kind == inventory.KindFunction {
			functions[arn] = st
		}
		if ref.Kind == inventory.KindAlias || ref.Kind == inventory.KindVersion {
			fn := ref.unqualified()
			fs, ok := functions[fn.ARN]
			why, failed := functionErr[fn.ARN]
			if !ok && !failed {
				fs, err = exec.Read(ctx, fn)
				if err != nil {
					why, failed = err.Error(), true
					functionErr[fn.ARN] = why
				} else {
					functions[fn.ARN] = fs
				}
			}
			if failed {
				r.FunctionPolicyUnknown = why
			} else {
				r.FunctionPolicy = fs.Policy
			}
		}
		out = append(out, r)
	}
	return out
}
