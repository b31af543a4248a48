package tree

import (
	"fmt"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// decision is what to do about an entry already at a destination name.
type decision struct {
	proceed bool // copy; otherwise leave the entry alone
	// done: there is nothing to do and that is success (cp -l onto a
	// link of the source).
	done bool
	// replace: the entry is still there, so the copy is renamed over it
	// (or, for a regular file, written in place: see inPlace).
	replace bool
	// inherit: the copy keeps the entry's owner, mode and extended
	// attributes, as cp's rewrite of an existing file in place does.
	inherit bool
	// target, if set, is the name to write instead (a file copied onto
	// itself with -fb is copied to its backup name).
	target string
	// backup is the name the entry was moved to (--backup), moved back
	// if the copy fails.
	backup string
}

// exclusivity says whether what a copy makes may take the place of an
// entry already at its name. -l and -s make a new entry, which cp will
// not put over an existing one unless it moves or removes it first.
type exclusivity bool

const (
	mayReplace exclusivity = false
	exclusive  exclusivity = true
)

// verdict is what cp's rules say about an existing destination, decided
// without changing anything, so that the copy and --dry-run decide alike.
type verdict struct {
	decision
	skip   Skip  // why the entry is left alone, or SkipNone
	ask    bool  // -i: the user decides whether to go on
	refuse error // the copy fails, once -i has asked
	remove bool  // --remove-destination: unlink it first
}

// judgeExisting applies cp's rules to old, an entry already at the
// destination name at, which the source j (whose stat is st) would
// replace. -l and -s make their entries exclusive: they meet an existing
// one unless it is moved away or removed. A refusal is
// an error; nothing is changed.
func (e *env) judgeExisting(j job, at place, st, old *unix.Stat_t, src, dst string, excl exclusivity) (verdict, error) {
	if e.opts.Force && e.opts.Backup != BackupNone && st.Mode&unix.S_IFMT == unix.S_IFREG &&
		sameInode(old, st) && sameEntry(j.dir.srcFd, j.srcName, at) {
		// cp -fb f f: the file stays, and its copy becomes the backup.
		return verdict{decision: decision{proceed: true, target: e.backupName(at.dir, at.name)}}, nil
	}
	switch e.sameFile(j.dir.srcFd, j.srcName, j.dir.dstFd, j.dstName, st, old) {
	case sameDone:
		return verdict{decision: decision{done: true}}, nil
	case sameRefuse:
		return verdict{}, fmt.Errorf("%s and %s are the same file", cpmsg.Quote(src), cpmsg.Quote(dst))
	}
	switch {
	case e.opts.Overwrite == OverwriteNever:
		return verdict{skip: SkipExists}, nil
	case e.opts.RefuseExisting:
		return verdict{}, fmt.Errorf("not replacing %s", cpmsg.Quote(dst))
	case e.opts.Update && !newer(st, old) && j.link == nil:
		// (A later link of a file copied in this run replaces its
		// destination whatever its age, as cp's does, so that the
		// links stay links.)
		return verdict{skip: SkipNotNewer}, nil
	}
	v := verdict{ask: e.opts.Overwrite == OverwriteAsk}
	if old.Mode&unix.S_IFMT == unix.S_IFDIR {
		// Refused, but only after -i asked (cp -iR asks first, and a
		// "no" is no error).
		v.refuse = fmt.Errorf("cannot overwrite directory %s with non-directory", cpmsg.Quote(dst))
		return v, nil
	}
	v.proceed = true
	return e.judgeReplacement(v, at, st, old, src, dst, excl)
}

// judgeReplacement is the rest of judgeExisting, for an entry the copy
// goes ahead over: whether it is moved to its backup name, removed first
// or replaced, and whether its replacement keeps its owner, mode and
// extended attributes (inherit).
func (e *env) judgeReplacement(v verdict, at place, st, old *unix.Stat_t, src, dst string, excl exclusivity) (verdict, error) {
	switch {
	case e.opts.Backup != BackupNone:
		name := e.backupName(at.dir, at.name)
		var b unix.Stat_t
		if statat(at.dir, name, &b) == nil && sameInode(&b, st) {
			return verdict{}, fmt.Errorf("backing up %s might destroy source;  %s not copied", cpmsg.Quote(dst), cpmsg.Quote(src))
		}
		v.backup = name
		return v, nil
	case e.opts.Overwrite == OverwriteRemoveFirst:
		v.remove = true
		return v, nil
	case excl == exclusive && !e.opts.Force && !(e.opts.Deref == DerefNever && st.Mode&unix.S_IFMT != unix.S_IFREG):
		// (cp removes the destination first for a symlink or special
		// source it does not follow, whatever it makes of it.)
		return verdict{}, unix.EEXIST // the caller words it
	}
	v.replace = true
	if e.opts.Preserve.Links && old.Nlink > 1 {
		// cp removes a destination with other links before copying when
		// it preserves links (so they keep the old content), and makes
		// the file anew: a new file renamed over it is that result.
		return v, nil
	}
	if old.Mode&unix.S_IFMT == unix.S_IFLNK {
		return v, nil // a symlink loop cp -f replaces: a new file, nothing inherited
	}
	v.inherit = true
	if old.Mode&unix.S_IFMT == unix.S_IFREG && excl == mayReplace && e.euid != 0 {
		// cp opens the file for writing: a read-only one is refused, or
		// with -f removed and made anew (with the source's mode). (Root
		// is never refused for want of permission.)
		if err := faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS); err == unix.EACCES {
			if !e.opts.Force {
				return verdict{}, pathErr("cannot create regular file", dst, err)
			}
			v.inherit = false
		}
	}
	return v, nil
}

