package emulator

import (
	"crypto/sha256"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// IAM roles and managed policies come from the seed's per-account "roles"
// and "managed_policies" (see SeedRole, SeedManagedPolicy). Only read
// actions exist; IAM is global, so the region plays no part.

type iamRole struct {
	name     string
	path     string
	arn      string
	id       string
	trust    []byte
	attached []*iamManaged
	inline   []iamInline // sorted by name
	boundary *iamManaged // nil: none
}

type iamInline struct {
	name string
	doc  []byte
}

type iamManaged struct {
	name        string
	path        string
	arn         string
	id          string
	doc         []byte
	attachments int
	boundaries  int // roles using it as their permission boundary
}

// iamID derives a stable IAM unique id (prefix + 17 characters).
func iamID(prefix, arn string) string {
	sum := sha256.Sum256([]byte(arn))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	b.WriteString(prefix)
	for _, c := range sum[:17] {
		b.WriteByte(alphabet[c%32])
	}
	return b.String()
}

func (a *account) buildIAM(sa *SeedAccount) {
	for _, mp := range sa.ManagedPolicies {
		m := &iamManaged{name: mp.Name, path: iamPath(mp.Path), arn: managedPolicyARN(a.id, mp), doc: compactJSON(mp.Document)}
		m.id = iamID("ANPA", m.arn)
		a.policies = append(a.policies, m)
		a.policyByARN[m.arn] = m
	}
	for _, sr := range sa.Roles {
		r := &iamRole{name: sr.Name, path: iamPath(sr.Path)}
		r.arn = "arn:aws:iam::" + a.id + ":role" + r.path + r.name
		r.id = iamID("AROA", r.arn)
		if isNullJSON(sr.AssumeRolePolicy) {
			r.trust = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + a.id + `:root"},"Action":"sts:AssumeRole"}]}`)
		} else {
			r.trust = compactJSON(sr.AssumeRolePolicy)
		}
		for _, arn := range sr.AttachedPolicies {
			if m := a.policyByARN[arn]; m != nil {
				r.attached = append(r.attached, m)
				m.attachments++
			}
		}
		if m := a.policyByARN[sr.PermissionsBoundary]; m != nil {
			r.boundary = m
			m.boundaries++
		}
		for name, doc := range sr.InlinePolicies {
			r.inline = append(r.inline, iamInline{name: name, doc: compactJSON(doc)})
		}
		sort.Slice(r.inline, func(i, j int) bool { return r.inline[i].name < r.inline[j].name })
		a.roles = append(a.roles, r)
		a.roleByName[r.name] = r
	}
}

// iamActions lists the IAM actions served (op names "iam:ACTION").
func iamActions() []string {
	return []string{"GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy", "GetPolicy", "GetPolicyVersion", "GetAccountAuthorizationDetails"}
}

func iamHandler(action string) handler {
	switch action {
	case "GetRole":
		return iamGetRole
	case "ListAttachedRolePolicies":
		return iamListAttachedRolePolicies
	case "ListRolePolicies":
		return iamListRolePolicies
	case "GetRolePolicy":
		return iamGetRolePolicy
	case "GetPolicy":
		return iamGetPolicy
	case "GetPolicyVersion":
		return iamGetPolicyVersion
	case "GetAccountAuthorizationDetails":
		return iamGetAccountAuthorizationDetails
	}
	return nil
}

// iamDocument encodes a policy document the way IAM returns it: URL-encoded
// JSON (RFC 3986, spaces as %20).
func iamDocument(doc []byte) string {
	return strings.ReplaceAll(url.QueryEscape(string(doc)), "+", "%20")
}

const iamTime = "2006-01-02T15:04:05Z"

// role finds the RoleName parameter's role, answering NoSuchEntity itself.
func (c *call) role() *iamRole {
	name := formValue(c.form, "RoleName")
	if a := c.s.est.account(c.id.account); a != nil {
		if r := a.roleByName[name]; r != nil {
			return r
		}
	}
	c.error(http.StatusNotFound, "NoSuchEntity", "The role with name "+name+" cannot be found.")
	return nil
}

func (c *call) managedPolicy() *iamManaged {
	arn := formValue(c.form, "PolicyArn")
	if a := c.s.est.account(c.id.account); a != nil {
		if m := a.policyByARN[arn]; m != nil {
			return m
		}
	}
	c.error(http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" does not exist or is not attachable.")
	return nil
}

