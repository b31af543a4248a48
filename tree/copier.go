//go:build linux

package tree

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/cowcp/cowcp/tree/internal/pool"
	"golang.org/x/sys/unix"
)

// Copier copies trees. One walker (the goroutine calling Copy) streams
// entries into a bounded queue, Options.Jobs workers copy them, and one
// collector owns the statistics and calls Options.Observe. Memory does not
// grow with the size of the tree: only open directories, queued jobs and
// inodes with several links inside the tree are remembered.
type Copier struct {
	opts   Options
	ops    ops
	ctx    context.Context
	pool   *pool.Pool[job, result]
	caps   capCache
	probes probeCache
	umask  uint32
	euid   uint32 // who new entries belong to
	egid   uint32
	bufs   sync.Pool

	heldMu sync.Mutex
	held   []int // descriptors holdForLinks opened

	// walker-only state
	links     *linkSet
	operands  map[string]madeFrom // destinations made from operands, and their sources
	fsWatch   map[uint64]*fsUsed
	freeSeen  map[uint64]bool
	freeBytes int64

	// collector-only state
	stats  Stats
	warned map[pair]bool
}

// New starts a Copier's workers. ctx cancels the copy: the walker stops,
// queued jobs are dropped and files being copied are abandoned without
// leaving anything under their final names.
func New(ctx context.Context, opts Options) *Copier {
	if opts.Jobs <= 0 {
		opts.Jobs = max(runtime.NumCPU(), 4)
	}
	if opts.CloneChunk <= 0 {
		opts.CloneChunk = 1 << 30
	}
	if opts.ProgressBytes <= 0 {
		opts.ProgressBytes = 64 << 20
	}
	if opts.Name == "" {
		opts.Name = "cowcp"
	}
	if opts.BackupSuffix == "" {
		opts.BackupSuffix = "~"
	}
	if opts.Overwrite == OverwriteAsk {
		// Questions come in the order cp asks them: one file at a time.
		opts.Jobs = 1
	}
	if opts.Deref == DerefDefault {
		// cp: symlinks are followed unless copying recursively, and
		// always when making hard links.
		opts.Deref = DerefNever
		if !opts.Recursive || opts.HardLink {
			opts.Deref = DerefAlways
		}
	}
	c := &Copier{
		opts:     opts,
		ops:      defaultOps,
		ctx:      ctx,
		links:    newLinkSet(),
		operands: map[string]madeFrom{},
		fsWatch:  map[uint64]*fsUsed{},
		freeSeen: map[uint64]bool{},
		warned:   map[pair]bool{},
	}
	c.euid, c.egid = uint32(os.Geteuid()), uint32(os.Getegid())
	c.umask = processUmask() // read, not set: other goroutines may be creating files
	c.bufs.New = func() any { b := make([]byte, 1<<20); return &b }
	c.stats.start = time.Now()
	// The queue holds a few jobs per worker: enough to keep them busy
	// while the walker reads a directory, little enough to bound memory
	// and the directory descriptors queued jobs keep open.
	c.pool = pool.New(opts.Jobs, opts.Jobs*16, c.work, c.collect)
	return c
}

// Close waits for every queued copy, applies the remaining directory
// metadata and returns the statistics.
func (c *Copier) Close() Stats {
	c.pool.Wait()
	for _, fd := range c.held {
		unix.Close(fd)
	}
	c.stats.FSUsedBytes, c.stats.FSMeasured = c.fsDelta()
	c.stats.FreeBytes = c.freeBytes
	c.stats.Seconds = time.Since(c.stats.start).Seconds()
	if c.ctx.Err() != nil {
		c.stats.Interrupted = true
	}
	return c.stats
}

// job is one entry for a worker.
type job struct {
	dir              *dirHandle
	srcName, dstName string
	st               unix.Stat_t
	follow           bool       // open the source through a symlink
	first            *linkGroup // this is the first link of an inode with several
	link             *linkGroup // this is a later link: link it to the first's copy
}

// result is what a worker (or the walker) tells the collector.
type result struct {
	ev      Event
	cloned  int64
	copied  int64
	saved   int64
	needed  int64      // --dry-run: new data blocks the copy would allocate
	release *dirHandle // drop one reference on this directory
	// fallback names the filesystem pair and the reason cloning did not
	// work, for a one-time notice.
	fallback *fallbackNote
	notice   string // a warning to print, not an error
}

type fallbackNote struct {
	pair     pair
	src, dst string
	err      error
}

