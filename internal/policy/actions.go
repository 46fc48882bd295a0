package policy

import (
	"math/bits"
	"strings"
)

// Group is a family of Lambda actions that matters for exposure.
type Group string

// Action groups: what a grant lets a caller do, the unit findings and
// exposure classes are reported in.
const (
	GroupInvoke    Group = "invoke"      // InvokeFunction, InvokeAsync
	GroupURLInvoke Group = "url-invoke"  // InvokeFunctionUrl
	GroupRead      Group = "read"        // GetFunction hands out the code and environment
	GroupWrite     Group = "write"       // code, configuration and permission changes
	GroupLayerUse  Group = "layer-use"   // GetLayerVersion
	GroupAssume    Group = "assume-role" // sts:AssumeRole and friends, in a role's trust policy
)

// groupOrder is the order groups are listed in, worst first.
var groupOrder = []Group{GroupWrite, GroupRead, GroupInvoke, GroupURLInvoke, GroupLayerUse, GroupAssume}

// target is the kind of resource an action applies to.
type target int

const (
	onFunction target = iota
	onLayer
	onRole
)

type actionDef struct {
	name   string // without the service prefix
	group  Group
	target target
}

// service returns the action's IAM service prefix.
func (a actionDef) service() string {
	if a.target == onRole {
		return "sts"
	}
	return "lambda"
}

// knownActions is every Lambda action that can be granted on a function,
// alias, version or layer version (IAM service authorization reference
// for AWS Lambda). Order is fixed: bit i of an actionSet is knownActions[i].
var knownActions = []actionDef{
	{"InvokeFunction", GroupInvoke, onFunction},
	{"InvokeAsync", GroupInvoke, onFunction},
	{"InvokeFunctionUrl", GroupURLInvoke, onFunction},

	{"GetFunction", GroupRead, onFunction},
	{"GetFunctionConfiguration", GroupRead, onFunction},
	{"GetPolicy", GroupRead, onFunction},
	{"GetResourcePolicy", GroupRead, onFunction},
	{"GetAlias", GroupRead, onFunction},
	{"GetFunctionCodeSigningConfig", GroupRead, onFunction},
	{"GetFunctionConcurrency", GroupRead, onFunction},
	{"GetFunctionEventInvokeConfig", GroupRead, onFunction},
	{"GetFunctionRecursionConfig", GroupRead, onFunction},
	{"GetFunctionScalingConfig", GroupRead, onFunction},
	{"GetFunctionUrlConfig", GroupRead, onFunction},
	{"GetProvisionedConcurrencyConfig", GroupRead, onFunction},
	{"GetRuntimeManagementConfig", GroupRead, onFunction},
	{"GetDurableExecution", GroupRead, onFunction},
	{"GetDurableExecutionHistory", GroupRead, onFunction},
	{"GetDurableExecutionState", GroupRead, onFunction},
	{"ListAliases", GroupRead, onFunction},
	{"ListDurableExecutionsByFunction", GroupRead, onFunction},
	{"ListFunctionEventInvokeConfigs", GroupRead, onFunction},
	{"ListFunctionUrlConfigs", GroupRead, onFunction},
	{"ListProvisionedConcurrencyConfigs", GroupRead, onFunction},
	{"ListTags", GroupRead, onFunction},
	{"ListVersionsByFunction", GroupRead, onFunction},

	{"UpdateFunctionCode", GroupWrite, onFunction},
	{"UpdateFunctionConfiguration", GroupWrite, onFunction},
	{"AddPermission", GroupWrite, onFunction},
	{"RemovePermission", GroupWrite, onFunction},
	{"PutResourcePolicy", GroupWrite, onFunction},
	{"DeleteResourcePolicy", GroupWrite, onFunction},
	{"DeleteFunction", GroupWrite, onFunction},
	{"CreateAlias", GroupWrite, onFunction},
	{"UpdateAlias", GroupWrite, onFunction},
	{"DeleteAlias", GroupWrite, onFunction},
	{"PublishVersion", GroupWrite, onFunction},
	{"CreateFunctionUrlConfig", GroupWrite, onFunction},
	{"UpdateFunctionUrlConfig", GroupWrite, onFunction},
	{"DeleteFunctionUrlConfig", GroupWrite, onFunction},
	{"PutFunctionConcurrency", GroupWrite, onFunction},
	{"DeleteFunctionConcurrency", GroupWrite, onFunction},
	{"PutFunctionEventInvokeConfig", GroupWrite, onFunction},
	{"UpdateFunctionEventInvokeConfig", GroupWrite, onFunction},
	{"DeleteFunctionEventInvokeConfig", GroupWrite, onFunction},
	{"PutProvisionedConcurrencyConfig", GroupWrite, onFunction},
	{"DeleteProvisionedConcurrencyConfig", GroupWrite, onFunction},
	{"PutFunctionCodeSigningConfig", GroupWrite, onFunction},
	{"DeleteFunctionCodeSigningConfig", GroupWrite, onFunction},
	{"PutRuntimeManagementConfig", GroupWrite, onFunction},
	{"PutFunctionRecursionConfig", GroupWrite, onFunction},
	{"PutFunctionScalingConfig", GroupWrite, onFunction},
	{"TagResource", GroupWrite, onFunction},
	{"UntagResource", GroupWrite, onFunction},
	{"CheckpointDurableExecution", GroupWrite, onFunction},
	{"StopDurableExecution", GroupWrite, onFunction},
	{"SendDurableExecutionCallbackSuccess", GroupWrite, onFunction},
	{"SendDurableExecutionCallbackFailure", GroupWrite, onFunction},
	{"SendDurableExecutionCallbackHeartbeat", GroupWrite, onFunction},
	{"EnableReplication", GroupWrite, onFunction},
	{"DisableReplication", GroupWrite, onFunction},

	{"GetLayerVersion", GroupLayerUse, onLayer},
	{"GetLayerVersionPolicy", GroupRead, onLayer},
	{"ListLayerVersions", GroupRead, onLayer},
	{"AddLayerVersionPermission", GroupWrite, onLayer},
	{"RemoveLayerVersionPermission", GroupWrite, onLayer},
	{"DeleteLayerVersion", GroupWrite, onLayer},

	// A function's execution role is judged by who may assume it.
	{"AssumeRole", GroupAssume, onRole},
	{"AssumeRoleWithWebIdentity", GroupAssume, onRole},
	{"AssumeRoleWithSAML", GroupAssume, onRole},
	{"TagSession", GroupAssume, onRole},
	{"SetSourceIdentity", GroupAssume, onRole},
}

