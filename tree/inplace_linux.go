package tree

import (
	"errors"

	"golang.org/x/sys/unix"
)

// writeInPlace reports whether the existing entry old at at must be
// rewritten in place, as cp does, rather than replaced by a complete copy
// renamed over it. The rename keeps the old content whole until the new
// one is, but it makes a new inode, and that is only the same result as
// cp's where nobody can tell:
//   - a FIFO or device is written into, never replaced by a file;
//   - other hard links must see the new content;
//   - a new inode would belong to us, not to the file's owner and group;
//   - a writable file in a directory we may not write (0555, or someone
//     else's file in a sticky directory) cannot be renamed over;
//   - a bind-mounted file (container /etc/hosts) cannot be renamed over;
//   - nor can a file in an immutable or append-only directory (lockedDir).
func (e *env) writeInPlace(at place, old *unix.Stat_t) bool {
	switch {
	case old.Mode&unix.S_IFMT != unix.S_IFREG:
		return true
	case old.Nlink > 1:
		return true
	case e.euid != 0 && (old.Uid != e.euid || old.Gid != e.egid):
		return true
	case e.euid != 0 && faccessat(at.dir, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS) != nil:
		// (Root may write any directory; a read-only filesystem fails
		// the rename as it would fail the rewrite.)
		return true
	case lockedDir(at.dir):
		return true
	}
	return isMountRoot(at.dir, at.name)
}

// lockedDir reports whether dir is immutable or append-only (chattr +i,
// +a): the kernel then refuses to rename over or remove any name in it,
// root included, with EPERM, so a replacement made under a temporary
// name could neither take the final name nor be removed again. Its files
// can still be rewritten, and cp rewrites them.
func lockedDir(dir int) bool {
	var stx unix.Statx_t
	if statx(dir, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, 0, &stx) != nil {
		return false
	}
	const locked = unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_APPEND
	return stx.Attributes_mask&stx.Attributes&locked != 0
}

// outputFor decides how a regular file's copy meets old, the entry at at
// that how (checkExisting's decision) replaces, if it does: rewritten in
// place where writeInPlace says so, and always by a stream (cp /dev/null
// f, a FIFO, /proc), which is read into the file itself as cp truncates
// and writes it; otherwise a complete copy is renamed over it. A FIFO or
// device there is written into like a stream.
func (e *env) outputFor(how decision, at place, old *unix.Stat_t, stream bool) (outKind, bool) {
	switch {
	case !how.replace:
		return outNew, stream
	case how.inherit && (stream || e.writeInPlace(at, old)):
		return outInPlace, stream || old.Mode&unix.S_IFMT != unix.S_IFREG
	}
	return outReplace, stream
}

// isMountRoot reports whether name in dir is a mount point, such as a file
// bind-mounted over another.
func isMountRoot(dir int, name string) bool {
	var stx unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW | unix.AT_STATX_DONT_SYNC
	if statx(dir, name, flags, 0, &stx) != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// outOfSpace reports whether err is the filesystem or a quota running out:
// a replacement that needs room for old and new at once may still fit when
// written in place.
func outOfSpace(err error) bool {
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT)
}

// fitsInPlace reports whether src's data would fit in dir's filesystem
// once old's blocks are freed (which count its extent tree too): the
// condition for rewriting old in place after its replacement ran out
// of space. Root may use the blocks reserved for it, as cp would.
func (e *env) fitsInPlace(dir int, old, src *unix.Stat_t) bool {
	var fs unix.Statfs_t
	if statfsAt(dir, &fs) != nil {
		return false
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if e.euid == 0 {
		free = int64(fs.Bfree) * int64(fs.Bsize)
	}
	need := min(src.Size, src.Blocks*512)
	return free+old.Blocks*512 >= need
}

// statfsAt is fstatfs of a directory descriptor, AT_FDCWD included.
func statfsAt(dir int, fs *unix.Statfs_t) error {
	if dir == unix.AT_FDCWD {
		return statfs(".", fs)
	}
	return fstatfs(dir, fs)
}
