//go:build linux

package tree

import (
	"strings"

	"golang.org/x/sys/unix"
)

// sameVerdict is what cp's same-file rules say about copying a source onto
// an existing destination that may be the same file.
type sameVerdict int

const (
	sameOK     sameVerdict = iota // go on with the copy
	sameDone                      // nothing to do, and that is success (-l onto a link of the source)
	sameRefuse                    // "'a' and 'b' are the same file"
)

// sameFacts are what the same-file rules look at. src and dst are the
// stats the copy itself uses (the source followed or not as the options
// say; the destination followed only when a regular file is written
// through it). The rest are fetched only when a rule needs them, since
// most replacements are decided by the first comparison.
type sameFacts struct {
	src, dst *unix.Stat_t
	srcL     func() *unix.Stat_t // lstat of the source, nil if it fails
	dstL     func() *unix.Stat_t // lstat of the destination
	srcS     func() *unix.Stat_t // stat (following symlinks) of the source
	dstS     func() *unix.Stat_t // stat of the destination
	sameName func() bool         // the source and destination are one directory entry
}

// sameOptions are the options the same-file rules depend on.
type sameOptions struct {
	derefNever, hardLink, symLink, backup, removeFirst bool
}

func (e *env) sameOptions() sameOptions {
	o := e.opts
	return sameOptions{
		derefNever:  o.Deref == DerefNever,
		hardLink:    o.HardLink,
		symLink:     o.SymLink,
		backup:      o.Backup != BackupNone,
		removeFirst: o.Overwrite == OverwriteRemoveFirst,
	}
}

func sameInode(a, b *unix.Stat_t) bool {
	return a != nil && b != nil && a.Dev == b.Dev && a.Ino == b.Ino
}

func isLink(st *unix.Stat_t) bool { return st != nil && st.Mode&unix.S_IFMT == unix.S_IFLNK }

// sameFileOK is GNU cp's same_file_ok (copy mode), rule for rule: the cases
// where a source and an existing destination are, or lead to, one file,
// and which of them are still safe to copy. Its tests are coreutils'
// tests/cp/same-file.sh, run against cp itself. It is one long function
// on purpose: kept in same_file_ok's order, it reads against coreutils'
// source line by line, which a split into helpers would lose.
func sameFileOK(f sameFacts, o sameOptions) sameVerdict {
	same := sameInode(f.src, f.dst)
	if same && o.hardLink {
		return sameDone
	}
	var srcL, dstL *unix.Stat_t
	var sameLink bool
	if o.derefNever {
		sameLink = same
		// Two distinct symlinks are fine; one symlink copied onto itself
		// is not.
		if isLink(f.src) && isLink(f.dst) {
			sn := f.sameName()
			if !sn {
				if o.backup {
					return sameOK
				}
				if sameLink {
					return sameDone
				}
			}
			if sn {
				return sameRefuse
			}
			return sameOK
		}
		srcL, dstL = f.src, f.dst
	} else {
		if !same {
			return sameOK
		}
		if srcL, dstL = f.srcL(), f.dstL(); srcL == nil || dstL == nil {
			return sameOK
		}
		sameLink = sameInode(srcL, dstL)
		// Two symlinks to one file: fine when the destination link is
		// removed before anything is written through it.
		if isLink(srcL) && isLink(dstL) && o.removeFirst {
			return sameOK
		}
	}
	if o.backup {
		if !sameLink {
			// Moving the destination aside would leave the source a
			// dangling symlink.
			if !o.derefNever && isLink(srcL) && !isLink(dstL) {
				return sameRefuse
			}
			return sameOK
		}
		if f.sameName() {
			return sameRefuse
		}
		return sameOK
	}
	if o.removeFirst {
		if isLink(dstL) {
			return sameOK
		}
		if sameLink && dstL.Nlink > 1 && !f.sameName() {
			return sameOK
		}
	}
	if !isLink(srcL) && !isLink(dstL) {
		if !sameInode(srcL, dstL) {
			return sameOK
		}
		if o.hardLink {
			return sameDone
		}
	}
	if o.symLink && isLink(dstL) {
		return sameOK
	}
	if o.derefNever {
		s, d := srcL, dstL
		if isLink(s) {
			if s = f.srcS(); s == nil {
				return sameOK
			}
		}
		if isLink(d) {
			if d = f.dstS(); d == nil {
				return sameOK
			}
		}
		if !sameInode(s, d) {
			return sameOK
		}
		if o.hardLink {
			if isLink(dstL) {
				return sameOK
			}
			return sameDone
		}
	}
	return sameRefuse
}

// sameFile applies cp's same-file rules to the source srcName in srcDir
// (stat st, as the copy opened it) and old, the entry dstName in dstDir.
func (e *env) sameFile(srcDir int, srcName string, dstDir int, dstName string, st, old *unix.Stat_t) sameVerdict {
	later := func(stat func(int, string, *unix.Stat_t) error, dir int, name string) func() *unix.Stat_t {
		return func() *unix.Stat_t {
			var s unix.Stat_t
			if stat(dir, name, &s) != nil {
				return nil
			}
			return &s
		}
	}
	return sameFileOK(sameFacts{
		src: st, dst: old,
		srcL:     later(lstatat, srcDir, srcName),
		dstL:     later(lstatat, dstDir, dstName),
		srcS:     later(statat, srcDir, srcName),
		dstS:     later(statat, dstDir, dstName),
		sameName: func() bool { return sameEntry(srcDir, srcName, place{dir: dstDir, name: dstName}) },
	}, e.sameOptions())
}

// sameEntry reports whether the destination at is the very directory
// entry srcName in srcDir names (same directory, same name), not just
// another link to the same file.
func sameEntry(srcDir int, srcName string, at place) bool {
	dir, name := ".", srcName
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, name = name[:i+1], name[i+1:]
	}
	if name != at.name {
		return false
	}
	var a, b unix.Stat_t
	if statat(srcDir, dir, &a) != nil || statat(at.dir, ".", &b) != nil {
		return true // cannot tell: assume the worst
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}
