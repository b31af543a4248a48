//go:build linux

package tree

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// worker copies one entry at a time, on one of the pool's worker
// goroutines, and returns a result that says what it did. It owns its
// buffer; it never touches the statistics, the walker's maps or the
// progress bar: what they need to know goes to the collector, in the
// result or, for progress within a large file, through report.
type worker struct {
	*env
	report func(result) // the pool's Report: progress before the result
	buf    []byte       // the read/write buffer, made on its first byte copy
}

// newWorker is the pool's worker maker: each worker goroutine gets its own.
func (e *env) newWorker(report func(result)) func(job) result {
	wk := &worker{env: e, report: report}
	return func(j job) result {
		r := wk.work(j)
		j.dir.jobs.Add(-1) // done with the directory's descriptors (see park)
		return r
	}
}

// buffer is the worker's read/write buffer. A worker that only clones
// never makes one.
func (wk *worker) buffer() []byte {
	if wk.buf == nil {
		wk.buf = make([]byte, 1<<20)
	}
	return wk.buf
}

// work runs on a worker goroutine: copy one entry, report what happened.
func (wk *worker) work(j job) result {
	if wk.ctx.Err() != nil {
		// Interrupted: drop the job; it is not a failure of this file.
		j.first.abandon()
		return result{release: j.dir}
	}
	r := result{release: j.dir}
	r.ev.Src = j.dir.srcPath(j.srcName)
	r.ev.Dst = j.dir.dstPath(j.dstName)
	wk.copyEntry(j, &r)
	if errors.Is(r.ev.Err, unix.EEXIST) && !j.recheck && !wk.opts.DryRun && wk.ctx.Err() == nil {
		// Something made the entry between the look at the destination
		// (or, in a directory this run made, none) and the exclusive
		// create: another copy into the same tree, as a rule. Meet it as
		// cp meets an entry that was there, which it overwrites (or
		// skips, asks about, backs up, as the options say), once.
		j.recheck = true
		r = result{release: j.dir, ev: Event{Src: r.ev.Src, Dst: r.ev.Dst, Progress: r.ev.Progress}}
		wk.copyEntry(j, &r)
	}
	if j.first != nil {
		// Later links of this inode wait for this: publish the outcome.
		// One left alone by -u is there, up to date: cp links the later
		// names to it all the same.
		// Under --dry-run the outcome is the plan's, which the later
		// links are planned against.
		kept := r.ev.Skip == SkipNotNewer
		ok := r.ev.Err == nil && (!r.ev.Skipped || kept)
		fd := -1
		if !wk.opts.DryRun {
			fd = wk.holdForLinks(j, ok)
		}
		var dir, ino devIno
		if ok {
			// (Under --dry-run, a copy that exists already: -u keeps it.)
			dir, ino = firstIdentity(j.dir.dstFd, r.ev.Dst)
		}
		j.first.finish(r.ev.Dst, fd, dir, ino, ok, kept)
	}
	if r.ev.Err != nil && wk.ctx.Err() != nil {
		// An abandoned file is reported as the interrupt, not as a failure.
		return result{release: j.dir}
	}
	return r
}

// holdForLinks opens the first copy of a multi-link inode with O_PATH when
// its path is too long to name in linkat, so later links can be made
// through /proc/self/fd. The descriptor is closed by Close.
func (wk *worker) holdForLinks(j job, ok bool) int {
	if !ok || len(j.dir.dstPath(j.dstName)) < unix.PathMax {
		return -1
	}
	fd, err := openat(j.dir.dstFd, j.dstName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	wk.held.add(fd)
	return fd
}

// firstIdentity returns the directory (dirFd) and the inode of dst, the
// first copy of a multi-link inode, which later links check they link to
// (see linkGroup). If they cannot be known, it returns zeros, which match
// nothing: the later links fail rather than link to something else.
func firstIdentity(dirFd int, dst string) (dir, ino devIno) {
	var d, f unix.Stat_t
	if statat(dirFd, ".", &d) != nil || lstatat(dirFd, filepath.Base(dst), &f) != nil {
		return dir, ino
	}
	return devIno{d.Dev, d.Ino}, devIno{f.Dev, f.Ino}
}

// copyEntry copies one non-directory entry the way the options ask.
func (wk *worker) copyEntry(j job, r *result) {
	switch {
	case wk.opts.DryRun:
		wk.planEntry(j, r)
	case j.link != nil:
		wk.copyLink(j, r)
	case wk.opts.HardLink:
		wk.linkSource(j, r)
	case wk.opts.SymLink:
		wk.symlinkSource(j, r)
	default:
		switch j.st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			wk.copyFile(j, r)
		case unix.S_IFLNK:
			wk.copySymlink(j, r)
		default:
			if !wk.opts.Recursive || wk.opts.CopyContents {
				// cp reads FIFOs and devices like files unless it copies
				// recursively without --copy-contents.
				wk.copyFile(j, r)
				return
			}
			wk.copySpecial(j, r)
		}
	}
}

// progress tells the collector that n more bytes of a large file are done.
func (wk *worker) progress(r *result, n int64) {
	r.ev.Progress += n
	wk.report(result{ev: Event{Kind: KindFile, Src: r.ev.Src, Partial: true, Progress: n}})
}
