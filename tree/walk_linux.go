package tree

import (
	"errors"
	"io"
	"runtime"

	"golang.org/x/sys/unix"
)

// walkDir copies the directory srcName of parent to dstName in parent's
// copy, then streams its entries to the workers, depth first. It keeps
// its own stack of the directories being read rather than recursing: a
// goroutine's stack grows by copying itself to one twice as large, and a
// frame per level took a tree 10,000 levels deep past 64 MiB.
func (w *walker) walkDir(op *operandState, parent *dirHandle, srcName, dstName string, st *unix.Stat_t, follow bool) {
	var stack []*dirWalk
	var pk parking
	if dw := w.enterDir(op, parent, srcName, dstName, st, follow); dw != nil {
		stack = append(stack, dw)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		name, ok := "", false
		if w.ctx.Err() == nil {
			name, ok = w.nextName(top)
		}
		if !ok {
			stack = stack[:len(stack)-1]
			w.back(&pk, top, stack)
			w.pool.Report(result{release: top.d})
			continue
		}
		if dw := w.walkEntry(op, top.d, name); dw != nil {
			dw.depth = len(stack)
			stack = append(stack, dw)
			w.deeper(&pk, stack)
		}
	}
}

// dirWalk is a directory the walker is reading: the names of its last
// batch of entries, and how many of them it has handled.
type dirWalk struct {
	d      *dirHandle
	names  []string
	next   int
	done   bool // nothing more to read
	depth  int  // its index in the walk's stack
	park   parkState
	parked *parked // while its descriptors are closed (see park)
}

// enterDir opens the directory srcName of parent and makes its copy
// dstName. It returns the directory to read, or nil if it failed.
func (w *walker) enterDir(op *operandState, parent *dirHandle, srcName, dstName string, st *unix.Stat_t, follow bool) *dirWalk {
	// No display path is kept: a handle per level of a deep tree would
	// hold them all (see shownMax).
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	srcFd, err := openQuick(parent.srcFd, srcName, flags, 0)
	if err != nil {
		srcPath, dstPath := parent.srcPath(srcName), parent.dstPath(dstName)
		if err == unix.EACCES {
			// cp still makes the directory it cannot read, with the
			// source's mode, and says it cannot access the source.
			if !w.opts.DryRun && parent.dstFd != -1 {
				mkdirat(parent.dstFd, dstName, w.createPerm(st))
			}
			w.fail(srcPath, dstPath, pathErr("cannot access", srcPath, err))
			return nil
		}
		w.fail(srcPath, dstPath, pathErr("cannot open directory", srcPath, err))
		return nil
	}
	// -x: the mount point is copied, its contents are not.
	dw := &dirWalk{done: w.opts.OneFS && !parent.operand && st.Dev != parent.st.Dev}
	var readErr error
	if !dw.done {
		// Listed at once (see listNames).
		readErr = dw.listSettled(srcFd, st)
	}
	d := &dirHandle{ownSrc: true, srcFd: srcFd, dstFd: -1, st: *st}
	d.named(parent, srcName, dstName)
	if err := w.makeDir(d, parent, dstName, op); err != nil {
		closeQuick(srcFd)
		w.fail(d.src(), d.dst(), err)
		return nil
	}
	dw.d = d
	if readErr != nil {
		w.cannotRead(d, readErr)
	}
	d.refs.Store(1) // the walker's, dropped when the directory is read
	w.dirsOpen.Add(1)
	parent.hold()
	if !d.existed {
		// A directory merged into is not made: cp -v says nothing of it.
		w.pool.Report(result{ev: Event{Kind: KindDir}, made: d})
	}
	return dw
}

// listNames is how many names of a directory are read at once: a
// directory of millions of entries is streamed, not held. Up to there a
// directory is listed whole as soon as it is opened, before its entries
// are copied, as cp lists it: read a batch at a time while copying, a
// file renamed meanwhile was lost unreported on btrfs, whose readdir stops
// at the last entry there was when the directory was opened (the new
// name comes after it, the old one is gone).
const listNames = 1 << 16

