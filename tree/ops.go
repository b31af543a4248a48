//go:build linux

package tree

import (
	"os"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
)

// smallClone is the size up to which a file is cloned with
// reflink.CloneSmall: a few extents at most, unless badly fragmented.
const smallClone = 16 << 20

// ops are the data-moving calls the copier makes. They are fields so the
// fallback chain can be tested with injected failures (an EIO from a clone,
// an "unsupported" copy_file_range) on real files; production code always
// uses defaultOps.
type ops struct {
	clone      func(dst, src reflink.File, size int64) error
	cloneRange func(dst reflink.File, dstOff int64, src reflink.File, srcOff, n int64) error
	copyRange  func(dst, src *os.File, off, n int64) (int64, error)
}

var defaultOps = ops{
	clone: func(dst, src reflink.File, size int64) error {
		if size <= smallClone {
			return reflink.CloneSmall(dst, src)
		}
		return reflink.Clone(dst, src)
	},
	cloneRange: reflink.CloneRange,
	copyRange:  fallback.CopyRange,
}
