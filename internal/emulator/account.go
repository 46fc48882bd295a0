package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
)

// optInRegions are the regions AWS ships disabled by default; when enabled
// ListRegions calls them ENABLED rather than ENABLED_BY_DEFAULT.
var optInRegions = []string{
	"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
	"me-central-1", "me-south-1", "mx-central-1",
}

type regionOpt struct {
	RegionName      string `json:"RegionName"`
	RegionOptStatus string `json:"RegionOptStatus"`
}

// listRegions is the Account service's ListRegions (POST /listRegions):
// the account's enabled regions (enabled_regions, default the seeded
// regions or the request's region) and its disabled_regions as DISABLED.
// AccountId may name another account only when the caller is the
// organization's management account.
func listRegions(c *call) {
	var in struct {
		AccountID               string   `json:"AccountId"`
		MaxResults              *int     `json:"MaxResults"`
		NextToken               string   `json:"NextToken"`
		RegionOptStatusContains []string `json:"RegionOptStatusContains"`
	}
	body, _ := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			c.error(http.StatusBadRequest, "ValidationException", "Could not parse request body: "+err.Error())
			return
		}
	}
	target := c.id.account
	if in.AccountID != "" && in.AccountID != c.id.account {
		o := c.s.est.org
		if o == nil || o.ManagementAccount != c.id.account || c.s.est.account(in.AccountID) == nil {
			c.error(http.StatusForbidden, "AccessDeniedException", "User: "+c.id.callerARN()+" is not authorized to perform: account:ListRegions on resource: "+in.AccountID)
			return
		}
		target = in.AccountID
	}
	var all []regionOpt
	a := c.s.est.account(target)
	enabled := []string{c.id.region}
	var disabled []string
	if a != nil {
		disabled = a.disabledList
		if len(a.enabledRegions) > 0 {
			enabled = a.enabledRegions
		}
	}
	for _, r := range enabled {
		status := "ENABLED_BY_DEFAULT"
		if slices.Contains(optInRegions, r) {
			status = "ENABLED"
		}
		all = append(all, regionOpt{r, status})
	}
	for _, r := range disabled {
		all = append(all, regionOpt{r, "DISABLED"})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].RegionName < all[j].RegionName })
	if len(in.RegionOptStatusContains) > 0 {
		kept := all[:0:0]
		for _, r := range all {
			if slices.Contains(in.RegionOptStatusContains, r.RegionOptStatus) {
				kept = append(kept, r)
			}
		}
		all = kept
	}
	size := ""
	if in.MaxResults != nil {
		size = strconv.Itoa(*in.MaxResults)
	}
	start, end, next, ok := c.page(len(all), in.NextToken, size, 50, 50, "maxResults")
	if !ok {
		return
	}
	c.writeJSON(http.StatusOK, struct {
		Regions   []regionOpt `json:"Regions"`
		NextToken string      `json:"NextToken,omitempty"`
	}{append([]regionOpt{}, all[start:end]...), next})
}
