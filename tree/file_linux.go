package tree

import (
	"errors"
	"os"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
	"golang.org/x/sys/unix"
)

// output is a destination file being written: under its final name when
// a single FICLONE makes it (there is no moment where it holds partial
// data), under a temporary name in the same directory otherwise, renamed
// over the final name only once complete.
type output struct {
	f     *os.File
	dirFd int
	name  string // final name in dirFd
	tmp   string // temporary name, or "" when f is at name
}

func createAt(dirFd int, name, display string, perm uint32) (*os.File, error) {
	for {
		fd, err := unix.Openat(dirFd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, perm)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), display), nil
	}
}

// openOutput creates the file to write at: directly under its final name
// (which must not exist yet) when direct, else under a temporary name.
func openOutput(at place, display string, direct bool, perm uint32) (*output, error) {
	var out *output
	var err error
	if direct {
		var f *os.File
		if f, err = createAt(at.dir, at.name, display, perm); err == nil {
			out = &output{f: f, dirFd: at.dir, name: at.name}
		}
	} else {
		out, err = openTemp(at.dir, at.name, display, perm)
	}
	if err != nil {
		return nil, pathErr("cannot create regular file", display, err)
	}
	return out, nil
}

// openTemp creates a temporary file beside the final name.
func openTemp(dirFd int, name, display string, perm uint32) (*output, error) {
	for {
		tmp := tmpName()
		f, err := createAt(dirFd, tmp, display, perm)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &output{f: f, dirFd: dirFd, name: name, tmp: tmp}, nil
	}
}

// discard closes and removes whatever o wrote.
func (o *output) discard() {
	o.f.Close()
	n := o.name
	if o.tmp != "" {
		n = o.tmp
	}
	unix.Unlinkat(o.dirFd, n, 0)
}

// commit closes o and, for a temporary file, renames it to its final name.
// replace allows replacing an existing file; otherwise an entry that
// appeared meanwhile is an error, not silently overwritten.
func (o *output) commit(replace bool) error {
	if err := o.f.Close(); err != nil {
		o.f = nil
		n := o.name
		if o.tmp != "" {
			n = o.tmp
		}
		unix.Unlinkat(o.dirFd, n, 0)
		return err
	}
	if o.tmp == "" {
		return nil
	}
	var err error
	if replace {
		err = unix.Renameat(o.dirFd, o.tmp, o.dirFd, o.name)
	} else {
		err = unix.Renameat2(o.dirFd, o.tmp, o.dirFd, o.name, unix.RENAME_NOREPLACE)
	}
	if err != nil {
		unix.Unlinkat(o.dirFd, o.tmp, 0)
	}
	return err
}

// copyFile copies one regular file.
func (c *Copier) copyFile(j job, r *result) {
	r.ev.Kind = KindFile
	src, dst := r.ev.Src, r.ev.Dst
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if !j.follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat(j.dir.srcFd, j.srcName, flags, 0)
	if err != nil {
		r.ev.Err = &PathError{Op: "cannot open", Path: src, After: " for reading", Err: err}
		return
	}
	in := os.NewFile(uintptr(fd), src)
	defer in.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		r.ev.Err = pathErr("cannot fstat", src, err)
		return
	}
	r.ev.Bytes = st.Size

	at := place{dir: j.dir.dstFd, name: j.dstName}
	var how decision
	var old *unix.Stat_t
	if !j.dir.fresh {
		var err error
		if old, err = c.existing(&at, &st, dst); err != nil {
			r.ev.Err = err
			return
		}
		defer at.close()
	}
	if old != nil {
		if how, err = c.checkExisting(j, at, r, &st, old); !how.proceed || err != nil {
			r.ev.Err = err
			return
		}
		if how.target != "" {
			at.name = how.target
			var t unix.Stat_t
			how.replace = fstatat(at.dir, at.name, &t, false) == nil
		}
	}
	m := meta{src: fdNode(fd), st: &st, display: dst}
	if how.inherit {
		m.inherit, m.inheritNode = old, atNode{at.dir, at.name}
	}
	perm := c.createPerm(&st, how.inherit)
	m.permsSet = !how.inherit && !c.opts.Preserve.Mode
	if c.opts.AttrsOnly {
		r.ev.Err = c.attributesOnly(at, m, old != nil && how.replace, perm)
		r.ev.Progress = r.ev.Bytes
		return
	}

	p := pair{src: st.Dev, dst: j.dir.dstDev}
	out, err := c.writeData(at, r, in, &st, p, how.replace, perm)
	if err != nil {
		r.ev.Err = err
		return
	}
	m.dst = fdNode(out.f.Fd())
	if err := c.applyMeta(m); err != nil {
		out.discard()
		r.ev.Err = err
		return
	}
	if err := out.commit(how.replace); err != nil {
		r.ev.Err = pathErr("cannot create regular file", dst, err)
		return
	}
	// The final event carries the bytes not yet reported as progress.
	r.ev.Progress = max(r.ev.Bytes-r.ev.Progress, 0)
}

