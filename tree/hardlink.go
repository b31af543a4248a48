//go:build linux

package tree

import (
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// devIno identifies an inode.
type devIno struct{ dev, ino uint64 }

// linkGroup is an inode with several links inside the copied tree. The
// first link found is copied; the others wait for that copy and link to it.
type linkGroup struct {
	done chan struct{}
	// Set by the worker copying the first link before done is closed.
	dst string // display path of the copy, to link the others to
	// fd is an O_PATH descriptor of the copy when dst is too long for
	// linkat (PATH_MAX); -1 otherwise.
	fd int
	// dir and ino are the copy's directory and the copy itself. A later
	// link is made by the path dst only to them: whoever can write the
	// destination may have swapped a directory on that path for a
	// symlink meanwhile, and the link must not be to a file elsewhere.
	dir, ino devIno
	ok       bool
	// kept: the first's destination was left as it was (-u), so what is
	// linked to it now is linked to it after the copy too.
	kept bool
}

// finish publishes the first copy's outcome to the waiting links.
func (g *linkGroup) finish(dst string, fd int, dir, ino devIno, ok, kept bool) {
	g.dst, g.fd, g.dir, g.ino, g.ok, g.kept = dst, fd, dir, ino, ok, kept
	close(g.done)
}

// openFirst opens the directory of the first copy by its path, and returns
// it and the copy's name in it, if they still are the directory the copy
// was made in and the copy; otherwise ENOENT: the copy is not at that
// path any more. The caller closes the descriptor.
func (g *linkGroup) openFirst() (int, string, error) {
	dir, name := filepath.Split(g.dst)
	if dir == "" {
		dir = "."
	}
	fd, err := openat(unix.AT_FDCWD, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", err
	}
	var d, f unix.Stat_t
	if fstat(fd, &d) != nil || (devIno{d.Dev, d.Ino}) != g.dir ||
		lstatat(fd, name, &f) != nil || (devIno{f.Dev, f.Ino}) != g.ino {
		unix.Close(fd)
		return -1, "", unix.ENOENT
	}
	return fd, name, nil
}

// abandon finishes a group whose first copy will never be made. It is a
// no-op on nil so callers need not check.
func (g *linkGroup) abandon() {
	if g != nil {
		g.fd = -1 // not ok: the later links are copied on their own
		close(g.done)
	}
}

// linkSet remembers inodes with several links until all their links in
// the tree were seen. It is the walker's.
type linkSet struct {
	groups map[devIno]*linkEntry
}

type linkEntry struct {
	g       *linkGroup
	pending uint64 // links not seen yet
}

func newLinkSet() *linkSet { return &linkSet{groups: map[devIno]*linkEntry{}} }

// see returns the group of an inode with nlink links and whether this is
// its first link in the tree. Inodes with one link return nil.
func (s *linkSet) see(dev, ino, nlink uint64) (g *linkGroup, first bool) {
	if nlink < 2 {
		return nil, false
	}
	k := devIno{dev, ino}
	e, ok := s.groups[k]
	if !ok {
		e = &linkEntry{g: &linkGroup{done: make(chan struct{})}, pending: nlink - 1}
		s.groups[k] = e
		return e.g, true
	}
	e.pending--
	if e.pending == 0 {
		// Every link is accounted for; forget the inode to bound memory.
		delete(s.groups, k)
	}
	return e.g, false
}

// heldFds are the O_PATH descriptors of first copies too deep to name in
// linkat, kept so later links can be made through /proc/self/fd. Workers
// add to it; Close closes them all once the workers are done.
type heldFds struct {
	mu  sync.Mutex
	fds []int
}

func (h *heldFds) add(fd int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fds = append(h.fds, fd)
}

func (h *heldFds) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fd := range h.fds {
		unix.Close(fd)
	}
	h.fds = nil
}
