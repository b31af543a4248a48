package tree

import "sync"

// pair is a (source filesystem, destination filesystem) pair, by device.
type pair struct{ src, dst uint64 }

// capCache remembers, per filesystem pair, the copy methods found not to
// work, so a large tree on ext4 does not pay a failing ioctl per file.
// Only "unsupported" answers are stored — never EIO, ENOSPC or EPERM —
// and only for the pair they came from. Workers share it, so it locks.
type capCache struct {
	mu      sync.RWMutex
	noClone map[pair]bool
	noCFR   map[pair]bool
	// noTmpfile is keyed by the destination device alone.
	noTmpfile map[pair]bool
}

func (c *capCache) cloneFails(p pair) bool       { return c.get(&c.noClone, p) }
func (c *capCache) cfrFails(p pair) bool         { return c.get(&c.noCFR, p) }
func (c *capCache) setCloneFails(p pair)         { c.set(&c.noClone, p) }
func (c *capCache) setCFRFails(p pair)           { c.set(&c.noCFR, p) }
func (c *capCache) tmpfileFails(dev uint64) bool { return c.get(&c.noTmpfile, pair{dst: dev}) }
func (c *capCache) setTmpfileFails(dev uint64)   { c.set(&c.noTmpfile, pair{dst: dev}) }

func (c *capCache) get(m *map[pair]bool, p pair) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return (*m)[p]
}

func (c *capCache) set(m *map[pair]bool, p pair) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[pair]bool{}
	}
	(*m)[p] = true
}
