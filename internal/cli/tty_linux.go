//go:build linux

package cli

import (
	"syscall"
	"unsafe"
)

// ttyIoctl asks the kernel for the terminal settings (TCGETS); only a
// terminal has them.
func ttyIoctl(fd uintptr) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(syscall.TCGETS), uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
