package tree

import (
	"github.com/cowcp/cowcp/tree/extent"
	"golang.org/x/sys/unix"
)

// sharedData is what a freshly cloned file (source in, stat st) holds:
// its data, the bytes not in holes, and of those the bytes that now share
// blocks with the source, its saved bytes: the data in extents with blocks
// of their own. A btrfs inline extent is copied into the clone, not shared.
// The clone flushed the source's dirty data, so its map is final without
// FIEMAP_FLAG_SYNC; one ioctl for most files. Where the filesystem cannot
// map extents, the data is what its blocks hold and nothing is claimed as
// saved. With Options.UnreadSaved nothing is mapped: the file counts as
// all data, none of it saved.
//
// A file of at least a block with as many bytes of blocks as bytes of
// data needs no map: inline extents hold less than a block, and holes or
// compression leave fewer blocks than bytes, so all of it is shared data.
// (One case looks dense and is not: a hole made up for by blocks allocated
// past the end of the file; its hole is counted as data and saved.)
func (e *env) sharedData(src extent.File, st *unix.Stat_t) (data, saved int64) {
	size := st.Size
	if e.opts.UnreadSaved && !e.opts.DryRun {
		return size, 0
	}
	if size >= int64(st.Blksize) && st.Blocks*512 >= size {
		return size, size
	}
	var flags extent.MapFlags
	if size <= smallClone {
		flags = extent.MapQuick // few extents, in memory since the clone
	}
	s, err := extent.SummarizeFile(src, size, flags)
	if err != nil {
		return min(st.Blocks*512, size), 0
	}
	return int64(s.Data), int64(s.Clonable)
}
