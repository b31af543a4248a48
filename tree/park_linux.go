package tree

import (
	"errors"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// A walk holds two descriptors for every directory on its stack, the
// source it reads and the copy it fills: a chain 10,000 levels deep needed
// 20,000, the hard limit of many machines, which only CAP_SYS_RESOURCE
// may raise. So the directories more than a few hundred levels above the
// one being read are parked: the rest of their names read, their
// descriptors closed. The walk opens them again through ".." of the child
// it comes back from, or else by name from the nearest open ancestor, and
// checks they are the same directories (one moved meanwhile is reported,
// not followed). The root of the walk is never parked: it anchors the rest.

// maxOpenLevels is how many of the innermost directories stay open, at
// most (fewer under a low limit on open files: see openLevels): no tree of
// ordinary depth parks anything.
const maxOpenLevels = 256

// parkNames is the most names a directory may have left unread to be
// parked: past it, holding its names would cost more than its two
// descriptors.
const parkNames = 4096

// errMoved is why a parked directory cannot be walked on.
var errMoved = errors.New("directory moved during the copy")

// parkState is where a directory on the walk's stack stands.
type parkState uint8

const (
	parkOpen     parkState = iota // open: not a candidate yet, or opened again
	parkWaiting                   // a candidate, in parking.waiting
	parkClosed                    // parked (or lost: it could not be opened again)
	parkStayOpen                  // never to be parked
)

// parked is what a parked directory is checked against when it is opened
// again: the devices and inodes of the source and of its copy.
type parked struct {
	src, dst devIno
}

// parking is the walk's account of its parked directories.
type parking struct {
	levels int // how many innermost levels stay open (see openLevels)
	// waiting are candidates that could not be parked yet, because
	// entries of theirs were still being copied: they are tried again as
	// the walk goes deeper. Each is on the stack.
	waiting []*dirWalk
	closed  int // directories on the stack that are parkClosed
	// broken is the depth of a parked directory that could not be opened
	// again by name, and all below it: zero when there is none.
	broken int
}

// openLevels is how many innermost levels the walk keeps open: a pair of
// descriptors each, within an eighth of the limit on open files.
func openLevels() int {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return maxOpenLevels
	}
	return int(min(max(lim.Cur/16, 16), maxOpenLevels))
}

// maxWaiting is how many directories may wait to be parked, or to be
// closed by the collector, before the walk waits for them.
func (pk *parking) maxWaiting() int { return pk.levels / 4 }

// deeper is called when the walk enters a directory: it parks the one
// that many levels above it, and those that had to wait.
func (w *walker) deeper(pk *parking, stack []*dirWalk) {
	if pk.levels == 0 {
		pk.levels = openLevels()
	}
	k := len(stack) - 1 - pk.levels
	if k < 1 || w.opts.DryRun || w.opts.Deref == DerefAlways || w.opts.KeepDirSymlink {
		// Under --dry-run directories made share an ancestor's
		// descriptor (probeFd): nothing is parked, and the walk holds one
		// descriptor a level. Through symlinks (-L, -rl, and
		// --keep-directory-symlink in the destination) ".." of a child is
		// not always the directory it was entered from.
		return
	}
	if dw := stack[k]; dw.park == parkOpen {
		dw.park = parkWaiting
		pk.waiting = append(pk.waiting, dw)
	}
	pk.parkWaiting(w, k)
	if len(pk.waiting) > pk.maxWaiting() {
		// The workers are behind the walk: let them catch up with one
		// of these, rather than hold a descriptor pair a level.
		w.pool.Flush()
		w.waitUntil(func() bool {
			return slices.ContainsFunc(pk.waiting, func(dw *dirWalk) bool { return dw.d.jobs.Load() == 0 })
		})
		pk.parkWaiting(w, k)
	}
}

// parkWaiting parks the waiting directories that can be now, those at
// depth k or above: one whose entries are still being copied waits on (a
// long copy near the top does not hold up the rest), and so does one the
// walk has come back near to.
func (pk *parking) parkWaiting(w *walker, k int) {
	pk.waiting = slices.DeleteFunc(pk.waiting, func(dw *dirWalk) bool {
		if dw.depth > k {
			return false
		}
		switch w.park(dw) {
		case parkBusy:
			return false
		case parkDone:
			dw.park = parkClosed
			pk.closed++
		case parkNever:
			dw.park = parkStayOpen
		}
		return true
	})
}

// waitUntil waits, sleeping longer each time up to 5 ms, until done says
// so or the copy is interrupted.
func (w *walker) waitUntil(done func() bool) {
	for nap := 50 * time.Microsecond; !done() && w.ctx.Err() == nil; nap = min(2*nap, 5*time.Millisecond) {
		time.Sleep(nap)
	}
}

