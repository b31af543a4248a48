package tree

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// restoreBackup moves an entry --backup moved aside back to its name,
// when the copy that was to replace it failed.
func restoreBackup(dir int, name, backup string) {
	if backup != "" {
		renameat2(dir, backup, dir, name, unix.RENAME_NOREPLACE)
	}
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
	fd, err := openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	best, found := 0, false
	buf := make([]byte, 8192)
	prefix := name + ".~"
	for {
		n, err := readDirent(fd, buf)
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
