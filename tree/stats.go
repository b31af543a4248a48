//go:build linux

package tree

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cowcp/cowcp/tree/cpmsg"
)

// Method is how a regular file's data reached its copy.
type Method int

const (
	MethodNone          Method = iota // no data moved (empty file, link, skip)
	MethodFiclone                     // FICLONE: the whole file shares the source's blocks
	MethodFicloneRange                // FICLONERANGE chunk by chunk
	MethodCopyFileRange               // copy_file_range loop
	MethodSparse                      // hole-preserving copy (SEEK_DATA/SEEK_HOLE)
	MethodReadWrite                   // plain read/write
	MethodHardlink                    // -l, or a hardlink inside the tree
	MethodSymlink                     // -s
	MethodShared                      // the existing copy already shared every block: kept, metadata set
	numMethods
)

var methodNames = [numMethods]string{"", "ficlone", "ficlonerange", "copy_file_range", "sparse", "readwrite", "hardlink", "symlink", "shared"}

func (m Method) String() string { return methodNames[m] }

// Cloned reports whether the method makes the copy share the source's blocks.
func (m Method) Cloned() bool {
	return m == MethodFiclone || m == MethodFicloneRange || m == MethodShared
}

// Kind is the kind of entry an event is about.
type Kind int

const (
	KindFile Kind = iota
	KindDir
	KindSymlink
	KindSpecial // FIFO, device, socket
	KindHardlink
)

// Existing is what a copy does first to the entry already at its
// destination name.
type Existing int

const (
	ExistingNone    Existing = iota // nothing is there, or it is left alone
	ExistingReplace                 // a complete copy is renamed over it: a new inode
	ExistingInPlace                 // it is rewritten in place, as cp does: the same inode
	ExistingRemove                  // --remove-destination: removed first
	ExistingBackup                  // --backup: moved to its backup name first
	numExisting
)

var existingNames = [numExisting]string{"", "replace", "in_place", "remove", "backup"}

func (e Existing) String() string { return existingNames[e] }

// Event is what the collector hands to Options.Observe: one finished
// entry, a failure, or progress within a large file.
type Event struct {
	Kind     Kind
	Src, Dst string
	Method   Method
	Bytes    int64  // logical size (regular files)
	Progress int64  // bytes done since the last event for this file (progress only)
	Partial  bool   // a progress event; the file is not finished
	Skipped  bool   // left alone (-n, -u, a "no" to -i)
	Skip     Skip   // why it was left alone
	Changed  bool   // the source changed while it was read: the copy may mix old and new
	Reason   string // --dry-run: why this method
	Ask      bool   // --dry-run: -i would ask before replacing the entry at Dst; a no leaves it alone
	// --dry-run: what happens first to the entry already at Dst, and
	// where ExistingBackup moves it.
	Existing Existing
	Backup   string
	Err      error
}

// Skip is why an entry was left alone.
type Skip int

const (
	SkipNone     Skip = iota
	SkipExists        // -n: the destination exists
	SkipNotNewer      // -u: the destination is not older than the source
	SkipDeclined      // -i: the answer was no
	SkipSame          // the destination already is the source, or a link of it
	numSkips
)

var skipNames = [numSkips]string{"", "exists", "not_newer", "declined", "same"}

// String is the reason's name in the JSON report, e.g. "not_newer".
func (w Skip) String() string { return skipNames[w] }

// SkipCounts counts skipped entries by reason.
type SkipCounts struct {
	Exists   int64 `json:"exists"`
	NotNewer int64 `json:"not_newer"`
	Declined int64 `json:"declined"`
	Same     int64 `json:"same"`
}

func (c *SkipCounts) add(w Skip) {
	switch w {
	case SkipExists:
		c.Exists++
	case SkipNotNewer:
		c.NotNewer++
	case SkipDeclined:
		c.Declined++
	case SkipSame:
		c.Same++
	}
}

// ReportVersion is the JSON report's "version": it grows when a field
// changes its meaning or goes away, not when one is added.
const ReportVersion = 1

// Failure is one entry that could not be copied.
type Failure struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// maxFailures bounds the failures kept in Stats; Errors counts them all.
const maxFailures = 1000