// back is called when the walk has read child, popped from stack, before
// child is released: the directory it comes back to is opened again if it
// was parked.
func (w *walker) back(pk *parking, child *dirWalk, stack []*dirWalk) {
	switch child.park {
	case parkWaiting:
		// Released: never to be parked.
		for i, dw := range pk.waiting {
			if dw == child {
				pk.waiting = append(pk.waiting[:i], pk.waiting[i+1:]...)
				break
			}
		}
	case parkClosed:
		pk.closed-- // one that could not be opened again
	}
	if pk.broken >= len(stack) {
		pk.broken = 0 // back above the directory that moved
	}
	if len(stack) == 0 || w.ctx.Err() != nil || stack[len(stack)-1].park != parkClosed {
		return
	}
	dw := stack[len(stack)-1]
	if pk.broken > 0 {
		// Below a directory that moved (reported): out of reach.
		dw.names, dw.next, dw.done = nil, 0, true
		return
	}
	// The directories below, read and released, are closed by the
	// collector once their entries are done: hand them over, and wait if
	// many are still open rather than hold them all and these too.
	w.pool.Flush()
	open := int64(len(stack) - pk.closed + 1) // (the child's too)
	if slack := int64(pk.maxWaiting()); w.dirsOpen.Load() > open+slack {
		w.waitUntil(func() bool { return w.dirsOpen.Load() <= open+slack/2 })
	}
	if at, err := w.unpark(child.d, stack); err != nil {
		// The level that could not be opened again is reported; the
		// levels below it, to the one on top, are out of reach too.
		d := stack[at].d
		w.fail(d.src(), d.dst(), pathErr("cannot return to directory", d.src(), err))
		dw.names, dw.next, dw.done = nil, 0, true
		if at < len(stack)-1 {
			pk.broken = at
		}
		return
	}
	dw.park = parkOpen
	pk.closed--
}

// park closes dw's descriptors, having read the rest of its names, if
// nothing else uses them.
func (w *walker) park(dw *dirWalk) parkResult {
	d := dw.d
	switch {
	case !d.ownSrc || d.srcFd < 0 || d.dstFd < 0 || d.probeFd != d.dstFd || d.ownProbe:
		return parkNever
	case d.jobs.Load() != 0:
		return parkBusy
	}
	if err := dw.readUpTo(d.srcFd, parkNames); err != nil {
		w.cannotRead(d, err)
	}
	var src, dst unix.Stat_t
	if !dw.done || fstat(d.srcFd, &src) != nil || fstat(d.dstFd, &dst) != nil {
		return parkNever
	}
	dw.parked = &parked{src: devIno{src.Dev, src.Ino}, dst: devIno{dst.Dev, dst.Ino}}
	closeQuick(d.srcFd)
	closeQuick(d.dstFd)
	d.srcFd, d.dstFd, d.probeFd = -1, -1, -1
	w.dirsOpen.Add(-1)
	return parkDone
}

// parkResult is what park did.
type parkResult int

const (
	parkDone  parkResult = iota // parked
	parkBusy                    // entries of it are being copied: try again
	parkNever                   // it stays open
)

// reopenFlags open a parked directory again: never through a symlink.
const reopenFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// unpark opens the parked directory on top of stack again: as ".." of
// child's, or if child's are closed too (it could not be opened again
// itself) or are elsewhere now, by name from the nearest open ancestor.
func (w *walker) unpark(child *dirHandle, stack []*dirWalk) (at int, err error) {
	dw := stack[len(stack)-1]
	src, dst, err := -1, -1, errMoved
	if child.srcFd >= 0 && child.dstFd >= 0 {
		src, dst, err = reopenPair(child.srcFd, child.dstFd, "..", "..", dw.parked)
	}
	if err != nil {
		if src, dst, at, err = reopenByName(stack); err != nil {
			return at, err
		}
	}
	d := dw.d
	d.srcFd, d.dstFd, d.probeFd = src, dst, dst
	dw.parked = nil
	w.dirsOpen.Add(1)
	return 0, nil
}

// reopenByName opens the parked directory on top of stack, and its copy,
// level by level from the nearest ancestor that is open (the root of the
// walk, at worst), checking each level is the directory parked there. On
// failure, at is the level that failed.
func reopenByName(stack []*dirWalk) (src, dst, at int, err error) {
	top := len(stack) - 1
	j := top - 1
	for j > 0 && stack[j].park == parkClosed {
		j--
	}
	src, dst = stack[j].d.srcFd, stack[j].d.dstFd
	for k := j + 1; k <= top; k++ {
		d := stack[k].d
		nsrc, ndst, err := reopenPair(src, dst, d.srcName, d.dstName, stack[k].parked)
		if k-1 > j {
			// Opened on the way, not the ancestor's own.
			closeQuick(src)
			closeQuick(dst)
		}
		if err != nil {
			if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
				err = errMoved // (not there any more, or a symlink now)
			}
			return -1, -1, k, err
		}
		src, dst = nsrc, ndst
	}
	return src, dst, 0, nil
}

// reopenPair opens a parked directory and its copy again, as srcName in
// srcDir and dstName in dstDir, checking they are the ones p recorded.
func reopenPair(srcDir, dstDir int, srcName, dstName string, p *parked) (src, dst int, err error) {
	if src, err = reopenAs(srcDir, srcName, p.src); err != nil {
		return -1, -1, err
	}
	if dst, err = reopenAs(dstDir, dstName, p.dst); err != nil {
		closeQuick(src)
		return -1, -1, err
	}
	return src, dst, nil
}

// reopenAs opens name in the directory open at fd, which must be the
// directory id.
func reopenAs(fd int, name string, id devIno) (int, error) {
	up, err := openQuick(fd, name, reopenFlags, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := fstat(up, &st); err != nil {
		closeQuick(up)
		return -1, err
	}
	if (devIno{st.Dev, st.Ino}) != id {
		closeQuick(up)
		return -1, errMoved
	}
	return up, nil
}
