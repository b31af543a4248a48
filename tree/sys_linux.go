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
