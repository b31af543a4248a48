package tree

import (
	"errors"
	"os"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
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

// writeData makes dst's data from in, by the best method that works, and
// returns the open output, not yet committed.
func (wk *worker) writeData(at place, r *result, in *os.File, st *unix.Stat_t, p pair, kind outKind, perm uint32, stream bool) (*output, error) {
	if stream {
		return wk.writeStream(at, r, in, p, kind, perm)
	}
	src, dst := r.ev.Src, r.ev.Dst
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
		method, err := wk.clone(out.f, in, st.Size, r)
		if err == nil {
			r.ev.Method, r.cloned = method, st.Size
			r.saved = clonedDataBytes(in, st.Size)
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
		if err := out.f.Truncate(0); err != nil {
			out.discard()
			return nil, pathErr("error writing", dst, err)
		}
	}
	method, err := wk.copyBytes(out.f, in, st, p, r)
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
func (wk *worker) clone(out, in *os.File, size int64, r *result) (Method, error) {
	chunk := wk.opts.CloneChunk
	if size <= chunk {
		return MethodFiclone, wk.ops.clone(out, in)
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

// progress tells the collector that n more bytes of a large file are done.
func (wk *worker) progress(r *result, n int64) {
	r.ev.Progress += n
	wk.report(result{ev: Event{Kind: KindFile, Src: r.ev.Src, Partial: true, Progress: n}})
}

// copyBytes copies in's data into out without sharing blocks with it
// (unless copy_file_range decides to, which --reflink=never forbids).
func (wk *worker) copyBytes(out, in *os.File, st *unix.Stat_t, p pair, r *result) (Method, error) {
	buf := wk.buffer()
	dst := r.ev.Dst
	size := st.Size

	// Like cp: a source with holes (or --sparse=always) is copied run by
	// run with read/write, and all-zero blocks inside the runs become holes
	// too; copy_file_range, which cannot make holes, serves dense files.
	if wk.opts.Sparse == SparseAlways || wk.opts.Sparse == SparseAuto && fallback.HasHoles(st) {
		holes := wk.chunked(r, func(d, s *os.File, off, n int64) (int64, error) {
			return fallback.ReadWriteHoles(d, s, off, n, buf, int(st.Blksize))
		})
		if _, err := fallback.Sparse(out, in, size, holes); err != nil {
			return MethodSparse, pathErr("error writing", dst, err)
		}
		return MethodSparse, nil
	}
	rw := wk.chunked(r, func(d, s *os.File, off, n int64) (int64, error) {
		return fallback.ReadWrite(d, s, off, n, buf)
	})
	method := MethodReadWrite
	var err error
	if wk.opts.Reflink != ReflinkNever && !wk.caps.cfrFails(p) {
		method = MethodCopyFileRange
		_, err = wk.chunked(r, wk.ops.copyRange)(out, in, 0, size)
		if errors.Is(err, fallback.ErrUnsupported) {
			wk.caps.setCFRFails(p)
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
