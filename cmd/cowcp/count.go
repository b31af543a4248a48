//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/cowcp/cowcp/tree"
	"golang.org/x/sys/unix"
)

// countInterval is how often the counter hands its figures to the
// reporter while it walks: the bar draws no more often than that anyway.
const countInterval = 50 * time.Millisecond

// countRules are the copy's options that decide what the sources hold for
// the bar: which symlinks are followed, whether directories are walked,
// and which files bring data.
type countRules struct {
	deref     tree.Deref // never DerefDefault: resolved as the copy resolves it
	recursive bool
	oneFS     bool // -x: no walking into another filesystem
	links     bool // --preserve=links: a file of several links is copied once
	noData    bool // -l, -s: links are made, no byte is copied
	streams   bool // FIFOs and devices are read like files (no -R, or --copy-contents)
}

// countRulesFor reads the rules from the command line. The default
// dereference is cp's, as tree.New resolves it: symlinks are followed
// unless copying recursively, and always when making hard links.
func countRulesFor(c *cli) countRules {
	r := countRules{deref: c.deref, recursive: c.recursive, oneFS: c.oneFS,
		links: c.preserve.Links, noData: c.hardLink || c.symLink, streams: !c.recursive || c.copyContents}
	if r.deref == tree.DerefDefault {
		r.deref = tree.DerefNever
		if !c.recursive || c.hardLink {
			r.deref = tree.DerefAlways
		}
	}
	return r
}

// counter measures the sources while they are copied, so the bar can show
// a total, then a percentage and an ETA: the apparent size of the regular
// files (the bytes the copy reports as it goes) and the entries, as the
// copy will meet them. It is a goroutine of its own that reads a directory
// at a time (getdents, and fstatat where the type or the size matters),
// and hands its figures to the reporter, which holds the terminal; it
// never touches the bar. It stops when ctx is done, at once: nothing waits
// for it.
//
// It is an estimate, not the copy's walk: a file that changes, an entry
// the copy fails on, a tree deeper than PATH_MAX (walked by name here) make
// the figures differ a little, and the bar clamps its percentage.
type counter struct {
	ctx    context.Context
	rules  countRules
	report func(bytes, entries int64, complete bool)

	bytes, entries int64
	unsized        bool                // a stream is to be read: no total of bytes is final
	seen           map[fileID]struct{} // inodes of several links already counted (links)
	last           time.Time           // the last report
	buf            []byte              // getdents
}

type fileID struct{ dev, ino uint64 }

// countDir is a directory still to read, and the chain of directories it
// was reached by, to stop at a symlink loop under -L.
type countDir struct {
	path     string
	dev, ino uint64
	rootDev  uint64 // the operand's filesystem (-x)
	follow   bool   // path may be a symlink to it, to be followed (-L, -H)
	parent   *countDir
}

// startCounter counts srcs on a goroutine of its own.
func startCounter(ctx context.Context, srcs []string, rules countRules, report func(bytes, entries int64, complete bool)) {
	c := &counter{ctx: ctx, rules: rules, report: report, buf: make([]byte, 32<<10)}
	if rules.links {
		c.seen = make(map[fileID]struct{})
	}
	go c.run(srcs)
}

func (c *counter) run(srcs []string) {
	for _, src := range srcs {
		if c.ctx.Err() != nil {
			return
		}
		c.operand(src)
	}
	if c.ctx.Err() == nil {
		c.report(c.bytes, c.entries, !c.unsized)
	}
}

