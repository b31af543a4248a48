package tree

import (
	"os"

	"github.com/cowcp/cowcp/tree/extent"
)

// clonedDataBytes is how many of a freshly cloned file's bytes now share
// blocks with the source: the source's data in extents with blocks of their
// own. A btrfs inline extent is copied into the clone, not shared, and
// holes are shared by nobody. The clone flushed the source's dirty data, so
// its map is final without FIEMAP_FLAG_SYNC; one ioctl for most files.
// Where the filesystem cannot map extents, nothing is claimed as saved.
func clonedDataBytes(src *os.File, size int64) int64 {
	s, err := extent.SummarizeFile(src, size, 0)
	if err != nil {
		return 0
	}
	return int64(s.Clonable)
}
