//go:build linux

package tree

import "io"

// Reflink is the --reflink policy.
type Reflink int

const (
	ReflinkAuto   Reflink = iota // clone where possible, else copy bytes
	ReflinkAlways                // clone or fail the file
	ReflinkNever                 // a true byte copy: no FICLONE, no copy_file_range
)

// Sparse is the --sparse policy.
type Sparse int

const (
	SparseAuto   Sparse = iota // keep the source's holes
	SparseAlways               // also make holes of all-zero blocks
	SparseNever                // fill holes
)

// Deref says which symlinks in the source are followed.
type Deref int

const (
	DerefDefault     Deref = iota // cp: follow unless recursive, and always with -l
	DerefNever                    // -P, -d: copy symlinks as symlinks
	DerefCommandLine              // -H: follow symlinks named as operands
	DerefAlways                   // -L: follow every symlink
)

// Preserve lists the attributes to keep (--preserve / -p / -a).
type Preserve struct {
	Mode, Ownership, Timestamps, Links, Xattr bool
	// Context is accepted for cp compatibility (SELinux contexts are
	// copied as security.* xattrs when Xattr is set).
	Context bool
}

// Overwrite says what to do with an existing destination file.
type Overwrite int

const (
	OverwriteAlways      Overwrite = iota // replace it (atomically, via a temporary name)
	OverwriteNever                        // -n: keep it, silently
	OverwriteOlder                        // -u: replace it only when the source is newer
	OverwriteAsk                          // -i: ask on Prompt
	OverwriteRemoveFirst                  // --remove-destination: unlink, then copy
)

// Backup is the --backup control.
type Backup int

const (
	BackupNone     Backup = iota
	BackupSimple          // never, simple: NAME~
	BackupNumbered        // t, numbered: NAME.~N~
	BackupExisting        // nil, existing: numbered if numbered ones exist, else simple
)

// Options configure a Copier. The zero value copies like plain `cp`.
type Options struct {
	Recursive    bool
	Deref        Deref
	Preserve     Preserve
	Reflink      Reflink
	Sparse       Sparse
	Overwrite    Overwrite
	Update       bool // -u, combined with Overwrite
	Force        bool // -f: remove a destination that cannot be opened and retry
	Backup       Backup
	BackupSuffix string // default "~"
	OneFS        bool   // -x
	Parents      bool   // --parents: Copy makes the directories of src under DEST
	// DefaultMode (--no-preserve=mode) gives new entries the permissions
	// of a new file (0666 or 0777, less the umask) instead of the source's.
	DefaultMode bool
	AttrsOnly   bool // --attributes-only
	// ThroughDangling (cp under POSIXLY_CORRECT) writes a file through a
	// dangling destination symlink, creating what it names, instead of
	// refusing.
	ThroughDangling bool
	// CopyContents (--copy-contents) reads FIFOs and devices met while
	// copying recursively like files, instead of making new nodes.
	CopyContents bool
	HardLink     bool // -l: link files instead of copying
	SymLink      bool // -s: make symlinks instead of copying
	DryRun       bool
	// RefuseExisting (--update=none-fail) makes an existing destination
	// an error ("not replacing"), before any question or backup.
	RefuseExisting bool
	// KeepDirSymlink (--keep-directory-symlink) follows a symlink to a
	// directory met where a directory is copied, and fills that directory.
	KeepDirSymlink bool
	// MeasureFS (--sync) syncs the destination filesystems before and
	// after the copy to report their used-space growth
	// (Stats.FSUsedBytes). Off by default: cp never syncs, and a sync
	// waits for every dirty page of the filesystem, not only the copy's.
	MeasureFS bool
	// UnreadSaved says nobody will read Stats.SavedBytes (cowcp in a
	// script: no summary, no --json): cloned files then leave it 0 instead
	// of mapping their extents (one FIEMAP per file under a block or with
	// holes). --dry-run counts it all the same.
	UnreadSaved   bool
	Jobs          int   // workers; 0 means the number of CPUs, at least 4; at most 256
	CloneChunk    int64 // files larger than this are cloned range by range; 0 means 1 GiB
	ProgressBytes int64 // byte copies report progress every this many bytes; 0 means 64 MiB

	// Arm, if not nil, is called before the copy first does something
	// that only an orderly stop undoes (a name the copy will rename, a
	// file rewritten in place or read from a stream, a backup), before a
	// data copy or clone of over 16 MiB and before workers start; it may
	// be called many times. Until then an interrupt may end the process
	// outright: new files stay unnamed until complete, so that leaves what
	// cp would. cowcp installs its signal handlers there, which saves a
	// one-file copy about a millisecond.
	Arm func()

	// Prompt asks the user (for -i). It is called with one question at a
	// time and returns whether the answer was yes.
	Prompt func(question string) bool

	// Observe, if not nil, is called for every event, always from the
	// same goroutine (the collector): it may drive a progress bar or print
	// verbose lines without locking.
	Observe func(Event)

	// Name begins every notice: "cowcp" when empty.
	Name string

	// Warn receives notices that are not errors (fallbacks). Called from
	// the collector goroutine.
	Warn io.Writer
}
