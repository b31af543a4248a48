//go:build linux

package treetest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Deep makes depth nested directories named with width bytes each under
// root and a file "leaf" at the bottom holding "bottom of DEPTH levels\n",
// with *at calls (the path may be longer than PATH_MAX).
func Deep(t testing.TB, root string, depth, width int) {
	t.Helper()
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range depth {
		name := DeepName(i, width)
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		fd = next
	}
	defer unix.Close(fd)
	lf, err := unix.Openat(fd, "leaf", unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(lf, []byte(fmt.Sprintf("bottom of %d levels\n", depth)))
	unix.Close(lf)
}

// DeepName is the name of level i of a Deep tree: "0007-xxx...", width
// bytes long.
func DeepName(i, width int) string {
	s := fmt.Sprintf("%04d-", i)
	return s + strings.Repeat("x", width-len(s))
}

// OpenDeep opens level depth of a Deep tree (0 is root) level by level
// with openat, as path-based calls cannot reach it. The caller closes it.
func OpenDeep(t testing.TB, root string, depth, width int) int {
	t.Helper()
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range depth {
		next, err := unix.Openat(fd, DeepName(i, width), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("%s: level %d missing: %v", root, i, err)
		}
		fd = next
	}
	return fd
}

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
