//go:build linux

package testtree

import (
	"os"
	"testing"
)

// OpenFds counts this process's open descriptors, or skips the test
// where /proc/self/fd cannot be listed.
func OpenFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list /proc/self/fd: %v", err)
	}
	return len(ents) - 1 // the directory ReadDir itself had open
}

// FdsLeft fails the test if the process has more descriptors open than
// before, a count OpenFds took.
func FdsLeft(t testing.TB, before int) {
	t.Helper()
	if after := OpenFds(t); after > before {
		t.Errorf("%d descriptors leaked (%d open before, %d after)", after-before, before, after)
	}
}
