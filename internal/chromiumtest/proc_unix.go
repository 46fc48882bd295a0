//go:build unix

package chromiumtest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes a timeout kill Chromium and all its helpers.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