func iamGetRole(c *call) {
	r := c.role()
	if r == nil {
		return
	}
	type role struct {
		Path                     string
		RoleName                 string
		RoleID                   string `xml:"RoleId"`
		Arn                      string
		CreateDate               string
		AssumeRolePolicyDocument string
		MaxSessionDuration       int
		PermissionsBoundary      *permissionsBoundary `xml:",omitempty"`
	}
	c.queryRespond("GetRole", struct {
		XMLName xml.Name
		Role    role
	}{xml.Name{Local: "GetRoleResult"}, role{r.path, r.name, r.id, r.arn, seedEpoch.Format(iamTime), iamDocument(r.trust), 3600, r.boundaryXML()}})
}

// iamPage pages an IAM list with Marker/MaxItems (default 100, at most 1000).
func (c *call) iamPage(total int) (start, end int, marker string, truncated, ok bool) {
	if v := formValue(c.form, "MaxItems"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			c.error(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '"+v+"' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
			return 0, 0, "", false, false
		}
	}
	start, end, next, ok := c.page(total, formValue(c.form, "Marker"), formValue(c.form, "MaxItems"), 100, 1000, "maxItems")
	return start, end, next, next != "", ok
}

func iamListAttachedRolePolicies(c *call) {
	r := c.role()
	if r == nil {
		return
	}
	start, end, marker, truncated, ok := c.iamPage(len(r.attached))
	if !ok {
		return
	}
	type attached struct {
		PolicyName string
		PolicyArn  string
	}
	res := struct {
		XMLName          xml.Name
		AttachedPolicies []attached `xml:"AttachedPolicies>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}{XMLName: xml.Name{Local: "ListAttachedRolePoliciesResult"}, IsTruncated: truncated, Marker: marker}
	for _, m := range r.attached[start:end] {
		res.AttachedPolicies = append(res.AttachedPolicies, attached{m.name, m.arn})
	}
	c.queryRespond("ListAttachedRolePolicies", res)
}

func iamListRolePolicies(c *call) {
	r := c.role()
	if r == nil {
		return
	}
	start, end, marker, truncated, ok := c.iamPage(len(r.inline))
	if !ok {
		return
	}
	res := struct {
		XMLName     xml.Name
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{XMLName: xml.Name{Local: "ListRolePoliciesResult"}, IsTruncated: truncated, Marker: marker}
	for _, p := range r.inline[start:end] {
		res.PolicyNames = append(res.PolicyNames, p.name)
	}
	c.queryRespond("ListRolePolicies", res)
}

func iamGetRolePolicy(c *call) {
	r := c.role()
	if r == nil {
		return
	}
	name := formValue(c.form, "PolicyName")
	for _, p := range r.inline {
		if p.name == name {
			c.queryRespond("GetRolePolicy", struct {
				XMLName        xml.Name
				RoleName       string
				PolicyName     string
				PolicyDocument string
			}{xml.Name{Local: "GetRolePolicyResult"}, r.name, p.name, iamDocument(p.doc)})
			return
		}
	}
	c.error(http.StatusNotFound, "NoSuchEntity", "The role policy with name "+name+" cannot be found.")
}

func iamGetPolicy(c *call) {
	m := c.managedPolicy()
	if m == nil {
		return
	}
	type policy struct {
		PolicyName       string
		PolicyID         string `xml:"PolicyId"`
		Arn              string
		Path             string
		DefaultVersionID string `xml:"DefaultVersionId"`
		AttachmentCount  int
		IsAttachable     bool
		CreateDate       string
		UpdateDate       string
	}
	date := seedEpoch.Format(iamTime)
	c.queryRespond("GetPolicy", struct {
		XMLName xml.Name
		Policy  policy
	}{xml.Name{Local: "GetPolicyResult"}, policy{m.name, m.id, m.arn, m.path, "v1", m.attachments, true, date, date}})
}

func iamGetPolicyVersion(c *call) {
	m := c.managedPolicy()
	if m == nil {
		return
	}
	if v := formValue(c.form, "VersionId"); v != "v1" {
		c.error(http.StatusNotFound, "NoSuchEntity", "Policy "+m.arn+" version "+v+" does not exist.")
		return
	}
	type version struct {
		Document         string
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool
		CreateDate       string
	}
	c.queryRespond("GetPolicyVersion", struct {
		XMLName       xml.Name
		PolicyVersion version
	}{xml.Name{Local: "GetPolicyVersionResult"}, version{iamDocument(m.doc), "v1", true, seedEpoch.Format(iamTime)}})
}
