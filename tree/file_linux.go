package tree

import (
	"errors"
	"os"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"github.com/cowcp/cowcp/tree/extent"
	"golang.org/x/sys/unix"
)

// openSource opens the source of j for reading, through a final symlink
// only when the job follows symlinks.
func openSource(j job, display string) (*handle, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if !j.follow {
		flags |= unix.O_NOFOLLOW
	}
	open := openat // a device may wait to open
	if j.st.Mode&unix.S_IFMT == unix.S_IFREG {
		open = openQuick
	}
	fd, err := open(j.dir.srcFd, j.srcName, flags, 0)
	if err != nil {
		return nil, &cpmsg.PathError{Op: "cannot open", Path: display, After: " for reading", Err: err}
	}
	return newReader(fd, display), nil
}

// fileCopy is one regular file's copy, as copyFile's steps hand it on.
type fileCopy struct {
	in     *handle
	st     unix.Stat_t // the source, as opened
	stream bool        // read to its end, its size not trusted (see isStream)
	at     place       // where the copy is written
	old    *unix.Stat_t
	how    decision // what to do about old, the entry at at, if any
	kind   outKind
	perm   uint32 // what the copy is created with
	m      meta   // the metadata step after the data
}

// copyFile copies one regular file, or reads a FIFO, a device or a /proc
// file into one, as cp does without -R (or with --copy-contents).
func (wk *worker) copyFile(j job, r *result) {
	r.ev.Kind = KindFile
	if wk.skipsUnopened(j, r) {
		return
	}
	open := openSource
	if j.st.Mode&unix.S_IFMT != unix.S_IFREG {
		wk.arm() // opening a FIFO or a device may wait for ever
	}
	if j.st.Mode&unix.S_IFMT == unix.S_IFIFO {
		open = wk.openFIFO
	}
	in, err := open(j, r.ev.Src)
	if err != nil {
		r.ev.Err = err
		return
	}
	defer in.Close()
	f := fileCopy{in: in, at: place{dir: j.dir.dstFd, name: j.dstName}, kind: outNew, st: j.st}
	if j.st.Mode&unix.S_IFMT != unix.S_IFREG || j.st.Size == 0 {
		// Anything that may be read as a stream is looked at as opened.
		// A regular file is cloned as the walk saw it; a byte copy looks
		// again first (see writeData).
		if err := fstat(in.fd, &f.st); err != nil {
			r.ev.Err = pathErr("cannot fstat", r.ev.Src, err)
			return
		}
	}
	f.stream = isStream(in.fd, &f.st)
	if !f.stream {
		r.ev.Bytes = f.st.Size
	}
	defer f.at.close()
	defer func() {
		if r.ev.Err != nil {
			restoreBackup(f.at.dir, f.at.name, f.how.backup)
		}
	}()
	if !wk.fileDestination(j, r, &f) {
		return
	}
	wk.fileMeta(j, r, &f)
	if wk.opts.AttrsOnly {
		r.ev.Err = wk.attributesOnly(f.at, f.m, f.old != nil && f.how.replace, f.perm)
		r.ev.Progress = r.ev.Bytes
		return
	}
	out, err := wk.writeFileData(j, r, &f)
	if err != nil {
		r.ev.Err = err
		return
	}
	wk.finishFile(out, r, &f)
}

// skipsUnopened decides -n and -u before the source is opened, from the
// walker's stat of it, as cp decides them: a run over an unchanged copy
// stats each file twice and opens none. What is not skipped is judged
// again once the source is open.
func (wk *worker) skipsUnopened(j job, r *result) bool {
	if j.fresh() || !wk.opts.Update && wk.opts.Overwrite != OverwriteNever {
		return false
	}
	at := place{dir: j.dir.dstFd, name: j.dstName}
	defer at.close()
	old, err := wk.existing(&at, &j.st, r.ev.Dst)
	if err != nil || old == nil {
		return false // the copy meets it again, and reports it
	}
	v, err := wk.judgeExisting(j, at, &j.st, old, r.ev.Src, r.ev.Dst, mayReplace)
	if err != nil || v.skip == SkipNone {
		return false
	}
	r.skip(v.skip, v.skip.reason())
	if j.st.Mode&unix.S_IFMT == unix.S_IFREG {
		r.ev.Bytes = j.st.Size
	}
	return true
}

// fileDestination looks at what is at the copy's destination already and
// decides, as cp would, what to do about it: it asks (-i), moves the entry
// to its backup name or removes it, and picks how the copy is written
// (f.kind). It reports whether the copy goes on.
func (wk *worker) fileDestination(j job, r *result, f *fileCopy) bool {
	if j.fresh() {
		return true // in a directory this run made: nothing is there
	}
	old, err := wk.existing(&f.at, &f.st, r.ev.Dst)
	if err != nil {
		r.ev.Err = err
		return false
	}
	if old == nil {
		return true
	}
	f.old = old
	if f.how, err = wk.checkExisting(j, f.at, r, &f.st, old, mayReplace); !f.how.proceed || err != nil {
		r.ev.Err = err
		return false
	}
	retarget(&f.how, &f.at, j, r)
	f.kind, f.stream = wk.outputFor(f.how, f.at, old, f.stream)
	return true
}

