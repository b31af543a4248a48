//go:build linux

package tree

import "sync"

// pair is a (source filesystem, destination filesystem) pair, by device.
type pair struct{ src, dst uint64 }

// capCache remembers, per filesystem pair, the copy methods found not to
// work, so a large tree on ext4 does not pay a failing ioctl per file.
// Only "unsupported" answers are stored — never EIO, ENOSPC or EPERM —
// and only for the pair they came from. Workers share it, so it locks.
type capCache struct {
	mu        sync.RWMutex
	noClone   map[pair]bool
	noCFR     map[pair]bool
	noTmpfile map[uint64]bool // by destination device
}

func (c *capCache) cloneFails(p pair) bool       { return cacheGet(&c.mu, &c.noClone, p) }
func (c *capCache) cfrFails(p pair) bool         { return cacheGet(&c.mu, &c.noCFR, p) }
func (c *capCache) tmpfileFails(dev uint64) bool { return cacheGet(&c.mu, &c.noTmpfile, dev) }
func (c *capCache) setCloneFails(p pair)         { cacheSet(&c.mu, &c.noClone, p) }
func (c *capCache) setCFRFails(p pair)           { cacheSet(&c.mu, &c.noCFR, p) }
func (c *capCache) setTmpfileFails(dev uint64)   { cacheSet(&c.mu, &c.noTmpfile, dev) }

// cacheGet and cacheSet take the map by pointer: a nil map is made under
// the lock, so the map itself must be read under it too.
func cacheGet[K comparable](mu *sync.RWMutex, m *map[K]bool, k K) bool {
	mu.RLock()
	defer mu.RUnlock()
	return (*m)[k]
}

func cacheSet[K comparable](mu *sync.RWMutex, m *map[K]bool, k K) {
	mu.Lock()
	defer mu.Unlock()
	if *m == nil {
		*m = map[K]bool{}
	}
	(*m)[k] = true
}
