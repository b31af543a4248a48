package tree

import (
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// placeAt creates a non-regular entry (symlink, device, FIFO, link) with
// create and gives it its metadata with setMeta. In a directory cowcp
// made, it goes straight to its name. Otherwise an existing entry is dealt
// with as cp does and the new one is made under a temporary name and
// renamed over it, so an entry is only ever replaced by a complete one.
// When exclusive (-l, -s), an existing entry is an error unless -f or
// --remove-destination, as cp will not link over a file.
func (wk *worker) placeAt(j job, r *result, verb, to string, excl exclusivity, create, setMeta func(name string) error) {
	dir, name, dst := j.dir.dstFd, j.dstName, r.ev.Dst
	var old *unix.Stat_t
	if !j.fresh() {
		var err error
		if old, err = wk.entryAt(&place{dir: dir, name: name}, &j.st, dst, writesEntry); err != nil {
			r.ev.Err = err
			return
		}
	}
	how := decision{proceed: true}
	if old != nil {
		var err error
		how, err = wk.checkExisting(j, place{dir: dir, name: name}, r, &j.st, old, excl)
		if err == unix.EEXIST {
			err = linkErr(verb, dst, r.ev.Src, err)
		}
		if !how.proceed || err != nil {
			r.ev.Err = err
			return
		}
		// cp -bfl f f: the link (or symlink) is made at the backup name.
		at := place{dir: dir, name: name}
		retarget(&how, &at, j, r)
		name = at.name
		if r.ev.Err = wk.attrsOnlyRefusal(how, verb, dst); r.ev.Err != nil {
			return
		}
	}
	at := name
	if how.replace {
		if lockedDir(dir) {
			// cp removes the old entry first, and is refused (see
			// lockedDir): no temporary entry that could not be removed.
			r.ev.Err = pathErr("cannot remove", dst, unix.EPERM)
			return
		}
		at = wk.tmpName()
	}
	if err := create(at); err != nil {
		r.ev.Err = linkErr(verb, dst, to, err)
		return
	}
	if err := setMeta(at); err != nil {
		unlinkat(dir, at, 0)
		r.ev.Err = err
		return
	}
	if at != name {
		if err := renameat(dir, at, dir, name); err != nil {
			unlinkat(dir, at, 0)
			r.ev.Err = linkErr(verb, dst, to, err)
		}
	}
}

// noMeta is placeAt's setMeta for links, which share their inode's.
func noMeta(string) error { return nil }

// copySymlink makes a symlink with the same target.
func (wk *worker) copySymlink(j job, r *result) {
	r.ev.Kind = KindSymlink
	target, err := readlinkat(j.dir.srcFd, j.srcName)
	if err != nil {
		r.ev.Err = pathErr("cannot read symbolic link", r.ev.Src, err)
		return
	}
	wk.placeAt(j, r, "cannot create symbolic link", "", mayReplace,
		func(name string) error { return symlinkat(target, j.dir.dstFd, name) },
		func(name string) error {
			return wk.applyMeta(meta{dst: atNode{j.dir.dstFd, name}, src: atNode{j.dir.srcFd, j.srcName},
				st: &j.st, display: r.ev.Dst, link: true, fresh: j.dir.created(wk.env, 0o777)})
		})
}

// copySpecial makes a FIFO, socket or device node like the source.
func (wk *worker) copySpecial(j job, r *result) {
	r.ev.Kind = KindSpecial
	perm := wk.createPerm(&j.st)
	verb := "cannot create special file"
	if j.st.Mode&unix.S_IFMT == unix.S_IFIFO {
		verb = "cannot create fifo"
	}
	wk.placeAt(j, r, verb, "", mayReplace,
		func(name string) error {
			return mknodat(j.dir.dstFd, name, j.st.Mode&unix.S_IFMT|perm, int(j.st.Rdev))
		},
		func(name string) error {
			return wk.applyMeta(meta{dst: atNode{j.dir.dstFd, name}, src: atNode{j.dir.srcFd, j.srcName},
				st: &j.st, display: r.ev.Dst, permsSet: !wk.opts.Preserve.Mode, fresh: j.dir.created(wk.env, perm)})
		})
}

// copyLink links a later name of an inode to the copy of its first name.
// If that copy failed, this name is copied on its own instead.
func (wk *worker) copyLink(j job, r *result) {
	<-j.link.done
	if !j.link.ok {
		j.link = nil
		wk.copyEntry(j, r)
		return
	}
	r.ev.Kind = KindHardlink
	r.ev.Method = MethodHardlink
	if alreadyLinked(j) {
		r.skip(SkipSame, "")
		return
	}
	wk.placeAt(j, r, "cannot create hard link", j.link.dst, mayReplace,
		func(name string) error {
			if j.link.fd >= 0 {
				// Too deep to name: link the open inode itself.
				proc := "/proc/self/fd/" + strconv.Itoa(j.link.fd)
				return linkat(unix.AT_FDCWD, proc, j.dir.dstFd, name, unix.AT_SYMLINK_FOLLOW)
			}
			dir, first, err := j.link.openFirst()
			if err != nil {
				return err
			}
			defer unix.Close(dir)
			return linkat(dir, first, j.dir.dstFd, name, 0)
		}, noMeta)
}

// alreadyLinked reports whether j's destination already is a link of the
// first copy of its inode (cp -au onto a copy made before): renaming one
// link over another of the same inode would do nothing.
func alreadyLinked(j job) bool {
	if j.fresh() {
		return false
	}
	var have, first unix.Stat_t
	if lstatat(j.dir.dstFd, j.dstName, &have) != nil {
		return false
	}
	if j.link.fd >= 0 {
		return fstat(j.link.fd, &first) == nil && sameInode(&have, &first)
	}
	dir, name, err := j.link.openFirst()
	if err != nil {
		return false
	}
	defer unix.Close(dir)
	return lstatat(dir, name, &first) == nil && sameInode(&have, &first)
}

// linkSource makes the destination a hard link to the source (-l).
func (wk *worker) linkSource(j job, r *result) {
	r.ev.Kind = KindHardlink
	r.ev.Method = MethodHardlink
	flags := 0
	if j.follow {
		flags = unix.AT_SYMLINK_FOLLOW
	}
	wk.placeAt(j, r, "cannot create hard link", r.ev.Src, exclusive,
		func(name string) error { return linkat(j.dir.srcFd, j.srcName, j.dir.dstFd, name, flags) },
		noMeta)
}

// symlinkSource makes the destination a symlink to the source (-s).
func (wk *worker) symlinkSource(j job, r *result) {
	r.ev.Kind = KindSymlink
	r.ev.Method = MethodSymlink
	if r.ev.Err = relativeSymlink(j, r.ev.Src, r.ev.Dst); r.ev.Err != nil {
		return
	}
	wk.placeAt(j, r, "cannot create symbolic link", r.ev.Src, exclusive,
		func(name string) error { return symlinkat(r.ev.Src, j.dir.dstFd, name) },
		noMeta)
}

// relativeSymlink refuses, as cp does, a symlink to the relative name src
// anywhere but the working directory, where it would point somewhere else.
func relativeSymlink(j job, src, dst string) error {
	if !filepath.IsAbs(src) && !isCwd(j.dir.dstFd) {
		return fmt.Errorf("%s: can make relative symbolic links only in current directory", dst)
	}
	return nil
}

// isCwd reports whether dir is the working directory.
func isCwd(dir int) bool {
	var a, b unix.Stat_t
	return statat(dir, ".", &a) == nil && statat(unix.AT_FDCWD, ".", &b) == nil &&
		a.Dev == b.Dev && a.Ino == b.Ino
}
