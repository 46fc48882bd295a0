package policy

import (
	"math/bits"
	"strings"
)

// Group is a family of Lambda actions that matters for exposure.
type Group string

// Action groups (SEMANTICS.md section 5).
const (
	GroupInvoke    Group = "invoke"     // InvokeFunction, InvokeAsync
	GroupURLInvoke Group = "url-invoke" // InvokeFunctionUrl
	GroupRead      Group = "read"       // GetFunction hands out the code and environment
	GroupWrite     Group = "write"      // code, configuration and permission changes
	GroupLayerUse  Group = "layer-use"  // GetLayerVersion
)

// groupOrder is the order groups are listed in, worst first.
var groupOrder = []Group{GroupWrite, GroupRead, GroupInvoke, GroupURLInvoke, GroupLayerUse}

type actionDef struct {
	name  string // without the "lambda:" prefix
	group Group
	layer bool // applies to layer versions rather than functions
}

// knownActions is every Lambda action that can be granted on a function,
// alias, version or layer version (IAM service authorization reference
// for AWS Lambda). Order is fixed: bit i of an actionSet is knownActions[i].
var knownActions = []actionDef{
	{"InvokeFunction", GroupInvoke, false},
	{"InvokeAsync", GroupInvoke, false},
	{"InvokeFunctionUrl", GroupURLInvoke, false},

	{"GetFunction", GroupRead, false},
	{"GetFunctionConfiguration", GroupRead, false},
	{"GetPolicy", GroupRead, false},
	{"GetResourcePolicy", GroupRead, false},
	{"GetAlias", GroupRead, false},
	{"GetFunctionCodeSigningConfig", GroupRead, false},
	{"GetFunctionConcurrency", GroupRead, false},
	{"GetFunctionEventInvokeConfig", GroupRead, false},
	{"GetFunctionRecursionConfig", GroupRead, false},
	{"GetFunctionScalingConfig", GroupRead, false},
	{"GetFunctionUrlConfig", GroupRead, false},
	{"GetProvisionedConcurrencyConfig", GroupRead, false},
	{"GetRuntimeManagementConfig", GroupRead, false},
	{"GetDurableExecution", GroupRead, false},
	{"GetDurableExecutionHistory", GroupRead, false},
	{"GetDurableExecutionState", GroupRead, false},
	{"ListAliases", GroupRead, false},
	{"ListDurableExecutionsByFunction", GroupRead, false},
	{"ListFunctionEventInvokeConfigs", GroupRead, false},
	{"ListFunctionUrlConfigs", GroupRead, false},
	{"ListProvisionedConcurrencyConfigs", GroupRead, false},
	{"ListTags", GroupRead, false},
	{"ListVersionsByFunction", GroupRead, false},

	{"UpdateFunctionCode", GroupWrite, false},
	{"UpdateFunctionConfiguration", GroupWrite, false},
	{"AddPermission", GroupWrite, false},
	{"RemovePermission", GroupWrite, false},
	{"PutResourcePolicy", GroupWrite, false},
	{"DeleteResourcePolicy", GroupWrite, false},
	{"DeleteFunction", GroupWrite, false},
	{"CreateAlias", GroupWrite, false},
	{"UpdateAlias", GroupWrite, false},
	{"DeleteAlias", GroupWrite, false},
	{"PublishVersion", GroupWrite, false},
	{"CreateFunctionUrlConfig", GroupWrite, false},
	{"UpdateFunctionUrlConfig", GroupWrite, false},
	{"DeleteFunctionUrlConfig", GroupWrite, false},
	{"PutFunctionConcurrency", GroupWrite, false},
	{"DeleteFunctionConcurrency", GroupWrite, false},
	{"PutFunctionEventInvokeConfig", GroupWrite, false},
	{"UpdateFunctionEventInvokeConfig", GroupWrite, false},
	{"DeleteFunctionEventInvokeConfig", GroupWrite, false},
	{"PutProvisionedConcurrencyConfig", GroupWrite, false},
	{"DeleteProvisionedConcurrencyConfig", GroupWrite, false},
	{"PutFunctionCodeSigningConfig", GroupWrite, false},
	{"DeleteFunctionCodeSigningConfig", GroupWrite, false},
	{"PutRuntimeManagementConfig", GroupWrite, false},
	{"PutFunctionRecursionConfig", GroupWrite, false},
	{"PutFunctionScalingConfig", GroupWrite, false},
	{"TagResource", GroupWrite, false},
	{"UntagResource", GroupWrite, false},
	{"CheckpointDurableExecution", GroupWrite, false},
	{"StopDurableExecution", GroupWrite, false},
	{"SendDurableExecutionCallbackSuccess", GroupWrite, false},
	{"SendDurableExecutionCallbackFailure", GroupWrite, false},
	{"SendDurableExecutionCallbackHeartbeat", GroupWrite, false},
	{"EnableReplication", GroupWrite, false},
	{"DisableReplication", GroupWrite, false},

	{"GetLayerVersion", GroupLayerUse, true},
	{"GetLayerVersionPolicy", GroupRead, true},
	{"ListLayerVersions", GroupRead, true},
	{"AddLayerVersionPermission", GroupWrite, true},
	{"RemoveLayerVersionPermission", GroupWrite, true},
	{"DeleteLayerVersion", GroupWrite, true},
}