// Stats is the account of a copy. Only the collector writes it.
type Stats struct {
	Version    int        `json:"version"`
	Files      int64      `json:"files"`
	Dirs       int64      `json:"dirs"`
	Symlinks   int64      `json:"symlinks"`
	Specials   int64      `json:"specials"`
	Hardlinks  int64      `json:"hardlinks"`
	Skipped    int64      `json:"skipped"`
	SkippedWhy SkipCounts `json:"skipped_why"`
	// Bytes is the regular files' apparent size: ClonedBytes of data
	// shared by cloning, CopiedBytes of data written, and HoleBytes
	// neither (holes, and blocks of zeros left as holes).
	Bytes       int64 `json:"bytes"`
	ClonedBytes int64 `json:"cloned_bytes"`
	CopiedBytes int64 `json:"copied_bytes"`
	HoleBytes   int64 `json:"hole_bytes"`
	SavedBytes  int64 `json:"saved_bytes"`
	// Changed counts the files whose source changed while it was read
	// (size, modification or change time differ before and after);
	// ChangedFiles names up to maxFailures of them.
	Changed      int64    `json:"changed"`
	ChangedFiles []string `json:"changed_files"`
	Errors       int64    `json:"errors"`
	// FSUsedBytes is the destination filesystems' own estimate of the
	// space the copy took: the growth of their used space, after a sync.
	FSUsedBytes int64 `json:"fs_used_bytes"`
	FSMeasured  bool  `json:"fs_measured"`
	// NeededBytes (--dry-run) is the new data the copy would write, and
	// FreeBytes the space available on the destination filesystems.
	NeededBytes int64   `json:"needed_bytes,omitempty"`
	FreeBytes   int64   `json:"free_bytes,omitempty"`
	Seconds     float64 `json:"seconds"`

	Methods  MethodCounts `json:"methods"`
	Failures []Failure    `json:"failures"`
	// NotCloned has one entry per pair of filesystems where cloning could
	// not work and data was copied instead (--reflink=auto), in the order
	// met. It replaces a notice printed mid-copy: cp prints nothing on
	// success, so neither does cowcp when stderr is not a terminal.
	NotCloned   []NotCloned `json:"not_cloned"`
	Interrupted bool        `json:"interrupted"`

	start time.Time
}

// NotCloned is a pair of filesystems that could not clone, with the first
// file that showed it.
type NotCloned struct {
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	SrcFS  string `json:"src_fs"` // filesystem type, e.g. "btrfs"; "" if unknown
	DstFS  string `json:"dst_fs"`
	Reason string `json:"reason"` // why cloning failed, e.g. "Invalid cross-device link"
}

// MethodCounts counts regular files per copy method.
type MethodCounts struct {
	Ficlone       int64 `json:"ficlone"`
	Ficlonerange  int64 `json:"ficlonerange"`
	CopyFileRange int64 `json:"copy_file_range"`
	Sparse        int64 `json:"sparse"`
	ReadWrite     int64 `json:"readwrite"`
	Shared        int64 `json:"shared"`
}

func (m *MethodCounts) add(method Method) {
	switch method {
	case MethodFiclone:
		m.Ficlone++
	case MethodFicloneRange:
		m.Ficlonerange++
	case MethodCopyFileRange:
		m.CopyFileRange++
	case MethodSparse:
		m.Sparse++
	case MethodReadWrite:
		m.ReadWrite++
	case MethodShared:
		m.Shared++
	}
}

func (s *Stats) fail(path string, err error) {
	s.Errors++
	if len(s.Failures) < maxFailures {
		s.Failures = append(s.Failures, Failure{Path: path, Err: err.Error()})
	}
}

func (s *Stats) changed(path string) {
	s.Changed++
	if len(s.ChangedFiles) < maxFailures {
		s.ChangedFiles = append(s.ChangedFiles, path)
	}
}

// notCloned records a pair of filesystems that cannot clone. The collector
// calls it once per pair, so looking up the filesystems' types costs a few
// system calls per pair, not per file.
func (s *Stats) notCloned(n *fallbackNote) {
	s.NotCloned = append(s.NotCloned, NotCloned{
		Src: n.src, Dst: n.dst,
		SrcFS: fsType(n.pair.src, n.src),
		// A destination whose copy then failed is gone: its directory
		// tells instead.
		DstFS:  fsType(n.pair.dst, n.dst, filepath.Dir(n.dst)),
		Reason: cpmsg.Reason(n.err),
	})
}

// maxNotClonedShown bounds the pairs the summary line names.
const maxNotClonedShown = 3

// NotClonedSummary is the summary line's part about the pairs of
// filesystems that could not clone, e.g. "not cloned: btrfs → ext4
// (Invalid cross-device link), copied instead"; "" when every pair cloned.
func (s *Stats) NotClonedSummary() string {
	if len(s.NotCloned) == 0 {
		return ""
	}
	var parts []string
	for i, n := range s.NotCloned {
		if i == maxNotClonedShown {
			parts = append(parts, fmt.Sprintf("%d more", len(s.NotCloned)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s → %s (%s)", fsLabel(n.SrcFS, n.Src), fsLabel(n.DstFS, n.Dst), n.Reason))
	}
	return "not cloned: " + strings.Join(parts, ", ") + ", copied instead"
}

// fsLabel is a filesystem's type, or the file's name where the type is
// unknown.
func fsLabel(fs, path string) string {
	if fs != "" {
		return fs
	}
	return cpmsg.Quote(path)
}
