package tree

import (
	"github.com/cowcp/cowcp/tree/extent"
	"golang.org/x/sys/unix"
)

// clonedDataBytes is how many of a freshly cloned file's bytes now share
// blocks with the source (st): the source's data in extents with blocks of
// their own. A btrfs inline extent is copied into the clone, not shared,
// and holes are shared by nobody. The clone flushed the source's dirty
// data, so its map is final without FIEMAP_FLAG_SYNC; one ioctl for most
// files. Where the filesystem cannot map extents, nothing is claimed as
// saved.
//
// A file of at least a block with as many bytes of blocks as bytes of
// data needs no map: inline extents hold less than a block, and holes or
// compression leave fewer blocks than bytes, so all of it is shared. (One
// case looks dense and is not: a hole made up for by blocks allocated past
// the end of the file; its hole is counted as saved.)
func (e *env) clonedDataBytes(src extent.File, st *unix.Stat_t) int64 {
	if e.opts.UnreadSaved && !e.opts.DryRun {
		return 0
	}
	size := st.Size
	if size >= int64(st.Blksize) && st.Blocks*512 >= size {
		return size
	}
	var flags extent.MapFlags
	if size <= smallClone {
		flags = extent.MapQuick // few extents, in memory since the clone
	}
	s, err := extent.SummarizeFile(src, size, flags)
	if err != nil {
		return 0
	}
	return int64(s.Clonable)
}
