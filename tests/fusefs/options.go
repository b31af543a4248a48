//go:build linux

// Package fusefs mounts a FUSE passthrough of a directory for cowcp's
// tests, with knobs that take away what NFS, sshfs and many FUSE
// filesystems lack (O_TMPFILE, renameat2 flags, hard links) and that make
// the destination fail (EIO on write or on close, short writes), so those
// behaviours are produced by a real kernel mount rather than imitated.
// Only tests import it.
package fusefs

// Options say how a mount departs from a plain passthrough. The zero
// value passes every operation through to the backing directory.
type Options struct {
	// NoTmpfile refuses open(O_TMPFILE): the server answers ENOSYS, so the
	// kernel returns EOPNOTSUPP, as on NFS and sshfs.
	NoTmpfile bool

	// NoRenameFlags refuses renameat2 with any flags (RENAME_NOREPLACE,
	// RENAME_EXCHANGE, RENAME_WHITEOUT): the server answers ENOSYS, which
	// the kernel turns into EINVAL, as NFS does. Plain rename still works.
	NoRenameFlags bool

	// NoLink makes link(2) fail with EPERM, as on FUSE filesystems without
	// hard links.
	NoLink bool

	// FailWrite, when not "", selects the files whose writes fail: a
	// path.Match pattern matched against a file's path relative to the
	// mount root when it is created or opened. Copiers write under
	// temporary names, so select by directory ("out/bad/*"); an O_TMPFILE
	// file is matched as its directory followed by "/" ("out/bad/").
	// A write that would take such a file past FailWriteAfter bytes fails
	// whole with EIO; the writes before it succeed.
	FailWrite      string
	FailWriteAfter int64

	// FailFlush, when not "", selects (as FailWrite does) the files whose
	// flush fails with EIO: every close(2) of them returns EIO, after the
	// data has been written.
	FailFlush string

	// ShortWrites makes every write store and acknowledge only the first
	// half of its data (at least one byte), so write(2) returns less than
	// it was asked to write, as the POSIX contract allows.
	ShortWrites bool
}
