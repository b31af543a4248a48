package tree

import (
	"golang.org/x/sys/unix"
)

// attrsOnlyRefusal is --attributes-only refusing to replace an entry that
// is still there (how.replace): cp's symlink, mknod or link meets it and
// fails.
func (e *env) attrsOnlyRefusal(how decision, verb, dst string) error {
	if how.replace && e.opts.AttrsOnly {
		return pathErr(verb, dst, unix.EEXIST)
	}
	return nil
}

// attributesOnly gives the destination the source's attributes without
// its data (--attributes-only): an existing file keeps its content and
// is changed in place; a new one is made empty.
func (wk *worker) attributesOnly(at place, m meta, exists bool, perm uint32) error {
	var f *handle
	if exists {
		fd, err := openat(at.dir, at.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return pathErr("cannot open", m.display, err)
		}
		f = newHandle(fd, m.display)
		// Not made by this run: nothing about its mode is known.
		m.inherit, m.inheritNode, m.permsSet, m.fresh = nil, nil, true, nil
	} else {
		var err error
		if f, err = createAt(at.dir, at.name, m.display, perm); err != nil {
			return pathErr("cannot create regular file", m.display, err)
		}
	}
	m.dst = fdNode(f.Fd())
	err := wk.applyMeta(m)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pathErr("cannot close", m.display, cerr)
	}
	return err
}
