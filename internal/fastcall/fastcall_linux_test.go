//go:build linux

package fastcall

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Each raw call does what its golang.org/x/sys/unix counterpart does, on
// a real file: the same stat, the same errno, a link, times, an xattr list.
func TestCallsMatchUnix(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	d, err := Openat(unix.AT_FDCWD, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("Openat(dir): %v", err)
	}
	defer Close(d)

	var raw, want unix.Stat_t
	if err := Fstatat(d, "f", &raw, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatalf("Fstatat: %v", err)
	}
	if err := unix.Fstatat(d, "f", &want, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	if raw != want {
		t.Errorf("Fstatat = %+v, unix.Fstatat = %+v", raw, want)
	}
	if err := Fstatat(d, "missing", &raw, 0); err != unix.ENOENT {
		t.Errorf("Fstatat(missing) = %v, want ENOENT", err)
	}
	if _, err := Openat(d, "missing", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("Openat(missing) = %v, want ENOENT", err)
	}

	fd, err := Openat(d, "f", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("Openat(f): %v", err)
	}
	var fst unix.Stat_t
	if err := Fstat(fd, &fst); err != nil || fst.Ino != want.Ino || fst.Size != 4 {
		t.Errorf("Fstat = ino %d size %d, %v; want ino %d size 4", fst.Ino, fst.Size, err, want.Ino)
	}
	ts := [2]unix.Timespec{{Sec: 1000, Nsec: 5}, {Sec: 2000, Nsec: 7}}
	if err := Futimens(fd, &ts); err != nil {
		t.Fatalf("Futimens: %v", err)
	}
	if err := unix.Fstat(fd, &fst); err != nil || fst.Atim != ts[0] || fst.Mtim != ts[1] {
		t.Errorf("after Futimens atime %v mtime %v, want %v %v", fst.Atim, fst.Mtim, ts[0], ts[1])
	}
	n, err := Flistxattr(fd, make([]byte, 256))
	m, werr := unix.Flistxattr(fd, make([]byte, 256))
	if n != m || (err == nil) != (werr == nil) {
		t.Errorf("Flistxattr = %d, %v; unix.Flistxattr = %d, %v", n, err, m, werr)
	}
	if err := Ioctl(fd, unix.FS_IOC_GETFLAGS, 0); err != unix.EFAULT && err != unix.ENOTTY && err != unix.EOPNOTSUPP {
		// A null pointer for the flags: the kernel must say EFAULT (or
		// that the filesystem has no flags), proving the call was made.
		t.Errorf("Ioctl(GETFLAGS, nil) = %v, want EFAULT", err)
	}
	if err := Linkat(d, "f", d, "g", 0); err != nil {
		t.Fatalf("Linkat: %v", err)
	}
	var gst unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "g"), &gst); err != nil || gst.Ino != want.Ino {
		t.Errorf("g is inode %d (%v), want %d", gst.Ino, err, want.Ino)
	}
	if err := Linkat(d, "f", d, "g", 0); err != unix.EEXIST {
		t.Errorf("second Linkat = %v, want EEXIST", err)
	}
	if err := Close(fd); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := Close(fd); err != unix.EBADF {
		t.Errorf("second Close = %v, want EBADF", err)
	}
}

// The calls of a replacement: rename over a name, mode, owner, statx, the
// xattr list by path.
func TestReplacementCallsMatchUnix(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Openat(unix.AT_FDCWD, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(d)
	var a unix.Stat_t
	if err := Fstatat(d, "a", &a, 0); err != nil {
		t.Fatal(err)
	}
	if err := Renameat(d, "a", d, "b"); err != nil {
		t.Fatalf("Renameat: %v", err)
	}
	var b unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "b"), &b); err != nil || b.Ino != a.Ino {
		t.Errorf("b is inode %d (%v) after the rename, want %d", b.Ino, err, a.Ino)
	}
	if err := Renameat(d, "a", d, "c"); err != unix.ENOENT {
		t.Errorf("Renameat(missing) = %v, want ENOENT", err)
	}
	fd, err := Openat(d, "b", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	if err := Fchmod(fd, 0o601); err != nil {
		t.Fatalf("Fchmod: %v", err)
	}
	if err := Fchown(fd, os.Getuid(), os.Getgid()); err != nil {
		t.Fatalf("Fchown to our own ids: %v", err)
	}
	var stx unix.Statx_t
	if err := Statx(d, "b", unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx); err != nil {
		t.Fatalf("Statx: %v", err)
	}
	if stx.Mode&0o777 != 0o601 || stx.Ino != a.Ino || int(stx.Uid) != os.Getuid() {
		t.Errorf("statx: mode %o ino %d uid %d, want 601 %d %d", stx.Mode&0o777, stx.Ino, stx.Uid, a.Ino, os.Getuid())
	}
	path := filepath.Join(dir, "b")
	n, err := Llistxattr(path, make([]byte, 256))
	m, werr := unix.Llistxattr(path, make([]byte, 256))
	if n != m || (err == nil) != (werr == nil) {
		t.Errorf("Llistxattr = %d, %v; unix.Llistxattr = %d, %v", n, err, m, werr)
	}
}
