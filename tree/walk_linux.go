package tree

import (
	"errors"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// readBatch is how many directory entries the walker reads at a time, so
// a directory with millions of entries is streamed, not listed.
const readBatch = 256

// walkDir copies the directory srcName of parent to dstName in parent's
// copy, then streams its entries to the workers, depth first.
func (w *walker) walkDir(op *operandState, parent *dirHandle, srcName, dstName string, st *unix.Stat_t, follow bool) {
	srcPath, dstPath := parent.srcPath(srcName), parent.dstPath(dstName)
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	srcFd, err := openQuick(parent.srcFd, srcName, flags, 0)
	if err == unix.EACCES {
		// cp still makes the directory it cannot read, with the
		// source's mode, and says it cannot access the source.
		if !w.opts.DryRun && parent.dstFd != -1 {
			mkdirat(parent.dstFd, dstName, w.createPerm(st))
		}
		w.fail(srcPath, dstPath, pathErr("cannot access", srcPath, err))
		return
	}
	if err != nil {
		w.fail(srcPath, dstPath, pathErr("cannot open directory", srcPath, err))
		return
	}
	srcDir := os.NewFile(uintptr(srcFd), srcPath)
	d := &dirHandle{parent: parent, srcDir: srcDir, srcFd: srcFd, dstFd: -1, src: srcPath, dst: dstPath, st: *st, srcName: srcName}
	if err := w.makeDir(d, parent, dstName, op); err != nil {
		srcDir.Close()
		w.fail(srcPath, dstPath, err)
		return
	}
	d.refs.Store(1) // the walker's, dropped when the directory is read
	parent.hold()
	if !d.existed {
		// A directory merged into is not made: cp -v says nothing of it.
		w.pool.Report(result{ev: Event{Kind: KindDir, Src: srcPath, Dst: dstPath}})
	}
	defer w.pool.Report(result{release: d})

	if w.opts.OneFS && !parent.operand && st.Dev != parent.st.Dev {
		return // -x: the mount point is copied, its contents are not
	}
	for w.ctx.Err() == nil {
		runtime.Gosched() // as a worker does per batch (see pool)
		ents, err := srcDir.ReadDir(readBatch)
		for _, e := range ents {
			w.walkEntry(op, d, e.Name())
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			w.fail(srcPath, dstPath, pathErr("cannot read directory", srcPath, errors.Unwrap(err)))
			return
		}
	}
}

// walkEntry handles one entry of a directory being walked.
func (w *walker) walkEntry(op *operandState, d *dirHandle, name string) {
	follow := w.opts.Deref == DerefAlways
	var st unix.Stat_t
	if err := fstatat(d.srcFd, name, &st, follow); err != nil {
		w.fail(d.srcPath(name), d.dstPath(name), pathErr("cannot stat", d.srcPath(name), err))
		return
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		w.submit(d, name, name, &st, follow)
		return
	}
	if op.hasDstRoot && (devIno{st.Dev, st.Ino}) == op.dstRoot {
		if !op.reported {
			w.fail(op.src, op.dst, intoItself(op.src, op.dst))
			op.reported = true
		}
		return
	}
	if follow && d.isAncestor(&st) {
		w.fail(d.srcPath(name), d.dstPath(name), pathErr("cannot copy", d.srcPath(name), errors.New("filesystem loop")))
		return
	}
	w.walkDir(op, d, name, name, &st, follow)
}

// isAncestor reports whether st is d or one of d's parents (a symlink
// loop under -L).
func (d *dirHandle) isAncestor(st *unix.Stat_t) bool {
	for ; d != nil && !d.operand; d = d.parent {
		if d.st.Dev == st.Dev && d.st.Ino == st.Ino {
			return true
		}
	}
	return false
}
