package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

type aliasInput struct {
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

// createAlias is CreateAlias: a new alias, with no policy and no URL, on
// $LATEST or a published version.
func createAlias(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	var in aliasInput
	if !c.readBody(&in) {
		return
	}
	if !reAliasName.MatchString(in.Name) || reDigits.MatchString(in.Name) {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)", in.Name))
		return
	}
	rg.lock()
	defer rg.unlock()
	fn, _, found := rg.resolve(name, "")
	if !found {
		c.functionNotFound(name, "")
		return
	}
	if !c.knownVersion(fn, in.FunctionVersion) {
		return
	}
	if fn.aliasByName[in.Name] != nil {
		c.error(http.StatusConflict, "ResourceConflictException", "Alias already exists: "+fn.arn+":"+in.Name)
		return
	}
	al := &alias{name: in.Name, target: in.FunctionVersion, description: in.Description, res: newPolicyRes(fn.arn+":"+in.Name, nil, "")}
	fn.aliases = append(fn.aliases, al)
	fn.aliasByName[al.name] = al
	c.writeJSON(http.StatusCreated, aliasJSON(al))
}

// knownVersion checks an alias target: $LATEST or a published version.
func (c *call) knownVersion(fn *function, v string) bool {
	if v == "$LATEST" || fn.versionByNum[v] != nil {
		return true
	}
	if v == "" {
		c.error(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
		return false
	}
	c.error(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+fn.arn+":"+v)
	return false
}

// updateAlias is UpdateAlias: a new target version or description; the
// alias's policy stays, under a new RevisionId.
func updateAlias(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	var in aliasInput
	if !c.readBody(&in) {
		return
	}
	rg.lock()
	defer rg.unlock()
	fn, _, found := rg.resolve(name, "")
	if !found {
		c.functionNotFound(name, "")
		return
	}
	al := fn.aliasByName[c.labels["Name"]]
	if al == nil {
		c.error(http.StatusNotFound, "ResourceNotFoundException", "Alias not found: "+fn.arn+":"+c.labels["Name"])
		return
	}
	if !c.checkRevision(in.RevisionID, al.res.revision) {
		return
	}
	if in.FunctionVersion != "" {
		if !c.knownVersion(fn, in.FunctionVersion) {
			return
		}
		al.target = in.FunctionVersion
	}
	if in.Description != "" {
		al.description = in.Description
	}
	al.res.revision = newUUID()
	c.writeJSON(http.StatusOK, aliasJSON(al))
}

// publishVersion is PublishVersion: the next version number, with no
// policy of its own (a published version starts without one).
func publishVersion(c *call) {
	rg, name, _, ok := c.target()
	if !ok {
		return
	}
	var in struct {
		CodeSha256  string `json:"CodeSha256"`
		Description string `json:"Description"`
		RevisionID  string `json:"RevisionId"`
	}
	if !c.readBody(&in) {
		return
	}
	rg.lock()
	defer rg.unlock()
	fn, _, found := rg.resolve(name, "")
	if !found {
		c.functionNotFound(name, "")
		return
	}
	if in.CodeSha256 != "" && in.CodeSha256 != fn.codeSha256 {
		c.error(http.StatusPreconditionFailed, "PreconditionFailedException", "CodeSHA256 ("+in.CodeSha256+") is different from current CodeSHA256 in $LATEST ("+fn.codeSha256+"). Please try again with the CodeSHA256 in $LATEST.")
		return
	}
	if !c.checkRevision(in.RevisionID, fn.latest.revision) {
		return
	}
	next := uint64(1)
	for _, v := range fn.versions {
		if n, err := strconv.ParseUint(v.num, 10, 64); err == nil && n >= next {
			next = n + 1
		}
	}
	v := &version{num: strconv.FormatUint(next, 10), description: in.Description, res: newPolicyRes(fn.arn+":"+strconv.FormatUint(next, 10), nil, "")}
	fn.versions = append(fn.versions, v)
	fn.versionByNum[v.num] = v
	// ListFunctions FunctionVersion=ALL lists a function's versions after
	// its $LATEST.
	at := len(rg.all)
	for i, ref := range rg.all {
		if ref.fn == fn {
			at = i + 1
		}
	}
	rg.all = slices.Insert(rg.all, at, versionRef{fn: fn, v: v})
	c.writeJSON(http.StatusCreated, fn.config(fn.arn+":"+v.num, v))
}
