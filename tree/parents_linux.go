package tree

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// parentDir is a directory --parents made; its metadata is applied once
// everything below it is copied, like any other directory's.
type parentDir struct {
	src, dst string
	st       unix.Stat_t
}

// makeParents creates the directories between DEST and dst that
// --parents adds: for source a/b/c and dst DEST/a/b/c, DEST/a and
// DEST/a/b, each like its source directory. It reports false after a
// failure.
func (c *Copier) makeParents(dst, src string) bool {
	rel := strings.TrimLeft(src, "/")
	base, srcBase := strings.TrimSuffix(dst, rel), src[:len(src)-len(rel)]
	dir := path.Dir(rel)
	if dir == "." || dir == "/" {
		return true
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		sp, dp := srcBase+sub, base+sub
		var st unix.Stat_t
		if err := fstatat(unix.AT_FDCWD, sp, &st, true); err != nil {
			c.fail(sp, dp, pathErr("cannot stat", sp, err))
			return false
		}
		err := unix.Mkdirat(unix.AT_FDCWD, dp, 0o700)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			c.fail(sp, dp, pathErr("cannot make directory", dp, err))
			return false
		}
		c.parents = append(c.parents, parentDir{src: sp, dst: dp, st: st})
		c.pool.Report(result{ev: Event{Kind: KindDir, Src: sp, Dst: dp}})
	}
	return true
}

// finishParents applies the metadata of the directories --parents made,
// deepest first. It runs after the workers are done.
func (c *Copier) finishParents() {
	for i := len(c.parents) - 1; i >= 0; i-- {
		p := c.parents[i]
		if err := c.applyMeta(atNode{unix.AT_FDCWD, p.dst}, atNode{unix.AT_FDCWD, p.src}, &p.st, nil, false, p.dst); err != nil {
			c.stats.fail(p.dst, err)
			if c.opts.Observe != nil {
				c.opts.Observe(Event{Kind: KindDir, Src: p.src, Dst: p.dst, Err: err})
			}
		}
	}
}
