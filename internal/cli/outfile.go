package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// How a report reaches a path depends on what is there:
//
//   - nothing: a new file, created 0600 (reports hold whole policies, like
//     the backups), written to a temporary file in the same folder and
//     renamed into place, so no reader ever sees half a report;
//   - a regular file: the same, keeping its mode and owner; when the owner
//     cannot be kept (someone else's file we may write to), the file has
//     other hard links, or its folder is not writable, it is rewritten in
//     place instead, since replacing it would change what others see;
//   - a symbolic link: followed, and its target written as above;
//   - anything else (a terminal, /dev/stdout, a FIFO, /dev/fd/N from
//     process substitution, a device): opened and written in place, never
//     replaced.

// fifoWait bounds how long a FIFO nobody reads yet is waited for.
var fifoWait = 10 * time.Second

// isFDPath reports whether path names an already open descriptor
// (/dev/fd/N, /proc/self/fd/N, /dev/stdout, /dev/stderr). These are
// always written in place: renaming over what a descriptor resolves to
// would redirect the output away from the process that holds it.
func isFDPath(path string) bool {
	clean := filepath.Clean(path)
	switch clean {
	case "/dev/stdout", "/dev/stderr", "/dev/stdin":
		return true
	}
	return strings.HasPrefix(clean, "/dev/fd/") || strings.HasPrefix(clean, "/proc/self/fd/")
}

// followLinks resolves a chain of symbolic links to the path it ends at,
// which may not exist yet (a dangling link's target is created).
func followLinks(path string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", errors.New("too many levels of symbolic links")
}

// writeOutputFile writes render's output to path, as the path's kind
// asks (see above). Failures of the file itself come back as *fileError;
// render's own errors as they are.
func writeOutputFile(path string, render func(io.Writer) error) error {
	if isFDPath(path) {
		return writeInPlace(path, render)
	}
	real, err := followLinks(path)
	if err != nil {
		return &fileError{err}
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeAtomic(real, nil, render)
	case err != nil:
		return &fileError{unwrapPathError(err)}
	case fi.IsDir():
		return &fileError{errors.New("it is a folder; give a file name in it")}
	case fi.Mode().IsRegular():
		return writeAtomic(real, fi, render)
	default:
		return writeInPlace(real, render)
	}
}

// writeAtomic streams render's output to a temporary file in path's
// folder through a buffer, syncs it and renames it over path. old is
// what path is now (nil: nothing), whose mode and owner are kept.
func writeAtomic(path string, old os.FileInfo, render func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".lambdawarden-*")
	if err != nil {
		if old != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			// The folder is closed to us but the file may not be.
			return writeInPlace(path, render)
		}
		return &fileError{unwrapPathError(err)}
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	defer tmp.Close()
	if err := stream(tmp, render); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return &fileError{err}
	}
	if old != nil {
		if err := tmp.Chmod(old.Mode().Perm()); err != nil {
			return &fileError{err}
		}
		if !sameOwnerAfter(tmp, old) || hardLinks(old) > 1 {
			return copyInPlace(tmp, path)
		}
	}
	if err := tmp.Close(); err != nil {
		return &fileError{err}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &fileError{unwrapPathError(err)}
	}
	return nil
}

// copyInPlace rewrites path with what tmp holds, keeping path's inode
// (and so its owner, mode and other names).
func copyInPlace(tmp *os.File, path string) error {
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return &fileError{err}
	}
	return writeInPlace(path, func(w io.Writer) error {
		_, err := io.Copy(w, tmp)
		return err
	})
}

// writeInPlace opens what is at path for writing and writes to it; a
// regular file is truncated first. A FIFO without a reader is waited for,
// at most fifoWait.
func writeInPlace(path string, render func(io.Writer) error) error {
	f, err := openForWrite(path)
	if err != nil {
		return &fileError{err}
	}
	defer f.Close()
	if err := stream(f, render); err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := f.Sync(); err != nil {
			return &fileError{err}
		}
	}
	if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return &fileError{err}
	}
	return nil
}

func openForWrite(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	flags := os.O_WRONLY
	switch {
	case fi.Mode().IsRegular():
		flags |= os.O_TRUNC
	case fi.Mode()&fs.ModeNamedPipe != 0:
		// Non-blocking, so a FIFO nobody reads answers ENXIO instead of
		// hanging; Go's poller then makes the writes wait as they should.
		flags |= syscall.O_NONBLOCK
	}
	deadline := time.Now().Add(fifoWait)
	for {
		f, err := os.OpenFile(path, flags, 0)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			if errors.Is(err, syscall.ENXIO) {
				return nil, fmt.Errorf("nothing read the FIFO for %s", fifoWait)
			}
			return nil, unwrapPathError(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stream runs render into f through a buffer; a failure of f is a
// *fileError, told apart from a failed render.
func stream(f *os.File, render func(io.Writer) error) error {
	fw := &fileWriter{f: f}
	w := bufio.NewWriterSize(fw, outputBuffer)
	err := render(w)
	if err == nil {
		err = w.Flush()
	}
	if fw.err != nil {
		return &fileError{fw.err}
	}
	return err
}

// fileError is a failure of the output file itself (create, write, sync,
// rename), as opposed to one of the writer.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// fileWriter remembers the first error of the file under the buffer, so
// a failed render can be told apart from a full disk.
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// checkOutputFile tells, before any work, whether path can be written
// the way writeOutputFile will write it; the problem is phrased for
// "-o FORMAT=PATH: ...".
func checkOutputFile(path string) error {
	if isFDPath(path) {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is not an open descriptor of this process", path)
		}
		return nil
	}
	real, err := followLinks(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkFolder(filepath.Dir(real), real != path)
	case err != nil:
		return unwrapPathError(err)
	case fi.IsDir():
		return fmt.Errorf("%s is a folder; give a file name in it, e.g. %s", real, filepath.Join(path, "report"))
	case fi.Mode().IsRegular():
		if checkFolder(filepath.Dir(real), false) == nil {
			return nil
		}
		// Rewritten in place: the file itself must be writable. Opening
		// it without O_TRUNC changes nothing.
		f, err := os.OpenFile(real, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("neither %s nor its folder is writable", real)
		}
		return f.Close()
	default:
		if !writable(real) {
			return fmt.Errorf("%s is not writable", real)
		}
		return nil
	}
}

// checkFolder tells whether a new file can be made in dir, by making
// (and removing) one: permissions, read-only mounts and full quotas all
// show. viaLink says the path came from a symbolic link.
func checkFolder(dir string, viaLink bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		what := "the folder " + dir + " does not exist"
		if viaLink {
			what = "the symbolic link points into " + dir + ", which does not exist"
		}
		return fmt.Errorf("%s; create it (mkdir -p %s) or give another path", what, dir)
	}
	if err != nil {
		return unwrapPathError(err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".lambdawarden-check-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s (%s)", dir, unwrapPathError(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
