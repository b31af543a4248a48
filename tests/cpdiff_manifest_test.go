package tests

// Manifests for the differential tests against GNU cp (issue 3): a walk of a
// copied tree that records, for every entry, the fields cp -a is expected to
// reproduce, so that two copies can be compared field by field.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpdEntry is the manifest of one path: field name → printable value.
//
// Left out on purpose, because no copier can or should reproduce them:
//   - atime and ctime: reading a tree (by cp, by the copier under test and by
//     this walk) moves atimes under relatime, and ctime is set by the kernel;
//   - inode and device numbers: the copy is a new inode, and only the sharing
//     of inodes (the "links" field) is part of the tree;
//   - st_blocks and st_blksize: allocation is the filesystem's (XFS
//     speculative preallocation, btrfs inline extents); holes are compared
//     exactly through the "data" field instead;
//   - a directory's st_size: it reflects the filesystem's directory layout
//     and history (ext4 and XFS block counts), not anything cp copies.
type cpdEntry map[string]string

// cpdManifest maps each path relative to the walked root ("." for the root
// itself) to its entry. Paths are raw bytes; print them with %q.
type cpdManifest map[string]cpdEntry

// cpdWalkOpts adjusts a walk for the command-line cases, whose trees are
// partly made at the time of the run.
type cpdWalkOpts struct {
	// freshSince, when set, replaces an mtime at or after it by "fresh":
	// files made by the run get the current time in both runs.
	freshSince time.Time
	// rootAlias, when set, replaces the walked root in symlink targets by
	// "$ROOT", so absolute links made by -s compare across scratch dirs.
	rootAlias string
}

