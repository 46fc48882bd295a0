//go:build !unix

package report

import "os/exec"

// ownProcessGroup: elsewhere, cancellation kills the browser process only.
func ownProcessGroup(cmd *exec.Cmd) {}