// actionSet is a bit set over knownActions.
type actionSet [2]uint64

// Tables derived from knownActions, built once.
var (
	allActions      actionSet
	functionActions actionSet
	layerActions    actionSet
	roleActions     actionSet
	groupActions    = map[Group]actionSet{}
	actionIndex     = map[string]int{} // lower-case "service:name" -> bit
	actionExact     = map[string]int{} // "service:Name" as AWS spells it -> bit
	qualifiedNames  []string           // "service:Name" per bit
	_               = buildActionTables()
)

func buildActionTables() bool {
	if len(knownActions) > 128 {
		panic("policy: more than 128 known actions; widen actionSet")
	}
	for i, a := range knownActions {
		allActions = allActions.with(i)
		switch a.target {
		case onLayer:
			layerActions = layerActions.with(i)
		case onRole:
			roleActions = roleActions.with(i)
		default:
			functionActions = functionActions.with(i)
		}
		groupActions[a.group] = groupActions[a.group].with(i)
		full := a.service() + ":" + a.name
		actionIndex[strings.ToLower(full)] = i
		actionExact[full] = i
		qualifiedNames = append(qualifiedNames, full)
	}
	return true
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
		if i, ok := actionExact[p]; ok { // the usual spelling: no lower-casing
			s = s.with(i)
			continue
		}
		if i, ok := actionIndex[strings.ToLower(p)]; ok && !hasWildcard(p) {
			s = s.with(i)
			continue
		}
		for i := range knownActions {
			if globMatch(p, qualifiedNames[i], true) {
				s = s.with(i)
			}
		}
	}
	return s
}

// ActionGroup returns the group of an action ("lambda:GetFunction"), or
// "" when the action is not one lambdawarden knows.
func ActionGroup(action string) Group {
	if i, ok := actionIndex[strings.ToLower(action)]; ok {
		return knownActions[i].group
	}
	return ""
}

// KnownActions returns every action the engine reasons about, as
// "service:Name": functions, layer versions, then role assumption.
func KnownActions() []string { return allActions.names() }
