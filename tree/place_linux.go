package tree

import (
	"fmt"
	"os"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// place is where a regular file is written: a name in an open directory.
// Usually the job's own; when the destination is a symlink, the file it
// points to, as cp writes through such symlinks.
type place struct {
	dir    int
	name   string
	opened []int // directories opened to follow symlinks, closed by close
}

func (p *place) close() {
	for _, fd := range p.opened {
		unix.Close(fd)
	}
	p.opened = nil
}

// maxLinkHops bounds the symlinks followed from a destination, like the
// kernel's own limit (40).
const maxLinkHops = 40

// existing looks at what is at p already. It returns nil when nothing is.
// Directories it opens on the way stay in p.opened, for p.close, also
// when it fails.
// A symlink there is followed, as cp does when it overwrites: p is moved to
// the file the link points to, so that file is replaced and the link
// stays. A dangling one is refused rather than created through.
func (e *env) existing(p *place, src *unix.Stat_t, display string) (*unix.Stat_t, error) {
	var old unix.Stat_t
	switch err := lstatat(p.dir, p.name, &old); {
	case err == unix.ENOENT:
		return nil, nil
	case err != nil:
		return nil, pathErr("cannot stat", display, err)
	}
	if old.Mode&unix.S_IFMT != unix.S_IFLNK || e.opts.Overwrite == OverwriteRemoveFirst || e.opts.Backup != BackupNone {
		// The symlink itself is removed or backed up, as cp does.
		return &old, nil
	}
	var target unix.Stat_t
	dangling := false
	switch err := statat(p.dir, p.name, &target); {
	case err == unix.ENOENT && e.opts.ThroughDangling:
		// POSIXLY_CORRECT: cp creates the file the symlink names.
		dangling = true
	case err == unix.ENOENT:
		return nil, fmt.Errorf("not writing through dangling symlink %s", cpmsg.Quote(display))
	case err == unix.ELOOP && e.opts.Force:
		// cp -f cannot open it, so removes the symlink and makes the
		// file anew: the symlink itself is what gets replaced.
		return &old, nil
	case err == unix.ELOOP:
		return nil, pathErr("cannot create regular file", display, err)
	case err != nil:
		return nil, pathErr("cannot stat", display, err)
	}
	if !dangling && target.Dev == src.Dev && target.Ino == src.Ino {
		return &target, nil // checkExisting reports "the same file"
	}
	if !dangling && target.Mode&unix.S_IFMT == unix.S_IFDIR {
		return &target, nil // checkExisting refuses to overwrite a directory
	}
	return followDstLinks(p, &target, dangling, display)
}

// followDstLinks moves p along the chain of symlinks at p to the entry it
// ends at, whose stat is target, and returns target. The directories it
// opens on the way stay in p.opened. A dangling chain (dangling) ends at
// a name that does not exist yet: nil.
func followDstLinks(p *place, target *unix.Stat_t, dangling bool, display string) (*unix.Stat_t, error) {
	for hops := 0; ; hops++ {
		link, err := readlinkat(p.dir, p.name)
		if err == unix.EINVAL {
			return target, nil // not a symlink: p is the file itself
		}
		if err == unix.ENOENT && dangling {
			return nil, nil // the name the dangling symlink points to
		}
		if err != nil {
			return nil, pathErr("cannot read symbolic link", display, err)
		}
		if hops == maxLinkHops {
			return nil, pathErr("cannot stat", display, unix.ELOOP)
		}
		dir, name := "", link
		if i := strings.LastIndexByte(link, '/'); i >= 0 {
			dir, name = link[:i+1], link[i+1:]
		}
		if dir != "" {
			fd, err := openat(p.dir, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, pathErr("cannot open directory", display, &os.PathError{Op: "open", Path: dir, Err: err})
			}
			p.opened = append(p.opened, fd)
			p.dir = fd
		}
		p.name = name
	}
}

// writes is what a copy writes at its destination, which decides how it
// meets an entry already there.
type writes int

const (
	writesEntry  writes = iota // a symlink, node or link: it meets the entry itself
	writesFile                 // a file's data: through a symlink there, as cp writes
	writesStream               // a file's data read to its end (see isStream): the same, and in place
)

// entryAt is what is at at already, or nil. A regular file's copy looks
// as existing does, through a destination symlink; anything else meets
// the entry itself.
func (e *env) entryAt(at *place, st *unix.Stat_t, display string, w writes) (*unix.Stat_t, error) {
	if w != writesEntry {
		return e.existing(at, st, display)
	}
	var old unix.Stat_t
	switch err := lstatat(at.dir, at.name, &old); {
	case err == nil:
		return &old, nil
	case err != unix.ENOENT:
		return nil, pathErr("cannot stat", display, err)
	}
	return nil, nil
}
