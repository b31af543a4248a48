package tree

import (
	"sync"

	"github.com/cowcp/cowcp/internal/eintr"
	"golang.org/x/sys/unix"
)

// direntBufs are getdents buffers, shared by every directory being read.
// An *os.File keeps a buffer of its own from its first ReadDir until it is
// closed; the walk keeps each directory open while it copies the ones
// below, so a chain 10,000 deep kept 80 MB of them.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

// readNames appends to names the names of the next entries of the open
// directory fd (one getdents: a batch, so a directory of millions of
// entries is streamed, not listed), without "." and "..". None means the
// end. The directory's offset is the kernel's, so the buffer goes back to
// the pool before the names are used.
func readNames(fd int, names []string) ([]string, error) {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := eintr.Ignoring2(func() (int, error) { return unix.Getdents(fd, buf) })
		if err != nil || n <= 0 {
			return names, err
		}
		before := len(names)
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		if len(names) > before {
			return names, nil
		}
		// Only "." and "..": read on.
	}
}