// writeData makes dst's data from in, by the best method that works, and
// returns the open output, not yet committed.
func (c *Copier) writeData(at place, r *result, in *os.File, st *unix.Stat_t, p pair, replace bool, perm uint32) (*output, error) {
	src, dst := r.ev.Src, r.ev.Dst
	if st.Size == 0 {
		// No data to share or copy: just the file.
		return openOutput(at, dst, !replace, perm)
	}
	tryClone := c.opts.Reflink != ReflinkNever && !c.caps.cloneFails(p)
	if c.opts.Reflink == ReflinkAlways {
		tryClone = true // a cached "unsupported" still must fail loudly, per file
	}
	// One FICLONE is all-or-nothing, so it can write a new file's final
	// name: O_EXCL there costs less than a temporary name and a rename.
	out, err := openOutput(at, dst, tryClone && !replace && st.Size <= c.opts.CloneChunk, perm)
	if err != nil {
		return nil, err
	}
	if tryClone {
		method, err := c.clone(out.f, in, st.Size, r)
		if err == nil {
			r.ev.Method, r.cloned = method, st.Size
			r.saved = clonedDataBytes(in, st.Size)
			return out, nil
		}
		class := reflink.Classify(err)
		if class == reflink.Failed || c.opts.Reflink == ReflinkAlways {
			out.discard()
			if class == reflink.Failed {
				return nil, pathErr("error writing", dst, err)
			}
			return nil, &PathError{Op: "failed to clone", Path: dst, After: " from " + Quote(src), Err: err}
		}
		if class == reflink.FSUnsupported {
			// Remembered for the pair, and said once: every later file
			// between these filesystems is copied without trying.
			c.caps.setCloneFails(p)
			r.fallback = &fallbackNote{pair: p, src: src, dst: dst, err: err}
		}
		if out.tmp == "" {
			// The final name must not hold a byte copy in progress.
			out.discard()
			var oerr error
			if out, oerr = openOutput(at, dst, false, perm); oerr != nil {
				return nil, oerr
			}
		} else if err := out.f.Truncate(0); err != nil {
			out.discard()
			return nil, pathErr("error writing", dst, err)
		}
	}
	method, err := c.copyBytes(out.f, in, st, p, r)
	if err != nil {
		out.discard()
		return nil, err
	}
	r.ev.Method, r.copied = method, st.Size
	return out, nil
}

// clone makes out share in's blocks: one FICLONE for files up to the clone
// chunk, FICLONERANGE chunk by chunk beyond, so the progress bar moves and
// an interrupt is honoured between chunks of a huge file.
func (c *Copier) clone(out, in *os.File, size int64, r *result) (Method, error) {
	chunk := c.opts.CloneChunk
	if size <= chunk {
		return MethodFiclone, c.ops.clone(out, in)
	}
	// Cloning stops at a block boundary except at the end of the file;
	// chunk is a multiple of any block size in use (a power of two >= 64 KiB
	// is enforced by the caller), so every range but the last is aligned.
	for off := int64(0); off < size; off += chunk {
		if err := c.ctx.Err(); err != nil {
			return MethodFicloneRange, err
		}
		n := min(chunk, size-off)
		length := n
		if off+n == size {
			length = 0 // to the end of the source, whatever its alignment
		}
		if err := c.ops.cloneRange(out, off, in, off, length); err != nil {
			return MethodFicloneRange, err
		}
		c.progress(r, n)
	}
	return MethodFicloneRange, nil
}

// progress tells the collector that n more bytes of a large file are done.
func (c *Copier) progress(r *result, n int64) {
	r.ev.Progress += n
	c.pool.Report(result{ev: Event{Kind: KindFile, Src: r.ev.Src, Partial: true, Progress: n}})
}

// copyBytes copies in's data into out without sharing blocks with it
// (unless copy_file_range decides to, which --reflink=never forbids).
func (c *Copier) copyBytes(out, in *os.File, st *unix.Stat_t, p pair, r *result) (Method, error) {
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	buf := *bp
	dst := r.ev.Dst
	size := st.Size

	// Like cp: a source with holes (or --sparse=always) is copied run by
	// run with read/write, and all-zero blocks inside the runs become holes
	// too; copy_file_range, which cannot make holes, serves dense files.
	if c.opts.Sparse == SparseAlways || c.opts.Sparse == SparseAuto && fallback.HasHoles(st) {
		holes := c.chunked(r, func(d, s *os.File, off, n int64) (int64, error) {
			return fallback.ReadWriteHoles(d, s, off, n, buf, int(st.Blksize))
		})
		if _, err := fallback.Sparse(out, in, size, holes); err != nil {
			return MethodSparse, pathErr("error writing", dst, err)
		}
		return MethodSparse, nil
	}
	rw := c.chunked(r, func(d, s *os.File, off, n int64) (int64, error) {
		return fallback.ReadWrite(d, s, off, n, buf)
	})
	method := MethodReadWrite
	var err error
	if c.opts.Reflink != ReflinkNever && !c.caps.cfrFails(p) {
		method = MethodCopyFileRange
		_, err = c.chunked(r, c.ops.copyRange)(out, in, 0, size)
		if errors.Is(err, fallback.ErrUnsupported) {
			c.caps.setCFRFails(p)
			method = MethodReadWrite
		}
	}
	if method == MethodReadWrite {
		_, err = rw(out, in, 0, size)
	}
	if err != nil {
		return method, pathErr("error writing", dst, err)
	}
	return method, nil
}

// chunked wraps a run copier so it works in pieces of ProgressBytes,
// reporting progress and stopping on an interrupt between pieces.
func (c *Copier) chunked(r *result, run fallback.RunCopier) fallback.RunCopier {
	return func(dst, src *os.File, off, n int64) (int64, error) {
		var done int64
		for done < n {
			if err := c.ctx.Err(); err != nil {
				return done, err
			}
			piece := min(n-done, c.opts.ProgressBytes)
			w, err := run(dst, src, off+done, piece)
			done += w
			if w > 0 && n > c.opts.ProgressBytes {
				c.progress(r, w)
			}
			if err != nil {
				// An "unsupported" answer after some pieces makes the caller
				// start again with another method from offset 0, which
				// rewrites what was written; only the progress is counted twice.
				return done, err
			}
			if w < piece {
				return done, nil // the source shrank
			}
		}
		return done, nil
	}
}
