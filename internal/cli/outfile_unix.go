//go:build unix

package cli

import (
	"os"
	"syscall"
)

// sameOwnerAfter gives tmp the owner and group of old when they differ,
// and reports whether they now match (a non-root user cannot give a file
// away; then the caller writes old in place).
func sameOwnerAfter(tmp *os.File, old os.FileInfo) bool {
	want, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	fi, err := tmp.Stat()
	if err != nil {
		return false
	}
	have, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	if have.Uid == want.Uid && have.Gid == want.Gid {
		return true
	}
	return tmp.Chown(int(want.Uid), int(want.Gid)) == nil
}

// hardLinks is how many names the file has.
func hardLinks(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// writable asks the kernel whether this process may open path for
// writing, without opening it (opening a FIFO would signal its reader).
func writable(path string) bool {
	const wOK = 2
	return syscall.Access(path, wOK) == nil
}
