//go:build linux

package testtree

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Build makes root, a directory (0755), and the nodes under it, in order:
// each with its owner, then its mode, then its extended attributes (so
// that a directory's default ACL is there for the entries made in it). The
// modification times are set last, once making the tree can no longer move
// them. A "." node, a directory, gives root its own mode, owner,
// attributes and time.
//
// A directory whose mode denies its owner writing or searching it is kept
// writable and searchable while the tree is made, and given its mode (and
// its attributes again, for an access ACL) at the end, so that a test
// without privileges can fill it.
func Build(t testing.TB, root string, nodes []Node) {
	t.Helper()
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &cursor{root: root, fd: -1}
	defer c.close()
	later := map[int]bool{} // directories whose mode is set at the end
	for i, n := range nodes {
		dirfd, name, err := c.parent(n.Path)
		if err == nil {
			later[i], err = c.make(dirfd, name, n)
		}
		if err != nil {
			t.Fatalf("making %q: %v", n.Path, err)
		}
	}
	// Last first: an entry is finished before its directory's mode may
	// shut it.
	for i, n := range slices.Backward(nodes) {
		if !later[i] && n.Mtime == nil {
			continue
		}
		dirfd, name, err := c.parent(n.Path)
		if err == nil && later[i] {
			err = setMode(dirfd, name, n, n.Mode)
		}
		if err == nil && n.Mtime != nil {
			ts := []unix.Timespec{*n.Mtime, *n.Mtime}
			err = unix.UtimesNanoAt(dirfd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			t.Fatalf("finishing %q: %v", n.Path, err)
		}
	}
}

// Parent calls fn with a descriptor of the directory holding path
// (relative to root) and path's last component, reaching the directory
// one level at a time, so that depth is not limited by PATH_MAX. For "."
// it passes unix.AT_FDCWD and root itself.
func Parent(root, path string, fn func(dirfd int, name string) error) error {
	c := &cursor{root: root, fd: -1}
	defer c.close()
	dirfd, name, err := c.parent(path)
	if err != nil {
		return err
	}
	return fn(dirfd, name)
}

// cursor holds a descriptor of the directory of the node made last, so
// that the next node in the same directory or below it is reached from
// there: a chain of a thousand levels is made in a thousand steps, not
// half a million.
type cursor struct {
	root string
	path string // the directory open at fd, relative to root; "" for root
	fd   int    // an O_PATH descriptor, or -1
}

func (c *cursor) close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	c.fd, c.path = -1, ""
}

// parent returns a descriptor of the directory holding p and p's last
// component.
func (c *cursor) parent(p string) (int, string, error) {
	if p == "." {
		return unix.AT_FDCWD, c.root, nil
	}
	dir, name := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, name = p[:i], p[i+1:]
	}
	if c.fd < 0 || c.path != "" && dir != c.path && !strings.HasPrefix(dir, c.path+"/") {
		c.close()
		fd, err := unix.Open(c.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, "", err
		}
		c.fd = fd
	}
	rest := dir
	if c.path != "" {
		rest = strings.TrimPrefix(strings.TrimPrefix(dir, c.path), "/")
	}
	if rest != "" {
		for _, comp := range strings.Split(rest, "/") {
			next, err := unix.Openat(c.fd, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				c.close()
				return -1, "", err
			}
			unix.Close(c.fd)
			c.fd = next
			if c.path == "" {
				c.path = comp
			} else {
				c.path += "/" + comp
			}
		}
	}
	return c.fd, name, nil
}

// make makes n as name in dirfd with its owner, mode and attributes. It
// reports whether n is a directory whose mode is left for the end.
func (c *cursor) make(dirfd int, name string, n Node) (later bool, err error) {
	switch n.Kind {
	case Dir:
		if n.Path != "." {
			err = unix.Mkdirat(dirfd, name, 0o700)
		}
	case File:
		err = writeAt(dirfd, name, n)
	case Symlink:
		err = unix.Symlinkat(n.Target, dirfd, name)
	case Hardlink:
		// A hard link shares its target's metadata.
		return false, Parent(c.root, n.Target, func(olddirfd int, oldname string) error {
			return unix.Linkat(olddirfd, oldname, dirfd, name, 0)
		})
	case FIFO:
		err = unix.Mknodat(dirfd, name, unix.S_IFIFO|0o600, 0)
	case Socket:
		err = unix.Mknodat(dirfd, name, unix.S_IFSOCK|0o600, 0)
	case CharDev:
		err = unix.Mknodat(dirfd, name, unix.S_IFCHR|0o600, int(n.Rdev))
	case BlockDev:
		err = unix.Mknodat(dirfd, name, unix.S_IFBLK|0o600, int(n.Rdev))
	default:
		err = fmt.Errorf("unknown kind %q", n.Kind)
	}
	if err != nil {
		return false, err
	}
	if n.Owner != nil {
		if err := unix.Fchownat(dirfd, name, n.Owner.UID, n.Owner.GID, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return false, fmt.Errorf("chown: %w", err)
		}
	}
	mode := n.Mode
	if n.Kind == Dir && mode&0o300 != 0o300 {
		mode, later = mode|0o300, true
	}
	return later, setMode(dirfd, name, n, mode)
}

// setMode gives name in dirfd the mode (but to a symbolic link) and then
// n's extended attributes.
func setMode(dirfd int, name string, n Node, mode uint32) error {
	if n.Kind != Symlink {
		if err := unix.Fchmodat(dirfd, name, mode, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	for _, x := range n.Xattrs {
		if err := unix.Lsetxattr(procPath(dirfd, name), x.Name, x.Value, 0); err != nil {
			return fmt.Errorf("setxattr %s: %w", x.Name, err)
		}
	}
	return nil
}

// writeAt makes the file n as name in dirfd.
func writeAt(dirfd int, name string, n Node) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return writeSegs(fd, n.Size, n.Segs)
}

// procPath names name in dirfd by a short path, whatever the depth, for
// the calls that have no descriptor-relative form (the l*xattr calls,
// which do not follow the last component).
func procPath(dirfd int, name string) string {
	if dirfd == unix.AT_FDCWD {
		return name
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, name)
}
