package tree

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// dirHandle is an open source directory and its open copy. Jobs name their
// entries relative to these descriptors (openat, mkdirat, ...), so trees
// deeper than PATH_MAX copy like any other, and the kernel resolves one
// component per call instead of whole paths.
//
// A handle is referenced by the walker while it reads the directory, by
// every job for an entry in it and by every subdirectory's handle. When the
// last reference goes, the collector applies the directory's metadata (its
// mode and times can only be set once nothing is written into it any more)
// and closes both descriptors.
type dirHandle struct {
	parent       *dirHandle
	ownSrc       bool // srcFd is the open source directory, read by the walker, closed with the handle
	srcFd, dstFd int
	// Its names in parent's source and destination directories, and its
	// display paths (see src and dst), made at once where short.
	srcName, dstName   string
	shownSrc, shownDst string
	shown              bool
	st                 unix.Stat_t // the source directory, for its metadata
	dstDev             uint64      // device of the destination directory
	// What entries created in the destination directory get: its group
	// when it is setgid, and whether a default ACL overrides their mode.
	dstGid    uint32
	dstSetgid bool
	defACL    bool
	// probeFd is the nearest existing destination directory: dstFd, or
	// under --dry-run, where nothing is made, an ancestor's. Owned (closed
	// with the handle) only when ownProbe.
	probeFd  int
	ownProbe bool
	refs     atomic.Int64
	// jobs counts the entries of the directory handed to workers and not
	// yet done with: while there are any its descriptors stay open.
	jobs atomic.Int64
	// fresh: cowcp created the destination directory, so nothing in it
	// can exist yet and entries need no existence check.
	fresh bool
	// operand: the pseudo-directory of a command-line operand; its
	// descriptors are AT_FDCWD for the source and the parent of the
	// destination, and it has no metadata of its own.
	operand bool
	// parents are the directories --parents made for the operand, to
	// finish when the operand is done.
	parents []parentDir
	done    chan struct{} // if not nil, closed when the operand is finished
	// existed: the destination directory was there before; without
	// --preserve its mode is left alone.
	existed bool
}

func (d *dirHandle) hold() { d.refs.Add(1) }

// drop releases one reference and reports whether it was the last.
func (d *dirHandle) drop() bool { return d.refs.Add(-1) == 0 }

func (d *dirHandle) close() {
	if d.ownSrc {
		closeQuick(d.srcFd)
		d.ownSrc = false
	}
	if d.dstFd >= 0 {
		unix.Close(d.dstFd)
	}
	if d.ownProbe {
		unix.Close(d.probeFd)
		d.ownProbe = false
	}
	d.srcFd, d.dstFd = -1, -1
}

// srcPath and dstPath are the display paths of an entry in the directory.
func (d *dirHandle) srcPath(name string) string { return joinDisplay(d.src(), name) }
func (d *dirHandle) dstPath(name string) string { return joinDisplay(d.dst(), name) }

// shownMax is the longest display path a directory handle keeps. Every
// handle of a walk's open directories holding its whole path made their
// memory grow with the square of the depth: 200 MB for a chain 10,000
// deep. Kept up to PATH_MAX, the paths of a deep chain take about a MiB
// at most; the paths of directories below are made when asked.
const shownMax = 4096

// named gives d, a directory just opened in parent, its names, and its
// display paths if they are short enough to keep.
func (d *dirHandle) named(parent *dirHandle, srcName, dstName string) {
	d.parent, d.srcName, d.dstName = parent, srcName, dstName
	if parent.shown && len(parent.shownSrc)+len(srcName) < shownMax && len(parent.shownDst)+len(dstName) < shownMax {
		d.shownSrc, d.shownDst = joinDisplay(parent.shownSrc, srcName), joinDisplay(parent.shownDst, dstName)
		d.shown = true
	}
}

// src and dst are the directory's display paths, as the user would name
// it: an operand's as given, a directory below joined to its parent's
// (and longer than PATH_MAX in a deep tree).
func (d *dirHandle) src() string { return d.path(false) }
func (d *dirHandle) dst() string { return d.path(true) }

func (d *dirHandle) path(dst bool) string {
	name := func(h *dirHandle) string {
		if dst {
			return h.dstName
		}
		return h.srcName
	}
	// Up to the nearest handle that keeps its path, measuring; then the
	// names are written from the right, in one allocation: made a level
	// at a time, a path thousands of levels deep would be copied
	// thousands of times.
	n, top := 0, d
	for ; !top.shown; top = top.parent {
		n += 1 + len(name(top))
	}
	base := top.shownSrc
	if dst {
		base = top.shownDst
	}
	if top == d {
		return base
	}
	buf := make([]byte, len(base)+n)
	i := len(buf)
	for h := d; h != top; h = h.parent {
		nm := name(h)
		i -= len(nm)
		copy(buf[i:], nm)
		left := base // what joinDisplay joins nm to
		if h.parent != top {
			left = name(h.parent)
		}
		if left != "" && left[len(left)-1] != '/' {
			i--
			buf[i] = '/'
		}
	}
	i -= len(base)
	copy(buf[i:], base)
	return string(buf[i:])
}

func joinDisplay(dir, name string) string {
	switch {
	case dir == "":
		return name
	case dir[len(dir)-1] == '/':
		return dir + name
	}
	return dir + "/" + name
}

// noteDst records what entries created in the destination directory
// get from it (st is its stat, dir its descriptor).
func (d *dirHandle) noteDst(dir int, st *unix.Stat_t) {
	d.dstDev, d.dstGid, d.dstSetgid = st.Dev, st.Gid, st.Mode&unix.S_ISGID != 0
	_, err := atNode{dir, "."}.getxattr("system.posix_acl_default", nil)
	d.defACL = err == nil
}

// created is what an entry made in the destination directory with perm
// gets from being created.
func (d *dirHandle) created(e *env, perm uint32) *created {
	gid := e.egid
	if d.dstSetgid {
		gid = d.dstGid
	}
	return &created{perm: perm, owner: [2]uint32{e.euid, gid}, defACL: d.defACL}
}
