package tree

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// promptMu serialises -i questions from concurrent workers.
var promptMu sync.Mutex

// decision is what to do about an entry already at a destination name.
type decision struct {
	proceed bool // copy; otherwise leave the entry alone
	// replace: the entry is still there, so the copy is renamed over it.
	replace bool
	// inherit: the copy keeps the entry's owner, mode and extended
	// attributes, as cp's rewrite of an existing file in place does.
	inherit bool
	// target, if set, is the name to write instead (a file copied onto
	// itself with -fb is copied to its backup name).
	target string
}

// checkExisting decides what to do about old, an entry already at the
// destination name at, before the source j (whose stat is st) replaces
// it. A skip marks r skipped; a refusal is an error.
func (c *Copier) checkExisting(j job, at place, r *result, st, old *unix.Stat_t) (decision, error) {
	src, dst := r.ev.Src, r.ev.Dst
	if old.Dev == st.Dev && old.Ino == st.Ino {
		switch {
		case c.opts.Force && c.opts.Backup != BackupNone && st.Mode&unix.S_IFMT == unix.S_IFREG:
			// cp -fb f f: the file stays, and its copy becomes the backup.
			return decision{proceed: true, target: c.backupName(at.dir, at.name)}, nil
		case c.opts.Overwrite == OverwriteRemoveFirst && st.Nlink > 1 && !sameEntry(j, at):
			// Another name of the same file: removing it is harmless.
		default:
			return decision{}, fmt.Errorf("%s and %s are the same file", Quote(src), Quote(dst))
		}
	}
	if old.Mode&unix.S_IFMT == unix.S_IFDIR {
		return decision{}, fmt.Errorf("cannot overwrite directory %s with non-directory", Quote(dst))
	}
	skip := false
	switch {
	case c.opts.Overwrite == OverwriteNever:
		skip = true
	case c.opts.Update && !newer(st, old):
		skip = true
	case c.opts.Overwrite == OverwriteAsk:
		skip = !c.ask(fmt.Sprintf("overwrite %s? ", Quote(dst)))
	}
	if skip {
		r.ev.Skipped = true
		return decision{}, nil
	}
	switch {
	case c.opts.Backup != BackupNone:
		if err := c.backup(at.dir, at.name, dst); err != nil {
			return decision{}, err
		}
		return decision{proceed: true}, nil
	case c.opts.Overwrite == OverwriteRemoveFirst:
		if err := unix.Unlinkat(at.dir, at.name, 0); err != nil && err != unix.ENOENT {
			return decision{}, pathErr("cannot remove", dst, err)
		}
		return decision{proceed: true}, nil
	}
	d := decision{proceed: true, replace: true, inherit: true}
	if old.Mode&unix.S_IFMT == unix.S_IFREG {
		// cp opens the file for writing: a read-only one is refused, or
		// with -f removed and made anew (with the source's mode).
		if err := unix.Faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS); err == unix.EACCES {
			if !c.opts.Force {
				return decision{}, pathErr("cannot create regular file", dst, err)
			}
			d.inherit = false
		}
	}
	return d, nil
}

// sameEntry reports whether the destination at is the very directory
// entry the source j was opened by (same directory, same name), not just
// another link to the same file.
func sameEntry(j job, at place) bool {
	dir, name := ".", j.srcName
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, name = name[:i+1], name[i+1:]
	}
	if name != at.name {
		return false
	}
	var a, b unix.Stat_t
	if fstatat(j.dir.srcFd, dir, &a, true) != nil || fstatat(at.dir, ".", &b, true) != nil {
		return true // cannot tell: assume the worst
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func (c *Copier) ask(q string) bool {
	if c.opts.Prompt == nil {
		return false
	}
	promptMu.Lock()
	defer promptMu.Unlock()
	return c.opts.Prompt(q)
}

// newer reports whether a's modification time is after b's.
func newer(a, b *unix.Stat_t) bool {
	if a.Mtim.Sec != b.Mtim.Sec {
		return a.Mtim.Sec > b.Mtim.Sec
	}
	return a.Mtim.Nsec > b.Mtim.Nsec
}

// backup renames name in dir to its backup name (--backup).
func (c *Copier) backup(dir int, name, display string) error {
	if err := unix.Renameat(dir, name, dir, c.backupName(dir, name)); err != nil {
		return pathErr("cannot backup", display, err)
	}
	return nil
}

// backupName is the name --backup gives the old name in dir.
func (c *Copier) backupName(dir int, name string) string {
	if c.opts.Backup != BackupSimple {
		n, found := highestBackup(dir, name)
		if found || c.opts.Backup == BackupNumbered {
			return name + ".~" + strconv.Itoa(n+1) + "~"
		}
	}
	return name + c.opts.BackupSuffix
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
