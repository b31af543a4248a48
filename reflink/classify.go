//go:build linux

package reflink

// Class says what a clone error means for the caller.
type Class int

const (
	// Failed is a real error (EIO, ENOSPC, EDQUOT, EBADF, ...). The file
	// failed; trying another copy method would hide the fault or make it worse.
	Failed Class = iota
	// FileUnsupported means this particular pair of files cannot be cloned
	// (alignment, nodatacow mismatch, an active swap file, ...). Fall back for
	// this file only; other files on the same filesystems may still clone.
	FileUnsupported
	// FSUnsupported means the filesystem pair cannot clone at all (ext4,
	// tmpfs, XFS without reflink, two different filesystems). Fall back, and
	// it is safe to remember this for the (source, destination) pair.
	FSUnsupported
)

func (c Class) String() string {
	switch c {
	case FileUnsupported:
		return "unsupported for this file"
	case FSUnsupported:
		return "unsupported by the filesystems"
	default:
		return "failed"
	}
}
