package fixdoc

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/lambdawarden/lambdawarden/internal/remediate"
)

// RestoreDocument is restore's JSON output.
type RestoreDocument struct {
	SchemaVersion string          `json:"schema_version"`
	Results       []RestoreResult `json:"results"`
	Summary       RestoreSummary  `json:"summary"`
}

// RestoreResult is one backup's outcome.
type RestoreResult struct {
	Backup string `json:"backup"`
	*remediate.RestoreResult
}

// RestoreSummary counts the items of every backup.
type RestoreSummary struct {
	Restored      int `json:"restored"`
	AlreadyExists int `json:"already_exists"`
	CouldNot      int `json:"could_not_restore"`
}

// NewRestore starts an empty restore document.
func NewRestore() *RestoreDocument {
	return &RestoreDocument{SchemaVersion: SchemaVersion, Results: []RestoreResult{}}
}

// Add records one backup's outcome.
func (d *RestoreDocument) Add(file string, rr *remediate.RestoreResult) {
	d.Results = append(d.Results, RestoreResult{Backup: file, RestoreResult: rr})
	for _, it := range rr.Items {
		switch it.Status {
		case remediate.Restored:
			d.Summary.Restored++
		case remediate.AlreadyThere:
			d.Summary.AlreadyExists++
		default:
			d.Summary.CouldNot++
		}
	}
}

// WriteRestoreResult renders one backup's outcome.
func WriteRestoreResult(w io.Writer, file string, rr *remediate.RestoreResult) {
	fmt.Fprintf(w, "%s (%s)\n", inert(rr.Resource.ARN), inert(filepath.Base(file)))
	for _, it := range rr.Items {
		line := fmt.Sprintf("  %-18s %s", it.Status, inert(it.What))
		if it.Detail != "" {
			line += ": " + inert(it.Detail)
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range rr.Notes {
		fmt.Fprintf(w, "  %-18s %s\n", "note", inert(n))
	}
	for _, c := range rr.Calls {
		fmt.Fprintf(w, "  %-18s %s\n", "ran", inert(c))
	}
}

// WriteRestoreSummary ends a restore.
func WriteRestoreSummary(w io.Writer, d *RestoreDocument) {
	fmt.Fprintf(w, "\nSummary: %d restored, %d already existed, %d could not be restored.\n", d.Summary.Restored, d.Summary.AlreadyExists, d.Summary.CouldNot)
}