// operand counts one source operand and, if it is a directory copied
// recursively, its tree.
func (c *counter) operand(src string) {
	var st unix.Stat_t
	follow := c.rules.deref == tree.DerefAlways || c.rules.deref == tree.DerefCommandLine
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	if unix.Fstatat(unix.AT_FDCWD, src, &st, flags) != nil {
		return // the copy says why
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && !c.rules.recursive {
		return // cp omits it
	}
	c.add(&st)
	if isDir {
		c.walk(&countDir{path: src, dev: uint64(st.Dev), ino: st.Ino, rootDev: uint64(st.Dev), follow: follow})
	}
}

// walk counts the tree under root, depth first as the copy walks it, one
// directory read at a time.
func (c *counter) walk(root *countDir) {
	stack := []*countDir{root}
	for len(stack) > 0 && c.ctx.Err() == nil {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		subdirs := c.readDir(d)
		// Pushed last first, so they are read in the order found.
		for i := len(subdirs) - 1; i >= 0; i-- {
			stack = append(stack, subdirs[i])
		}
		if now := time.Now(); now.Sub(c.last) >= countInterval {
			c.last = now
			c.report(c.bytes, c.entries, false)
		}
	}
}

// readDir counts d's entries and returns the directories among them to
// walk next.
func (c *counter) readDir(d *countDir) []*countDir {
	oflags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !d.follow {
		oflags |= unix.O_NOFOLLOW // it was a directory, not a symlink, when seen
	}
	fd, err := unix.Open(d.path, oflags, 0)
	if err != nil {
		return nil // unreadable, gone, or too deep to name: the copy says why
	}
	defer unix.Close(fd)
	follow := c.rules.deref == tree.DerefAlways
	var subdirs []*countDir
	n := 0
	forEachEntry(fd, c.buf, func(name string, typ uint8) bool {
		if n++; n%1024 == 0 && c.ctx.Err() != nil {
			return false
		}
		// The type from getdents spares a stat where neither the size
		// nor the device matters.
		switch {
		case typ == unix.DT_LNK && !follow, typ == unix.DT_SOCK,
			!c.rules.streams && (typ == unix.DT_FIFO || typ == unix.DT_CHR || typ == unix.DT_BLK):
			c.entries++
			return true
		}
		var st unix.Stat_t
		flags := unix.AT_SYMLINK_NOFOLLOW
		if follow {
			flags = 0
		}
		if unix.Fstatat(fd, name, &st, flags) != nil {
			return true // gone, or a dangling symlink under -L: the copy says why
		}
		c.add(&st)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR && !(c.rules.oneFS && uint64(st.Dev) != d.rootDev) && !d.within(uint64(st.Dev), st.Ino) {
			subdirs = append(subdirs, &countDir{path: d.path + "/" + name, dev: uint64(st.Dev), ino: st.Ino, rootDev: d.rootDev, follow: follow, parent: d})
		}
		return true
	})
	return subdirs
}

// within reports whether the directory dev, ino is d or one of the
// directories above it: a loop, through a symlink under -L.
func (d *countDir) within(dev, ino uint64) bool {
	for ; d != nil; d = d.parent {
		if d.dev == dev && d.ino == ino {
			return true
		}
	}
	return false
}

// add counts one entry of stat st.
func (c *counter) add(st *unix.Stat_t) {
	c.entries++
	if c.rules.noData {
		return
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK:
		// Read to its end, however long: the total stays a floor.
		c.unsized = c.unsized || c.rules.streams
		return
	default:
		return
	}
	if c.seen != nil && st.Nlink > 1 {
		id := fileID{uint64(st.Dev), st.Ino}
		if _, ok := c.seen[id]; ok {
			return // a later link: the copy links it, copying nothing
		}
		c.seen[id] = struct{}{}
	}
	c.bytes += st.Size
}

// forEachEntry calls fn with the name and type (DT_*) of every entry of
// the open directory fd but . and .., until fn returns false.
func forEachEntry(fd int, buf []byte, fn func(name string, typ uint8) bool) {
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8,
		// then the name, NUL-terminated and padded.
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen == 0 || off+reclen > n {
				return
			}
			typ := buf[off+18]
			name := buf[off+19 : off+reclen]
			for i, b := range name {
				if b == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			if s := string(name); s != "." && s != ".." {
				if !fn(s, typ) {
					return
				}
			}
		}
	}
}
