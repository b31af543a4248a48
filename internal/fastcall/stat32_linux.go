//go:build linux && !(amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package fastcall

import "golang.org/x/sys/unix"

// On 32-bit systems stat and fchown have their own calls and structures
// (fstatat64, fchown32): golang.org/x/sys/unix makes them, through the
// scheduler.

// Fstatat is fstatat(2).
func Fstatat(dir int, name string, st *unix.Stat_t, flags int) error {
	return unix.Fstatat(dir, name, st, flags)
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }

// Fchown is fchown(2).
func Fchown(fd, uid, gid int) error { return unix.Fchown(fd, uid, gid) }
