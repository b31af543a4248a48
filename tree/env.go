//go:build linux

package tree

import (
	"context"
	"os"
	"sync/atomic"
)

// env is what the walker, the workers and the collector all read. New sets
// its fields and nothing changes them afterwards, so they are read without
// locks. What the three share and change is behind the pointers at the
// end, each with its own lock.
//
// The decisions that both a copy and --dry-run make (what to do about an
// existing destination, which mode to create an entry with) are methods of
// env: functions of the options and the facts handed to them, whoever asks.
type env struct {
	opts  Options
	ops   ops
	ctx   context.Context
	umask uint32 // read once (see processUmask), never set
	euid  uint32 // who new entries belong to
	egid  uint32

	caps   *capCache   // per filesystem pair, the methods that do not work (RWMutex)
	probes *probeCache // --dry-run: what trying each filesystem pair taught (Mutex)
	held   *heldFds    // descriptors kept for later hard links, closed by Close (Mutex)
	// dirsOpen counts the walked directories whose descriptors are open:
	// up by the walker, down by it (see park) and the collector (atomic).
	dirsOpen *atomic.Int64
}

// arm calls Options.Arm: what comes next needs an orderly stop on an
// interrupt (see Options.Arm).
func (e *env) arm() {
	if e.opts.Arm != nil {
		e.opts.Arm()
	}
}

func newEnv(ctx context.Context, opts Options) *env {
	return &env{
		opts:     opts,
		ops:      defaultOps,
		ctx:      ctx,
		umask:    processUmask(), // read, not set: other goroutines may be creating files
		euid:     uint32(os.Geteuid()),
		egid:     uint32(os.Getegid()),
		caps:     &capCache{},
		probes:   &probeCache{},
		held:     &heldFds{},
		dirsOpen: &atomic.Int64{},
	}
}
