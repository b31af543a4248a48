//go:build linux

package testtree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Entry is what a Manifest records of one entry: field name → printable
// value. The fields are "type", "mode" (the permission bits), "uid",
// "gid", "mtime"; "nlink" but for a directory; "size", "content" (a
// digest of the bytes) and "data" (the byte ranges that are data, not
// holes) for a file; "size" and "target" for a symbolic link; "rdev" for a
// device; "xattr NAME" per extended attribute, of every namespace the
// process can list (the POSIX ACLs are system.posix_acl_access and
// system.posix_acl_default); and "links", the paths of the tree sharing a
// non-directory's inode, if any do.
//
// Left out on purpose, because no copier can or should reproduce them:
//   - atime and ctime: reading a tree (by cp, by the copier under test and
//     by Walk) moves atimes under relatime, and ctime is set by the kernel;
//   - inode and device numbers: a copy is a new inode, and only the sharing
//     of inodes ("links") is part of the tree;
//   - st_blocks and st_blksize: allocation is the filesystem's (XFS
//     speculative preallocation, btrfs inline extents); holes are compared
//     exactly through "data" instead;
//   - a directory's st_size and st_nlink: they reflect the filesystem's
//     directory layout (ext4 and XFS block counts, btrfs's nlink of 1) and
//     its subdirectories, which are entries of their own, not anything cp
//     copies.
//
// WalkOptions.Identity adds "ino" and "ctime", for a tree that must stay as
// it was rather than a copy.
type Entry map[string]string

// Manifest maps each path relative to the walked root ("." for the root
// itself) to its Entry. Paths are raw bytes.
type Manifest map[string]Entry

// WalkOptions adjusts a Walk.
type WalkOptions struct {
	// FreshSince, when set, replaces an mtime at or after it by "fresh",
	// so that files a run made compare equal across runs.
	FreshSince time.Time
	// RootAlias, when set, is replaced by "$ROOT" in symbolic links'
	// targets, so that absolute links into a scratch directory compare
	// equal across scratch directories.
	RootAlias string
	// Identity records each entry's inode number ("ino") and ctime: any
	// change to an entry, or its replacement, then shows.
	Identity bool
}

// Walk records the manifest of the tree at root (a directory or any other
// entry), or an empty one if nothing is there. It walks with
// descriptor-relative calls, so a tree deeper than PATH_MAX is walked
// whole, and reads files with O_NOATIME.
func Walk(root string, opts WalkOptions) (Manifest, error) {
	w := &walker{opts: opts, m: Manifest{}, inodes: map[[2]uint64][]string{}}
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		return w.m, nil
	}
	if err := w.visit(unix.AT_FDCWD, root, "."); err != nil {
		return nil, err
	}
	// Hard links: every path that shares its inode with another path of
	// the tree names the whole group.
	for _, paths := range w.inodes {
		if len(paths) < 2 {
			continue
		}
		slices.Sort(paths)
		q := make([]string, len(paths))
		for i, p := range paths {
			q[i] = strconv.Quote(p)
		}
		group := strings.Join(q, " ")
		for _, p := range paths {
			w.m[p]["links"] = group
		}
	}
	return w.m, nil
}

type walker struct {
	opts   WalkOptions
	m      Manifest
	inodes map[[2]uint64][]string // {dev, ino} → paths, for non-directories
}

