//go:build linux && (amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package fastcall

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls whose number or structure differs on 32-bit systems (fstat64,
// fchown32): raw on 64-bit ones, golang.org/x/sys/unix's elsewhere.

// Fstatat is newfstatat(2).
func Fstatat(dir int, name string, st *unix.Stat_t, flags int) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, _, e := unix.RawSyscall6(unix.SYS_NEWFSTATAT, dirArg(dir), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	return errnoErr(e)
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error {
	_, _, e := unix.RawSyscall(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0)
	return errnoErr(e)
}

// Fchown is fchown(2).
func Fchown(fd, uid, gid int) error {
	_, _, e := unix.RawSyscall(unix.SYS_FCHOWN, uintptr(fd), uintptr(uid), uintptr(gid))
	return errnoErr(e)
}
