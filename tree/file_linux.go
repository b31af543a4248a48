package tree

import (
	"errors"
	"os"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// openSource opens the source of j for reading, through a final symlink
// only when the job follows symlinks.
func openSource(j job, display string) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if !j.follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat(j.dir.srcFd, j.srcName, flags, 0)
	if err != nil {
		return nil, &cpmsg.PathError{Op: "cannot open", Path: display, After: " for reading", Err: err}
	}
	return os.NewFile(uintptr(fd), display), nil
}

// copyFile copies one regular file, or reads a FIFO, a device or a /proc
// file into one, as cp does without -R (or with --copy-contents).
func (wk *worker) copyFile(j job, r *result) {
	r.ev.Kind = KindFile
	src, dst := r.ev.Src, r.ev.Dst
	open := openSource
	if j.st.Mode&unix.S_IFMT == unix.S_IFIFO {
		open = wk.openFIFO
	}
	in, err := open(j, src)
	if err != nil {
		r.ev.Err = err
		return
	}
	defer in.Close()
	fd := int(in.Fd())
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		r.ev.Err = pathErr("cannot fstat", src, err)
		return
	}
	stream := isStream(fd, &st)
	if !stream {
		r.ev.Bytes = st.Size
	}

	at := place{dir: j.dir.dstFd, name: j.dstName}
	var how decision
	var old *unix.Stat_t
	defer at.close()
	if !j.dir.fresh {
		var err error
		if old, err = wk.existing(&at, &st, dst); err != nil {
			r.ev.Err = err
			return
		}
	}
	kind := outNew
	if old != nil {
		if how, err = wk.checkExisting(j, at, r, &st, old, false); !how.proceed || err != nil {
			r.ev.Err = err
			return
		}
		defer func() {
			if r.ev.Err != nil {
				restoreBackup(at.dir, at.name, how.backup)
			}
		}()
		retarget(&how, &at, j, r)
		kind, stream = wk.outputFor(how, at, old, stream)
	}
	// Created private when its owner or mode will change afterwards, so
	// nobody can open it in between.
	fresh := j.dir.created(wk.env, 0)
	later := kind == outReplace && how.inherit || wk.opts.Preserve.Ownership && fresh.owner != [2]uint32{st.Uid, st.Gid} ||
		// Without privilege, setting xattrs needs write permission on
		// the inode: a read-only source's copy gets its mode afterwards.
		wk.opts.Preserve.Xattr && wk.euid != 0 && st.Mode&0o200 == 0 ||
		// A stream's copy stands under its name while the data comes:
		// private until its owner is set, as cp keeps it.
		wk.opts.Preserve.Ownership && stream && kind == outNew
	perm := wk.createPerm(&st, later)
	fresh.perm = perm
	m := meta{src: fdNode(fd), st: &st, display: dst, fresh: fresh, permsSet: !later && !wk.opts.Preserve.Mode}
	if kind == outReplace && how.inherit {
		m.inherit, m.inheritNode = old, atNode{at.dir, at.name}
	}
	if wk.opts.AttrsOnly {
		r.ev.Err = wk.attributesOnly(at, m, old != nil && how.replace, perm)
		r.ev.Progress = r.ev.Bytes
		return
	}

	p := pair{src: st.Dev, dst: j.dir.dstDev}
	if len(at.opened) > 0 {
		// Written through a destination symlink, maybe on another
		// filesystem: the capability cache must learn about that one.
		var d unix.Stat_t
		if err := fstatat(at.dir, ".", &d, true); err == nil {
			p.dst = d.Dev
		}
	}
	out, err := wk.writeData(at, r, in, &st, p, kind, perm, stream)
	if err != nil && kind == outReplace && how.inherit && !stream && outOfSpace(err) && wk.fitsInPlace(at.dir, old, &st) {
		// No room for the old file and its replacement at once, but for
		// the new one alone: rewrite it in place as cp does, which frees
		// the old blocks first. (Where even that cannot fit, the old
		// file is kept whole, where cp would leave it truncated.)
		kind, m.inherit, m.inheritNode = outInPlace, nil, nil
		r.ev.Progress = 0
		out, err = wk.writeData(at, r, in, &st, p, kind, perm, stream)
	}
	if err != nil {
		r.ev.Err = err
		return
	}
	if kind == outInPlace {
		// The file keeps its owner, mode and attributes; only what the
		// options preserve changes.
		m.fresh, m.permsSet = nil, true
	}
	m.dst = fdNode(out.f.Fd())
	// A metadata failure fails the file, but its data is whole: cp keeps
	// such a copy under its name, and so does cowcp.
	metaErr := wk.applyMeta(m)
	if err := out.commit(kind == outReplace || kind == outInPlace); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "close" {
			// Data a filesystem could not write back (NFS, FUSE, quotas)
			// shows up at close: cp's words for it.
			r.ev.Err = pathErr("failed to close", dst, pe.Err)
			return
		}
		r.ev.Err = pathErr("cannot create regular file", dst, err)
		return
	}
	r.ev.Err = metaErr
	// The final event carries the bytes not yet reported as progress.
	r.ev.Progress = max(r.ev.Bytes-r.ev.Progress, 0)
}