// collect is the single goroutine that owns stats and Observe.
func (c *Copier) collect(r result) {
	ev := r.ev
	if r.notice != "" && c.opts.Warn != nil {
		fmt.Fprintf(c.opts.Warn, "%s: %s\n", c.opts.Name, r.notice)
	}
	if r.fallback != nil && !c.warned[r.fallback.pair] {
		// Reported in the statistics, not printed: cp is silent on success.
		c.warned[r.fallback.pair] = true
		c.stats.notCloned(r.fallback)
	}
	if ev.Partial {
		if c.opts.Observe != nil {
			c.opts.Observe(ev)
		}
		return
	}
	if ev.Src != "" || ev.Err != nil {
		c.count(r)
		if c.opts.Observe != nil {
			c.opts.Observe(ev)
		}
	}
	if d := r.release; d != nil {
		c.release(d)
	}
}

func (c *Copier) count(r result) {
	ev := r.ev
	s := &c.stats
	switch {
	case ev.Err != nil:
		s.fail(ev.Src, ev.Err)
		return
	case ev.Skipped:
		s.Skipped++
		return
	}
	switch ev.Kind {
	case KindFile:
		s.Files++
		s.Bytes += ev.Bytes
		s.ClonedBytes += r.cloned
		s.CopiedBytes += r.copied
		s.SavedBytes += r.saved
		s.NeededBytes += r.needed
		s.Methods.add(ev.Method)
	case KindDir:
		s.Dirs++
	case KindSymlink:
		s.Symlinks++
	case KindSpecial:
		s.Specials++
	case KindHardlink:
		s.Hardlinks++
	}
}

// release drops a reference on d and, when it was the last, finishes the
// directory and releases its parent in turn.
func (c *Copier) release(d *dirHandle) {
	for d != nil && d.drop() {
		if d.operand && c.ctx.Err() == nil {
			c.finishParents(d.parents)
		}
		if d.done != nil {
			close(d.done)
		}
		if !d.operand && c.ctx.Err() == nil && !c.opts.DryRun {
			if err := c.finishDir(d); err != nil {
				c.stats.fail(d.src, err)
				if c.opts.Observe != nil {
					c.opts.Observe(Event{Kind: KindDir, Src: d.src, Dst: d.dst, Err: err})
				}
			}
		}
		d.close()
		d = d.parent
	}
}

// work runs on a worker goroutine: copy one entry, report what happened.
func (c *Copier) work(j job) result {
	if c.ctx.Err() != nil {
		// Interrupted: drop the job; it is not a failure of this file.
		j.first.abandon()
		return result{release: j.dir}
	}
	r := result{release: j.dir}
	r.ev.Src = j.dir.srcPath(j.srcName)
	r.ev.Dst = j.dir.dstPath(j.dstName)
	c.copyEntry(j, &r)
	if j.first != nil {
		// Later links of this inode wait for this: publish the outcome.
		// One left alone by -u is there, up to date: cp links the later
		// names to it all the same.
		// Under --dry-run the outcome is the plan's, which the later
		// links are planned against.
		kept := r.ev.Skipped && r.ev.Reason == skipNotOlder
		ok := r.ev.Err == nil && (!r.ev.Skipped || kept)
		fd := -1
		if !c.opts.DryRun {
			fd = c.holdForLinks(j, ok)
		}
		j.first.finish(r.ev.Dst, fd, ok, kept)
	}
	if r.ev.Err != nil && c.ctx.Err() != nil {
		// An abandoned file is reported as the interrupt, not as a failure.
		return result{release: j.dir}
	}
	return r
}

// holdForLinks opens the first copy of a multi-link inode with O_PATH when
// its path is too long to name in linkat, so later links can be made
// through /proc/self/fd. The descriptor is closed by Close.
func (c *Copier) holdForLinks(j job, ok bool) int {
	if !ok || len(j.dir.dstPath(j.dstName)) < unix.PathMax {
		return -1
	}
	fd, err := unix.Openat(j.dir.dstFd, j.dstName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	c.heldMu.Lock()
	c.held = append(c.held, fd)
	c.heldMu.Unlock()
	return fd
}

// copyEntry copies one non-directory entry the way the options ask.
func (c *Copier) copyEntry(j job, r *result) {
	switch {
	case c.opts.DryRun:
		c.planEntry(j, r)
	case j.link != nil:
		c.copyLink(j, r)
	case c.opts.HardLink:
		c.linkSource(j, r)
	case c.opts.SymLink:
		c.symlinkSource(j, r)
	default:
		switch j.st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			c.copyFile(j, r)
		case unix.S_IFLNK:
			c.copySymlink(j, r)
		default:
			if !c.opts.Recursive || c.opts.CopyContents {
				// cp reads FIFOs and devices like files unless it copies
				// recursively without --copy-contents.
				c.copyFile(j, r)
				return
			}
			c.copySpecial(j, r)
		}
	}
}
