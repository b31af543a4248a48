package reflink

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Classify sorts an error from Clone or CloneRange. A nil error is Failed
// only in the sense that there is nothing to fall back from; callers check
// for nil first.
func Classify(err error) Class {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return Failed
	}
	switch errno {
	case unix.EXDEV:
		// Source and destination are on different filesystems (or different
		// mounts of a btrfs that the kernel will not clone across).
		return FSUnsupported
	case unix.EOPNOTSUPP, unix.ENOTTY, unix.ENOSYS:
		// The filesystem has no clone support (ext4, tmpfs, XFS made without
		// reflink=1); ENOTTY from filesystems that know no such ioctl at all.
		return FSUnsupported
	case unix.EINVAL:
		// Per file: unaligned range, btrfs nodatacow/datasum mismatch between
		// the two inodes, a source that is not a regular file. The next file
		// may clone fine, so this must not poison the cache.
		return FileUnsupported
	case unix.ETXTBSY:
		// The destination is an active swap file.
		return FileUnsupported
	case unix.EPERM:
		// An immutable or append-only destination, or a nodatacow file that
		// the filesystem refuses to share. Per file, never cached: EPERM can
		// also be a policy decision about this one inode.
		return FileUnsupported
	}
	// EIO, ENOSPC, EDQUOT, EBADF, EFBIG, EISDIR, EINTR ...: real failures.
	return Failed
}

// Unsupported reports whether err means "cloning cannot work for these
// files, use a byte copy" rather than a real failure.
func Unsupported(err error) bool {
	return err != nil && Classify(err) != Failed
}
