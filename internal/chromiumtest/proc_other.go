//go:build !unix

package chromiumtest

import "os/exec"

func ownProcessGroup(*exec.Cmd) {}
