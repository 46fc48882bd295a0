package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
)

func organizationsHandler(op string) handler {
	switch op {
	case "DescribeOrganization":
		return describeOrganization
	case "ListAccounts":
		return listAccounts
	}
	return nil
}

// member reports whether the caller's account is in the organization,
// answering AWSOrganizationsNotInUseException when not.
func (c *call) orgMember() bool {
	if c.s.est.org == nil || c.s.est.account(c.id.account) == nil {
		c.error(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
		return false
	}
	return true
}

func describeOrganization(c *call) {
	if !c.orgMember() {
		return
	}
	o := c.s.est.org
	mgmt := c.s.est.account(o.ManagementAccount)
	c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", map[string]any{
		"Organization": map[string]any{
			"Id":                 o.ID,
			"Arn":                "arn:aws:organizations::" + o.ManagementAccount + ":organization/" + o.ID,
			"FeatureSet":         o.FeatureSet,
			"MasterAccountArn":   "arn:aws:organizations::" + o.ManagementAccount + ":account/" + o.ID + "/" + o.ManagementAccount,
			"MasterAccountId":    o.ManagementAccount,
			"MasterAccountEmail": mgmt.email,
			"AvailablePolicyTypes": []map[string]string{
				{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
			},
		},
	})
}

type orgAccount struct {
	ID              string  `json:"Id"`
	Arn             string  `json:"Arn"`
	Email           string  `json:"Email"`
	Name            string  `json:"Name"`
	Status          string  `json:"Status"`
	State           string  `json:"State"`
	JoinedMethod    string  `json:"JoinedMethod"`
	JoinedTimestamp float64 `json:"JoinedTimestamp"` // epoch seconds, as awsJson sends timestamps
}

// listAccounts lists every seeded account, in seed order, 20 at most per
// page. Only the management account may call it, as in AWS.
func listAccounts(c *call) {
	if !c.orgMember() {
		return
	}
	o := c.s.est.org
	if c.id.account != o.ManagementAccount {
		c.error(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return
	}
	var in struct {
		NextToken  string `json:"NextToken"`
		MaxResults *int   `json:"MaxResults"`
	}
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &in); err != nil {
			c.error(http.StatusBadRequest, "SerializationException", "Could not parse request body: "+err.Error())
			return
		}
	}
	size := ""
	if in.MaxResults != nil {
		size = strconv.Itoa(*in.MaxResults)
	}
	start, end, next, ok := c.page(len(c.s.est.order), in.NextToken, size, 20, 20, "maxResults")
	if !ok {
		return
	}
	out := struct {
		Accounts  []orgAccount `json:"Accounts"`
		NextToken string       `json:"NextToken,omitempty"`
	}{Accounts: []orgAccount{}, NextToken: next}
	for _, a := range c.s.est.order[start:end] {
		out.Accounts = append(out.Accounts, orgAccount{
			ID:              a.id,
			Arn:             "arn:aws:organizations::" + o.ManagementAccount + ":account/" + o.ID + "/" + a.id,
			Email:           a.email,
			Name:            a.name,
			Status:          a.status,
			State:           a.status,
			JoinedMethod:    a.joinedMethod,
			JoinedTimestamp: float64(a.joined.UnixMilli()) / 1000,
		})
	}
	c.writeJSONType(http.StatusOK, "application/x-amz-json-1.1", out)
}
