package tree

import (
	"github.com/cowcp/cowcp/internal/eintr"
	"github.com/cowcp/cowcp/internal/fastcall"
	"golang.org/x/sys/unix"
)

// The system calls of the copy engine, retried when a signal interrupts
// them (package eintr says when that happens), as Go's os package retries
// its own. close(2) is not among them: it must never be retried.
//
// The calls every copied file makes, which never wait for another
// process, are raw (package fastcall says why); the others, and opens
// that may wait (a FIFO, a device), go through the scheduler.

// openat opens through the scheduler: the open may wait for a writer or
// reader (a FIFO), or a device.
func openat(dir int, name string, flags int, perm uint32) (int, error) {
	return openRetrying(func() (int, error) { return unix.Openat(dir, name, flags, perm) })
}

// openQuick is openat for what opens at once: a directory, an O_PATH
// handle, a new file (O_CREAT|O_EXCL, O_TMPFILE), a regular file.
func openQuick(dir int, name string, flags int, perm uint32) (int, error) {
	return openRetrying(func() (int, error) { return fastcall.Openat(dir, name, flags, perm) })
}

// openRetrying opens, again after an interrupt, and once more after
// EMFILE if the limit on open files could be raised (see moreFiles).
func openRetrying(open func() (int, error)) (int, error) {
	fd, err := eintr.Ignoring2(open)
	if err == unix.EMFILE && moreFiles() {
		fd, err = eintr.Ignoring2(open)
	}
	return fd, err
}

// closeQuick closes a descriptor whose close writes nothing back: a
// directory, a file opened for reading, a clone.
func closeQuick(fd int) { fastcall.Close(fd) }

func fstat(fd int, st *unix.Stat_t) error {
	return eintr.Ignoring(func() error { return fastcall.Fstat(fd, st) })
}

// fstatat stats name in dir, following a final symlink only when follow.
func fstatat(dir int, name string, st *unix.Stat_t, follow bool) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	return eintr.Ignoring(func() error { return fastcall.Fstatat(dir, name, st, flags) })
}

// statat stats name in dir, following a final symlink.
func statat(dir int, name string, st *unix.Stat_t) error { return fstatat(dir, name, st, true) }

// lstatat stats name in dir itself, even if it is a symlink.
func lstatat(dir int, name string, st *unix.Stat_t) error { return fstatat(dir, name, st, false) }

func statx(dir int, name string, flags, mask int, stx *unix.Statx_t) error {
	return eintr.Ignoring(func() error { return fastcall.Statx(dir, name, flags, mask, stx) })
}

func faccessat(dir int, name string, mode uint32, flags int) error {
	return eintr.Ignoring(func() error { return unix.Faccessat(dir, name, mode, flags) })
}

func fstatfs(fd int, fs *unix.Statfs_t) error {
	return eintr.Ignoring(func() error { return unix.Fstatfs(fd, fs) })
}

func statfs(path string, fs *unix.Statfs_t) error {
	return eintr.Ignoring(func() error { return unix.Statfs(path, fs) })
}

func mkdirat(dir int, name string, perm uint32) error {
	return eintr.Ignoring(func() error { return unix.Mkdirat(dir, name, perm) })
}

func mknodat(dir int, name string, mode uint32, dev int) error {
	return eintr.Ignoring(func() error { return unix.Mknodat(dir, name, mode, dev) })
}

func symlinkat(target string, dir int, name string) error {
	return eintr.Ignoring(func() error { return unix.Symlinkat(target, dir, name) })
}

func linkat(oldDir int, oldName string, newDir int, newName string, flags int) error {
	return eintr.Ignoring(func() error { return fastcall.Linkat(oldDir, oldName, newDir, newName, flags) })
}

func unlinkat(dir int, name string, flags int) error {
	return eintr.Ignoring(func() error { return unix.Unlinkat(dir, name, flags) })
}

func renameat(oldDir int, oldName string, newDir int, newName string) error {
	return eintr.Ignoring(func() error { return fastcall.Renameat(oldDir, oldName, newDir, newName) })
}

func renameat2(oldDir int, oldName string, newDir int, newName string, flags uint) error {
	return eintr.Ignoring(func() error { return unix.Renameat2(oldDir, oldName, newDir, newName, flags) })
}

func fchmodat(dir int, name string, mode uint32, flags int) error {
	return eintr.Ignoring(func() error { return unix.Fchmodat(dir, name, mode, flags) })
}

func readDirent(fd int, buf []byte) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return unix.ReadDirent(fd, buf) })
}

func syncfs(fd int) error {
	return eintr.Ignoring(func() error { return unix.Syncfs(fd) })
}

// inodeFlags is FS_IOC_GETFLAGS (chattr's flags) of the open file fd.
func inodeFlags(fd int) (uint32, error) {
	return eintr.Ignoring2(func() (uint32, error) { return unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS) })
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := eintr.Ignoring2(func() (int, error) { return unix.Readlinkat(dir, name, buf) })
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
