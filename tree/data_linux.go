package tree

import (
	"errors"
	"fmt"
	"os"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// writeData makes dst's data from in, by the best method that works, and
// returns the open output, not yet committed.
func (wk *worker) writeData(at place, r *result, in *handle, st *unix.Stat_t, p pair, kind outKind, perm uint32, stream bool) (*output, error) {
	if stream {
		wk.arm() // a stream may wait for its writer for ever
		return wk.writeStream(at, r, in.File(), p, kind, perm)
	}
	src, dst := r.ev.Src, r.ev.Dst
	if st.Size > smallClone {
		wk.arm() // a long copy: Ctrl-C is answered in words
	}
	if kind == outNew && st.Size == 0 {
		kind = outEmpty
	}
	out, err := wk.openOutput(at, dst, kind, perm, p.dst)
	if err != nil || st.Size == 0 {
		return out, err // an empty file has no data to share or copy
	}
	tryClone := wk.opts.Reflink != ReflinkNever && !wk.caps.cloneFails(p)
	if wk.opts.Reflink == ReflinkAlways {
		tryClone = true // a cached "unsupported" still must fail loudly, per file
	}
	if tryClone {
		method, err := wk.clone(out.h, in, st.Size, r)
		if err == nil && method == MethodFicloneRange {
			// Range by range, the clone is no snapshot of one instant.
			err = wk.checkUnchanged(in, st, r)
		}
		if err == nil {
			r.ev.Method = method
			r.cloned, r.saved = wk.sharedData(in, st)
			out.h.quick = true // shares blocks, wrote none: nothing to write back at close
			return out, nil
		}
		class := reflink.Classify(err)
		if class == reflink.Failed || wk.opts.Reflink == ReflinkAlways {
			out.discard()
			if class == reflink.Failed {
				return nil, pathErr("error writing", dst, err)
			}
			return nil, &cpmsg.PathError{Op: "failed to clone", Path: dst, After: " from " + cpmsg.Quote(src), Err: err}
		}
		if class == reflink.FSUnsupported {
			// Remembered for the pair, and said once: every later file
			// between these filesystems is copied without trying.
			wk.caps.setCloneFails(p)
			r.fallback = &fallbackNote{pair: p, src: src, dst: dst, err: err}
		}
		if err := emptied(out.h); err != nil {
			out.discard()
			return nil, pathErr("error writing", dst, err)
		}
	}
	// A clone is of the file as it is and needs no size; a byte copy
	// reads as many bytes as the file has now, and gives the copy the
	// metadata of what it read.
	if err := refresh(in, st); err != nil {
		out.discard()
		return nil, err
	}
	method, n, err := wk.copyBytes(out.h.File(), in.File(), st, p, r)
	if err == nil {
		err = wk.checkUnchanged(in, st, r)
	}
	if err != nil {
		out.discard()
		return nil, err
	}
	r.ev.Method, r.copied = method, n.written
	if method != MethodSparse {
		r.ev.Bytes = n.read // what the copy has, if the source shrank
	}
	return out, nil
}

// checkUnchanged stats the source in again after its data was copied and
// marks r changed, with a warning, if its size, modification or change
// time is not what st, its stat before, says: the copy may then mix old
// and new content (tar's "file changed as we read it"). The copy is kept,
// as tar keeps it, and cowcp exits 1.
//
// A file cloned with one FICLONE is not checked: the clone takes the
// source as it is at one instant, locked against writers.
func (wk *worker) checkUnchanged(in *handle, st *unix.Stat_t, r *result) error {
	var now unix.Stat_t
	if err := fstat(in.fd, &now); err != nil {
		return pathErr("cannot fstat", in.name, err)
	}
	if now.Size != st.Size || now.Mtim != st.Mtim || now.Ctim != st.Ctim {
		r.ev.Changed = true
		r.notice = cpmsg.Quote(r.ev.Src) + ": file changed as we read it"
	}
	return nil
}

// refresh stats the open source in again into st, the stat the walk made
// of its name, and refuses it, as cp does, if it is not that file any more.
func refresh(in *handle, st *unix.Stat_t) error {
	var now unix.Stat_t
	if err := fstat(in.fd, &now); err != nil {
		return pathErr("cannot fstat", in.name, err)
	}
	if !sameInode(&now, st) {
		return fmt.Errorf("skipping file %s, as it was replaced while being copied", cpmsg.Quote(in.name))
	}
	*st = now
	return nil
}

// emptied makes sure a file a failed clone may have written part of is
// empty again. Only when it is not: truncating an ext4 file to zero marks
// it to be written back at close (auto_da_alloc, meant for rewrites), so
// a needless truncate made the close of a 1 GiB copy wait 110 ms.
func emptied(out *handle) error {
	var st unix.Stat_t
	if err := fstat(out.fd, &st); err != nil || st.Size == 0 {
		return err
	}
	return out.File().Truncate(0)
}

// clone makes out share in's blocks: one FICLONE for files up to the clone
// chunk, FICLONERANGE chunk by chunk beyond, so the progress bar moves and
// an interrupt is honoured between chunks of a huge file.
func (wk *worker) clone(out, in reflink.File, size int64, r *result) (Method, error) {
	chunk := wk.opts.CloneChunk
	if size <= chunk {
		return MethodFiclone, wk.ops.clone(out, in, size)
	}
	// Cloning stops at a block boundary except at the end of the file;
	// chunk is a multiple of any block size in use (a power of two >= 64 KiB
	// is enforced by the caller), so every range but the last is aligned.
	for off := int64(0); off < size; off += chunk {
		if err := wk.ctx.Err(); err != nil {
			return MethodFicloneRange, err
		}
		n := min(chunk, size-off)
		length := n
		if off+n == size {
			length = 0 // to the end of the source, whatever its alignment
		}
		if err := wk.ops.cloneRange(out, off, in, off, length); err != nil {
			return MethodFicloneRange, err
		}
		wk.progress(r, n)
	}
	return MethodFicloneRange, nil
}

// copied is what a byte copy did: the source bytes it read (of the data
// runs, for a sparse copy), and the bytes it wrote, fewer than read where
// blocks of zeros became holes.
type copied struct{ read, written int64 }

// copyBytes copies in's data into out without sharing blocks with it
// (unless copy_file_range decides to, which --reflink=never forbids).
func (wk *worker) copyBytes(out, in *os.File, st *unix.Stat_t, p pair, r *result) (Method, copied, error) {
	buf := wk.buffer()
	dst := r.ev.Dst
	size := st.Size
	var n copied

	// Like cp: a source with holes (or --sparse=always) is copied run by
	// run with read/write, and all-zero blocks inside the runs become holes
	// too; copy_file_range, which cannot make holes, serves dense files.
	if wk.opts.Sparse == SparseAlways || wk.opts.Sparse == SparseAuto && fallback.HasHoles(st) {
		holes := wk.chunked(r, func(d, s *os.File, off, c int64) (int64, error) {
			read, written, err := fallback.ReadWriteHoles(d, s, off, c, buf, int(st.Blksize))
			n.written += written
			return read, err
		})
		var err error
		if n.read, err = fallback.Sparse(out, in, size, holes); err != nil {
			return MethodSparse, n, pathErr("error writing", dst, err)
		}
		return MethodSparse, n, nil
	}
	rw := wk.chunked(r, func(d, s *os.File, off, c int64) (int64, error) {
		return fallback.ReadWrite(d, s, off, c, buf)
	})
	method := MethodReadWrite
	var err error
	if wk.opts.Reflink != ReflinkNever && !wk.caps.cfrFails(p) {
		method = MethodCopyFileRange
		n.read, err = wk.chunked(r, wk.ops.copyRange)(out, in, 0, size)
		if errors.Is(err, fallback.ErrUnsupported) {
			wk.caps.setCFRFails(p)
			method = MethodReadWrite
		}
	}
	if method == MethodReadWrite {
		n.read, err = rw(out, in, 0, size)
	}
	if err != nil {
		return method, n, pathErr("error writing", dst, err)
	}
	n.written = n.read
	return method, n, nil
}

// chunked wraps a run copier so it works in pieces of ProgressBytes,
// reporting progress and stopping on an interrupt between pieces.
func (wk *worker) chunked(r *result, run fallback.RunCopier) fallback.RunCopier {
	return func(dst, src *os.File, off, n int64) (int64, error) {
		var done int64
		for done < n {
			if err := wk.ctx.Err(); err != nil {
				return done, err
			}
			piece := min(n-done, wk.opts.ProgressBytes)
			w, err := run(dst, src, off+done, piece)
			done += w
			if w > 0 && n > wk.opts.ProgressBytes {
				wk.progress(r, w)
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
