package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// CatalogVersion identifies the catalog's judgements: a digest of every
// rule's id, severity, kinds and title and of the framework mappings. A
// history records it with each scan, so a finding that appears or goes
// when the rules changed (not the estate) can be told apart.
func CatalogVersion() string {
	h := sha256.New()
	for _, r := range All() {
		fmt.Fprintf(h, "%s\x00%s\x00%v\x00%s\n", r.ID, r.Severity, r.Kinds, r.Title)
	}
	h.Write(mappingsJSON)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
