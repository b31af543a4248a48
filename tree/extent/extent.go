//go:build linux

package extent

// Extent is one mapping of a file's logical bytes to bytes on the device,
// as FIEMAP reports it. Offsets and lengths are in bytes; Length is the
// filesystem's allocation, so the last extent usually runs past the end
// of the file to a block boundary.
type Extent struct {
	Logical  uint64 // offset in the file
	Physical uint64 // offset on the device; 0 when Inline or Unknown
	Length   uint64
	Flags    uint32 // FIEMAP_EXTENT_* bits
}

// FIEMAP_EXTENT_* from linux/fiemap.h.
const (
	extentLast      = 0x0001 // the file's last extent
	extentUnknown   = 0x0002 // location not known yet
	extentDelalloc  = 0x0004 // delayed allocation; also sets extentUnknown
	extentEncoded   = 0x0008 // compressed or otherwise encoded
	extentInline    = 0x0200 // data stored with the metadata (btrfs, ext4 inline_data)
	extentUnwritten = 0x0800 // allocated but reads as zeros (fallocate)
	extentShared    = 0x2000 // the blocks are referenced by another file or snapshot
)

// noDataFlags mark extents that do not occupy data blocks of their own:
// inline data lives in metadata, and unknown or delalloc extents have no
// blocks yet. btrfs filesystem du skips the same three, and FICLONE cannot
// share any of them: btrfs copies inline extents into the clone.
const noDataFlags = extentInline | extentUnknown | extentDelalloc

// Last reports whether e is the last extent of its file.
func (e Extent) Last() bool { return e.Flags&extentLast != 0 }

// Shared reports whether e's blocks are also referenced elsewhere: by a
// reflink copy, a deduplicated file or a snapshot.
func (e Extent) Shared() bool { return e.Flags&extentShared != 0 }

// Inline reports whether e's data is stored inside the filesystem's
// metadata rather than in data blocks.
func (e Extent) Inline() bool { return e.Flags&extentInline != 0 }

// Unknown reports whether e has no known location on the device yet.
func (e Extent) Unknown() bool { return e.Flags&extentUnknown != 0 }

// Delalloc reports whether e is dirty data not yet allocated on the
// device. Mapping with MapSync flushes such data first.
func (e Extent) Delalloc() bool { return e.Flags&extentDelalloc != 0 }

// Unwritten reports whether e is preallocated space that reads as zeros.
func (e Extent) Unwritten() bool { return e.Flags&extentUnwritten != 0 }

// Encoded reports whether e is stored compressed or otherwise encoded.
func (e Extent) Encoded() bool { return e.Flags&extentEncoded != 0 }

// HasBlocks reports whether e occupies data blocks of its own.
func (e Extent) HasBlocks() bool { return e.Flags&noDataFlags == 0 }

// within returns how many of e's bytes lie before size.
func (e Extent) within(size uint64) uint64 {
	if e.Logical >= size {
		return 0
	}
	end := e.Logical + e.Length
	if end > size || end < e.Logical { // past EOF, or wrapped around
		end = size
	}
	return end - e.Logical
}

// Summary counts a file's bytes by what its extents are. Every count
// is clipped to the file's size, so it is comparable with the logical
// size a copy reports.
type Summary struct {
	// Data is the bytes of the file held in extents: the size minus
	// holes. Inline and not yet allocated data count too.
	Data uint64
	// Shared is the bytes of Data in extents marked shared.
	Shared uint64
	// Clonable is the bytes of Data a FICLONE of the file would share:
	// those in extents with blocks of their own, that is not inline,
	// unknown or delalloc ones.
	Clonable uint64
}

// add counts e, clipped to size.
func (s *Summary) add(e Extent, size uint64) {
	n := e.within(size)
	s.Data += n
	if e.Shared() {
		s.Shared += n
	}
	if e.HasBlocks() {
		s.Clonable += n
	}
}

// Summarize counts extents of a file of the given size.
func Summarize(extents []Extent, size int64) Summary {
	var s Summary
	for _, e := range extents {
		s.add(e, uint64(max(size, 0)))
	}
	return s
}
