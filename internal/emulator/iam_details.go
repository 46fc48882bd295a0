package emulator

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// iam:GetAccountAuthorizationDetails, the one paged read of every role
// with its trust policy, inline and attached policies and permission
// boundary, plus the managed policies' documents.

type permissionsBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

func (r *iamRole) boundaryXML() *permissionsBoundary {
	if r.boundary == nil {
		return nil
	}
	return &permissionsBoundary{"PermissionsBoundaryPolicy", r.boundary.arn}
}

// authFilter reads Filter.member.N: which entity types to include (all
// when none is given).
func (c *call) authFilter() (roles, local, awsManaged, ok bool) {
	var types []string
	for i := 1; ; i++ {
		v := formValue(c.form, "Filter.member."+strconv.Itoa(i))
		if v == "" {
			break
		}
		types = append(types, v)
	}
	if len(types) == 0 {
		return true, true, true, true
	}
	for _, t := range types {
		switch t {
		case "Role":
			roles = true
		case "LocalManagedPolicy":
			local = true
		case "AWSManagedPolicy":
			awsManaged = true
		case "User", "Group":
		default:
			c.error(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '["+strings.Join(types, ", ")+"]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]]")
			return false, false, false, false
		}
	}
	return roles, local, awsManaged, true
}

func iamGetAccountAuthorizationDetails(c *call) {
	wantRoles, wantLocal, wantAWS, ok := c.authFilter()
	if !ok {
		return
	}
	a := c.s.est.account(c.id.account)
	var roles []*iamRole
	var policies []*iamManaged
	if a != nil {
		if wantRoles {
			roles = a.roles
		}
		for _, m := range a.policies {
			if aws := strings.HasPrefix(m.arn, "arn:aws:iam::aws:"); aws && wantAWS || !aws && wantLocal {
				policies = append(policies, m)
			}
		}
	}
	start, end, marker, truncated, ok := c.iamPage(len(roles) + len(policies))
	if !ok {
		return
	}
	type named struct {
		PolicyName     string
		PolicyDocument string
	}
	type attached struct {
		PolicyName string
		PolicyArn  string
	}
	type roleDetail struct {
		Path                     string
		RoleName                 string
		RoleID                   string `xml:"RoleId"`
		Arn                      string
		CreateDate               string
		AssumeRolePolicyDocument string
		InstanceProfileList      struct{}
		RolePolicyList           []named    `xml:"RolePolicyList>member"`
		AttachedManagedPolicies  []attached `xml:"AttachedManagedPolicies>member"`
		PermissionsBoundary      *permissionsBoundary
		Tags                     struct{}
	}
	type version struct {
		Document         string
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool
		CreateDate       string
	}
	type policyDetail struct {
		PolicyName                    string
		PolicyID                      string `xml:"PolicyId"`
		Arn                           string
		Path                          string
		DefaultVersionID              string `xml:"DefaultVersionId"`
		AttachmentCount               int
		PermissionsBoundaryUsageCount int
		IsAttachable                  bool
		CreateDate                    string
		UpdateDate                    string
		PolicyVersionList             []version `xml:"PolicyVersionList>member"`
	}
	res := struct {
		XMLName         xml.Name
		UserDetailList  struct{}
		GroupDetailList struct{}
		RoleDetailList  []roleDetail   `xml:"RoleDetailList>member"`
		Policies        []policyDetail `xml:"Policies>member"`
		IsTruncated     bool
		Marker          string `xml:",omitempty"`
	}{XMLName: xml.Name{Local: "GetAccountAuthorizationDetailsResult"}, IsTruncated: truncated, Marker: marker}
	date := seedEpoch.Format(iamTime)
	for i := start; i < end; i++ {
		if i < len(roles) {
			r := roles[i]
			d := roleDetail{Path: r.path, RoleName: r.name, RoleID: r.id, Arn: r.arn, CreateDate: date, AssumeRolePolicyDocument: iamDocument(r.trust), PermissionsBoundary: r.boundaryXML()}
			for _, p := range r.inline {
				d.RolePolicyList = append(d.RolePolicyList, named{p.name, iamDocument(p.doc)})
			}
			for _, m := range r.attached {
				d.AttachedManagedPolicies = append(d.AttachedManagedPolicies, attached{m.name, m.arn})
			}
			res.RoleDetailList = append(res.RoleDetailList, d)
			continue
		}
		m := policies[i-len(roles)]
		res.Policies = append(res.Policies, policyDetail{
			PolicyName: m.name, PolicyID: m.id, Arn: m.arn, Path: m.path, DefaultVersionID: "v1",
			AttachmentCount: m.attachments, PermissionsBoundaryUsageCount: m.boundaries, IsAttachable: true, CreateDate: date, UpdateDate: date,
			PolicyVersionList: []version{{iamDocument(m.doc), "v1", true, date}},
		})
	}
	c.queryRespond("GetAccountAuthorizationDetails", res)
}
