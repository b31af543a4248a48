package tree

import (
	"fmt"
	"sync"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// promptMu serialises -i questions from concurrent workers.
var promptMu sync.Mutex

// overwriteQuestion is cp's -i question: it warns when the file is not
// writable ("replace 'f', overriding mode 0444 (r--r--r--)?").
func overwriteQuestion(at place, old *unix.Stat_t, dst string) string {
	if old.Mode&unix.S_IFMT != unix.S_IFLNK && faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS) != nil {
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

// ask puts q to the user (-i) and reports whether the answer was yes.
func (wk *worker) ask(q string) bool {
	if wk.opts.Prompt == nil {
		return false
	}
	promptMu.Lock()
	defer promptMu.Unlock()
	return wk.opts.Prompt(q)
}
