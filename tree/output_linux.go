package tree

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// output is a destination file being written. Nothing ever stands under a
// final name half-written, even if cowcp is killed: a new file is written
// as an unnamed O_TMPFILE inode and linked to its name once complete; a
// file that replaces another (or a new one where O_TMPFILE is not
// supported) is written under a temporary name in the same directory and
// renamed into place. Only an empty file, complete when created, is made
// at its name directly. The exception is a file that must be rewritten in
// place because cp's result demands it (see writeInPlace): it is truncated
// and written like cp does, and removed again if the copy fails.
type output struct {
	h       *handle
	dirFd   int
	name    string // final name in dirFd
	tmp     string // temporary name, or ""
	anon    bool   // an O_TMPFILE inode, nameless until commit
	inPlace bool   // the existing file itself, opened for writing
	regular bool   // with inPlace: it is a regular file (not a FIFO or device)
}

// outKind says how an output is made.
type outKind int

const (
	outEmpty   outKind = iota // empty and new: at its name at once
	outNew                    // new: O_TMPFILE where possible, else a temporary name
	outReplace                // replaces an entry: a temporary name, renamed over it
	outInPlace                // the existing entry, truncated and rewritten as cp does
	outDirect                 // new, at its name at once, as cp makes it (a FIFO's copy)
)

func createAt(dirFd int, name, display string, perm uint32) (*handle, error) {
	fd, err := openQuick(dirFd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	return newHandle(fd, display), nil
}

// openOutput creates the file to write at.
func (wk *worker) openOutput(at place, display string, kind outKind, perm uint32, dev uint64) (*output, error) {
	var out *output
	var err error
	switch {
	case kind == outInPlace:
		wk.arm()
		out, err = openInPlace(at, display)
	case kind == outEmpty || kind == outDirect:
		if kind == outDirect {
			wk.arm()
		}
		var f *handle
		if f, err = createAt(at.dir, at.name, display, perm); err == nil {
			out = &output{h: f, dirFd: at.dir, name: at.name}
		}
	case kind == outNew && canLinkTmpfile() && !wk.caps.tmpfileFails(dev):
		out, err = openAnon(at, display, perm)
		if err != nil && tmpfileUnsupported(err) {
			wk.caps.setTmpfileFails(dev)
			out, err = wk.openTemp(at.dir, at.name, display, perm)
		}
	case kind == outReplace && lockedDir(at.dir):
		// A replacement that does not rewrite the old file (cp removes
		// it first, and is refused): no temporary file where it could
		// not be removed again.
		return nil, pathErr("cannot remove", display, unix.EPERM)
	default:
		out, err = wk.openTemp(at.dir, at.name, display, perm)
	}
	if err != nil {
		return nil, pathErr("cannot create regular file", display, err)
	}
	return out, nil
}

// openAnon makes an unnamed file in at's directory.
func openAnon(at place, display string, perm uint32) (*output, error) {
	fd, err := openQuick(at.dir, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	return &output{h: newHandle(fd, display), dirFd: at.dir, name: at.name, anon: true}, nil
}

// openInPlace opens the existing file at for rewriting, as cp does: a
// regular file is truncated, a FIFO or device is written into.
func openInPlace(at place, display string) (*output, error) {
	fd, err := openat(at.dir, at.name, unix.O_WRONLY|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &output{h: newHandle(fd, display), dirFd: at.dir, name: at.name,
		inPlace: true, regular: st.Mode&unix.S_IFMT == unix.S_IFREG}, nil
}

// tmpfileUnsupported: the filesystem has no O_TMPFILE (FUSE, NFS, ...).
func tmpfileUnsupported(err error) bool {
	return err == unix.EOPNOTSUPP || err == unix.EISDIR || err == unix.EINVAL
}

// linkAnon gives the O_TMPFILE inode fd the name name in dir. With
// CAP_DAC_READ_SEARCH (root, as a rule) linkat takes the descriptor itself
// (AT_EMPTY_PATH); everyone else names it through /proc/self/fd, which
// costs a walk through procfs per file. ENOENT says the capability is
// missing, and the /proc way is used from then on.
func linkAnon(fd, dir int, name string) error {
	if !emptyPathRefused.Load() {
		err := linkat(fd, "", dir, name, unix.AT_EMPTY_PATH)
		if err != unix.ENOENT {
			return err
		}
		emptyPathRefused.Store(true)
	}
	return linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), dir, name, unix.AT_SYMLINK_FOLLOW)
}

// emptyPathRefused: linkat with AT_EMPTY_PATH failed for want of
// CAP_DAC_READ_SEARCH once; it will every time.
var emptyPathRefused atomic.Bool

// canLinkTmpfile reports whether an O_TMPFILE inode can be given a name:
// linkat through /proc/self/fd works for every user, where linkat with
// AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH.
var canLinkTmpfile = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/fd")
	return err == nil
})

// openTemp creates a temporary file beside the final name.
func (e *env) openTemp(dirFd int, name, display string, perm uint32) (*output, error) {
	for {
		tmp := e.tmpName()
		f, err := createAt(dirFd, tmp, display, perm)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &output{h: f, dirFd: dirFd, name: name, tmp: tmp}, nil
	}
}

// written is the name o's data stands under now, or "" if none.
func (o *output) written() string {
	switch {
	case o.inPlace && !o.regular:
		return "" // a FIFO or device stays what it is
	case o.anon:
		return ""
	case o.tmp != "":
		return o.tmp
	}
	return o.name
}

// discard closes and removes whatever o wrote.
func (o *output) discard() {
	o.h.Close()
	if n := o.written(); n != "" {
		unlinkat(o.dirFd, n, 0)
	}
}

// commit gives o its final name and closes it. replace allows replacing an
// existing entry; otherwise one that appeared meanwhile is an error, not
// silently overwritten.
func (o *output) commit(replace bool) error {
	if o.anon {
		err := linkAnon(o.h.fd, o.dirFd, o.name)
		if err != nil {
			o.h.Close()
			return err
		}
		if err := o.h.Close(); err != nil {
			unlinkat(o.dirFd, o.name, 0)
			return err
		}
		return nil
	}
	if err := o.h.Close(); err != nil {
		unlinkat(o.dirFd, o.written(), 0)
		return err
	}
	if o.tmp == "" {
		return nil
	}
	var err error
	if replace {
		err = renameat(o.dirFd, o.tmp, o.dirFd, o.name)
	} else {
		err = renameNoReplace(o.dirFd, o.tmp, o.name)
	}
	if err != nil {
		unlinkat(o.dirFd, o.tmp, 0)
	}
	return err
}

// renameNoReplace renames tmp to name in dir unless name exists. NFS,
// sshfs and many FUSE filesystems refuse renameat2's flags (EINVAL); there
// a hard link does the same atomically, and where links are refused too,
// a plain rename after checking the name is free: the small race that
// leaves is the one cp's own open has.
func renameNoReplace(dir int, tmp, name string) error {
	err := renameat2(dir, tmp, dir, name, unix.RENAME_NOREPLACE)
	if !renameFlagsUnsupported(err) {
		return err
	}
	switch err := linkat(dir, tmp, dir, name, 0); err {
	case nil:
		unlinkat(dir, tmp, 0)
		return nil
	case unix.EEXIST:
		return err
	}
	var st unix.Stat_t
	if lstatat(dir, name, &st) == nil {
		return unix.EEXIST
	}
	return renameat(dir, tmp, dir, name)
}

func renameFlagsUnsupported(err error) bool {
	return err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP
}
