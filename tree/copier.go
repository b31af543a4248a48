//go:build linux

package tree

import (
	"context"
	"runtime"
	"time"

	"github.com/cowcp/cowcp/tree/internal/pool"
)

// Copier copies trees. Three kinds of goroutine share the work, each with
// a type of its own, so that what each one owns only it can reach:
//
//   - the walker (the goroutine calling Copy and Close) walks the
//     operands, makes the directories and streams the other entries
//     into a bounded queue as jobs;
//   - Options.Jobs workers copy one job each at a time;
//   - the collector counts what they did, calls Options.Observe and
//     finishes each directory when nothing more is written into it.
//
// What they all read is an env, fixed by New; the few caches they share
// are in it, each behind its own lock. Memory does not grow with the size
// of the tree: only open directories, queued jobs and inodes with several
// links inside the tree are remembered.
type Copier struct {
	env  *env
	pool *pool.Pool[job, result]
	walk *walker
	coll *collector // the collector goroutine's until pool.Wait returns
}

// New starts a Copier's workers. ctx cancels the copy: the walker stops,
// queued jobs are dropped and files being copied are abandoned without
// leaving anything under their final names.
func New(ctx context.Context, opts Options) *Copier {
	opts = withDefaults(opts)
	// Observe and Warn are the collector's: env, which every goroutine
	// reads, does not hold them.
	observe, warn := opts.Observe, opts.Warn
	opts.Observe, opts.Warn = nil, nil
	e := newEnv(ctx, opts)
	coll := newCollector(e, observe, warn)
	// The queue holds a few batches per worker: enough to keep them busy
	// while the walker reads a directory, little enough to bound memory
	// and the directory descriptors queued jobs keep open.
	p := pool.NewWorkers(e.opts.Jobs, e.opts.Jobs*2*pool.Batch, e.newWorker, coll.collect)
	p.OnStart = e.arm
	return &Copier{env: e, pool: p, walk: newWalker(e, p), coll: coll}
}

// maxJobs bounds Options.Jobs. The queue is sized by the workers, and each
// worker may hold an OS thread in a system call and a 1 MiB buffer: -j
// 1000000000 asked for a queue of 48 GB and died out of memory before
// copying anything, and -j 100000 took 500 MB and 8 s for 100 files.
// More workers than this only wait on the same devices.
const maxJobs = 256

// withDefaults fills in the options the zero value leaves to New.
func withDefaults(opts Options) Options {
	if opts.Jobs <= 0 {
		opts.Jobs = max(runtime.NumCPU(), 4)
	}
	opts.Jobs = min(opts.Jobs, maxJobs)
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
	return opts
}

// Copy copies src to dst: a file to the file name dst, or a directory to
// the directory dst (made, or merged into when it exists). dst is the
// final name; resolving "into a directory" is the caller's job. Failures
// are counted and reported through Observe; Copy returns when the walk of
// src is done, while workers may still be copying.
func (c *Copier) Copy(dst, src string) { c.walk.copyOperand(dst, src) }

// Close waits for every queued copy, applies the remaining directory
// metadata and returns the statistics.
func (c *Copier) Close() Stats {
	c.pool.Wait()
	c.env.held.closeAll()
	s := c.coll.stats
	s.FSUsedBytes, s.FSMeasured = c.walk.fsDelta()
	s.FreeBytes = c.walk.freeBytes
	s.Version = ReportVersion
	s.Seconds = time.Since(s.start).Seconds()
	if c.env.ctx.Err() != nil {
		s.Interrupted = true
	}
	return s
}
