//go:build linux

package usage

import (
	"cmp"
	"slices"
)

// Usage is the disk usage of one PATH given to a Counter: every
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
	// Options.Files asks for it. A file with several hard links
	// appears once, under the smallest of its names.
	Files []File
	// Errors counts the entries that could not be measured; each was
	// passed to Options.OnError.
	Errors int
	// Unmapped counts files on filesystems without FIEMAP (tmpfs, NFS,
	// most FUSE): their allocated blocks (st_blocks) count as exclusive.
	Unmapped int
}

// File is the usage of one regular file.
type File struct {
	Path                     string
	Total, Exclusive, Shared uint64
}

// Options configure a Counter.
type Options struct {
	// Workers is how many files are mapped at once; 0 picks a default.
	Workers int
	// Files asks for per-file results in Usage.Files.
	Files bool
	// OnError, if set, is told about every entry that could not be
	// measured, as a *cpmsg.PathError. Calls never overlap.
	OnError func(error)
}

// Counter measures the disk usage of a sequence of PATHs. A file
// reached through several PATHs or hard links counts once, for the first
// PATH that reaches it (a PATH inside an earlier one comes out empty), and
// Total's SetShared counts a block shared by several PATHs once.
type Counter struct {
	opts Options
	// Every file counted so far, as btrfs filesystem du and GNU du
	// (given several PATHs) keep them: 100k files take a few MB.
	seen  map[devIno]struct{}
	set   spanSet // shared blocks of all PATHs so far
	total Usage
}

// NewCounter returns a counter with nothing measured yet.
func NewCounter(opts Options) *Counter {
	return &Counter{opts: opts, seen: map[devIno]struct{}{}}
}

// Total returns the usage of all PATHs measured so far.
func (c *Counter) Total() Usage {
	t := c.total
	t.SetShared = c.set.bytes()
	return t
}

// devIno identifies a file by its device and inode numbers.
type devIno struct{ dev, ino uint64 }

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
	c     *Counter
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
		p.u.Files = append(p.u.Files, File{Path: m.path, Total: m.total, Exclusive: m.exclusive, Shared: m.shared})
	}
}

// finish completes the PATH's usage and adds it to the counter's total.
func (p *pathCount) finish() Usage {
	p.u.SetShared = p.set.bytes()
	slices.SortFunc(p.u.Files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	t := &p.c.total
	t.Total += p.u.Total
	t.Exclusive += p.u.Exclusive
	t.Shared += p.u.Shared
	t.Errors += p.u.Errors
	t.Unmapped += p.u.Unmapped
	p.c.set.addSet(&p.set)
	return p.u
}
