package tree

import (
	"path"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// parentDir is a directory --parents made.
type parentDir struct {
	src, dst string
	st       unix.Stat_t
	existed  bool // there already: only its mode changes
}

// makeParents creates the directories between DEST and dst that
// --parents adds: for source a/b/c and dst DEST/a/b/c, DEST/a and
// DEST/a/b, each like its source directory. It returns those it made,
// whose metadata finishParents applies once the operand is copied (as
// cp does), and false after a failure.
func (w *walker) makeParents(dst, src string) ([]parentDir, bool) {
	var made []parentDir
	rel := strings.TrimLeft(src, "/")
	base, srcBase := strings.TrimSuffix(dst, rel), src[:len(src)-len(rel)]
	dir := path.Dir(rel)
	if dir == "." || dir == "/" {
		return nil, true
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		sp, dp := srcBase+sub, base+sub
		var st unix.Stat_t
		if err := statat(unix.AT_FDCWD, sp, &st); err != nil {
			w.fail(sp, dp, pathErr("cannot stat", sp, err))
			return made, false
		}
		err := mkdirat(unix.AT_FDCWD, dp, w.dirPerm(&st))
		if err == unix.EEXIST {
			if w.opts.Preserve.Mode {
				// cp -p --parents gives existing parents their sources'
				// modes, not their times (coreutils' parent-perm).
				made = append(made, parentDir{src: sp, dst: dp, st: st, existed: true})
			}
			continue
		}
		if err != nil {
			w.fail(sp, dp, pathErr("cannot make directory", dp, err))
			return made, false
		}
		made = append(made, parentDir{src: sp, dst: dp, st: st})
		w.pool.Report(result{ev: Event{Kind: KindDir, Src: sp, Dst: dp}})
	}
	return made, true
}

// finishParents applies the metadata of the directories --parents made
// for an operand, deepest first, once the operand is copied.
func (c *collector) finishParents(dirs []parentDir) {
	for i := len(dirs) - 1; i >= 0; i-- {
		p := dirs[i]
		var err error
		if p.existed {
			if err = fchmodat(unix.AT_FDCWD, p.dst, p.st.Mode&0o7777, 0); err != nil {
				err = &cpmsg.PathError{Op: "preserving permissions for", Path: p.dst, Err: err}
			}
		} else {
			err = c.dirMeta(atNode{unix.AT_FDCWD, p.dst}, atNode{unix.AT_FDCWD, p.src}, &p.st, madeDir, p.dst)
		}
		if err != nil {
			c.stats.fail(p.dst, err)
			c.observe(Event{Kind: KindDir, Src: p.src, Dst: p.dst, Err: err})
		}
	}
}
