package tree

import (
	"github.com/cowcp/cowcp/internal/eintr"
	"golang.org/x/sys/unix"
)

// The system calls the copy engine makes most, retried when a signal
// interrupts them (package eintr says when that happens).

func openat(dir int, name string, flags int, perm uint32) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return unix.Openat(dir, name, flags, perm) })
}

func fstat(fd int, st *unix.Stat_t) error {
	return eintr.Ignoring(func() error { return unix.Fstat(fd, st) })
}

// fstatat stats name in dir, following a final symlink only when follow.
func fstatat(dir int, name string, st *unix.Stat_t, follow bool) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	return eintr.Ignoring(func() error { return unix.Fstatat(dir, name, st, flags) })
}

// statat stats name in dir, following a final symlink.
func statat(dir int, name string, st *unix.Stat_t) error { return fstatat(dir, name, st, true) }

// lstatat stats name in dir itself, even if it is a symlink.
func lstatat(dir int, name string, st *unix.Stat_t) error { return fstatat(dir, name, st, false) }

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
