package tree

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// placeAt creates a non-regular entry (symlink, device, FIFO, link) with
// create and gives it its metadata with meta. In a directory cowcp made,
// it goes straight to its name. Otherwise it is made under a temporary
// name and renamed over whatever is there, so an existing entry is only
// replaced by a complete one.
func (c *Copier) placeAt(j job, r *result, st *unix.Stat_t, verb string, create, meta func(name string) error) {
	dir, name, dst := j.dir.dstFd, j.dstName, r.ev.Dst
	var old *unix.Stat_t
	if !j.dir.fresh {
		var o unix.Stat_t
		switch err := fstatat(dir, name, &o, false); {
		case err == nil:
			old = &o
		case err != unix.ENOENT:
			r.ev.Err = pathErr("cannot stat", dst, err)
			return
		}
	}
	if old != nil {
		proceed, err := c.checkExisting(place{dir: dir, name: name}, r, st, old)
		if !proceed || err != nil {
			r.ev.Err = err
			return
		}
	}
	at := name
	if old != nil && c.opts.Overwrite != OverwriteRemoveFirst && c.opts.Backup == BackupNone {
		at = tmpName()
	}
	if err := create(at); err != nil {
		r.ev.Err = pathErr(verb, dst, err)
		return
	}
	if err := meta(at); err != nil {
		unix.Unlinkat(dir, at, 0)
		r.ev.Err = err
		return
	}
	if at != name {
		if err := unix.Renameat(dir, at, dir, name); err != nil {
			unix.Unlinkat(dir, at, 0)
			r.ev.Err = pathErr(verb, dst, err)
		}
	}
}

// copySymlink makes a symlink with the same target.
func (c *Copier) copySymlink(j job, r *result) {
	r.ev.Kind = KindSymlink
	target, err := readlinkat(j.dir.srcFd, j.srcName)
	if err != nil {
		r.ev.Err = pathErr("cannot read symbolic link", r.ev.Src, err)
		return
	}
	src := atNode{j.dir.srcFd, j.srcName}
	c.placeAt(j, r, &j.st, "cannot create symbolic link",
		func(name string) error { return unix.Symlinkat(target, j.dir.dstFd, name) },
		func(name string) error {
			return c.applyMeta(atNode{j.dir.dstFd, name}, src, &j.st, nil, true, r.ev.Dst)
		})
}

// copySpecial makes a FIFO, socket or device node like the source.
func (c *Copier) copySpecial(j job, r *result) {
	r.ev.Kind = KindSpecial
	src := atNode{j.dir.srcFd, j.srcName}
	c.placeAt(j, r, &j.st, "cannot create special file",
		func(name string) error {
			return unix.Mknodat(j.dir.dstFd, name, j.st.Mode&(unix.S_IFMT|0o600), int(j.st.Rdev))
		},
		func(name string) error {
			return c.applyMeta(atNode{j.dir.dstFd, name}, src, &j.st, nil, false, r.ev.Dst)
		})
}

// copyLink links a later name of an inode to the copy of its first name.
// If that copy failed, this name is copied on its own instead.
func (c *Copier) copyLink(j job, r *result) {
	<-j.link.done
	if !j.link.ok {
		j.link = nil
		c.copyEntry(j, r)
		return
	}
	r.ev.Kind = KindHardlink
	r.ev.Method = MethodHardlink
	c.placeAt(j, r, &j.st, "cannot create hard link",
		func(name string) error {
			if j.link.fd >= 0 {
				// Too deep to name: link the open inode itself.
				proc := "/proc/self/fd/" + strconv.Itoa(j.link.fd)
				return unix.Linkat(unix.AT_FDCWD, proc, j.dir.dstFd, name, unix.AT_SYMLINK_FOLLOW)
			}
			return unix.Linkat(unix.AT_FDCWD, j.link.dst, j.dir.dstFd, name, 0)
		},
		func(string) error { return nil })
}

// linkSource makes the destination a hard link to the source (-l).
func (c *Copier) linkSource(j job, r *result) {
	r.ev.Kind = KindHardlink
	r.ev.Method = MethodHardlink
	flags := 0
	if j.follow {
		flags = unix.AT_SYMLINK_FOLLOW
	}
	c.placeAt(j, r, &j.st, "cannot create hard link",
		func(name string) error { return unix.Linkat(j.dir.srcFd, j.srcName, j.dir.dstFd, name, flags) },
		func(string) error { return nil })
}

// symlinkSource makes the destination a symlink to the source (-s).
func (c *Copier) symlinkSource(j job, r *result) {
	r.ev.Kind = KindSymlink
	r.ev.Method = MethodSymlink
	c.placeAt(j, r, &j.st, "cannot create symbolic link",
		func(name string) error { return unix.Symlinkat(r.ev.Src, j.dir.dstFd, name) },
		func(string) error { return nil })
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// finishDir applies a directory's metadata once nothing more is written
// into it.
func (c *Copier) finishDir(d *dirHandle) error {
	var old *unix.Stat_t
	if d.existed {
		var st unix.Stat_t
		if err := unix.Fstat(d.dstFd, &st); err == nil {
			old = &st
		}
	}
	return c.applyMeta(fdNode(d.dstFd), fdNode(d.srcFd), &d.st, old, false, d.dst)
}

// applyFileMeta gives a regular file its metadata through its descriptors.
func (c *Copier) applyFileMeta(out, in *os.File, st, old *unix.Stat_t, display string) error {
	return c.applyMeta(fdNode(out.Fd()), fdNode(in.Fd()), st, old, false, display)
}

// attributesOnly gives the destination the source's attributes without
// its data (--attributes-only): an existing file keeps its content, a new
// one is empty.
func (c *Copier) attributesOnly(at place, in *os.File, st, old *unix.Stat_t, display string) error {
	var f *os.File
	if old != nil {
		fd, err := unix.Openat(at.dir, at.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return pathErr("cannot open", display, err)
		}
		f = os.NewFile(uintptr(fd), display)
	} else {
		var err error
		if f, err = createAt(at.dir, at.name, display); err != nil {
			return pathErr("cannot create regular file", display, err)
		}
	}
	err := c.applyFileMeta(f, in, st, nil, display)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pathErr("cannot close", display, cerr)
	}
	return err
}
