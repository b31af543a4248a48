package tree

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// A walk holds two descriptors for every directory on its stack, the
// source it reads and the copy it fills: a chain 10,000 levels deep needed
// 20,000, the hard limit of many machines, which only CAP_SYS_RESOURCE
// may raise. So the directories deeper than openLevels below the one being
// read are parked: the rest of their names read, their descriptors
// closed. The walk opens them again through ".." of the child it comes
// back from, and checks they are the same directories (a directory moved
// meanwhile is reported, not followed), as fts does for cp.
//
// openLevels is how many of the innermost directories stay open: no tree
// of ordinary depth parks anything.
const openLevels = 256

// parkNames is the most names a directory may have left unread to be
// parked: past it, holding its names would cost more than its two
// descriptors.
const parkNames = 4096

// errMoved is why a parked directory cannot be walked on.
var errMoved = errors.New("directory moved during the copy")

// parked is what a parked directory is checked against when it is opened
// again: the device and inode of its copy (the source's are in d.st).
type parked struct {
	dstDev, dstIno uint64
}

// parking is the walk's account of its parked directories.
type parking struct {
	// waiting are directories that could not be parked yet, because
	// entries of theirs were still being copied: they are tried again as
	// the walk goes deeper. Shallowest first.
	waiting []*dirWalk
	parked  int // directories on the stack that are parked
}

// deeper is called when the walk enters a directory: it parks the one
// openLevels above it, and those that had to wait.
func (w *walker) deeper(pk *parking, stack []*dirWalk) {
	if len(stack) <= openLevels || w.opts.DryRun || w.opts.Deref == DerefAlways || w.opts.KeepDirSymlink {
		// Under --dry-run directories made share an ancestor's
		// descriptor (probeFd): nothing is parked, and the walk holds one
		// descriptor a level. Through symlinks (-L, and
		// --keep-directory-symlink in the destination) ".." of a child is
		// not always the directory it was entered from.
		return
	}
	dw := stack[len(stack)-1-openLevels]
	if n := len(pk.waiting); n == 0 || pk.waiting[n-1] != dw {
		// (The walk may come back to this depth and go down again: dw
		// is waiting already.)
		pk.waiting = append(pk.waiting, dw)
	}
	pk.parkWaiting(w)
	if len(pk.waiting) > maxWaiting {
		// The workers are behind the walk: let them catch up with the
		// shallowest, rather than hold a descriptor pair a level.
		w.pool.Flush()
		for pk.waiting[0].d.jobs.Load() != 0 && w.ctx.Err() == nil {
			time.Sleep(50 * time.Microsecond)
		}
		pk.parkWaiting(w)
	}
}

// maxWaiting is how many directories may wait to be parked before the walk
// waits for them.
const maxWaiting = openLevels / 4

// parkWaiting parks the waiting directories that can be now. Entries are
// done with in about the order they were handed out: it stops at the first
// still busy.
func (pk *parking) parkWaiting(w *walker) {
	for len(pk.waiting) > 0 {
		switch w.park(pk.waiting[0]) {
		case parkBusy:
			return
		case parkDone:
			pk.parked++
		}
		pk.waiting = pk.waiting[1:]
	}
}

// parkResult is what park did.
type parkResult int

const (
	parkDone  parkResult = iota // parked, now or before
	parkBusy                    // entries of it are being copied: try again
	parkNever                   // it stays open
)

// back is called when the walk has read child and goes back up the stack,
// before child is released: the directory it comes back to is opened
// again if it was parked.
func (w *walker) back(pk *parking, child *dirWalk, stack []*dirWalk) {
	if n := len(pk.waiting); n > 0 && pk.waiting[n-1] == child {
		pk.waiting = pk.waiting[:n-1] // released: never to be parked
	}
	if child.parked != nil {
		pk.parked-- // (one that could not be opened again)
	}
	if len(stack) == 0 || w.ctx.Err() != nil {
		return
	}
	dw := stack[len(stack)-1]
	if dw.parked == nil {
		return
	}
	// The directories below, read and released, are closed by the
	// collector once their entries are done: wait for it rather than
	// hold them all and these too.
	if open := int64(len(stack) - pk.parked + 1); w.dirsOpen.Load() > open+maxWaiting {
		w.pool.Flush()
		for w.dirsOpen.Load() > open && w.ctx.Err() == nil {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := w.unpark(child.d, dw); err != nil {
		d := dw.d
		w.fail(d.src(), d.dst(), pathErr("cannot return to directory", d.src(), err))
		dw.names, dw.next, dw.done = nil, 0, true
		return
	}
	pk.parked--
}

// park closes dw's descriptors, having read the rest of its names, if
// nothing else uses them.
func (w *walker) park(dw *dirWalk) parkResult {
	d := dw.d
	switch {
	case dw.parked != nil:
		return parkDone
	case !d.ownSrc || d.dstFd < 0 || d.probeFd != d.dstFd || d.ownProbe:
		return parkNever
	case d.jobs.Load() != 0:
		return parkBusy
	}
	for !dw.done && len(dw.names)-dw.next < parkNames {
		n := len(dw.names)
		var err error
		dw.names, err = readNames(d.srcFd, dw.names)
		if err != nil {
			w.fail(d.src(), d.dst(), pathErr("cannot read directory", d.src(), err))
			dw.names, dw.next = dw.names[:n], min(dw.next, n)
			dw.done = true
		} else if len(dw.names) == n {
			dw.done = true
		}
	}
	var st unix.Stat_t
	if !dw.done || fstat(d.dstFd, &st) != nil {
		return parkNever
	}
	dw.parked = &parked{dstDev: st.Dev, dstIno: st.Ino}
	closeQuick(d.srcFd)
	closeQuick(d.dstFd)
	d.srcFd, d.dstFd, d.probeFd = -1, -1, -1
	w.dirsOpen.Add(-1)
	return parkDone
}

// unpark opens dw's directories again as ".." of child's, which must be
// open, and checks they are the ones parked.
func (w *walker) unpark(child *dirHandle, dw *dirWalk) error {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	d, p := dw.d, dw.parked
	src, err := reopenAs(child.srcFd, flags, d.st.Dev, d.st.Ino)
	if err != nil {
		return err
	}
	dst, err := reopenAs(child.dstFd, flags, p.dstDev, p.dstIno)
	if err != nil {
		closeQuick(src)
		return err
	}
	d.srcFd, d.dstFd, d.probeFd = src, dst, dst
	dw.parked = nil
	w.dirsOpen.Add(1)
	return nil
}

// reopenAs opens the parent of the directory open at fd, which must be
// the directory dev, ino.
func reopenAs(fd, flags int, dev, ino uint64) (int, error) {
	up, err := openQuick(fd, "..", flags, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := fstat(up, &st); err != nil {
		closeQuick(up)
		return -1, err
	}
	if st.Dev != dev || st.Ino != ino {
		closeQuick(up)
		return -1, errMoved
	}
	return up, nil
}
