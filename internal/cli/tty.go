package cli

import (
	"io"
	"os"
)

// stdinIsTerminal reports whether r is a terminal a person can answer
// on. A character device is not enough: /dev/null is one, and a cron job
// or CI step with stdin from /dev/null must not pass for a person. The
// terminal's own ioctl (ttyIoctl, per platform) decides.
func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	return ttyIoctl(f.Fd())
}
