package tree

import (
	"os"
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
	srcDir       *os.File // the open source directory, read by the walker
	srcFd, dstFd int
	src, dst     string      // display paths; may be longer than PATH_MAX
	srcName      string      // its name in parent's source directory
	st           unix.Stat_t // the source directory, for its metadata
	dstDev       uint64      // device of the destination directory
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
	if d.srcDir != nil {
		d.srcDir.Close()
		d.srcDir = nil
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
func (d *dirHandle) srcPath(name string) string { return joinDisplay(d.src, name) }
func (d *dirHandle) dstPath(name string) string { return joinDisplay(d.dst, name) }

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
