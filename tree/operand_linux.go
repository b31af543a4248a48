package tree

import (
	"fmt"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// operandState is what the walker knows about the operand being copied.
type operandState struct {
	src, dst string // as given on the command line (dst without trailing slashes)
	typed    string // dst as typed, for cp's messages about the operand itself
	// dstRoot identifies the directory made for a directory operand, so
	// copying a directory into itself skips the copy instead of recursing
	// forever (cp's "cannot copy a directory into itself").
	dstRoot    devIno
	hasDstRoot bool
	reported   bool // the "into itself" error was given
}

func intoItself(src, dst string) error {
	return fmt.Errorf("cannot copy a directory, %s, into itself, %s", cpmsg.Quote(src), cpmsg.Quote(dst))
}

// within reports whether the directory dirFd is dir or lies below it,
// by walking up its ".." chain to the root.
func within(dirFd int, dir *unix.Stat_t) bool {
	fd, err := openat(dirFd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	for {
		var st unix.Stat_t
		if fstat(fd, &st) != nil {
			unix.Close(fd)
			return false
		}
		if st.Dev == dir.Dev && st.Ino == dir.Ino {
			unix.Close(fd)
			return true
		}
		up, err := openat(fd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return false
		}
		var ust unix.Stat_t
		if fstat(up, &ust) != nil || ust.Dev == st.Dev && ust.Ino == st.Ino {
			unix.Close(up) // the root is its own parent
			return false
		}
		fd = up
	}
}

// copyOperand is Copier.Copy: it copies the operand src to dst.
func (w *walker) copyOperand(dst, src string) {
	if w.ctx.Err() != nil {
		return
	}
	follow := w.opts.Deref == DerefAlways || w.opts.Deref == DerefCommandLine
	var st unix.Stat_t
	if err := fstatat(unix.AT_FDCWD, src, &st, follow); err != nil {
		w.fail(src, dst, pathErr("cannot stat", src, err))
		return
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && !w.opts.Recursive {
		w.fail(src, dst, fmt.Errorf("-r not specified; omitting directory %s", cpmsg.Quote(src)))
		return
	}
	if !w.firstTime(src, dst, &st) {
		return
	}
	typed := dst
	if trimmed := strings.TrimRight(dst, "/"); trimmed != dst && trimmed != "" {
		if !isDir {
			w.fail(src, dst, pathErr(createVerb(st.Mode), dst, unix.ENOTDIR))
			return
		}
		dst = trimmed
	}
	var parents []parentDir
	if w.opts.Parents && !w.opts.DryRun {
		var ok bool
		if parents, ok = w.makeParents(dst, src); !ok {
			w.finishLater(parents)
			return
		}
	}
	op, name, err := w.openOperand(dst)
	if err != nil {
		w.fail(src, dst, w.operandError(src, dst, &st, err))
		w.finishLater(parents)
		return
	}
	op.parents = parents
	w.watchFS(op.dstDev, op.probeFd)
	if w.opts.DryRun {
		w.freeSpace(op.dstDev, op.probeFd)
	}
	w.walkOperand(&operandState{src: src, dst: dst, typed: typed}, op, name, &st, follow)
	w.finishOperand(op)
}

// operandError is cp's words for failing to open the directory the
// operand src is copied into, as dst.
func (w *walker) operandError(src, dst string, st *unix.Stat_t, err error) error {
	switch {
	case w.opts.SymLink:
		return &cpmsg.PathError{Op: "cannot create symbolic link", Path: dst, After: " to " + cpmsg.Quote(src), Err: err}
	case w.opts.HardLink && st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return &cpmsg.PathError{Op: "cannot create hard link", Path: dst, After: " to " + cpmsg.Quote(src), Err: err}
	}
	return pathErr(createVerb(st.Mode), dst, err)
}

// walkOperand copies the operand (stat st) to name in op: a directory is
// walked, anything else is queued.
func (w *walker) walkOperand(state *operandState, op *dirHandle, name string, st *unix.Stat_t, follow bool) {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		w.submit(op, state.src, name, st, follow)
		return
	}
	if within(op.dstFd, st) {
		// Said once, up front, as cp does; the copy still goes on, and
		// the walker skips the new directory if it meets it.
		w.fail(state.src, state.dst, intoItself(state.src, state.dst))
		state.reported = true
	}
	w.walkDir(state, op, state.src, name, st, follow)
}

// finishOperand drops the walker's reference on the operand op.
func (w *walker) finishOperand(op *dirHandle) {
	if len(op.parents) > 0 || w.opts.Backup == BackupNumbered {
		// cp finishes these directories before the next operand, which
		// may copy into them again and so update their times: wait.
		// With numbered backups a later operand may copy to the same
		// name again (backing this copy up): it must find it made.
		op.done = make(chan struct{})
		w.pool.Report(result{release: op})
		w.pool.Flush()
		<-op.done
		return
	}
	w.pool.Report(result{release: op})
}

// finishLater hands directories --parents made to the collector to
// finish, when no operand will.
func (w *walker) finishLater(parents []parentDir) {
	if len(parents) == 0 {
		return
	}
	done := &dirHandle{srcFd: -1, dstFd: -1, operand: true, shown: true, parents: parents}
	done.refs.Store(1)
	w.pool.Report(result{release: done})
}

// firstTime reports whether src is copied to dst for the first time in
// this run. cp copies a source named twice once, with a warning, and
// refuses to overwrite a file it just made from another source.
func (w *walker) firstTime(src, dst string, st *unix.Stat_t) bool {
	prev, seen := w.operands[dst]
	w.operands[dst] = madeFrom{devIno{st.Dev, st.Ino}, st.Mode&unix.S_IFMT == unix.S_IFLNK || w.opts.SymLink}
	same := prev.src == (devIno{st.Dev, st.Ino})
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case !seen:
		return true
	case w.opts.Backup == BackupNumbered && !isDir:
		return true // cp copies again: the numbered backup keeps the first copy
	case same && isDir:
		w.pool.Report(result{notice: fmt.Sprintf("warning: source directory %s specified more than once", cpmsg.Quote(src))})
	case same && w.opts.Backup == BackupNone:
		w.pool.Report(result{notice: fmt.Sprintf("warning: source file %s specified more than once", cpmsg.Quote(src))})
	case prev.symlink:
		// The symlink may not be made yet (workers copy behind the
		// walker), but it will be: cp refuses to write through it.
		w.fail(src, dst, fmt.Errorf("will not copy %s through just-created symlink %s", cpmsg.Quote(src), cpmsg.Quote(dst)))
	default:
		w.fail(src, dst, fmt.Errorf("will not overwrite just-created %s with %s", cpmsg.Quote(dst), cpmsg.Quote(src)))
	}
	return false
}

// madeFrom is what an operand's destination was made from.
type madeFrom struct {
	src     devIno
	symlink bool // the copy is a symlink
}

// openOperand makes the pseudo-directory of an operand: the source is
// named by its whole path from the working directory, the destination by
// its last component in its (open) parent.
func (w *walker) openOperand(dst string) (*dirHandle, string, error) {
	op := &dirHandle{srcFd: unix.AT_FDCWD, dstFd: unix.AT_FDCWD, operand: true, shown: true}
	op.refs.Store(1)
	name := dst
	if i := strings.LastIndexByte(dst, '/'); i >= 0 {
		op.shownDst, name = dst[:i+1], dst[i+1:]
		fd, err := openat(unix.AT_FDCWD, op.shownDst, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT && w.opts.DryRun && w.opts.Parents {
			// --parents would make it: plan against the nearest existing
			// ancestor, as for any directory a dry run would make.
			return w.plannedOperand(op, name)
		}
		if err != nil {
			return nil, "", err
		}
		op.dstFd = fd
	}
	var st unix.Stat_t
	if err := statat(op.dstFd, ".", &st); err != nil {
		op.close()
		return nil, "", err
	}
	op.noteDst(op.dstFd, &st)
	op.probeFd = op.dstFd
	return op, name, nil
}

// plannedOperand is openOperand's answer under --dry-run --parents for a
// destination whose parent does not exist yet: nothing exists to check
// for entries, and the probe goes to the nearest existing ancestor.
func (w *walker) plannedOperand(op *dirHandle, name string) (*dirHandle, string, error) {
	dir := strings.TrimRight(op.shownDst, "/")
	for {
		i := strings.LastIndexByte(dir, '/')
		if i < 0 {
			dir = "."
		} else {
			dir = dir[:i]
			if dir == "" {
				dir = "/"
			}
		}
		fd, err := openat(unix.AT_FDCWD, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT && dir != "." && dir != "/" {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		var st unix.Stat_t
		if err := fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, "", err
		}
		op.dstFd, op.probeFd, op.ownProbe, op.fresh = -1, fd, true, true
		op.noteDst(fd, &st)
		return op, name, nil
	}
}
