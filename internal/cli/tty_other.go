//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package cli

// ttyIoctl cannot tell a terminal from another character device here,
// so it says no: --apply then needs --yes, the safe side.
func ttyIoctl(fd uintptr) bool { return false }
