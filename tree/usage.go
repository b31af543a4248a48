//go:build linux

package tree

import (
	"cmp"
	"slices"
)

// Usage is the disk usage of one PATH given to a UsageCounter: every
// regular file under it, counted by its extents the way btrfs filesystem
// du counts them. Byte counts are of whole allocated blocks and skip
// holes, inline data (stored in metadata) and not yet allocated data.
type Usage struct {
	Path string
	// Total is the bytes in the files' data extents.
	Total uint64
	// Exclusive is the bytes of Total in extents no other file or
	// snapshot references.
	Exclusive uint64
	// Shared is Total - Exclusive.
	Shared uint64
	// SetShared is the space on the device that the shared extents
	// take, each block counted once however many files, clones or
	// PATHs reference it.
	SetShared uint64
	// Files is the usage of each file, sorted by path, when
	// UsageOptions.Files asks for it. A file with several hard links
	// appears once, under the smallest of its names.
	Files []FileUsage
	// Errors counts the entries that could not be measured; each was
	// passed to UsageOptions.OnError.
	Errors int
	// Unmapped counts files on filesystems without FIEMAP (tmpfs, NFS,
	// most FUSE): their allocated blocks (st_blocks) count as exclusive.
	Unmapped int
}

// FileUsage is the usage of one regular file.
type FileUsage struct {
	Path                     string
	Total, Exclusive, Shared uint64
}

// UsageOptions configure a UsageCounter.
type UsageOptions struct {
	// Workers is how many files are mapped at once; 0 picks a default.
	Workers int
	// Files asks for per-file results in Usage.Files.
	Files bool
	// OnError, if set, is told about every entry that could not be
	// measured, as a *cpmsg.PathError. Calls never overlap.
	OnError func(error)
}

// UsageCounter measures the disk usage of a sequence of PATHs. A file
// reached through several PATHs or hard links counts once, for the first
// PATH that reaches it (a PATH inside an earlier one comes out empty), and
// Total's SetShared counts a block shared by several PATHs once.
type UsageCounter struct {
	opts UsageOptions
	// Every file counted so far, as btrfs filesystem du and GNU du
	// (given several PATHs) keep them: 100k files take a few MB.
	seen  map[devIno]struct{}
	set   spanSet // shared blocks of all PATHs so far
	total Usage
}

// NewUsageCounter returns a counter with nothing measured yet.
func NewUsageCounter(opts UsageOptions) *UsageCounter {
	return &UsageCounter{opts: opts, seen: map[devIno]struct{}{}}
}

// Total returns the usage of all PATHs measured so far.
func (c *UsageCounter) Total() Usage {
	t := c.total
	t.SetShared = c.set.bytes()
	return t
}

// fileMeasure is a worker's account of one regular file.
type fileMeasure struct {
	path                     string
	id                       devIno
	links                    uint64
	total, exclusive, shared uint64
	sharedSpans              []span // physical ranges of the shared extents
	unmapped                 bool
	skip                     bool // not a regular file of the walked mount after all
	err                      error
}

// pathCount is the collector's state while one PATH is measured.
type pathCount struct {
	c     *UsageCounter
	u     Usage
	set   spanSet
	names map[devIno]int // index in u.Files of files with several links
}

// collect adds one file to the PATH's usage. Only the pool's collector
// calls it, so it owns all the counting state.
func (p *pathCount) collect(m fileMeasure) {
	switch {
	case m.err != nil:
		p.u.Errors++
		if p.c.opts.OnError != nil {
			p.c.opts.OnError(m.err)
		}
		return
	case m.skip:
		return
	}
	if _, dup := p.c.seen[m.id]; dup {
		// Counted already, through a hard link or an earlier PATH.
		// Only a smaller name may replace the listed one, so that the
		// list does not depend on which worker finished first.
		if i, ok := p.names[m.id]; ok && m.path < p.u.Files[i].Path {
			p.u.Files[i].Path = m.path
		}
		return
	}
	p.c.seen[m.id] = struct{}{}
	if p.c.opts.Files && m.links > 1 {
		p.names[m.id] = len(p.u.Files)
	}
	p.u.Total += m.total
	p.u.Exclusive += m.exclusive
	p.u.Shared += m.shared
	for _, s := range m.sharedSpans {
		p.set.add(s)
	}
	if m.unmapped {
		p.u.Unmapped++
	}
	if p.c.opts.Files {
		p.u.Files = append(p.u.Files, FileUsage{Path: m.path, Total: m.total, Exclusive: m.exclusive, Shared: m.shared})
	}
}

// finish completes the PATH's usage and adds it to the counter's total.
func (p *pathCount) finish() Usage {
	p.u.SetShared = p.set.bytes()
	slices.SortFunc(p.u.Files, func(a, b FileUsage) int { return cmp.Compare(a.Path, b.Path) })
	t := &p.c.total
	t.Total += p.u.Total
	t.Exclusive += p.u.Exclusive
	t.Shared += p.u.Shared
	t.Errors += p.u.Errors
	t.Unmapped += p.u.Unmapped
	p.c.set.addSet(&p.set)
	return p.u
}

// span is the byte range [start, end) on a device.
type span struct{ start, end uint64 }

// spanSet is a set of byte ranges that counts each byte once, however
// often and however partially the added ranges overlap. Memory stays
// proportional to the distinct ranges: added ranges wait in pending and
// are merged into the sorted, disjoint merged list in batches, which
// makes add O(log n) amortized.
type spanSet struct {
	merged  []span // sorted, disjoint, not adjacent
	pending []span
}

func (s *spanSet) add(r span) {
	if r.end <= r.start {
		return
	}
	s.pending = append(s.pending, r)
	if len(s.pending) >= max(1024, len(s.merged)) {
		s.compact()
	}
}

// addSet adds every range of o.
func (s *spanSet) addSet(o *spanSet) {
	o.compact()
	for _, r := range o.merged {
		s.add(r)
	}
}

// compact merges pending into merged.
func (s *spanSet) compact() {
	if len(s.pending) == 0 {
		return
	}
	slices.SortFunc(s.pending, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	out := make([]span, 0, len(s.merged)+len(s.pending))
	i, j := 0, 0
	for i < len(s.merged) || j < len(s.pending) {
		var r span
		if j == len(s.pending) || (i < len(s.merged) && s.merged[i].start <= s.pending[j].start) {
			r, i = s.merged[i], i+1
		} else {
			r, j = s.pending[j], j+1
		}
		if n := len(out); n > 0 && r.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	s.merged, s.pending = out, s.pending[:0]
}

// bytes returns how many bytes the set covers.
func (s *spanSet) bytes() uint64 {
	s.compact()
	var n uint64
	for _, r := range s.merged {
		n += r.end - r.start
	}
	return n
}