// fileMeta decides the mode the copy is created with and its metadata
// step after the data. The copy is created private when its owner or mode
// will change afterwards, so nobody can open it in between.
func (wk *worker) fileMeta(j job, r *result, f *fileCopy) {
	st := &f.st
	fresh := j.dir.created(wk.env, 0)
	later := f.kind == outReplace && f.how.inherit || wk.opts.Preserve.Ownership && fresh.owner != [2]uint32{st.Uid, st.Gid} ||
		// Without privilege, setting xattrs needs write permission on
		// the inode: a read-only source's copy gets its mode afterwards.
		wk.opts.Preserve.Xattr && wk.euid != 0 && st.Mode&0o200 == 0 ||
		// A stream's copy stands under its name while the data comes:
		// private until its owner is set, as cp keeps it.
		wk.opts.Preserve.Ownership && f.stream && f.kind == outNew
	f.perm = wk.createPerm(st)
	if later {
		f.perm = privatePerm
	}
	fresh.perm = f.perm
	f.m = meta{src: fdNode(f.in.fd), st: st, display: r.ev.Dst, fresh: fresh, permsSet: !later && !wk.opts.Preserve.Mode}
	if f.kind == outReplace && f.how.inherit {
		f.m.inherit, f.m.inheritNode = f.old, atNode{f.at.dir, f.at.name}
	}
}

// writeFileData writes the copy's data (see writeData). A replacement
// that finds no room for the old file and itself at once is written in
// place instead where it fits alone.
func (wk *worker) writeFileData(j job, r *result, f *fileCopy) (*output, error) {
	if out := wk.keepShared(r, f); out != nil {
		return out, nil
	}
	p := pair{src: f.st.Dev, dst: j.dir.dstDev}
	if len(f.at.opened) > 0 {
		// Written through a destination symlink, maybe on another
		// filesystem: the capability cache must learn about that one.
		var d unix.Stat_t
		if err := statat(f.at.dir, ".", &d); err == nil {
			p.dst = d.Dev
		}
	}
	out, err := wk.writeData(f.at, r, f.in, &f.st, p, f.kind, f.perm, f.stream)
	if err != nil && f.kind == outReplace && f.how.inherit && !f.stream && outOfSpace(err) && wk.fitsInPlace(f.at.dir, f.old, &f.st) {
		// No room for the old file and its replacement at once, but for
		// the new one alone: rewrite it in place as cp does, which frees
		// the old blocks first. (Where even that cannot fit, the old
		// file is kept whole, where cp would leave it truncated.)
		f.kind, f.m.inherit, f.m.inheritNode = outInPlace, nil, nil
		r.ev.Progress = 0
		out, err = wk.writeData(f.at, r, f.in, &f.st, p, f.kind, f.perm, f.stream)
	}
	return out, err
}

// keepShared is cp -a over a copy that still shares every block with the
// source, as a copy cowcp or cp cloned earlier does until one of them is
// changed: its data is the source's already, so it is kept, and only its
// metadata is set, in place. That is cp's result (cp clones into the same
// file: same inode, same data, the metadata set) without a new file, a
// clone and a rename per file. Anything else, or a destination that cannot
// be opened for this, is copied as usual. It returns the open destination.
func (wk *worker) keepShared(r *result, f *fileCopy) *output {
	if f.old == nil || !wk.mayKeepShared(f.how, f.kind, f.old, &f.st, f.stream) {
		return nil
	}
	h := openIfShared(f.in, f.at, r.ev.Dst)
	if h == nil {
		return nil
	}
	wk.keptShared(r, f.in, &f.st)
	f.kind, f.m.inherit, f.m.inheritNode = outInPlace, nil, nil
	return &output{h: h, dirFd: f.at.dir, name: f.at.name, inPlace: true, regular: true}
}

// keptShared counts a copy kept because it shares every block with in
// (stat st), for the copy and for --dry-run alike.
func (wk *worker) keptShared(r *result, in *handle, st *unix.Stat_t) {
	r.ev.Method = MethodShared
	r.cloned, r.saved = wk.sharedData(in, st)
}

// mayKeepShared reports whether a regular file's copy (stat st) that meets
// old as how and kind say could keep old if it shares every block with the
// source: old is a regular file of the same size that the copy rewrites
// keeping its inode's owner and mode (inherit), and clones are allowed.
func (e *env) mayKeepShared(how decision, kind outKind, old, st *unix.Stat_t, stream bool) bool {
	return how.inherit && !stream && e.opts.Reflink != ReflinkNever && !e.opts.AttrsOnly &&
		(kind == outReplace || kind == outInPlace) &&
		old.Mode&unix.S_IFMT == unix.S_IFREG && old.Size == st.Size && st.Size > 0
}

// openIfShared opens the regular file at, if it shares every block with
// in, for its metadata; else it returns nil.
func openIfShared(in *handle, at place, display string) *handle {
	// O_NONBLOCK: should the name have become a FIFO meanwhile, the open
	// does not wait (its map then fails, and the copy goes on as usual).
	fd, err := openQuick(at.dir, at.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	h := newReader(fd, display)
	if !extent.SameBlocks(in, h) {
		h.Close()
		return nil
	}
	return h
}

// finishFile gives the written copy its metadata and its name. A metadata
// failure fails the file, but its data is whole: cp keeps such a copy
// under its name, and so does cowcp.
func (wk *worker) finishFile(out *output, r *result, f *fileCopy) {
	if f.kind == outInPlace {
		// The file keeps its owner, mode and attributes; only what the
		// options preserve changes.
		f.m.fresh, f.m.permsSet = nil, true
	}
	f.m.dst = fdNode(out.h.fd)
	metaErr := wk.applyMeta(f.m)
	if err := out.commit(f.kind == outReplace || f.kind == outInPlace); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "close" {
			// Data a filesystem could not write back (NFS, FUSE, quotas)
			// shows up at close: cp's words for it.
			r.ev.Err = pathErr("failed to close", r.ev.Dst, pe.Err)
			return
		}
		r.ev.Err = pathErr("cannot create regular file", r.ev.Dst, err)
		return
	}
	r.ev.Err = metaErr
	// The final event carries the bytes not yet reported as progress.
	r.ev.Progress = max(r.ev.Bytes-r.ev.Progress, 0)
}
