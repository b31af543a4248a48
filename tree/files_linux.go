package tree

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// filesMu serializes raising the limit on open files.
var filesMu sync.Mutex

// moreFiles raises the process's limit on open files after an open failed
// with EMFILE, and reports whether it grew: the soft limit to the hard
// one (Go's runtime does that at start-up, unless the limit changed
// since), else, where the process may (root), both to twice the hard
// limit, up to the system's fs.nr_open.
//
// The walk holds two descriptors per level of the tree, the source and
// destination directories it is filling, so a tree 10,000 levels deep
// needs 20,000 of them: as many as a common hard limit allows, while cp
// stops long before, at PATH_MAX. Nothing else holds a descriptor per
// level, so the limit grows only for trees that deep.
func moreFiles() bool {
	filesMu.Lock()
	defer filesMu.Unlock()
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return false
	}
	want := lim
	if lim.Cur < lim.Max {
		want.Cur = lim.Max
	} else {
		want.Max = min(2*lim.Max, nrOpen())
		want.Cur = want.Max
		if want.Max <= lim.Max {
			return false
		}
	}
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &want) == nil
}

// nrOpen is the most descriptors a process may have (fs.nr_open).
func nrOpen() uint64 {
	const fallback = 1 << 20 // the kernel's default
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return fallback
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return fallback
	}
	return n
}
