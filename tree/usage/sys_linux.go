package usage

import (
	"github.com/cowcp/cowcp/internal/eintr"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// mountID identifies the mount a file was reached through. btrfs gives
// every subvolume its own st_dev, so only the mount ID (Linux 5.8) tells
// a subvolume, which the walk enters, from a mount point, which it does
// not; without one, st_dev is compared and the walk stays out of both.
type mountID struct {
	id, dev uint64
	hasID   bool
}

func mountOf(st *unix.Statx_t) mountID {
	return mountID{
		id:    st.Mnt_id,
		dev:   unix.Mkdev(st.Dev_major, st.Dev_minor),
		hasID: st.Mask&unix.STATX_MNT_ID != 0,
	}
}

func (m mountID) same(o mountID) bool {
	if m.hasID && o.hasID {
		return m.id == o.id
	}
	return m.dev == o.dev
}

const usageStatxMask = unix.STATX_TYPE | unix.STATX_INO | unix.STATX_NLINK | unix.STATX_BLOCKS | unix.STATX_MNT_ID

func statxRetry(dirfd int, path string, flags int, st *unix.Statx_t) error {
	return eintr.Ignoring(func() error { return unix.Statx(dirfd, path, flags, usageStatxMask, st) })
}

func openatRetry(dirfd int, name string, flags int) (int, error) {
	return eintr.Ignoring2(func() (int, error) { return unix.Openat(dirfd, name, flags, 0) })
}

// pathErr is a failure in du's words, which are cp's: "cannot access 'x':
// No such file or directory".
func pathErr(op, path string, err error) error {
	return &cpmsg.PathError{Op: op, Path: path, Err: err}
}
