//go:build linux

package tree

import (
	"math/rand/v2"
	"strconv"
)

// tmpPrefix starts every temporary name cowcp writes. The name does not
// include the final name, so it fits even beside a 255-byte name, and a
// leftover from a killed run is easy to find: ".cowcp-*.tmp".
const tmpPrefix = ".cowcp-"

// tmpName returns a fresh temporary name for a file being written in a
// destination directory; creating it with O_EXCL makes collisions retry.
// Only an orderly stop removes what stands under such a name after an
// interrupt, so the copy is armed first (see Options.Arm).
func (e *env) tmpName() string {
	e.arm()
	return tmpPrefix + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
}
