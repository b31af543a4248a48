package tree

import (
	"bytes"
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// applyMeta gives dst the metadata of src that the options preserve, in
// the order that keeps it: owner first (chown clears setuid/setgid), then
// extended attributes and ACLs, then the mode, then the times (last, as
// every other change could touch them). old is the file being replaced,
// whose mode and owner a plain copy keeps, as cp does when it overwrites.
func (c *Copier) applyMeta(dst, src inode, st, old *unix.Stat_t, isLink bool, display string) error {
	pr := c.opts.Preserve
	switch {
	case pr.Ownership:
		if err := c.chown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return &PathError{Op: "failed to preserve ownership for", Path: display, Err: err}
		}
	case old != nil:
		// Best effort, like cp's in-place overwrite keeping the owner.
		_ = dst.chown(int(old.Uid), int(old.Gid))
	}
	switch {
	case pr.Xattr:
		copyXattrs(dst, src, func(string) bool { return true })
	case pr.Mode:
		// -p keeps ACLs, which live in system.posix_acl_* attributes.
		copyXattrs(dst, src, func(n string) bool { return strings.HasPrefix(n, "system.posix_acl_") })
	}
	if !isLink {
		mode, set := c.mode(st, old)
		if set {
			if err := dst.chmod(mode); err != nil {
				return &PathError{Op: "failed to preserve permissions for", Path: display, Err: err}
			}
		}
	}
	if pr.Timestamps {
		ts := []unix.Timespec{st.Atim, st.Mtim}
		if err := dst.utimes(ts); err != nil {
			return &PathError{Op: "failed to preserve times for", Path: display, Err: err}
		}
	}
	return nil
}

// mode is the permission bits a new entry gets, and whether to set them.
func (c *Copier) mode(st, old *unix.Stat_t) (uint32, bool) {
	switch {
	case c.opts.Preserve.Mode:
		return st.Mode & 0o7777, true
	case old != nil:
		return old.Mode & 0o7777, true
	}
	// A plain copy: the source's permissions less the umask, and without
	// setuid, setgid and sticky bits, which only -p may carry over.
	return st.Mode & 0o777 &^ c.umask, true
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
