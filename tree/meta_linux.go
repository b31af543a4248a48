package tree

import (
	"bytes"
	"errors"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
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
	// fresh, for an entry this run created, says what creating it gave
	// it, so chown and chmod can be skipped where they would change
	// nothing.
	fresh *created
}

// created is what a new entry got from being created.
type created struct {
	perm   uint32    // the mode passed to open/mkdir/mknod
	owner  [2]uint32 // uid, gid it got
	defACL bool      // its directory has a default ACL (perm was overridden)
}

// applyMeta gives dst the metadata of src that the options preserve, in
// cp's order: the times first (none of the other changes touch them),
// then the owner (chown clears setuid/setgid), then extended attributes
// and ACLs, then the mode. As with cp, the first failure ends it.
func (e *env) applyMeta(m meta) error {
	pr := e.opts.Preserve
	if pr.Timestamps {
		ts := []unix.Timespec{m.st.Atim, m.st.Mtim}
		if err := m.dst.utimes(ts); err != nil {
			op := "preserving times for"
			if m.link {
				op = "failed to preserve times for" // cp's words for a symlink
			}
			return &cpmsg.PathError{Op: op, Path: m.display, Err: err}
		}
	}
	ownerKept := true
	switch {
	case pr.Ownership && !(m.fresh != nil && m.fresh.owner == [2]uint32{m.st.Uid, m.st.Gid}):
		var err error
		if ownerKept, err = e.chown(m.dst, int(m.st.Uid), int(m.st.Gid)); err != nil {
			return &cpmsg.PathError{Op: "failed to preserve ownership for", Path: m.display, Err: err}
		}
	case !pr.Ownership && m.inherit != nil:
		// Best effort, like cp's in-place overwrite keeping the owner.
		_ = m.dst.chown(int(m.inherit.Uid), int(m.inherit.Gid))
	}
	if m.inherit != nil && m.inheritNode != nil {
		copyXattrs(m.dst, m.inheritNode, func(string) bool { return true })
	}
	if pr.Xattr || pr.Mode {
		// One listing serves both: ACLs belong to the mode, not to xattr
		// (cp --preserve=xattr leaves them out).
		hasACL := copyXattrs(m.dst, m.src, func(n string) bool {
			if isACL(n) {
				return pr.Mode
			}
			return pr.Xattr
		})
		if pr.Mode && !hasACL && (m.fresh == nil || m.fresh.defACL) {
			// An ACL the new entry inherited from its directory, or the
			// replaced file's, which the source does not have.
			removeACLs(m.dst)
		}
	}
	if !m.link {
		mode, set := e.mode(m)
		if !ownerKept && pr.Mode {
			// As cp: setuid, setgid and sticky bits are not given to a
			// file whose owner could not be kept (it would be ours).
			mode &^= unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX
		}
		if set {
			if err := m.dst.chmod(mode); err != nil {
				return &cpmsg.PathError{Op: "preserving permissions for", Path: m.display, Err: err}
			}
		}
	}
	return nil
}

// mode is the permission bits to set on an entry after its data, if any.
func (e *env) mode(m meta) (uint32, bool) {
	switch {
	case e.opts.Preserve.Mode:
		want := m.st.Mode & 0o7777
		// Skip the chmod when creation already gave exactly these bits:
		// no special bits, nothing the umask took, no default ACL.
		if f := m.fresh; f != nil && !f.defACL && want&0o7000 == 0 && f.perm&^e.umask == want {
			return 0, false
		}
		return want, true
	case m.inherit != nil:
		return m.inherit.Mode & 0o7777, true
	case m.permsSet:
		return 0, false
	}
	// Created private: the permissions creating it with createPerm would
	// have given (not knowing about a default ACL here).
	return e.createPerm(m.st) &^ e.umask, true
}

// privatePerm is the mode of an entry created private: nobody but its
// owner may open it until its own mode and owner are set.
const privatePerm = 0o600

// createPerm is the mode to create an entry with. A plain copy creates it
// with the source's permissions and lets the kernel apply the umask or
// the directory's default ACL, as cp does; --no-preserve=mode uses the
// defaults of a new file (0666, or 0777 for directories). With -p the
// source's permissions are used too when the umask leaves them whole, so
// the chmod after the data can be skipped; otherwise it is created
// private. (Callers create an entry whose mode or owner is set afterwards,
// such as one whose mode comes from a replaced file, private too.)
func (e *env) createPerm(st *unix.Stat_t) uint32 {
	perm := st.Mode & 0o777
	switch {
	case e.opts.Preserve.Mode && perm&e.umask != 0:
		return privatePerm
	case e.opts.DefaultMode && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return 0o777
	case e.opts.DefaultMode:
		return 0o666
	}
	return perm
}

// dirPerm is the mode to make a directory with. It always has the
// owner's full access, so it can be filled whatever the source's mode;
// dirMeta takes that back after the contents. Under -p or -a it is
// private (0700) until then, as with cp, so nobody gets in before its
// owner and mode are the source's.
func (e *env) dirPerm(st *unix.Stat_t) uint32 {
	pr := e.opts.Preserve
	if pr.Mode || pr.Ownership {
		return 0o700 // private
	}
	return e.createPerm(st) | 0o700
}

// chown sets the owner. Without privilege it falls back to the group
// alone, and gives up silently, as cp does for non-root users; kept says
// whether the owner and group were both set.
func (e *env) chown(dst inode, uid, gid int) (kept bool, err error) {
	err = dst.chown(uid, gid)
	if err == nil {
		return true, nil
	}
	if e.euid == 0 && !errors.Is(err, unix.EPERM) {
		return false, err
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
		if e.euid != 0 {
			_ = dst.chown(-1, gid)
			return false, nil
		}
	}
	return false, err
}

// copyXattrs copies the extended attributes of src that keep() accepts,
// and reports whether they included an ACL.
// Attributes the destination refuses (no xattr support, a namespace we may
// not write) are skipped silently, as cp -a does.
func copyXattrs(dst, src inode, keep func(string) bool) (acl bool) {
	names := readXattrList(src)
	if len(names) == 0 {
		return false
	}
	val := make([]byte, 4096)
	for _, name := range bytes.Split(names, []byte{0}) {
		n := string(name)
		if n == "" || !keep(n) {
			continue
		}
		acl = acl || isACL(n)
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
	return acl
}

func isACL(name string) bool { return strings.HasPrefix(name, "system.posix_acl_") }

// removeACLs drops dst's POSIX ACLs, for -p from a source without any.
func removeACLs(dst inode) {
	for _, name := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
		_ = dst.removexattr(name)
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
