package tree

import (
	"fmt"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// makeDir creates (or, when it exists, adopts) the destination directory
// of d and opens it.
func (w *walker) makeDir(d, parent *dirHandle, dstName string, op *operandState) error {
	if w.opts.DryRun {
		return w.planDir(d, parent, dstName, op)
	}
	err := mkdirat(parent.dstFd, dstName, w.dirPerm(&d.st))
	switch {
	case err == nil:
		d.fresh = true
	case err == unix.EEXIST:
		if _, err := w.dstIsDir(d, parent, dstName, op); err != nil {
			return err
		}
		d.existed = true
	default:
		return pathErr("cannot create directory", d.dst(), err)
	}
	dst, err := d.openDst(parent, dstName, w.opts.KeepDirSymlink)
	if err != nil {
		return err
	}
	if parent.operand {
		op.dstRoot, op.hasDstRoot = devIno{dst.Dev, dst.Ino}, true
	}
	return nil
}

// dstIsDir reports whether the destination dstName of parent exists. It
// must be a directory: a symlink there is not followed, even to one, as cp
// refuses to fill a directory somewhere else, unless
// --keep-directory-symlink asks for that.
func (w *walker) dstIsDir(d, parent *dirHandle, dstName string, op *operandState) (bool, error) {
	var st unix.Stat_t
	switch err := lstatat(parent.dstFd, dstName, &st); {
	case err == unix.ENOENT:
		return false, nil
	case err != nil:
		return false, pathErr("cannot stat", d.dst(), err)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		if w.sameFile(parent.srcFd, d.srcName, parent.dstFd, dstName, &d.st, &st) == sameRefuse {
			// cp -rT d ld, ld a symlink to d
			shown := d.dst()
			if parent.operand && op != nil {
				shown = op.typed
			}
			return false, fmt.Errorf("%s and %s are the same file", cpmsg.Quote(d.src()), cpmsg.Quote(shown))
		}
		if w.opts.KeepDirSymlink && st.Mode&unix.S_IFMT == unix.S_IFLNK &&
			statat(parent.dstFd, dstName, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return true, nil
		}
		return false, fmt.Errorf("cannot overwrite non-directory %s with directory %s", cpmsg.Quote(d.dst()), cpmsg.Quote(d.src()))
	}
	return true, nil
}

// openDst opens the existing destination directory dstName of parent as
// d's, and returns its stat. A symlink there is followed only when follow
// (--keep-directory-symlink).
func (d *dirHandle) openDst(parent *dirHandle, dstName string, follow bool) (unix.Stat_t, error) {
	var st unix.Stat_t
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if follow {
		flags &^= unix.O_NOFOLLOW
	}
	fd, err := openQuick(parent.dstFd, dstName, flags, 0)
	if err != nil {
		return st, pathErr("cannot open directory", d.dst(), err)
	}
	if err := fstat(fd, &st); err != nil {
		unix.Close(fd)
		return st, pathErr("cannot stat", d.dst(), err)
	}
	d.dstFd, d.probeFd = fd, fd
	d.noteDst(fd, &st)
	return st, nil
}

// planDir is makeDir for --dry-run: it opens the destination directory if
// it exists, and otherwise notes that it would be made.
func (w *walker) planDir(d, parent *dirHandle, dstName string, op *operandState) error {
	d.dstFd, d.probeFd, d.dstDev, d.fresh = -1, parent.probeFd, parent.dstDev, true
	if parent.fresh && parent.dstFd < 0 && parent.dstFd != unix.AT_FDCWD {
		return nil // the parent would be made too: so would this
	}
	exists, err := w.dstIsDir(d, parent, dstName, op)
	if err != nil {
		return err
	}
	if !exists {
		// The copy would make it: say now if it could not.
		if err := faccessat(parent.dstFd, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
			return pathErr("cannot create directory", d.dst(), err)
		}
		return nil
	}
	if _, err := d.openDst(parent, dstName, w.opts.KeepDirSymlink); err != nil {
		return err
	}
	d.fresh, d.existed = false, true
	return nil
}