// listSettled lists the directory open at fd, which st (taken before it
// was opened) describes, and lists it again if it changed meanwhile: btrfs
// ends a listing at the entry that was last when the directory was
// opened, so a file renamed between the open and the listing is under
// neither name. Its ctime tells (a directory stat'ed gets a fine-grained
// time at its next change: multigrain timestamps, Linux 6.13). A listing
// during which nothing changed is whole. If none is, after listTries, the
// names of the earlier listings are kept too: a name gone since is
// reported as vanished, where cp would have lost the file without a word.
func (dw *dirWalk) listSettled(fd int, st *unix.Stat_t) error {
	before := st.Ctim
	var earlier map[string]struct{}
	for try := 1; ; try++ {
		err := dw.list(fd)
		var now unix.Stat_t
		if err != nil || !dw.done || fstat(fd, &now) != nil || now.Ctim == before {
			return err
		}
		if earlier == nil {
			earlier = make(map[string]struct{}, len(dw.names))
		}
		if try == listTries {
			for _, name := range dw.names {
				delete(earlier, name)
			}
			for name := range earlier {
				dw.names = append(dw.names, name)
			}
			return nil
		}
		for _, name := range dw.names {
			earlier[name] = struct{}{}
		}
		// Back to the start, which btrfs takes as a new listing.
		if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
			return err
		}
		before, dw.done = now.Ctim, false
	}
}

// listTries is how many times listSettled lists a directory that keeps
// changing.
const listTries = 8

// list reads the next listNames names of the directory open at fd into
// dw, in place of those it had, and notes when there are no more.
func (dw *dirWalk) list(fd int) error {
	dw.names, dw.next = dw.names[:0], 0
	return dw.readUpTo(fd, listNames)
}

// readUpTo reads more names of the directory open at fd into dw, until it
// holds limit not yet walked or there are no more (which it notes).
func (dw *dirWalk) readUpTo(fd, limit int) error {
	for !dw.done && len(dw.names)-dw.next < limit {
		n := len(dw.names)
		var err error
		if dw.names, err = readNames(fd, dw.names); err != nil || len(dw.names) == n {
			dw.done = true
			return err
		}
	}
	return nil
}

// cannotRead reports that d could not be read (to its end).
func (w *walker) cannotRead(d *dirHandle, err error) {
	w.fail(d.src(), d.dst(), pathErr("cannot read directory", d.src(), err))
}

// nextName is the name of dw's next entry, listNames read at a time; false
// at the end, or after an error, which it reports.
func (w *walker) nextName(dw *dirWalk) (string, bool) {
	if dw.next == len(dw.names) {
		if dw.done {
			return "", false
		}
		runtime.Gosched() // as a worker does per batch (see pool)
		if err := dw.list(dw.d.srcFd); err != nil {
			w.cannotRead(dw.d, err)
		}
		if len(dw.names) == 0 {
			dw.done = true
			return "", false
		}
	}
	dw.next++
	return dw.names[dw.next-1], true
}

// walkEntry handles one entry of a directory being walked, and returns
// the directory to read next if it is one.
func (w *walker) walkEntry(op *operandState, d *dirHandle, name string) *dirWalk {
	follow := w.opts.Deref == DerefAlways
	var st unix.Stat_t
	if err := fstatat(d.srcFd, name, &st, follow); err != nil {
		w.fail(d.srcPath(name), d.dstPath(name), pathErr("cannot stat", d.srcPath(name), err))
		return nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		w.submit(d, name, name, &st, follow)
		return nil
	}
	if op.hasDstRoot && (devIno{st.Dev, st.Ino}) == op.dstRoot {
		if !op.reported {
			w.fail(op.src, op.dst, intoItself(op.src, op.dst))
			op.reported = true
		}
		return nil
	}
	if follow && d.isAncestor(&st) {
		w.fail(d.srcPath(name), d.dstPath(name), pathErr("cannot copy", d.srcPath(name), errors.New("filesystem loop")))
		return nil
	}
	return w.enterDir(op, d, name, name, &st, follow)
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
