package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

type layerVersionsListItem struct {
	LayerVersionArn    string   `json:"LayerVersionArn"`
	Version            int64    `json:"Version"`
	Description        string   `json:"Description"`
	CreatedDate        string   `json:"CreatedDate"`
	CompatibleRuntimes []string `json:"CompatibleRuntimes,omitempty"`
}

func (l *layer) item(lv *layerVersion) layerVersionsListItem {
	return layerVersionsListItem{
		LayerVersionArn:    lv.res.arn,
		Version:            lv.num,
		Description:        lv.description,
		CreatedDate:        seedEpoch.Format(lambdaTime),
		CompatibleRuntimes: lv.runtimes,
	}
}

// matching lists a layer's versions newest first, keeping only those
// compatible with runtime when one is given.
func (l *layer) matching(runtime string) []*layerVersion {
	var out []*layerVersion
	for i := len(l.versions) - 1; i >= 0; i-- {
		lv := l.versions[i]
		if runtime == "" || slices.Contains(lv.runtimes, runtime) {
			out = append(out, lv)
		}
	}
	return out
}

func listLayers(c *call) {
	q := c.r.URL.Query()
	rg := c.s.est.region(c.id.account, c.id.region)
	type layersListItem struct {
		LayerName             string                `json:"LayerName"`
		LayerArn              string                `json:"LayerArn"`
		LatestMatchingVersion layerVersionsListItem `json:"LatestMatchingVersion"`
	}
	var all []layersListItem
	if rg != nil {
		for _, l := range rg.layers {
			if m := l.matching(q.Get("CompatibleRuntime")); len(m) > 0 {
				all = append(all, layersListItem{LayerName: l.name, LayerArn: l.arn, LatestMatchingVersion: l.item(m[0])})
			}
		}
	}
	start, end, next, ok := c.page(len(all), q.Get("Marker"), q.Get("MaxItems"), 50, 50, "maxItems")
	if !ok {
		return
	}
	out := struct {
		Layers     []layersListItem `json:"Layers"`
		NextMarker string           `json:"NextMarker,omitempty"`
	}{Layers: append([]layersListItem{}, all[start:end]...), NextMarker: next}
	c.writeJSON(http.StatusOK, out)
}

// layerTarget resolves the {LayerName} label (a name or a layer ARN).
func (c *call) layerTarget() (rg *region, name string, ok bool) {
	region, account, name, err := parseLayerName(c.labels["LayerName"])
	if err != nil {
		c.error(http.StatusBadRequest, "ValidationException", err.Error())
		return nil, "", false
	}
	if !c.sameAccountAndRegion(account, region, "layer:"+name) {
		return nil, "", false
	}
	return c.s.est.region(c.id.account, c.id.region), name, true
}