// visit records name (in the directory dirfd) as rel, then its children.
func (w *walker) visit(dirfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("fstatat %q: %w", rel, err)
	}
	e := Entry{
		"mode":  fmt.Sprintf("%04o", st.Mode&0o7777),
		"uid":   strconv.FormatUint(uint64(st.Uid), 10),
		"gid":   strconv.FormatUint(uint64(st.Gid), 10),
		"nlink": strconv.FormatUint(uint64(st.Nlink), 10),
		"mtime": w.mtime(st.Mtim),
	}
	if w.opts.Identity {
		e["ino"] = strconv.FormatUint(st.Ino, 10)
		e["ctime"] = fmt.Sprintf("%d.%09d", st.Ctim.Sec, st.Ctim.Nsec)
	}
	w.m[rel] = e
	xattrs, err := ReadXattrs(procPath(dirfd, name))
	if err != nil {
		return fmt.Errorf("xattrs of %q: %w", rel, err)
	}
	for k, v := range xattrs {
		e["xattr "+k] = strconv.Quote(string(v))
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e["type"] = "file"
		e["size"] = strconv.FormatInt(st.Size, 10)
		if err := content(dirfd, name, e); err != nil {
			return fmt.Errorf("content of %q: %w", rel, err)
		}
	case unix.S_IFLNK:
		e["type"] = "symlink"
		e["size"] = strconv.FormatInt(st.Size, 10)
		target, err := readlinkAt(dirfd, name)
		if err != nil {
			return fmt.Errorf("readlink %q: %w", rel, err)
		}
		if w.opts.RootAlias != "" {
			target = strings.ReplaceAll(target, w.opts.RootAlias, "$ROOT")
		}
		e["target"] = strconv.Quote(target)
	case unix.S_IFIFO:
		e["type"] = "fifo"
	case unix.S_IFSOCK:
		e["type"] = "socket"
	case unix.S_IFCHR:
		e["type"] = "char"
		e["rdev"] = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		e["type"] = "block"
		e["rdev"] = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	case unix.S_IFDIR:
		e["type"] = "dir"
		delete(e, "nlink")
		return w.children(dirfd, name, rel)
	default:
		e["type"] = fmt.Sprintf("unknown %o", st.Mode&unix.S_IFMT)
	}
	key := [2]uint64{st.Dev, st.Ino}
	w.inodes[key] = append(w.inodes[key], rel)
	return nil
}

func (w *walker) mtime(ts unix.Timespec) string {
	if !w.opts.FreshSince.IsZero() && !time.Unix(ts.Sec, ts.Nsec).Before(w.opts.FreshSince) {
		return "fresh"
	}
	return fmt.Sprintf("%d.%09d", ts.Sec, ts.Nsec)
}

func (w *walker) children(dirfd int, name, rel string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory %q: %w", rel, err)
	}
	defer unix.Close(fd)
	names, err := ReadDir(fd)
	if err != nil {
		return fmt.Errorf("read directory %q: %w", rel, err)
	}
	for _, n := range names {
		child := n
		if rel != "." {
			child = rel + "/" + n
		}
		if err := w.visit(fd, n, child); err != nil {
			return err
		}
	}
	return nil
}

// ReadDir lists the directory open at fd (without . and ..), sorted.
func ReadDir(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// ReadXattrs returns the extended attributes of path (not following a
// symbolic link) of every namespace this process can list: user.,
// trusted. (as root), security. and system. (the POSIX ACLs).
func ReadXattrs(path string) (map[string][]byte, error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		return nil, err
	}
	list := make([]byte, size)
	size, err = unix.Llistxattr(path, list)
	if err != nil {
		return nil, err
	}
	xattrs := map[string][]byte{}
	for _, name := range bytes.Split(list[:size], []byte{0}) {
		if len(name) == 0 {
			continue
		}
		n, err := unix.Lgetxattr(path, string(name), nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		val := make([]byte, n)
		if n > 0 {
			if n, err = unix.Lgetxattr(path, string(name), val); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		xattrs[string(name)] = val[:n]
	}
	return xattrs, nil
}

// content adds a regular file's "content" and "data" to e: a digest of
// its bytes, and the byte ranges that are data rather than holes, from
// SEEK_DATA/SEEK_HOLE.
//
// The digest does not depend on where the holes are (that is the data
// map's business) and does not read them, so an 8 GiB sparse file costs
// what its data costs: it is the SHA-256 of the 64 KiB chunks that are not
// all zero, each with its index.
func content(dirfd int, name string, e Entry) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	const chunk = int64(len(zeros))
	h := sha256.New()
	buf := make([]byte, chunk)
	next := int64(0) // first chunk not yet hashed
	var ranges []string
	for off := int64(0); ; {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // no data after off
		}
		if err != nil {
			return fmt.Errorf("SEEK_DATA: %w", err)
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("SEEK_HOLE: %w", err)
		}
		ranges = append(ranges, fmt.Sprintf("%d+%d", start, end-start))
		for c := max(start/chunk, next); c*chunk < end; c++ {
			n, err := unix.Pread(fd, buf, c*chunk)
			if err != nil {
				return err
			}
			if !bytes.Equal(buf[:n], zeros[:n]) {
				fmt.Fprintf(h, "%d:", c)
				h.Write(buf[:n])
			}
			next = c + 1
		}
		off = end
	}
	e["content"] = hex.EncodeToString(h.Sum(nil))
	if len(ranges) == 0 {
		e["data"] = "none"
	} else {
		e["data"] = strings.Join(ranges, ",")
	}
	return nil
}

var zeros [64 << 10]byte
