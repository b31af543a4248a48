//go:build linux

package tree

import (
	"fmt"
	"io"
	"time"
)

// collector is the pool's one collector goroutine. It owns the statistics
// and Options.Observe and Options.Warn, which env does not hold: it counts
// what each result says, passes its event on, and when a directory's last
// reference goes, applies the directory's metadata and closes it. Close
// reads stats once the pool has stopped.
type collector struct {
	*env
	observe func(Event) // Options.Observe, or a no-op
	warn    io.Writer   // Options.Warn, or nil
	stats   Stats
	warned  map[pair]bool // filesystem pairs already in stats.NotCloned
}

func newCollector(e *env, observe func(Event), warn io.Writer) *collector {
	if observe == nil {
		observe = func(Event) {}
	}
	c := &collector{env: e, observe: observe, warn: warn, warned: map[pair]bool{}}
	c.stats.start = time.Now()
	return c
}

// collect takes in one result.
func (c *collector) collect(r result) {
	if d := r.made; d != nil {
		r.ev.Src, r.ev.Dst = d.src(), d.dst()
	}
	ev := r.ev
	if r.notice != "" && c.warn != nil {
		fmt.Fprintf(c.warn, "%s: %s\n", c.opts.Name, r.notice)
	}
	if r.fallback != nil && !c.warned[r.fallback.pair] {
		// Reported in the statistics, not printed: cp is silent on success.
		c.warned[r.fallback.pair] = true
		c.stats.notCloned(r.fallback)
	}
	if ev.Partial {
		c.observe(ev)
		return
	}
	if ev.Src != "" || ev.Err != nil {
		c.count(r)
		c.observe(ev)
	}
	if d := r.release; d != nil {
		c.release(d)
	}
}

func (c *collector) count(r result) {
	ev := r.ev
	s := &c.stats
	switch {
	case ev.Err != nil:
		s.fail(ev.Src, ev.Err)
		return
	case ev.Skipped:
		s.Skipped++
		s.SkippedWhy.add(ev.Skip)
		return
	}
	switch ev.Kind {
	case KindFile:
		s.Files++
		s.Methods.add(ev.Method)
		if ev.Changed {
			s.changed(ev.Src)
		}
		if ev.Method == MethodNone && r.cloned+r.copied == 0 {
			break // no data made: empty, or --attributes-only
		}
		s.Bytes += ev.Bytes
		s.ClonedBytes += r.cloned
		s.CopiedBytes += r.copied
		s.HoleBytes += max(ev.Bytes-r.cloned-r.copied, 0)
		s.SavedBytes += r.saved
		if c.opts.DryRun {
			s.NeededBytes += r.copied
		}
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
func (c *collector) release(d *dirHandle) {
	for d != nil && d.drop() {
		if d.operand && c.ctx.Err() == nil {
			c.finishParents(d.parents)
		}
		if d.done != nil {
			close(d.done)
		}
		if !d.operand && c.ctx.Err() == nil && !c.opts.DryRun && d.dstFd >= 0 {
			// (A directory it could not return to (see back) is closed.)
			if err := c.finishDir(d); err != nil {
				c.stats.fail(d.src(), err)
				c.observe(Event{Kind: KindDir, Src: d.src(), Dst: d.dst(), Err: err})
			}
		}
		if !d.operand && d.srcFd >= 0 {
			c.dirsOpen.Add(-1) // (one parked for good is counted out)
		}
		d.close()
		d = d.parent
	}
}
