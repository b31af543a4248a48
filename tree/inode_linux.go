package tree

import (
	"strconv"

	"github.com/cowcp/cowcp/internal/eintr"
	"github.com/cowcp/cowcp/internal/fastcall"
	"golang.org/x/sys/unix"
)

// inode is something metadata can be read from or applied to: an open
// file descriptor, or a name in an open directory (for symlinks, FIFOs and
// devices, which cannot be opened for that).
type inode interface {
	chown(uid, gid int) error
	chmod(mode uint32) error
	utimes(ts []unix.Timespec) error
	listxattr(buf []byte) (int, error)
	getxattr(name string, buf []byte) (int, error)
	setxattr(name string, value []byte) error
	removexattr(name string) error
}

// fdNode is an open file or directory.
type fdNode int

// Each call is retried when a signal interrupts it (see package eintr).

func (f fdNode) chown(uid, gid int) error {
	return eintr.Ignoring(func() error { return fastcall.Fchown(int(f), uid, gid) })
}
func (f fdNode) chmod(mode uint32) error {
	return eintr.Ignoring(func() error { return fastcall.Fchmod(int(f), mode) })
}
func (f fdNode) utimes(ts []unix.Timespec) error {
	if len(ts) != 2 {
		return unix.EINVAL
	}
	return eintr.Ignoring(func() error { return fastcall.Futimens(int(f), (*[2]unix.Timespec)(ts)) })
}
func (f fdNode) listxattr(buf []byte) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return fastcall.Flistxattr(int(f), buf) })
}
func (f fdNode) getxattr(name string, buf []byte) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return unix.Fgetxattr(int(f), name, buf) })
}
func (f fdNode) setxattr(name string, value []byte) error {
	return eintr.Ignoring(func() error { return unix.Fsetxattr(int(f), name, value, 0) })
}
func (f fdNode) removexattr(name string) error {
	return eintr.Ignoring(func() error { return unix.Fremovexattr(int(f), name) })
}

// atNode is an entry of an open directory, never followed if a symlink.
type atNode struct {
	dir  int
	name string
}

func (a atNode) chown(uid, gid int) error {
	return eintr.Ignoring(func() error { return unix.Fchownat(a.dir, a.name, uid, gid, unix.AT_SYMLINK_NOFOLLOW) })
}

// chmod never follows a symlink: whoever can write the directory may
// have put one at the name since the entry was made (a FIFO swapped for a
// link to /etc/shadow), and root's chmod would go through it. Linux 6.6
// takes AT_SYMLINK_NOFOLLOW (fchmodat2); before it, the entry is opened
// with O_PATH|O_NOFOLLOW and changed through its /proc/self/fd link, which
// is the inode itself, as glibc's fchmodat does. A symlink has no mode
// (Linux has no lchmod): EOPNOTSUPP.
func (a atNode) chmod(mode uint32) error {
	err := fchmodat(a.dir, a.name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.EOPNOTSUPP {
		return err
	}
	fd, err := openat(a.dir, a.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	return fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), mode, 0)
}
func (a atNode) utimes(ts []unix.Timespec) error {
	return eintr.Ignoring(func() error { return unix.UtimesNanoAt(a.dir, a.name, ts, unix.AT_SYMLINK_NOFOLLOW) })
}

// path names the entry through /proc/self/fd so the l*xattr calls, which
// only take paths, work below PATH_MAX-deep directories too.
func (a atNode) path() string {
	if a.dir == unix.AT_FDCWD {
		return a.name
	}
	return "/proc/self/fd/" + strconv.Itoa(a.dir) + "/" + a.name
}
func (a atNode) listxattr(buf []byte) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return fastcall.Llistxattr(a.path(), buf) })
}
func (a atNode) getxattr(name string, buf []byte) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return unix.Lgetxattr(a.path(), name, buf) })
}
func (a atNode) setxattr(name string, value []byte) error {
	return eintr.Ignoring(func() error { return unix.Lsetxattr(a.path(), name, value, 0) })
}
func (a atNode) removexattr(name string) error {
	return eintr.Ignoring(func() error { return unix.Lremovexattr(a.path(), name) })
}

// statNode stats an inode without following a final symlink.
func statNode(n inode, st *unix.Stat_t) error {
	switch n := n.(type) {
	case fdNode:
		return fstat(int(n), st)
	case atNode:
		return lstatat(n.dir, n.name, st)
	}
	return unix.EINVAL
}