// checkExisting decides what to do about old, an entry already at the
// destination name at, and does what must happen first: asks (-i), moves
// the entry to its backup name, or removes it. A skip marks r skipped; a
// refusal is an error.
func (wk *worker) checkExisting(j job, at place, r *result, st, old *unix.Stat_t, excl exclusivity) (decision, error) {
	src, dst := r.ev.Src, r.ev.Dst
	v, err := wk.judgeExisting(j, at, st, old, src, dst, excl)
	switch {
	case err != nil:
		return decision{}, err
	case v.done:
		r.skip(SkipSame, "")
		return v.decision, nil
	case v.skip != SkipNone:
		r.skip(v.skip, v.skip.reason())
		return decision{}, nil
	case v.ask && !wk.ask(overwriteQuestion(at, old, dst)):
		r.skip(SkipDeclined, "")
		return decision{}, nil
	case v.refuse != nil:
		return decision{}, v.refuse
	}
	switch {
	case v.backup != "":
		wk.arm()
		if err := renameat(at.dir, at.name, at.dir, v.backup); err != nil {
			return decision{}, pathErr("cannot backup", dst, err)
		}
	case v.remove:
		if err := unlinkat(at.dir, at.name, 0); err != nil && err != unix.ENOENT {
			return decision{}, pathErr("cannot remove", dst, err)
		}
	}
	return v.decision, nil
}

// retarget points at to how.target, if the decision has one: a file
// copied onto itself with -fb is copied to its backup name, replacing what
// is there. r names that as the destination, as cp -v does ('f' -> 'f~').
func retarget(how *decision, at *place, j job, r *result) {
	if how.target == "" {
		return
	}
	at.name = how.target
	r.ev.Dst = j.dir.dstPath(how.target)
	var t unix.Stat_t
	how.replace = lstatat(at.dir, at.name, &t) == nil
}

// newer reports whether a's modification time is after b's.
func newer(a, b *unix.Stat_t) bool {
	if a.Mtim.Sec != b.Mtim.Sec {
		return a.Mtim.Sec > b.Mtim.Sec
	}
	return a.Mtim.Nsec > b.Mtim.Nsec
}
