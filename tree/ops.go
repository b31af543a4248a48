//go:build linux

package tree

import (
	"os"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/reflink"
)

// ops are the data-moving calls the copier makes. They are fields so the
// fallback chain can be tested with injected failures (an EIO from a clone,
// an "unsupported" copy_file_range) on real files; production code always
// uses defaultOps.
type ops struct {
	clone      func(dst, src *os.File) error
	cloneRange func(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error
	copyRange  func(dst, src *os.File, off, n int64) (int64, error)
}

var defaultOps = ops{
	clone:      reflink.Clone,
	cloneRange: reflink.CloneRange,
	copyRange:  fallback.CopyRange,
}