// layerVersionTarget also resolves {VersionNumber}; lv is nil (and the 404
// answered) when the version does not exist. Callers must not hold rg.mu:
// the layer set is immutable, only policies change.
func (c *call) layerVersionTarget() (rg *region, l *layer, lv *layerVersion, ok bool) {
	rg, name, ok := c.layerTarget()
	if !ok {
		return nil, nil, nil, false
	}
	num, err := strconv.ParseInt(c.labels["VersionNumber"], 10, 64)
	if err != nil || num < 1 {
		c.error(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'versionNumber' failed to satisfy constraint: Member must be a positive number", c.labels["VersionNumber"]))
		return nil, nil, nil, false
	}
	lv = rg.layerVersion(name, num)
	if lv == nil {
		c.layerVersionNotFound(name, num)
		return nil, nil, nil, false
	}
	return rg, rg.layerByName[name], lv, true
}

func (c *call) layerVersionNotFound(name string, num int64) {
	c.error(http.StatusNotFound, "ResourceNotFoundException",
		fmt.Sprintf("Layer version arn:aws:lambda:%s:%s:layer:%s:%d does not exist.", c.id.region, c.id.account, name, num))
}

func listLayerVersions(c *call) {
	rg, name, ok := c.layerTarget()
	if !ok {
		return
	}
	q := c.r.URL.Query()
	var items []layerVersionsListItem
	if rg != nil {
		if l := rg.layerByName[name]; l != nil {
			for _, lv := range l.matching(q.Get("CompatibleRuntime")) {
				items = append(items, l.item(lv))
			}
		}
	}
	start, end, next, ok := c.page(len(items), q.Get("Marker"), q.Get("MaxItems"), 50, 50, "maxItems")
	if !ok {
		return
	}
	out := struct {
		LayerVersions []layerVersionsListItem `json:"LayerVersions"`
		NextMarker    string                  `json:"NextMarker,omitempty"`
	}{LayerVersions: append([]layerVersionsListItem{}, items[start:end]...), NextMarker: next}
	c.writeJSON(http.StatusOK, out)
}

func getLayerVersion(c *call) {
	_, layer, lv, ok := c.layerVersionTarget()
	if !ok {
		return
	}
	item := layer.item(lv)
	c.writeJSON(http.StatusOK, map[string]any{
		"Content": map[string]any{
			"Location":   "https://awslambda-" + c.id.region + "-layers.s3." + c.id.region + ".amazonaws.com/snapshots/" + c.id.account + "/" + layer.name,
			"CodeSha256": "",
			"CodeSize":   2048,
		},
		"LayerArn":           layer.arn,
		"LayerVersionArn":    item.LayerVersionArn,
		"Description":        item.Description,
		"CreatedDate":        item.CreatedDate,
		"Version":            item.Version,
		"CompatibleRuntimes": item.CompatibleRuntimes,
	})
}

func getLayerVersionPolicy(c *call) {
	rg, _, lv, ok := c.layerVersionTarget()
	if !ok {
		return
	}
	rg.mu.RLock()
	p := lv.res.read()
	rg.mu.RUnlock()
	c.servePolicy(p)
}

func addLayerVersionPermission(c *call) {
	rg, _, lv, ok := c.layerVersionTarget()
	if !ok {
		return
	}
	var in struct {
		StatementID    string `json:"StatementId"`
		Action         string `json:"Action"`
		Principal      string `json:"Principal"`
		OrganizationID string `json:"OrganizationId"`
	}
	if !c.readBody(&in) {
		return
	}
	if !reStatementID.MatchString(in.StatementID) {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)", in.StatementID))
		return
	}
	if in.Action != "lambda:GetLayerVersion" {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion", in.Action))
		return
	}
	var principal any
	switch {
	case in.Principal == "*":
		principal = "*"
	case reAccountID.MatchString(in.Principal):
		principal = object{{"AWS", "arn:aws:iam::" + in.Principal + ":root"}}
	case reRootARN.MatchString(in.Principal):
		principal = object{{"AWS", in.Principal}}
	default:
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root", in.Principal))
		return
	}
	if in.OrganizationID != "" && !reOrgID.MatchString(in.OrganizationID) {
		c.error(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}", in.OrganizationID))
		return
	}
	stmt := object{
		{"Sid", in.StatementID},
		{"Effect", "Allow"},
		{"Principal", principal},
		{"Action", "lambda:GetLayerVersion"},
		{"Resource", lv.res.arn},
	}
	if in.OrganizationID != "" {
		stmt = append(stmt, member{"Condition", object{{"StringEquals", object{{"aws:PrincipalOrgID", in.OrganizationID}}}}})
	}
	b, _ := stmt.MarshalJSON()
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if !c.checkRevision(c.r.URL.Query().Get("RevisionId"), lv.res.revision) {
		return
	}
	if !c.appendStatement(lv.res, in.StatementID, b) {
		return
	}
	c.writeJSON(http.StatusCreated, map[string]string{"Statement": string(b), "RevisionId": lv.res.revision})
}

func removeLayerVersionPermission(c *call) {
	rg, _, lv, ok := c.layerVersionTarget()
	if !ok {
		return
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if c.removeStatement(lv.res, c.labels["StatementId"], c.r.URL.Query().Get("RevisionId")) {
		c.noContent()
	}
}
