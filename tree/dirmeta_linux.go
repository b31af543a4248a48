package tree

import (
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// finishDir applies a directory's metadata once nothing more is written
// into it.
func (c *collector) finishDir(d *dirHandle) error {
	origin := madeDir
	if d.existed {
		origin = mergedDir
	}
	return c.dirMeta(fdNode(d.dstFd), fdNode(d.srcFd), &d.st, origin, d.dst())
}

// dirOrigin says whether the copy of a directory was made by this run or
// was there already and merged into.
type dirOrigin bool

const (
	madeDir   dirOrigin = false
	mergedDir dirOrigin = true
)

// dirMeta gives a directory cowcp made (or merged into) its metadata. A
// new one was made with createPerm plus owner rwx, so it could be filled
// whatever the source's mode; that extra access is taken back.
func (c *collector) dirMeta(dst, src inode, st *unix.Stat_t, origin dirOrigin, display string) error {
	existed := origin == mergedDir
	plain := c.createPerm(st)
	// Made with the source's bits (plus owner rwx): the kernel's umask or
	// default ACL decided the rest, as for cp. Made private: set them.
	madeWithSource := c.dirPerm(st) == plain|0o700
	m := meta{dst: dst, src: src, st: st, display: display, permsSet: existed || madeWithSource}
	if err := c.applyMeta(m); err != nil || c.opts.Preserve.Mode || existed || !madeWithSource {
		return err
	}
	extra := 0o700 &^ plain
	if extra == 0 {
		return nil
	}
	var now unix.Stat_t
	if err := statNode(dst, &now); err != nil {
		return pathErr("cannot stat", display, err)
	}
	if err := dst.chmod(now.Mode & 0o7777 &^ extra); err != nil {
		return &cpmsg.PathError{Op: "failed to set permissions for", Path: display, Err: err}
	}
	return nil
}