// actionSet is a bit set over knownActions.
type actionSet [2]uint64

var (
	allActions      actionSet
	functionActions actionSet
	layerActions    actionSet
	groupActions    = map[Group]actionSet{}
	actionIndex     = map[string]int{} // lower-case "lambda:name" -> bit
	qualifiedNames  []string           // "lambda:Name" per bit
)

func init() {
	if len(knownActions) > 128 {
		panic("policy: more than 128 known actions; widen actionSet")
	}
	for i, a := range knownActions {
		allActions = allActions.with(i)
		if a.layer {
			layerActions = layerActions.with(i)
		} else {
			functionActions = functionActions.with(i)
		}
		groupActions[a.group] = groupActions[a.group].with(i)
		actionIndex["lambda:"+strings.ToLower(a.name)] = i
		qualifiedNames = append(qualifiedNames, "lambda:"+a.name)
	}
}

func (s actionSet) with(i int) actionSet      { s[i/64] |= 1 << (i % 64); return s }
func (s actionSet) has(i int) bool            { return s[i/64]&(1<<(i%64)) != 0 }
func (s actionSet) and(o actionSet) actionSet { return actionSet{s[0] & o[0], s[1] & o[1]} }
func (s actionSet) or(o actionSet) actionSet  { return actionSet{s[0] | o[0], s[1] | o[1]} }
func (s actionSet) minus(o actionSet) actionSet {
	return actionSet{s[0] &^ o[0], s[1] &^ o[1]}
}
func (s actionSet) empty() bool { return s[0] == 0 && s[1] == 0 }
func (s actionSet) count() int  { return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) }

// names lists the actions in the set as "lambda:Name".
func (s actionSet) names() []string {
	out := make([]string, 0, s.count())
	for w, word := range s {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			out = append(out, qualifiedNames[w*64+i])
			word &= word - 1
		}
	}
	return out
}

// groups lists the groups present in the set, worst first.
func (s actionSet) groups() []Group {
	var out []Group
	for _, g := range groupOrder {
		if !s.and(groupActions[g]).empty() {
			out = append(out, g)
		}
	}
	return out
}

// matchActions returns the known actions matched by any of the patterns.
// Action names and wildcards match case-insensitively.
func matchActions(patterns []string) actionSet {
	var s actionSet
	for _, p := range patterns {
		if p == "*" {
			return allActions
		}
		if i, ok := actionIndex[strings.ToLower(p)]; ok && !hasWildcard(p) {
			s = s.with(i)
			continue
		}
		for i, a := range knownActions {
			if globMatch(p, "lambda:"+a.name, true) {
				s = s.with(i)
			}
		}
	}
	return s
}

// ActionGroup returns the group of a Lambda action ("lambda:GetFunction"),
// or "" when the action is not one lambdawarden knows.
func ActionGroup(action string) Group {
	if i, ok := actionIndex[strings.ToLower(action)]; ok {
		return knownActions[i].group
	}
	return ""
}

// KnownActions returns every Lambda action the engine reasons about, as
// "lambda:Name", functions first, then layer versions.
func KnownActions() []string { return allActions.names() }