// cpdWalk records the manifest of the tree at root. It walks with
// descriptor-relative calls (openat, fstatat, readlinkat), so trees deeper
// than PATH_MAX are walked whole.
func cpdWalk(root string, opts cpdWalkOpts) (cpdManifest, error) {
	w := &cpdWalker{opts: opts, m: cpdManifest{}, inodes: map[[2]uint64][]string{}}
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		return w.m, nil // nothing was made there
	}
	if err := w.visit(unix.AT_FDCWD, root, "."); err != nil {
		return nil, err
	}
	// Hardlink groups: every path that shares its inode with another path
	// of the tree names the whole group.
	for _, paths := range w.inodes {
		if len(paths) < 2 {
			continue
		}
		sort.Strings(paths)
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

type cpdWalker struct {
	opts   cpdWalkOpts
	m      cpdManifest
	inodes map[[2]uint64][]string // {dev, ino} → paths, for non-directories
}

// visit records name (in the directory dirfd) as rel, then its children.
func (w *cpdWalker) visit(dirfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("fstatat %q: %w", rel, err)
	}
	e := cpdEntry{
		"mode":  fmt.Sprintf("%04o", st.Mode&07777),
		"uid":   strconv.FormatUint(uint64(st.Uid), 10),
		"gid":   strconv.FormatUint(uint64(st.Gid), 10),
		"nlink": strconv.FormatUint(uint64(st.Nlink), 10),
		"mtime": w.mtime(st.Mtim),
	}
	w.m[rel] = e
	if err := cpdXattrs(cpdProcPath(dirfd, name), e); err != nil {
		return fmt.Errorf("xattrs of %q: %w", rel, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e["type"] = "file"
		e["size"] = strconv.FormatInt(st.Size, 10)
		if err := cpdContent(dirfd, name, e); err != nil {
			return fmt.Errorf("content of %q: %w", rel, err)
		}
	case unix.S_IFLNK:
		e["type"] = "symlink"
		e["size"] = strconv.FormatInt(st.Size, 10)
		target, err := cpdReadlink(dirfd, name)
		if err != nil {
			return fmt.Errorf("readlink %q: %w", rel, err)
		}
		if w.opts.rootAlias != "" {
			target = strings.ReplaceAll(target, w.opts.rootAlias, "$ROOT")
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
		return w.children(dirfd, name, rel)
	default:
		e["type"] = fmt.Sprintf("unknown %o", st.Mode&unix.S_IFMT)
	}
	key := [2]uint64{st.Dev, st.Ino}
	w.inodes[key] = append(w.inodes[key], rel)
	return nil
}

func (w *cpdWalker) mtime(ts unix.Timespec) string {
	if !w.opts.freshSince.IsZero() && !time.Unix(ts.Sec, ts.Nsec).Before(w.opts.freshSince) {
		return "fresh"
	}
	return fmt.Sprintf("%d.%09d", ts.Sec, ts.Nsec)
}

func (w *cpdWalker) children(dirfd int, name, rel string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory %q: %w", rel, err)
	}
	defer unix.Close(fd)
	names, err := cpdReadDir(fd)
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

// cpdReadDir lists the directory open at fd (without . and ..), sorted.
func cpdReadDir(fd int) ([]string, error) {
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
	sort.Strings(names)
	return names, nil
}

func cpdReadlink(dirfd int, name string) (string, error) {
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

// cpdXattrs adds one "xattr <name>" field per extended attribute, of every
// namespace this process can list: user., trusted. (as root), security. and
// the POSIX ACLs as system.posix_acl_access and system.posix_acl_default.
func cpdXattrs(path string, e cpdEntry) error {
	size, err := unix.Llistxattr(path, nil)
	if err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	list := make([]byte, size)
	size, err = unix.Llistxattr(path, list)
	if err != nil {
		return err
	}
	for _, name := range bytes.Split(list[:size], []byte{0}) {
		if len(name) == 0 {
			continue
		}
		n, err := unix.Lgetxattr(path, string(name), nil)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		val := make([]byte, n)
		if n > 0 {
			if n, err = unix.Lgetxattr(path, string(name), val); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		e["xattr "+string(name)] = strconv.Quote(string(val[:n]))
	}
	return nil
}

// cpdContent adds a digest of a regular file's bytes and its data map: the
// byte ranges that are data rather than holes, from SEEK_DATA/SEEK_HOLE.
//
// The digest does not depend on where the holes are (that is the data
// map's business) and does not read them, so an 8 GiB sparse file costs
// what its data costs: it is the sha256 of the 64 KiB chunks that are not
// all zero, each with its index.
func cpdContent(dirfd int, name string, e cpdEntry) error {
	// O_NOATIME: this walk must not move the times it might be asked about.
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	const chunk = int64(len(cpdZeros))
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
			if !cpdAllZero(buf[:n]) {
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

var cpdZeros [64 << 10]byte

func cpdAllZero(b []byte) bool { return bytes.Equal(b, cpdZeros[:len(b)]) }

// cpdDiff compares the manifests of cp's result (want) and the copier's
// (got) and returns one line per difference, naming the path and the field.
func cpdDiff(want, got cpdManifest) []string {
	var diffs []string
	for _, p := range cpdUnion(want, got) {
		w, inW := want[p]
		g, inG := got[p]
		switch {
		case !inG:
			diffs = append(diffs, fmt.Sprintf("%s: missing (cp made a %s)", cpdPath(p), w["type"]))
			continue
		case !inW:
			diffs = append(diffs, fmt.Sprintf("%s: extra %s (cp made none)", cpdPath(p), g["type"]))
			continue
		}
		for _, f := range cpdUnion(w, g) {
			wv, okW := w[f]
			gv, okG := g[f]
			switch {
			case !okW:
				wv = "(none)"
			case !okG:
				gv = "(none)"
			}
			if wv != gv {
				diffs = append(diffs, fmt.Sprintf("%s: %s: cp %s, cowcp %s", cpdPath(p), f, cpdShort(wv), cpdShort(gv)))
			}
		}
	}
	return diffs
}

// cpdPath prints a path with %q, eliding the middle of long components and
// of long chains of them (the deep tree's paths run to thousands of bytes).
func cpdPath(p string) string {
	parts := strings.Split(p, "/")
	for i, c := range parts {
		if len(c) > 24 {
			parts[i] = fmt.Sprintf("%s…[%d bytes]", c[:8], len(c))
		}
	}
	if n := len(parts); n > 6 {
		parts = append(parts[:2:2], append([]string{fmt.Sprintf("…[%d more]", n-4)}, parts[n-2:]...)...)
	}
	return strconv.Quote(strings.Join(parts, "/"))
}

func cpdShort(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func cpdUnion[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// cpdReport fails t with the differences, at most limit of them.
func cpdReport(t testing.TB, what string, diffs []string) {
	t.Helper()
	if len(diffs) == 0 {
		return
	}
	const limit = 60
	n, more := len(diffs), ""
	if n > limit {
		more = fmt.Sprintf("\n\t… and %d more", n-limit)
		diffs = diffs[:limit]
	}
	t.Errorf("%s: %d differences from cp:\n\t%s%s", what, n, strings.Join(diffs, "\n\t"), more)
}
