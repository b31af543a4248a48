package tree

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
	"golang.org/x/sys/unix"
)

// fsNoCow is FS_NOCOW_FL (chattr +C): btrfs refuses to clone between a
// nodatacow file and a datacow one.
const fsNoCow = 0x00800000

// probe is what trying a filesystem pair taught.
type probe struct {
	clone    bool
	cloneErr error // why not, when !clone
	cfr      bool  // copy_file_range works (asked only when !clone)
	dstNoCow bool  // new files in the destination get FS_NOCOW_FL
	perFile  bool  // the answer was about one file, not the pair: don't cache
}

// probeCache holds what probing each filesystem pair taught. Workers
// share it; its lock is held through a probe, so a pair is probed once
// however many workers ask at the same time.
type probeCache struct {
	mu sync.Mutex
	m  map[pair]*probe
}

// get returns what probing p taught, probing it with try the first time.
// An answer about one file only (perFile) is not kept.
func (c *probeCache) get(p pair, try func() *probe) *probe {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pr, ok := c.m[p]; ok {
		return pr
	}
	pr := try()
	if !pr.perFile {
		if c.m == nil {
			c.m = map[pair]*probe{}
		}
		c.m[p] = pr
	}
	return pr
}

// probePair is what cloning from in (a source on the pair's source
// filesystem) into dir (an existing directory on the destination
// filesystem) does: learnt once per pair (see probe).
// sizeUnknown is the size given to ops.clone for a file whose size the
// caller does not know: it is cloned through the scheduler, as a large one.
const sizeUnknown = 1 << 62

func (wk *worker) probePair(p pair, in *handle, dir int) *probe {
	return wk.probes.get(p, func() *probe { return wk.probe(in, dir) })
}

// probe tries cloning in into a scratch file in dir, and copy_file_range
// when cloning does not work.
func (wk *worker) probe(in *handle, dir int) *probe {
	pr := &probe{}
	out, err := wk.openTemp(dir, "", "probe", 0o600)
	if err == unix.EACCES {
		// A file rewritten in place in a directory we may not write
		// (0555) is still cloned into: ask the filesystem pair in the
		// nearest directory above that we may write.
		if up := writableAbove(dir); up >= 0 {
			defer unix.Close(up)
			out, err = wk.openTemp(up, "", "probe", 0o600)
		}
	}
	if err != nil {
		pr.cloneErr = fmt.Errorf("cannot make a scratch file to probe: %w", err)
		pr.perFile = true
		return pr
	}
	defer out.discard()
	if flags, err := inodeFlags(out.h.fd); err == nil {
		pr.dstNoCow = flags&fsNoCow != 0
	}
	if wk.opts.Reflink != ReflinkNever {
		err := wk.ops.clone(out.h, in, sizeUnknown)
		pr.clone = err == nil
		if err != nil {
			pr.cloneErr = err
			pr.perFile = reflink.Classify(err) != reflink.FSUnsupported
		}
	}
	if !pr.clone && wk.opts.Reflink != ReflinkNever {
		_, err := wk.ops.copyRange(out.h.File(), in.File(), 0, 64<<10)
		pr.cfr = err == nil || !errors.Is(err, fallback.ErrUnsupported)
	}
	return pr
}

// writableAbove opens the nearest directory above dir on the same
// filesystem that this process may write into, or returns -1.
func writableAbove(dir int) int {
	var st unix.Stat_t
	if statat(dir, ".", &st) != nil {
		return -1
	}
	cur, err := openat(dir, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == nil {
		var up unix.Stat_t
		if fstat(cur, &up) != nil || up.Dev != st.Dev || up.Ino == st.Ino {
			break // another filesystem, or the root
		}
		if faccessat(cur, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS) == nil {
			return cur
		}
		st = up
		next, nerr := openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(cur)
		cur, err = next, nerr
	}
	if err == nil {
		unix.Close(cur)
	}
	return -1
}
