//go:build linux

package testtree

import "testing"

// Fingerprint is the Manifest of root with each entry's identity (inode
// number, ctime), so that a change of any kind to the tree shows; a tree
// that cannot be walked fails the test.
func Fingerprint(t testing.TB, root string) Manifest {
	t.Helper()
	m, err := Walk(root, WalkOptions{Identity: true})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return m
}
