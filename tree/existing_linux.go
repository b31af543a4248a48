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

// checkExisting decides what to do about old, an entry already at the
// destination name, before st replaces it. It returns proceed=false to
// leave old alone (r is marked skipped), or an error.
func (c *Copier) checkExisting(at place, r *result, st, old *unix.Stat_t) (bool, error) {
	src, dst := r.ev.Src, r.ev.Dst
	if old.Dev == st.Dev && old.Ino == st.Ino {
		return false, fmt.Errorf("%s and %s are the same file", Quote(src), Quote(dst))
	}
	if old.Mode&unix.S_IFMT == unix.S_IFDIR {
		return false, fmt.Errorf("cannot overwrite directory %s with non-directory", Quote(dst))
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
		return false, nil
	}
	if !c.opts.Force && c.opts.Overwrite != OverwriteRemoveFirst && old.Mode&unix.S_IFMT == unix.S_IFREG {
		// cp opens the file for writing and fails on a read-only one
		// unless -f; replacing it by rename would quietly succeed.
		if err := unix.Faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS); err == unix.EACCES {
			return false, pathErr("cannot create regular file", dst, err)
		}
	}
	if c.opts.Backup != BackupNone {
		if err := c.backup(at.dir, at.name, dst); err != nil {
			return false, err
		}
	} else if c.opts.Overwrite == OverwriteRemoveFirst {
		if err := unix.Unlinkat(at.dir, at.name, 0); err != nil && err != unix.ENOENT {
			return false, pathErr("cannot remove", dst, err)
		}
	}
	return true, nil
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
	bak := name + c.opts.BackupSuffix
	if c.opts.Backup != BackupSimple {
		n, found := highestBackup(dir, name)
		if found || c.opts.Backup == BackupNumbered {
			bak = name + ".~" + strconv.Itoa(n+1) + "~"
		}
	}
	if err := unix.Renameat(dir, name, dir, bak); err != nil {
		return pathErr("cannot backup", display, err)
	}
	return nil
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
