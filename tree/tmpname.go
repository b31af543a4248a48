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
func tmpName() string {
	return tmpPrefix + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
}
