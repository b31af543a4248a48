//go:build linux

package testtree

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// DeepName is the name of level i of a Chain: "0007-xxx…", width bytes
// long.
func DeepName(i, width int) string {
	s := fmt.Sprintf("%04d-", i)
	return s + strings.Repeat("x", width-len(s))
}

// Chain describes depth nested directories (mode 0755), level i named
// DeepName(i, width), and at the bottom a file "leaf" (mode 0644) holding
// "bottom of DEPTH levels\n". The leaf's path is depth*(width+1)+4 bytes
// long: past PATH_MAX, for enough levels.
func Chain(depth, width int) []Node {
	nodes := make([]Node, 0, depth+1)
	p := ""
	for i := range depth {
		if i > 0 {
			p += "/"
		}
		p += DeepName(i, width)
		nodes = append(nodes, D(p, 0o755))
	}
	leaf := "leaf"
	if p != "" {
		leaf = p + "/leaf"
	}
	return append(nodes, F(leaf, 0o644, fmt.Appendf(nil, "bottom of %d levels\n", depth)))
}

// OpenDeep opens level depth of a Chain made at root (0 is root) level by
// level with openat, as path-based calls cannot reach it. The caller
// closes the descriptor.
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

// DeepChain makes the directory root and a chain of depth directories "d"
// below it, level by level with openat (path-based calls cannot reach the
// deep ones), calling at with each level open (0 is root) once its "d" is
// made: what at makes in a level changes only that level's times.
func DeepChain(t testing.TB, root string, depth int, at func(fd, level int)) {
	t.Helper()
	if err := unix.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for level := 0; ; level++ {
		next := -1
		if level < depth {
			if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
				t.Fatalf("%s: level %d: %v", root, level, err)
			}
			if next, err = unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
				t.Fatalf("%s: level %d: %v", root, level, err)
			}
		}
		at(fd, level)
		unix.Close(fd)
		if next < 0 {
			return
		}
		fd = next
	}
}
