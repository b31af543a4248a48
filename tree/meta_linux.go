package tree

import (
	"bytes"
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// meta is one entry's metadata step.
type meta struct {
	dst, src inode
	st       *unix.Stat_t // the source's
	display  string
	// inherit is the file this copy replaces, and inheritNode that file
	// still at its name: a plain copy keeps its owner, mode and extended
	// attributes, as cp's in-place rewrite does.
	inherit     *unix.Stat_t
	inheritNode inode
	// permsSet: the entry was created with its final permission bits
	// (open, mkdir or mknod with createPerm, the kernel applying the umask
	// or a default ACL), so only --preserve=mode changes them.
	permsSet bool
	link     bool // a symlink: Linux has no mode for it
}

// applyMeta gives dst the metadata of src that the options preserve, in
// the order that keeps it: owner first (chown clears setuid/setgid), then
// extended attributes and ACLs, then the mode, then the times (last, as
// every other change could touch them).
func (c *Copier) applyMeta(m meta) error {
	pr := c.opts.Preserve
	switch {
	case pr.Ownership:
		if err := c.chown(m.dst, int(m.st.Uid), int(m.st.Gid)); err != nil {
			return &PathError{Op: "failed to preserve ownership for", Path: m.display, Err: err}
		}
	case m.inherit != nil:
		// Best effort, like cp's in-place overwrite keeping the owner.
		_ = m.dst.chown(int(m.inherit.Uid), int(m.inherit.Gid))
	}
	if m.inherit != nil && m.inheritNode != nil {
		copyXattrs(m.dst, m.inheritNode, func(string) bool { return true })
	}
	if pr.Xattr {
		// ACLs are part of the mode, not of xattr (cp --preserve=xattr
		// leaves them out).
		copyXattrs(m.dst, m.src, func(n string) bool { return !isACL(n) })
	}
	if pr.Mode {
		copyACLs(m.dst, m.src)
	}
	if !m.link {
		if mode, set := c.mode(m); set {
			if err := m.dst.chmod(mode); err != nil {
				return &PathError{Op: "failed to preserve permissions for", Path: m.display, Err: err}
			}
		}
	}
	if pr.Timestamps {
		ts := []unix.Timespec{m.st.Atim, m.st.Mtim}
		if err := m.dst.utimes(ts); err != nil {
			return &PathError{Op: "failed to preserve times for", Path: m.display, Err: err}
		}
	}
	return nil
}

// mode is the permission bits to set on an entry after its data, if any.
func (c *Copier) mode(m meta) (uint32, bool) {
	switch {
	case c.opts.Preserve.Mode:
		return m.st.Mode & 0o7777, true
	case m.inherit != nil:
		return m.inherit.Mode & 0o7777, true
	case m.permsSet:
		return 0, false
	}
	return m.st.Mode & 0o777 &^ c.umask, true
}

// createPerm is the mode to create an entry with. A plain copy creates it
// with the source's permissions and lets the kernel apply the umask or
// the directory's default ACL, as cp does; --no-preserve=mode uses the
// defaults of a new file (0666, or 0777 for directories). Entries whose
// mode is set afterwards are created private (0600).
func (c *Copier) createPerm(st *unix.Stat_t, later bool) uint32 {
	switch {
	case later || c.opts.Preserve.Mode:
		return 0o600
	case c.opts.DefaultMode && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return 0o777
	case c.opts.DefaultMode:
		return 0o666
	}
	return st.Mode & 0o777
}

// chown sets the owner. Without privilege it falls back to the group
// alone, and gives up silently, as cp does for non-root users.
func (c *Copier) chown(dst inode, uid, gid int) error {
	err := dst.chown(uid, gid)
	if err == nil || os.Geteuid() == 0 && !errors.Is(err, unix.EPERM) {
		return err
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
		if os.Geteuid() != 0 {
			_ = dst.chown(-1, gid)
			return nil
		}
	}
	return err
}

// copyXattrs copies the extended attributes of src that keep() accepts.
// Attributes the destination refuses (no xattr support, a namespace we may
// not write) are skipped silently, as cp -a does.
func copyXattrs(dst, src inode, keep func(string) bool) {
	names := readXattrList(src)
	if len(names) == 0 {
		return
	}
	val := make([]byte, 4096)
	for _, name := range bytes.Split(names, []byte{0}) {
		n := string(name)
		if n == "" || !keep(n) {
			continue
		}
		for {
			sz, err := src.getxattr(n, val)
			if err == unix.ERANGE {
				if sz, err = src.getxattr(n, nil); err == nil {
					val = make([]byte, sz)
					continue
				}
			}
			if err == nil {
				_ = dst.setxattr(n, val[:sz])
			}
			break
		}
	}
}

func isACL(name string) bool { return strings.HasPrefix(name, "system.posix_acl_") }

// copyACLs makes dst's POSIX ACLs (access, and default for directories)
// those of src: copied where src has one, removed where it has none, so an
// ACL inherited from the destination directory does not survive -p.
func copyACLs(dst, src inode) {
	for _, name := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
		sz, err := src.getxattr(name, nil)
		if err != nil {
			if err == unix.ENODATA {
				_ = dst.removexattr(name)
			}
			continue
		}
		val := make([]byte, sz)
		if n, err := src.getxattr(name, val); err == nil {
			_ = dst.setxattr(name, val[:n])
		}
	}
}

// readXattrList returns the NUL-separated attribute names of src.
func readXattrList(src inode) []byte {
	buf := make([]byte, 1024)
	for {
		n, err := src.listxattr(buf)
		if err == unix.ERANGE {
			sz, err := src.listxattr(nil)
			if err != nil {
				return nil
			}
			buf = make([]byte, sz+64)
			continue
		}
		if err != nil {
			return nil
		}
		return buf[:n]
	}
}
