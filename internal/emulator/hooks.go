package emulator

import "fmt"

// SetPolicy replaces the resource policy of a function (unqualified ARN),
// alias, published version or layer version, named by its full ARN in the
// given account and region, and gives it a new RevisionId. A nil policy
// deletes it. It is a test hook: it bypasses quotas, faults and the request
// log, and fails only when the ARN is malformed, names another account or
// region, names a resource that is not seeded, or the policy is not a JSON
// object.
func (s *Server) SetPolicy(account, region, resourceARN string, policyJSON []byte) error {
	s.init()
	res, rg, err := s.hookTarget(account, region, resourceARN)
	if err != nil {
		return err
	}
	var doc []byte
	if policyJSON != nil {
		if !isJSONObject(policyJSON) {
			return fmt.Errorf("emulator: SetPolicy %s: the policy is not a JSON object", resourceARN)
		}
		doc = compactJSON(policyJSON)
	}
	rg.mu.Lock()
	res.doc = doc
	res.revision = newUUID()
	rg.mu.Unlock()
	return nil
}

// Policy returns the current policy document of a function, alias,
// version or layer version (as GetPolicy would serve it, ignoring any
// seeded policy_error) and its RevisionId. ok is false when the resource
// does not exist or has no policy.
func (s *Server) Policy(account, region, resourceARN string) (doc string, revisionID string, ok bool) {
	s.init()
	res, rg, err := s.hookTarget(account, region, resourceARN)
	if err != nil {
		return "", "", false
	}
	rg.mu.RLock()
	defer rg.mu.RUnlock()
	if res.doc == nil {
		return "", res.revision, false
	}
	return string(res.doc), res.revision, true
}

func (s *Server) hookTarget(account, region, resourceARN string) (*policyRes, *region, error) {
	ref, err := parseResourceARN(resourceARN)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: %q is not a function, alias, version or layer version ARN", resourceARN)
	}
	if ref.account != account || ref.region != region {
		return nil, nil, fmt.Errorf("emulator: %s is not in account %s, region %s", resourceARN, account, region)
	}
	rg := s.est.region(account, region)
	if rg == nil {
		return nil, nil, fmt.Errorf("emulator: nothing is seeded in account %s, region %s", account, region)
	}
	// CreateAlias and PublishVersion add resources: look up under the lock.
	rg.mu.RLock()
	defer rg.mu.RUnlock()
	if ref.layer {
		if lv := rg.layerVersion(ref.name, ref.version); lv != nil {
			return lv.res, rg, nil
		}
		return nil, nil, fmt.Errorf("emulator: layer version %s does not exist", resourceARN)
	}
	if _, res, ok := rg.resolve(ref.name, ref.qualifier); ok {
		return res, rg, nil
	}
	return nil, nil, fmt.Errorf("emulator: function, alias or version %s does not exist", resourceARN)
}
