package tree

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// promptMu serialises -i questions from concurrent workers.
var promptMu sync.Mutex

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

// skipNotOlder is why -u leaves a destination alone.
const skipNotOlder = "destination is not older (-u)"

// verdict is what cp's rules say about an existing destination, decided
// without changing anything, so that the copy and --dry-run decide alike.
type verdict struct {
	decision
	skip   string // why the entry is left alone, or ""
	ask    bool   // -i: the user decides whether to go on
	refuse error  // the copy fails, once -i has asked
	remove bool   // --remove-destination: unlink it first
}

// judgeExisting applies cp's rules to old, an entry already at the
// destination name at, which the source j (whose stat is st) would
// replace. exclusive is set for -l and -s, which make a new entry and so
// meet an existing one unless it is moved away or removed. A refusal is
// an error; nothing is changed.
func (e *env) judgeExisting(j job, at place, st, old *unix.Stat_t, src, dst string, exclusive bool) (verdict, error) {
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
		return verdict{skip: "destination exists (-n)"}, nil
	case e.opts.RefuseExisting:
		return verdict{}, fmt.Errorf("not replacing %s", cpmsg.Quote(dst))
	case e.opts.Update && !newer(st, old) && j.link == nil:
		// (A later link of a file copied in this run replaces its
		// destination whatever its age, as cp's does, so that the
		// links stay links.)
		return verdict{skip: skipNotOlder}, nil
	}
	v := verdict{ask: e.opts.Overwrite == OverwriteAsk}
	if old.Mode&unix.S_IFMT == unix.S_IFDIR {
		// Refused, but only after -i asked (cp -iR asks first, and a
		// "no" is no error).
		v.refuse = fmt.Errorf("cannot overwrite directory %s with non-directory", cpmsg.Quote(dst))
		return v, nil
	}
	v.proceed = true
	switch {
	case e.opts.Backup != BackupNone:
		name := e.backupName(at.dir, at.name)
		var b unix.Stat_t
		if fstatat(at.dir, name, &b, true) == nil && sameInode(&b, st) {
			return verdict{}, fmt.Errorf("backing up %s might destroy source;  %s not copied", cpmsg.Quote(dst), cpmsg.Quote(src))
		}
		v.backup = name
		return v, nil
	case e.opts.Overwrite == OverwriteRemoveFirst:
		v.remove = true
		return v, nil
	case exclusive && !e.opts.Force && !(e.opts.Deref == DerefNever && st.Mode&unix.S_IFMT != unix.S_IFREG):
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
	if old.Mode&unix.S_IFMT == unix.S_IFREG && !exclusive {
		// cp opens the file for writing: a read-only one is refused, or
		// with -f removed and made anew (with the source's mode).
		if err := unix.Faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS); err == unix.EACCES {
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
func (wk *worker) checkExisting(j job, at place, r *result, st, old *unix.Stat_t, exclusive bool) (decision, error) {
	src, dst := r.ev.Src, r.ev.Dst
	v, err := wk.judgeExisting(j, at, st, old, src, dst, exclusive)
	switch {
	case err != nil:
		return decision{}, err
	case v.done:
		r.ev.Skipped = true
		return v.decision, nil
	case v.skip != "":
		r.ev.Skipped, r.ev.Reason = true, v.skip
		return decision{}, nil
	case v.ask && !wk.ask(overwriteQuestion(at, old, dst)):
		r.ev.Skipped = true
		return decision{}, nil
	case v.refuse != nil:
		return decision{}, v.refuse
	}
	switch {
	case v.backup != "":
		if err := unix.Renameat(at.dir, at.name, at.dir, v.backup); err != nil {
			return decision{}, pathErr("cannot backup", dst, err)
		}
	case v.remove:
		if err := unix.Unlinkat(at.dir, at.name, 0); err != nil && err != unix.ENOENT {
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
	how.replace = fstatat(at.dir, at.name, &t, false) == nil
}

// overwriteQuestion is cp's -i question: it warns when the file is not
// writable ("replace 'f', overriding mode 0444 (r--r--r--)?").
func overwriteQuestion(at place, old *unix.Stat_t, dst string) string {
	if old.Mode&unix.S_IFMT != unix.S_IFLNK && unix.Faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS) != nil {
		return fmt.Sprintf("replace %s, overriding mode %04o (%s)? ", cpmsg.Quote(dst), old.Mode&0o7777, permString(old.Mode))
	}
	return fmt.Sprintf("overwrite %s? ", cpmsg.Quote(dst))
}

// permString is the nine permission characters ls shows for mode.
func permString(mode uint32) string {
	b := []byte("rwxrwxrwx")
	for i := range b {
		if mode&(1<<(8-i)) == 0 {
			b[i] = '-'
		}
	}
	for _, sp := range []struct {
		bit      uint32
		at       int
		set, not byte
	}{{unix.S_ISUID, 2, 's', 'S'}, {unix.S_ISGID, 5, 's', 'S'}, {unix.S_ISVTX, 8, 't', 'T'}} {
		if mode&sp.bit != 0 {
			if b[sp.at] == 'x' {
				b[sp.at] = sp.set
			} else {
				b[sp.at] = sp.not
			}
		}
	}
	return string(b)
}

// sameFile applies cp's same-file rules to the source srcName in srcDir
// (stat st, as the copy opened it) and old, the entry dstName in dstDir.
func (e *env) sameFile(srcDir int, srcName string, dstDir int, dstName string, st, old *unix.Stat_t) sameVerdict {
	stat := func(dir int, name string, follow bool) func() *unix.Stat_t {
		return func() *unix.Stat_t {
			var s unix.Stat_t
			if fstatat(dir, name, &s, follow) != nil {
				return nil
			}
			return &s
		}
	}
	return sameFileOK(sameFacts{
		src: st, dst: old,
		srcL:     stat(srcDir, srcName, false),
		dstL:     stat(dstDir, dstName, false),
		srcS:     stat(srcDir, srcName, true),
		dstS:     stat(dstDir, dstName, true),
		sameName: func() bool { return sameEntry(srcDir, srcName, place{dir: dstDir, name: dstName}) },
	}, e.sameOptions())
}

// restoreBackup moves an entry --backup moved aside back to its name,
// when the copy that was to replace it failed.
func restoreBackup(dir int, name, backup string) {
	if backup != "" {
		unix.Renameat2(dir, backup, dir, name, unix.RENAME_NOREPLACE)
	}
}

// sameEntry reports whether the destination at is the very directory
// entry srcName in srcDir names (same directory, same name), not just
// another link to the same file.
func sameEntry(srcDir int, srcName string, at place) bool {
	dir, name := ".", srcName
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, name = name[:i+1], name[i+1:]
	}
	if name != at.name {
		return false
	}
	var a, b unix.Stat_t
	if fstatat(srcDir, dir, &a, true) != nil || fstatat(at.dir, ".", &b, true) != nil {
		return true // cannot tell: assume the worst
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func (wk *worker) ask(q string) bool {
	if wk.opts.Prompt == nil {
		return false
	}
	promptMu.Lock()
	defer promptMu.Unlock()
	return wk.opts.Prompt(q)
}

// newer reports whether a's modification time is after b's.
func newer(a, b *unix.Stat_t) bool {
	if a.Mtim.Sec != b.Mtim.Sec {
		return a.Mtim.Sec > b.Mtim.Sec
	}
	return a.Mtim.Nsec > b.Mtim.Nsec
}

// backupName is the name --backup gives the old name in dir.
func (e *env) backupName(dir int, name string) string {
	if e.opts.Backup != BackupSimple {
		n, found := highestBackup(dir, name)
		if found || e.opts.Backup == BackupNumbered {
			return name + ".~" + strconv.Itoa(n+1) + "~"
		}
	}
	return name + e.opts.BackupSuffix
}

// highestBackup finds the highest N of existing NAME.~N~ backups.
func highestBackup(dir int, name string) (int, bool) {
	fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	best, found := 0, false
	buf := make([]byte, 8192)
	prefix := name + ".~"
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil || n == 0 {
			return best, found
		}
		var names []string
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		for _, e := range names {
			if !strings.HasPrefix(e, prefix) || !strings.HasSuffix(e, "~") {
				continue
			}
			if v, err := strconv.Atoi(e[len(prefix) : len(e)-1]); err == nil && v > 0 {
				found = true
				best = max(best, v)
			}
		}
	}
}
