package emulator

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAccount is the account a Server with no seeded accounts (including
// the zero value) serves.
const DefaultAccount = "123456789012"

// seedEpoch is the fixed creation time of everything that comes from the
// seed, so that responses are the same from run to run.
var seedEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// estate is the server's whole in-memory world. Accounts, regions,
// functions and layers are built once by newEstate and never change
// afterwards; what can change (policies, revision ids, function URLs, a
// function's aliases and published versions) lives behind each region's
// mutex.
type estate struct {
	org            *SeedOrganization
	accounts       map[string]*account
	order          []*account
	defaultAccount string
}

type account struct {
	id               string
	name             string
	email            string
	status           string
	joinedMethod     string
	joined           time.Time
	assumeRoleDenied bool
	externalID       string
	disabled         map[string]bool
	disabledList     []string
	enabledRegions   []string
	pab              SeedPublicAccessBlock
	regions          map[string]*region
	roles            []*iamRole
	roleByName       map[string]*iamRole
	policies         []*iamManaged
	policyByARN      map[string]*iamManaged
}

// region is one account's Lambda estate in one region. mu guards every
// policyRes and urlConfig reachable from it.
type region struct {
	account string
	name    string

	mu          sync.RWMutex
	functions   []*function
	byName      map[string]*function
	all         []versionRef // ListFunctions FunctionVersion=ALL order
	layers      []*layer
	layerByName map[string]*layer
}

// versionRef is one entry of ListFunctions?FunctionVersion=ALL: a function's
// $LATEST (v == nil) or one of its published versions.
type versionRef struct {
	fn *function
	v  *version
}

type function struct {
	name         string
	arn          string
	runtime      string
	role         string
	handler      string
	description  string
	memorySize   int
	timeout      int
	layers       []string
	tags         map[string]string
	vpc          *SeedVPC
	codeSha256   string
	latest       *policyRes
	url          *urlConfig
	versions     []*version
	versionByNum map[string]*version
	aliases      []*alias
	aliasByName  map[string]*alias
}

type version struct {
	num         string
	description string
	res         *policyRes
}

type alias struct {
	name        string
	target      string
	description string
	res         *policyRes
	url         *urlConfig
}

// policyRes is anything with its own resource policy: an unqualified
// function, an alias, a published version or a layer version.
type policyRes struct {
	arn         string
	doc         []byte // compact JSON document; nil means no policy
	revision    string // optimistic-concurrency token, new on every write
	policyError string
}

type urlConfig struct {
	url        string
	authType   string
	invokeMode string
	cors       *Cors
	created    time.Time
	modified   time.Time
}

type layer struct {
	name     string
	arn      string
	versions []*layerVersion // ascending
	byNum    map[int64]*layerVersion
}

type layerVersion struct {
	num         int64
	description string
	runtimes    []string
	res         *policyRes
}

func newEstate(seed *Seed) *estate {
	e := &estate{accounts: map[string]*account{}, defaultAccount: DefaultAccount}
	if seed == nil {
		return e
	}
	if seed.Organization != nil {
		o := *seed.Organization
		if o.FeatureSet == "" {
			o.FeatureSet = "ALL"
		}
		e.org = &o
	}
	for i := range seed.Accounts {
		a := newAccount(&seed.Accounts[i])
		e.accounts[a.id] = a
		e.order = append(e.order, a)
	}
	if len(e.order) > 0 {
		e.defaultAccount = e.order[0].id
	}
	return e
}

func newAccount(sa *SeedAccount) *account {
	a := &account{
		id:               sa.ID,
		name:             sa.Name,
		email:            sa.Email,
		status:           sa.Status,
		joinedMethod:     sa.JoinedMethod,
		joined:           time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		assumeRoleDenied: sa.AssumeRoleDenied,
		externalID:       sa.ExternalID,
		disabled:         map[string]bool{},
		disabledList:     append([]string(nil), sa.DisabledRegions...),
		enabledRegions:   append([]string(nil), sa.EnabledRegions...),
		regions:          map[string]*region{},
		roleByName:       map[string]*iamRole{},
		policyByARN:      map[string]*iamManaged{},
	}
	if a.name == "" {
		a.name = a.id
	}
	if a.email == "" {
		a.email = a.id + "@example.com"
	}
	if a.status == "" {
		a.status = "ACTIVE"
	}
	if a.joinedMethod == "" {
		a.joinedMethod = "CREATED"
	}
	if t, err := time.Parse(time.RFC3339, sa.JoinedTimestamp); err == nil {
		a.joined = t
	}
	if sa.PublicAccessBlock != nil {
		a.pab = *sa.PublicAccessBlock
	}
	for _, r := range sa.DisabledRegions {
		a.disabled[r] = true
	}
	if len(a.enabledRegions) == 0 {
		for name := range sa.Regions {
			if !a.disabled[name] {
				a.enabledRegions = append(a.enabledRegions, name)
			}
		}
	}
	sort.Strings(a.enabledRegions)
	for name, sr := range sa.Regions {
		a.regions[name] = newRegion(a.id, name, sr)
	}
	a.buildIAM(sa)
	return a
}

func newRegion(acct, name string, sr SeedRegion) *region {
	rg := &region{
		account:     acct,
		name:        name,
		byName:      make(map[string]*function, len(sr.Functions)),
		layerByName: map[string]*layer{},
	}
	for _, sf := range sr.Functions {
		fn := newFunction(acct, name, sf)
		rg.functions = append(rg.functions, fn)
		rg.byName[fn.name] = fn
		rg.all = append(rg.all, versionRef{fn: fn})
		for _, v := range fn.versions {
			rg.all = append(rg.all, versionRef{fn: fn, v: v})
		}
	}
	for _, sl := range sr.Layers {
		l := &layer{
			name:  sl.Name,
			arn:   "arn:aws:lambda:" + name + ":" + acct + ":layer:" + sl.Name,
			byNum: map[int64]*layerVersion{},
		}
		for _, sv := range sl.Versions {
			lv := &layerVersion{
				num:         sv.Version,
				description: sv.Description,
				runtimes:    sv.CompatibleRuntimes,
				res:         newPolicyRes(l.arn+":"+strconv.FormatInt(sv.Version, 10), sv.Policy, sv.PolicyError),
			}
			l.versions = append(l.versions, lv)
			l.byNum[lv.num] = lv
		}
		sort.Slice(l.versions, func(i, j int) bool { return l.versions[i].num < l.versions[j].num })
		rg.layers = append(rg.layers, l)
		rg.layerByName[l.name] = l
	}
	return rg
}

func newFunction(acct, regionName string, sf SeedFunction) *function {
	arn := "arn:aws:lambda:" + regionName + ":" + acct + ":function:" + sf.Name
	fn := &function{
		name:         sf.Name,
		arn:          arn,
		runtime:      orDefault(sf.Runtime, "python3.12"),
		role:         orDefault(sf.Role, "arn:aws:iam::"+acct+":role/"+sf.Name),
		handler:      orDefault(sf.Handler, "index.handler"),
		description:  sf.Description,
		memorySize:   sf.MemorySize,
		timeout:      sf.Timeout,
		layers:       sf.Layers,
		tags:         sf.Tags,
		vpc:          sf.VPC,
		latest:       newPolicyRes(arn, sf.Policy, sf.PolicyError),
		versionByNum: map[string]*version{},
		aliasByName:  map[string]*alias{},
	}
	if fn.memorySize == 0 {
		fn.memorySize = 128
	}
	if fn.timeout == 0 {
		fn.timeout = 3
	}
	sum := sha256.Sum256([]byte(arn))
	fn.codeSha256 = hex.EncodeToString(sum[:])
	if sf.URL != nil {
		fn.url = newURLConfig(arn, regionName, *sf.URL, seedEpoch)
	}
	for _, sv := range sf.Versions {
		v := &version{
			num:         string(sv.Version),
			description: sv.Description,
			res:         newPolicyRes(arn+":"+string(sv.Version), sv.Policy, sv.PolicyError),
		}
		fn.versions = append(fn.versions, v)
		fn.versionByNum[v.num] = v
	}
	sort.SliceStable(fn.versions, func(i, j int) bool {
		a, _ := strconv.ParseUint(fn.versions[i].num, 10, 64)
		b, _ := strconv.ParseUint(fn.versions[j].num, 10, 64)
		return a < b
	})
	for _, sa := range sf.Aliases {
		al := &alias{
			name:        sa.Name,
			target:      orDefault(string(sa.Version), "$LATEST"),
			description: sa.Description,
			res:         newPolicyRes(arn+":"+sa.Name, sa.Policy, sa.PolicyError),
		}
		if sa.URL != nil {
			al.url = newURLConfig(al.res.arn, regionName, *sa.URL, seedEpoch)
		}
		fn.aliases = append(fn.aliases, al)
		fn.aliasByName[al.name] = al
	}
	return fn
}

func newPolicyRes(arn string, doc json.RawMessage, policyError string) *policyRes {
	r := &policyRes{arn: arn, revision: newUUID(), policyError: policyError}
	if !isNullJSON(doc) {
		r.doc = compactJSON(doc)
	}
	return r
}

func newURLConfig(arn, regionName string, su SeedURL, now time.Time) *urlConfig {
	return &urlConfig{
		url:        functionURL(arn, regionName),
		authType:   orDefault(su.AuthType, "AWS_IAM"),
		invokeMode: orDefault(su.InvokeMode, "BUFFERED"),
		cors:       su.Cors,
		created:    now,
		modified:   now,
	}
}

// functionURL derives a stable URL id (32 lowercase letters and digits, like
// AWS's) from the function or alias ARN.
func functionURL(arn, regionName string) string {
	sum := sha256.Sum256([]byte(arn))
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:32]
	return "https://" + id + ".lambda-url." + regionName + ".on.aws/"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// account returns the seeded account with id, or nil: an unseeded account
// is an empty estate.
func (e *estate) account(id string) *account {
	return e.accounts[id]
}

// region returns the account's region, or nil when nothing is seeded there.
func (e *estate) region(acct, name string) *region {
	if a := e.accounts[acct]; a != nil {
		return a.regions[name]
	}
	return nil
}

// resolve finds the function and the policy-bearing resource a qualifier
// names: "" and "$LATEST" are the unqualified function, digits a published
// version, anything else an alias. ok is false when the function or the
// qualifier does not exist. Callers hold rg.mu.
func (rg *region) resolve(name, qualifier string) (fn *function, res *policyRes, ok bool) {
	if rg == nil {
		return nil, nil, false
	}
	fn = rg.byName[name]
	if fn == nil {
		return nil, nil, false
	}
	switch {
	case qualifier == "" || qualifier == "$LATEST":
		return fn, fn.latest, true
	case reDigits.MatchString(qualifier):
		if v := fn.versionByNum[qualifier]; v != nil {
			return fn, v.res, true
		}
	default:
		if al := fn.aliasByName[qualifier]; al != nil {
			return fn, al.res, true
		}
	}
	return fn, nil, false
}

// layerVersion finds a layer version; callers hold rg.mu.
func (rg *region) layerVersion(name string, num int64) *layerVersion {
	if rg == nil {
		return nil
	}
	if l := rg.layerByName[name]; l != nil {
		return l.byNum[num]
	}
	return nil
}
