package tree

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// distinctMeta gives every node but hard links a modification time of its
// own, nanoseconds included, and, as root, every other one an owner of its
// own, so that a copy that loses either shows.
func distinctMeta(nodes []testtree.Node) []testtree.Node {
	for i, n := range nodes {
		if n.Kind == testtree.Hardlink {
			continue
		}
		if os.Geteuid() == 0 && i%2 == 0 {
			n = n.Own(1000+i, 2000+i)
		}
		nodes[i] = n.At(1_600_000_000+int64(i)*1000, 123_456_789+int64(i))
	}
	return nodes
}

// writableAtCleanup makes every directory under root writable again before
// t.TempDir's cleanup, which cannot remove read-only ones without root.
func writableAtCleanup(t testing.TB, root string) {
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
	})
}

func mustLstat(t testing.TB, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// compareTrees fails unless the tree at dst has the manifest of the tree at
// src: the same entries, each with the same type, mode, owner, mtime (to
// the nanosecond), content, holes, hard links and xattrs.
func compareTrees(t *testing.T, src, dst string) {
	t.Helper()
	var m [2]testtree.Manifest
	for i, root := range []string{src, dst} {
		var err error
		if m[i], err = testtree.Walk(root, testtree.WalkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(m[0]) < 2 {
		t.Fatalf("compared only %d entries", len(m[0]))
	}
	for _, d := range testtree.Diff(m[0], m[1], "source", "copy") {
		t.Error(d)
	}
}

// archiveTree holds every kind of entry -a copies: files (one setuid),
// a symbolic link and a dangling one, a FIFO, a file with three hard links
// in three directories, and directories of several modes, two of them
// read-only.
func archiveTree() []testtree.Node {
	return distinctMeta([]testtree.Node{
		testtree.F("a.txt", 0o640, []byte("alpha\n")),
		testtree.F("setuid", 0o4755, []byte("#!/bin/sh\n")),
		testtree.D("d1", 0o750),
		testtree.F("d1/b", 0o600, []byte("linked twice\n")),
		testtree.L("d1/link", "../a.txt"),
		testtree.N("d1/fifo", testtree.FIFO, 0o644, 0),
		testtree.D("d1/d11", 0o705),
		testtree.D("d2", 0o711),
		testtree.H("d2/b2", "d1/b"),
		testtree.L("d2/dangling", "nowhere/at/all"),
		testtree.D("d2/deeper", 0o755),
		testtree.F("d2/deeper/c", 0o444, []byte("c\n")),
		testtree.H("d2/deeper/b3", "d1/b"),
		testtree.D("ro", 0o555),
		testtree.F("ro/f", 0o444, []byte("in a read-only directory\n")),
		testtree.D("ro/sub", 0o500),
		testtree.F("ro/sub/g", 0o400, []byte("deeper in it\n")),
	})
}

var archive = Options{
	Recursive: true,
	Deref:     DerefNever,
	Preserve:  Preserve{Mode: true, Ownership: true, Timestamps: true, Links: true, Xattr: true},
}

func TestWalkArchive(t *testing.T) {
	root := t.TempDir()
	writableAtCleanup(t, root)
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	testtree.Build(t, src, append(archiveTree(), testtree.D(".", 0o751).At(1_234_567_890, 987_654_321)))

	opts := archive
	opts.Jobs = 4
	dirModes := map[string]uint32{}
	opts.Observe = func(ev Event) {
		if ev.Kind == KindDir && ev.Err == nil && !ev.Partial {
			var st unix.Stat_t
			if err := unix.Lstat(ev.Dst, &st); err == nil {
				dirModes[ev.Dst] = st.Mode & 0o7777
			}
		}
	}
	c, _ := testCopier(t, opts, nil)
	st := runCopies(t, c, dst, src)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	compareTrees(t, src, dst)

	// Hard links across directories stay one inode in the copy.
	b, b2, b3 := mustLstat(t, filepath.Join(dst, "d1/b")), mustLstat(t, filepath.Join(dst, "d2/b2")),
		mustLstat(t, filepath.Join(dst, "d2/deeper/b3"))
	if b.Ino != b2.Ino || b.Ino != b3.Ino || b.Nlink != 3 {
		t.Errorf("hard links: inodes %d, %d, %d, nlink %d; want one inode with 3 links", b.Ino, b2.Ino, b3.Ino, b.Nlink)
	}
	if a := mustLstat(t, filepath.Join(dst, "a.txt")); a.Nlink != 1 {
		t.Errorf("a.txt has %d links", a.Nlink)
	}

	// Each directory was private (0700) while it was being filled.
	if len(dirModes) != 7 {
		t.Errorf("saw %d directory events, want 7: %v", len(dirModes), dirModes)
	}
	for d, m := range dirModes {
		if m != 0o700 {
			t.Errorf("%s had mode %o while being filled, want 700", d, m)
		}
	}

	want := Stats{Files: 6, Dirs: 7, Symlinks: 2, Specials: 1, Hardlinks: 2}
	if st.Files != want.Files || st.Dirs != want.Dirs || st.Symlinks != want.Symlinks ||
		st.Specials != want.Specials || st.Hardlinks != want.Hardlinks {
		t.Errorf("counts files %d dirs %d symlinks %d specials %d hardlinks %d; want %d %d %d %d %d",
			st.Files, st.Dirs, st.Symlinks, st.Specials, st.Hardlinks,
			want.Files, want.Dirs, want.Symlinks, want.Specials, want.Hardlinks)
	}
	checkNoLeftovers(t, dst)
}

// Without -p, a copied read-only directory ends read-only (less the
// umask) after its contents were written into it.
func TestWalkReadOnlyDir(t *testing.T) {
	root := t.TempDir()
	writableAtCleanup(t, root)
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	testtree.Build(t, src, distinctMeta([]testtree.Node{
		testtree.D("ro", 0o555),
		testtree.F("ro/f", 0o444, []byte("x")),
		testtree.D("ro/sub", 0o555),
		testtree.F("ro/sub/g", 0o644, []byte("y")),
	}))
	c, _ := testCopier(t, Options{Recursive: true, Jobs: 2}, nil)
	st := runCopies(t, c, dst, src)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	for _, p := range []string{"ro/f", "ro/sub/g"} {
		x, _ := os.ReadFile(filepath.Join(src, p))
		checkFile(t, filepath.Join(dst, p), x)
	}
	for _, p := range []string{"ro", "ro/sub"} {
		if m := mustLstat(t, filepath.Join(dst, p)).Mode & 0o7777; m != 0o555&^c.env.umask {
			t.Errorf("%s: mode %o, want %o", p, m, 0o555&^c.env.umask)
		}
	}
}

// checkDeepLeaf walks the copy level by level with openat and reads the
// leaf, as path-based calls cannot reach it.
func checkDeepLeaf(t testing.TB, root string, depth, width int) {
	t.Helper()
	fd := testtree.OpenDeep(t, root, depth, width)
	defer unix.Close(fd)
	lf, err := unix.Openat(fd, "leaf", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("copy: leaf missing: %v", err)
	}
	defer unix.Close(lf)
	buf := make([]byte, 100)
	n, _ := unix.Read(lf, buf)
	if want := fmt.Sprintf("bottom of %d levels\n", depth); string(buf[:n]) != want {
		t.Errorf("leaf reads %q, want %q", buf[:n], want)
	}
}

func TestWalkDeeperThanPathMax(t *testing.T) {
	for _, tc := range []struct{ depth, width int }{{200, 250}, {1000, 8}} {
		t.Run(fmt.Sprintf("%dx%d", tc.depth, tc.width), func(t *testing.T) {
			if tc.depth*(tc.width+1) <= unix.PathMax {
				t.Fatal("the test tree is not deeper than PATH_MAX")
			}
			root := t.TempDir()
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			testtree.Build(t, src, testtree.Chain(tc.depth, tc.width))
			c, _ := testCopier(t, Options{Recursive: true, Jobs: 4,
				Preserve: Preserve{Mode: true, Timestamps: true}}, nil)
			st := runCopies(t, c, dst, src)
			if st.Errors != 0 {
				t.Fatalf("%d errors, first: %+v", st.Errors, st.Failures[0])
			}
			if st.Dirs != int64(tc.depth)+1 || st.Files != 1 {
				t.Errorf("copied %d dirs, %d files; want %d, 1", st.Dirs, st.Files, tc.depth+1)
			}
			checkDeepLeaf(t, dst, tc.depth, tc.width)
		})
	}
}

// cp -r src src/sub: cp's error, and the walk ends (it does not copy the
// copy into itself forever).
func TestWalkIntoItself(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	testtree.Build(t, src, distinctMeta([]testtree.Node{
		testtree.F("f", 0o644, []byte("f")), testtree.D("d", 0o755), testtree.F("d/g", 0o644, []byte("g"))}))
	dst := filepath.Join(src, "sub")
	c, _ := testCopier(t, Options{Recursive: true, Jobs: 2}, nil)
	st := runCopies(t, c, dst, src)
	want := fmt.Sprintf("cannot copy a directory, %s, into itself, %s", cpmsg.Quote(src), cpmsg.Quote(dst))
	if st.Errors != 1 || len(st.Failures) != 1 || st.Failures[0].Err != want {
		t.Fatalf("failures %+v; want exactly %q", st.Failures, want)
	}
	if _, err := os.Lstat(filepath.Join(dst, "sub")); err == nil {
		t.Error("the copy contains a copy of itself")
	}
	checkFile(t, filepath.Join(dst, "d", "g"), []byte("g"))
}

func TestWalkDirWithoutRecursive(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("f"), 0o644)
	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	st := runCopies(t, c, dst, src)
	want := "-r not specified; omitting directory " + cpmsg.Quote(src)
	if st.Errors != 1 || len(st.Failures) != 1 || st.Failures[0].Err != want || st.Failures[0].Path != src {
		t.Fatalf("failures %+v; want %q for %s", st.Failures, want, src)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Error("the destination was made")
	}
}

// With --preserve=links, later links of an inode wait for its first link
// to be copied. Every kind of entry, symbolic links and FIFOs too, and
// every way of copying one, cp -al's links too, must publish that outcome,
// or the later links block their workers forever. GNU cp -a keeps these
// links.
func TestWalkHardlinkedNonFiles(t *testing.T) {
	cases := []struct {
		name  string
		nodes []testtree.Node
		opts  Options
	}{
		{"Symlink", []testtree.Node{testtree.L("l", "target"), testtree.H("l2", "l")}, archive},
		{"FIFO", []testtree.Node{testtree.N("p", testtree.FIFO, 0o640, 0), testtree.H("p2", "p")}, archive},
		{"LinkMode-al", []testtree.Node{testtree.F("f", 0o644, []byte("f")), testtree.H("f2", "f")},
			func() Options { o := archive; o.HardLink = true; return o }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			testtree.Build(t, src, distinctMeta(tc.nodes))
			opts := tc.opts
			opts.Jobs = 2
			c, _ := testCopier(t, opts, nil)
			done := make(chan Stats, 1)
			go func() { c.Copy(dst, src); done <- c.Close() }()
			var st Stats
			select {
			case st = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the copy hangs: a later hard link waits for a first link that never finished its linkGroup")
			}
			if st.Errors != 0 {
				t.Fatalf("errors: %v", st.Failures)
			}
			a := mustLstat(t, filepath.Join(dst, tc.nodes[0].Path))
			b := mustLstat(t, filepath.Join(dst, tc.nodes[1].Path))
			if a.Ino != b.Ino {
				t.Errorf("%s and %s are not one inode in the copy", tc.nodes[0].Path, tc.nodes[1].Path)
			}
		})
	}
}

// A later hard link deeper than PATH_MAX is linked to its first link's
// copy relative to directory descriptors: a path from the working
// directory would fail there with ENAMETOOLONG.
func TestWalkDeepHardlinks(t *testing.T) {
	const depth, width = 20, 250
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	// A second link of the leaf, beside it, deeper than PATH_MAX.
	nodes := testtree.Chain(depth, width)
	leaf := nodes[len(nodes)-1].Path
	testtree.Build(t, src, append(nodes, testtree.H(path.Dir(leaf)+"/leaf2", leaf)))

	c, _ := testCopier(t, Options{Recursive: true, Jobs: 2, Preserve: Preserve{Links: true}}, nil)
	st := runCopies(t, c, dst, src)
	if st.Errors != 0 {
		msg := st.Failures[0].Err
		t.Fatalf("%d errors copying a hard link deeper than PATH_MAX: ...%s", st.Errors, msg[max(len(msg)-80, 0):])
	}
	if st.Hardlinks != 1 {
		t.Errorf("Hardlinks = %d, want 1", st.Hardlinks)
	}
	checkDeepLeaf(t, dst, depth, width)
}

// A directory is listed whole before its entries are copied, as cp lists
// it: a file renamed while the ones before it are copied is still copied
// (read in batches, it was lost on btrfs, whose readdir ends at the
// entry that was last when it began).
func TestWalkListsADirectoryFirst(t *testing.T) {
	dir := t.TempDir()
	const n = 3000 // many getdents buffers' worth
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("file-%04d", i)), nil, 0o644)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	w, dw := &walker{}, &dirWalk{d: &dirHandle{srcFd: fd}}
	first, ok := w.nextName(dw)
	if !ok {
		t.Fatal("no first name")
	}
	seen := map[string]bool{first: true}
	// Rename every other entry, as if while the first is copied.
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		if e.Name() != first {
			if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(dir, e.Name()+".moved")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		name, ok := w.nextName(dw)
		if !ok {
			break
		}
		seen[name] = true
	}
	missed := 0
	for i := range n {
		if name := fmt.Sprintf("file-%04d", i); !seen[name] && !seen[name+".moved"] {
			missed++
		}
	}
	if missed > 0 {
		t.Errorf("%d of %d entries renamed after the first was read were never seen under either name", missed, n)
	}
}
