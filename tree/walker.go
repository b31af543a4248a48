//go:build linux

package tree

import (
	"github.com/cowcp/cowcp/tree/internal/pool"
	"golang.org/x/sys/unix"
)

// walker walks the operands on the goroutine that calls Copy and Close. It
// opens every directory, makes its copy (or, under --dry-run, plans it),
// and hands every other entry to the workers as a job; what it does itself
// it reports to the collector. What it owns no other goroutine reaches.
//
// Directory handles (dirHandle) are the walker's while it reads them; from
// then on they are shared read-only with the jobs for their entries, and
// the collector closes each when its last reference goes.
type walker struct {
	*env
	pool      *pool.Pool[job, result] // jobs to the workers, the walker's own results to the collector
	links     *linkSet                // inodes with several links, until all are met
	operands  map[string]madeFrom     // destinations made from operands, and their sources
	fsWatch   map[uint64]*fsUsed      // --sync: the destination filesystems' used space before
	freeSeen  map[uint64]bool         // --dry-run: filesystems whose free space is counted
	freeBytes int64
}

func newWalker(e *env, p *pool.Pool[job, result]) *walker {
	return &walker{
		env:      e,
		pool:     p,
		links:    newLinkSet(),
		operands: map[string]madeFrom{},
		fsWatch:  map[uint64]*fsUsed{},
		freeSeen: map[uint64]bool{},
	}
}

// fail reports a failure the walker met.
func (w *walker) fail(src, dst string, err error) {
	w.pool.Report(result{ev: Event{Src: src, Dst: dst, Err: err}})
}

// submit queues the copy of one non-directory entry of d.
func (w *walker) submit(d *dirHandle, srcName, dstName string, st *unix.Stat_t, follow bool) {
	j := job{dir: d, srcName: srcName, dstName: dstName, st: *st, follow: follow}
	if w.opts.Preserve.Links && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		nlink := uint64(st.Nlink)
		if w.opts.Deref == DerefAlways || w.opts.Deref == DerefCommandLine && d.operand {
			// Through symlinks one inode can be met more often than it
			// has links, and a single-link file twice: remember them all
			// (with -H, those named on the command line).
			nlink = ^uint64(0)
		}
		g, first := w.links.see(st.Dev, st.Ino, nlink)
		if first {
			j.first = g
		} else {
			j.link = g
		}
	}
	d.hold()
	d.jobs.Add(1)
	w.pool.Submit(j)
}
