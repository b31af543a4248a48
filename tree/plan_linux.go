package tree

import (
	"fmt"
	"runtime"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// --dry-run: the walker walks as usual but creates nothing, and workers
// plan instead of copying. Whether a filesystem pair clones is learnt by
// trying it once on a scratch file in the destination, removed again —
// never guessed from the filesystem's name.

// planEntry says what copying j would do, without doing it.
func (wk *worker) planEntry(j job, r *result) {
	regular := j.st.Mode&unix.S_IFMT == unix.S_IFREG || !wk.opts.Recursive || wk.opts.CopyContents
	switch {
	case j.link != nil:
		wk.planLaterLink(j, r)
		return
	case wk.opts.HardLink:
		r.ev.Kind, r.ev.Method, r.ev.Reason = KindHardlink, MethodHardlink, "-l"
	case wk.opts.SymLink:
		r.ev.Kind, r.ev.Method, r.ev.Reason = KindSymlink, MethodSymlink, "-s"
		if r.ev.Err = relativeSymlink(j, r.ev.Src, r.ev.Dst); r.ev.Err != nil {
			return
		}
	case j.st.Mode&unix.S_IFMT == unix.S_IFLNK:
		r.ev.Kind, r.ev.Reason = KindSymlink, "symbolic link"
	case !regular:
		r.ev.Kind, r.ev.Reason = KindSpecial, "special file"
	}
	if !regular || wk.opts.HardLink || wk.opts.SymLink || j.st.Mode&unix.S_IFMT == unix.S_IFLNK {
		wk.planExisting(j, r, &j.st, writesEntry)
		return
	}
	r.ev.Kind = KindFile
	if j.st.Mode&unix.S_IFMT != unix.S_IFREG {
		wk.planDeviceRead(j, r)
		return
	}
	wk.planFile(j, r)
}

// planLaterLink plans a later link of an inode as copyLink makes it:
// linked to the first link's copy, if that is made (or kept by -u); else
// copied on its own.
func (wk *worker) planLaterLink(j job, r *result) {
	<-j.link.done
	if !j.link.ok {
		j.link = nil
		wk.planEntry(j, r)
		return
	}
	r.ev.Kind, r.ev.Method, r.ev.Reason = KindHardlink, MethodHardlink, "another link of a file copied in this run"
	if j.link.kept && alreadyLinked(j) {
		r.skip(SkipSame, "already a link of the first link's copy")
		return
	}
	wk.planExisting(j, r, &j.st, writesEntry)
}

// planDeviceRead plans the copy of a FIFO or device read into a file. It
// is not opened: that would wait for a writer, or take its data. It would
// be read to its end.
func (wk *worker) planDeviceRead(j job, r *result) {
	switch {
	case wk.planExisting(j, r, &j.st, writesStream):
	case wk.opts.AttrsOnly:
		r.ev.Reason = "no data to copy"
	default:
		r.ev.Method, r.ev.Reason = MethodReadWrite, "read to its end (a FIFO or device)"
	}
}

// planFile plans a regular file's copy: the method that would move its
// data, and why.
func (wk *worker) planFile(j job, r *result) {
	in, err := openSource(j, r.ev.Src)
	if err != nil {
		r.ev.Err = err
		return
	}
	defer in.Close()
	fd := in.fd
	st := j.st
	r.ev.Bytes = st.Size
	r.ev.Progress = st.Size
	stream := isStream(fd, &st)
	w := writesFile
	if stream {
		w = writesStream
	}
	if wk.planExisting(j, r, &st, w) {
		return
	}
	emptyFile := st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0 && !onPseudoFS(fd)
	if !wk.opts.AttrsOnly && !emptyFile && stream {
		r.ev.Method, r.ev.Reason = MethodReadWrite, "read to its end (a special or /proc file)"
		return
	}
	if wk.opts.AttrsOnly || st.Size == 0 {
		r.ev.Reason = "no data to copy"
		return
	}
	if o := r.over; o != nil && wk.mayKeepShared(o.how, o.kind, &o.old, &st, stream) {
		if h := openIfShared(in, o.at, r.ev.Dst); h != nil {
			h.Close()
			wk.keptShared(r, in, &st)
			r.ev.Reason = "the destination already shares every block with the source"
			r.ev.Existing = ExistingInPlace
			return
		}
	}
	pr := wk.probePair(pair{src: st.Dev, dst: j.dir.dstDev}, in, j.dir.probeFd)
	if wk.planClone(r, in, &st, pr) {
		return
	}
	if wk.opts.Reflink == ReflinkAlways {
		r.ev.Err = &cpmsg.PathError{Op: "failed to clone", Path: r.ev.Dst, After: " from " + cpmsg.Quote(r.ev.Src), Err: pr.cloneErr}
		if pr.cloneErr == nil {
			r.ev.Err = fmt.Errorf("failed to clone %s from %s: %s", cpmsg.Quote(r.ev.Dst), cpmsg.Quote(r.ev.Src), r.ev.Reason)
		}
		return
	}
	wk.planByteCopy(r, &st, pr)
}

// planClone plans a clone where the probe found that the pair clones and
// the files' nodatacow flags agree, and reports whether it did; otherwise
// r's reason says why not.
func (wk *worker) planClone(r *result, in *handle, st *unix.Stat_t, pr *probe) bool {
	switch {
	case !pr.clone && wk.opts.Reflink == ReflinkNever:
		r.ev.Reason = "--reflink=never"
		return false
	case !pr.clone:
		r.ev.Reason = "cannot clone: " + cpmsg.Reason(pr.cloneErr)
		return false
	}
	var srcNoCow bool
	if f, err := inodeFlags(in.fd); err == nil {
		srcNoCow = f&fsNoCow != 0
	}
	runtime.KeepAlive(in) // a bare descriptor in the ioctl
	if srcNoCow != pr.dstNoCow {
		r.ev.Reason = "nodatacow mismatch between source and destination (chattr +C)"
		return false
	}
	r.ev.Method, r.ev.Reason = MethodFiclone, "this filesystem pair clones"
	if st.Size > wk.opts.CloneChunk {
		r.ev.Method = MethodFicloneRange
	}
	r.cloned, r.saved = wk.sharedData(in, st)
	return true
}

// planByteCopy plans the byte copy a file that is not cloned gets, as
// copyBytes chooses it, and the new blocks it would allocate.
func (wk *worker) planByteCopy(r *result, st *unix.Stat_t, pr *probe) {
	switch {
	case wk.opts.Sparse == SparseAlways || wk.opts.Sparse == SparseAuto && fallback.HasHoles(st):
		r.ev.Method = MethodSparse
	case pr.cfr && wk.opts.Reflink != ReflinkNever:
		r.ev.Method = MethodCopyFileRange
	default:
		r.ev.Method = MethodReadWrite
	}
	// The data the copy writes, all new blocks: holes stay holes in a
	// sparse copy.
	r.copied = st.Size
	if r.ev.Method == MethodSparse {
		r.copied = min(st.Blocks*512, st.Size)
	}
}

// planExisting decides, as the copy would, what happens to an entry at
// j's destination and whether the destination can be written, and says
// so in r. It reports whether the plan for j ends there (a failure or a
// skip). w is what the copy writes there.
func (wk *worker) planExisting(j job, r *result, st *unix.Stat_t, w writes) (stop bool) {
	if j.dir.fresh {
		return false // in a directory the copy would make: nothing is there
	}
	at := place{dir: j.dir.dstFd, name: j.dstName}
	defer at.close()
	old, err := wk.entryAt(&at, st, r.ev.Dst, w)
	if err != nil {
		r.ev.Err = err
		return true
	}
	verb, to := planVerb(wk.opts, j, st, r.ev.Src)
	inPlace := false
	if old != nil {
		if inPlace, stop = wk.planOverExisting(j, r, &at, st, old, verb, w); stop {
			return true
		}
	}
	// The copy writes a new entry into the directory, or rewrites the file.
	if inPlace {
		err = faccessat(at.dir, at.name, unix.W_OK, unix.AT_EACCESS)
	} else {
		err = faccessat(at.dir, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS)
	}
	if err != nil {
		r.ev.Err = linkErr(verb, r.ev.Dst, to, err)
		return true
	}
	return false
}

// planVerb is cp's words for failing to make what the copy of j (from
// src) makes, and for a link what it links to (see linkErr).
func planVerb(opts Options, j job, st *unix.Stat_t, src string) (verb, to string) {
	switch {
	case j.link != nil:
		return "cannot create hard link", j.link.dst
	case opts.HardLink:
		return "cannot create hard link", src
	case opts.SymLink:
		return "cannot create symbolic link", src
	}
	return createVerb(st.Mode), ""
}

// planOverExisting is planExisting's judgement of old, the entry at at:
// what the copy would do to it first (r.ev.Existing), and whether the
// copy would rewrite it in place. It reports whether the plan ends there.
func (wk *worker) planOverExisting(j job, r *result, at *place, st, old *unix.Stat_t, verb string, w writes) (inPlace, stop bool) {
	dst := r.ev.Dst
	excl := mayReplace
	if wk.opts.HardLink || wk.opts.SymLink {
		excl = exclusive
	}
	v, err := wk.judgeExisting(j, *at, st, old, r.ev.Src, dst, excl)
	switch {
	case err == unix.EEXIST:
		r.ev.Err = linkErr(verb, dst, r.ev.Src, err)
		return false, true
	case err != nil:
		r.ev.Err = err
		return false, true
	case v.done:
		r.skip(SkipSame, "already a link of the source")
		return false, true
	case v.skip != SkipNone:
		r.skip(v.skip, v.skip.reason())
		return false, true
	case v.refuse != nil:
		// -i asks first; the plan is what a yes gets.
		r.ev.Err = v.refuse
		return false, true
	}
	r.ev.Ask = v.ask
	retarget(&v.decision, at, j, r)
	if w == writesEntry {
		if r.ev.Err = wk.attrsOnlyRefusal(v.decision, verb, dst); r.ev.Err != nil {
			return false, true
		}
	}
	switch {
	case v.backup != "":
		r.ev.Existing, r.ev.Backup = ExistingBackup, j.dir.dstPath(v.backup)
	case v.remove:
		r.ev.Existing = ExistingRemove
	case v.replace && w != writesEntry:
		kind, _ := wk.outputFor(v.decision, *at, old, w == writesStream)
		inPlace = kind == outInPlace
		if len(at.opened) == 0 { // (directories followed to are closed on return)
			r.over = &overPlan{how: v.decision, kind: kind, old: *old, at: place{dir: at.dir, name: at.name}}
		}
		r.ev.Existing = ExistingReplace
		if inPlace || wk.opts.AttrsOnly {
			// (--attributes-only changes the file itself.)
			r.ev.Existing = ExistingInPlace
		}
	case v.replace:
		r.ev.Existing = ExistingReplace
	}
	return inPlace, false
}
