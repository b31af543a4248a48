//go:build linux

package tree

import "golang.org/x/sys/unix"

// job is one entry for a worker.
type job struct {
	dir              *dirHandle
	srcName, dstName string
	st               unix.Stat_t
	follow           bool       // open the source through a symlink
	first            *linkGroup // this is the first link of an inode with several
	link             *linkGroup // this is a later link: link it to the first's copy
	// recheck: look for an entry at the destination even in a directory
	// this run made, where one appeared meanwhile (see worker.work).
	recheck bool
}

// fresh reports whether nothing can be at j's destination yet: its
// directory was made by this run, and no entry was found there since.
func (j job) fresh() bool { return j.dir.fresh && !j.recheck }

// result is what a worker (or the walker) tells the collector.
type result struct {
	ev      Event
	cloned  int64      // data bytes shared by cloning
	copied  int64      // data bytes written (under --dry-run, new blocks the copy would allocate)
	saved   int64      // bytes of cloned sharing blocks with the source
	release *dirHandle // drop one reference on this directory
	// made is a directory the walker made: the collector names it in the
	// event, so queued events do not hold its paths, which in a tree
	// thousands of levels deep are long.
	made *dirHandle
	// fallback names the filesystem pair and the reason cloning did not
	// work, for a one-time notice.
	fallback *fallbackNote
	notice   string // a warning to print, not an error
	// over is --dry-run's judgement of an existing regular file the copy
	// would replace, for planFile.
	over *overPlan
}

// overPlan is how the plan meets an existing entry: the decision, the
// output kind it gets, the entry's stat and its name.
type overPlan struct {
	how  decision
	kind outKind
	old  unix.Stat_t
	at   place
}

// skip marks r's entry as left alone, for why; reason, if not "", is
// what --dry-run says.
func (r *result) skip(why Skip, reason string) {
	r.ev.Skipped, r.ev.Skip = true, why
	if reason != "" {
		r.ev.Reason = reason
	}
}

// reason is what --dry-run says of an entry -n or -u leaves alone.
func (w Skip) reason() string {
	switch w {
	case SkipExists:
		return "destination exists (-n)"
	case SkipNotNewer:
		return "destination is not older (-u)"
	}
	return ""
}

type fallbackNote struct {
	pair     pair
	src, dst string
	err      error
}
