package tree

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"github.com/cowcp/cowcp/tree/internal/treetest"
	"golang.org/x/sys/unix"
)

// wtNode is one entry of a test tree: kind 'f' file, 'd' directory,
// 'l' symlink (data is the target), 'p' FIFO, 'h' hard link (data is the
// path, relative to the root, of the entry it links to).
type wtNode struct {
	path string
	kind byte
	mode uint32
	data string
}

// wtBuild makes nodes under root in order, then gives every entry a
// distinct mtime with nanoseconds (deepest first, so making entries does
// not disturb their directories' times) and, as root, odd owners.
func wtBuild(t testing.TB, root string, nodes []wtNode) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, n.path)
		var err error
		switch n.kind {
		case 'd':
			err = os.Mkdir(p, 0o700)
		case 'f':
			err = os.WriteFile(p, []byte(n.data), 0o600)
		case 'l':
			err = os.Symlink(n.data, p)
		case 'p':
			err = unix.Mkfifo(p, 0o600)
		case 'h':
			err = os.Link(filepath.Join(root, n.data), p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		p := filepath.Join(root, n.path)
		// chown first: it clears setuid bits.
		if os.Geteuid() == 0 && i%2 == 0 && n.kind != 'h' {
			if err := unix.Lchown(p, 1000+i, 2000+i); err != nil {
				t.Fatal(err)
			}
		}
		if n.kind == 'f' || n.kind == 'p' || n.kind == 'd' {
			if err := unix.Fchmodat(unix.AT_FDCWD, p, n.mode, 0); err != nil {
				t.Fatal(err)
			}
		}
		ts := []unix.Timespec{
			{Sec: 1_500_000_000 + int64(i), Nsec: 111_111_111 * int64(i%9+1)},
			{Sec: 1_600_000_000 + int64(i)*1000, Nsec: 123_456_789 + int64(i)},
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// wtWritable makes every directory under root writable again before
// t.TempDir's cleanup, which cannot remove read-only ones without root.
func wtWritable(t testing.TB, root string) {
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
	})
}

func wtLstat(t testing.TB, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// wtCompare checks that every entry under src has a copy under dst with
// the same type, mode, mtime (ns, by lstat), owner, content or target.
func wtCompare(t *testing.T, src, dst string, owners bool) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		q := filepath.Join(dst, rel)
		a, b := wtLstat(t, p), wtLstat(t, q)
		n++
		if a.Mode != b.Mode {
			t.Errorf("%s: mode %o, source %o", rel, b.Mode, a.Mode)
		}
		if a.Mtim != b.Mtim {
			t.Errorf("%s: mtime %d.%09d, source %d.%09d", rel, b.Mtim.Sec, b.Mtim.Nsec, a.Mtim.Sec, a.Mtim.Nsec)
		}
		if owners && (a.Uid != b.Uid || a.Gid != b.Gid) {
			t.Errorf("%s: owner %d:%d, source %d:%d", rel, b.Uid, b.Gid, a.Uid, a.Gid)
		}
		if a.Ino == b.Ino && a.Dev == b.Dev {
			t.Errorf("%s: the copy is the source inode", rel)
		}
		switch a.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			x, _ := os.ReadFile(p)
			y, _ := os.ReadFile(q)
			if string(x) != string(y) {
				t.Errorf("%s: content %q, source %q", rel, y, x)
			}
		case unix.S_IFLNK:
			x, _ := os.Readlink(p)
			y, _ := os.Readlink(q)
			if x != y {
				t.Errorf("%s: target %q, source %q", rel, y, x)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("compared only %d entries", n)
	}
}

var wtArchiveTree = []wtNode{
	{"a.txt", 'f', 0o640, "alpha\n"},
	{"setuid", 'f', 0o4755, "#!/bin/sh\n"},
	{"d1", 'd', 0o750, ""},
	{"d1/b", 'f', 0o600, "linked twice\n"},
	{"d1/link", 'l', 0, "../a.txt"},
	{"d1/fifo", 'p', 0o644, ""},
	{"d1/d11", 'd', 0o705, ""},
	{"d2", 'd', 0o711, ""},
	{"d2/b2", 'h', 0, "d1/b"},
	{"d2/dangling", 'l', 0, "nowhere/at/all"},
	{"d2/deeper", 'd', 0o755, ""},
	{"d2/deeper/c", 'f', 0o444, "c\n"},
	{"d2/deeper/b3", 'h', 0, "d1/b"},
	{"ro", 'd', 0o555, ""},
	{"ro/f", 'f', 0o444, "in a read-only directory\n"},
	{"ro/sub", 'd', 0o500, ""},
	{"ro/sub/g", 'f', 0o400, "deeper in it\n"},
}

var archive = Options{
	Recursive: true,
	Deref:     DerefNever,
	Preserve:  Preserve{Mode: true, Ownership: true, Timestamps: true, Links: true, Xattr: true},
}

func TestWalkArchive(t *testing.T) {
	root := t.TempDir()
	wtWritable(t, root)
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.Mkdir(src, 0o700); err != nil {
		t.Fatal(err)
	}
	wtBuild(t, src, wtArchiveTree)
	if err := os.Chmod(src, 0o751); err != nil {
		t.Fatal(err)
	}
	if err := unix.UtimesNano(src, []unix.Timespec{{Sec: 1, Nsec: 2}, {Sec: 1_234_567_890, Nsec: 987_654_321}}); err != nil {
		t.Fatal(err)
	}

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
	c, _ := ttNew(t, opts, nil)
	st := ttRun(t, c, dst, src)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	wtCompare(t, src, dst, true)

	// Hard links across directories stay one inode in the copy.
	b, b2, b3 := wtLstat(t, filepath.Join(dst, "d1/b")), wtLstat(t, filepath.Join(dst, "d2/b2")),
		wtLstat(t, filepath.Join(dst, "d2/deeper/b3"))
	if b.Ino != b2.Ino || b.Ino != b3.Ino || b.Nlink != 3 {
		t.Errorf("hard links: inodes %d, %d, %d, nlink %d; want one inode with 3 links", b.Ino, b2.Ino, b3.Ino, b.Nlink)
	}
	if a := wtLstat(t, filepath.Join(dst, "a.txt")); a.Nlink != 1 {
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
	ttNoLeftovers(t, dst)
}

// Without -p, a copied read-only directory ends read-only (less the
// umask) after its contents were written into it.
func TestWalkReadOnlyDir(t *testing.T) {
	root := t.TempDir()
	wtWritable(t, root)
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.Mkdir(src, 0o755)
	wtBuild(t, src, []wtNode{
		{"ro", 'd', 0o555, ""},
		{"ro/f", 'f', 0o444, "x"},
		{"ro/sub", 'd', 0o555, ""},
		{"ro/sub/g", 'f', 0o644, "y"},
	})
	c, _ := ttNew(t, Options{Recursive: true, Jobs: 2}, nil)
	st := ttRun(t, c, dst, src)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	for _, p := range []string{"ro/f", "ro/sub/g"} {
		x, _ := os.ReadFile(filepath.Join(src, p))
		ttCheckFile(t, filepath.Join(dst, p), x)
	}
	for _, p := range []string{"ro", "ro/sub"} {
		if m := wtLstat(t, filepath.Join(dst, p)).Mode & 0o7777; m != 0o555&^c.env.umask {
			t.Errorf("%s: mode %o, want %o", p, m, 0o555&^c.env.umask)
		}
	}
}

// wtDeepCheck walks the copy level by level with openat and reads the
// leaf, as path-based calls cannot reach it.
func wtDeepCheck(t testing.TB, root string, depth, width int) {
	t.Helper()
	fd := treetest.OpenDeep(t, root, depth, width)
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
			os.Mkdir(src, 0o755)
			treetest.Deep(t, src, tc.depth, tc.width)
			c, _ := ttNew(t, Options{Recursive: true, Jobs: 4,
				Preserve: Preserve{Mode: true, Timestamps: true}}, nil)
			st := ttRun(t, c, dst, src)
			if st.Errors != 0 {
				t.Fatalf("%d errors, first: %+v", st.Errors, st.Failures[0])
			}
			if st.Dirs != int64(tc.depth)+1 || st.Files != 1 {
				t.Errorf("copied %d dirs, %d files; want %d, 1", st.Dirs, st.Files, tc.depth+1)
			}
			wtDeepCheck(t, dst, tc.depth, tc.width)
		})
	}
}

// cp -r src src/sub: cp's error, and the walk ends (it does not copy the
// copy into itself forever).
func TestWalkIntoItself(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.Mkdir(src, 0o755)
	wtBuild(t, src, []wtNode{{"f", 'f', 0o644, "f"}, {"d", 'd', 0o755, ""}, {"d/g", 'f', 0o644, "g"}})
	dst := filepath.Join(src, "sub")
	c, _ := ttNew(t, Options{Recursive: true, Jobs: 2}, nil)
	st := ttRun(t, c, dst, src)
	want := fmt.Sprintf("cannot copy a directory, %s, into itself, %s", cpmsg.Quote(src), cpmsg.Quote(dst))
	if st.Errors != 1 || len(st.Failures) != 1 || st.Failures[0].Err != want {
		t.Fatalf("failures %+v; want exactly %q", st.Failures, want)
	}
	if _, err := os.Lstat(filepath.Join(dst, "sub")); err == nil {
		t.Error("the copy contains a copy of itself")
	}
	ttCheckFile(t, filepath.Join(dst, "d", "g"), []byte("g"))
}

func TestWalkDirWithoutRecursive(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("f"), 0o644)
	c, _ := ttNew(t, Options{Jobs: 1}, nil)
	st := ttRun(t, c, dst, src)
	want := "-r not specified; omitting directory " + cpmsg.Quote(src)
	if st.Errors != 1 || len(st.Failures) != 1 || st.Failures[0].Err != want || st.Failures[0].Path != src {
		t.Fatalf("failures %+v; want %q for %s", st.Failures, want, src)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Error("the destination was made")
	}
}

// The walker's queue is bounded: it holds a few jobs per worker.
func TestWalkQueueBounded(t *testing.T) {
	c := New(context.Background(), Options{Jobs: 3})
	defer c.Close()
	if n := c.pool.Cap(); n <= 0 || n > 3*64 {
		t.Errorf("job queue capacity %d for 3 workers", n)
	}
}

// With --preserve=links, later links of an inode wait for its first link
// to be copied. Every kind of entry must publish that outcome, or the
// later links block their workers forever (a hang fixed in 651e329 for
// symlinks, FIFOs and cp -al). GNU cp -a keeps these links.
func TestWalkHardlinkedNonFiles(t *testing.T) {
	cases := []struct {
		name  string
		nodes []wtNode
		opts  Options
	}{
		{"Symlink", []wtNode{{"l", 'l', 0, "target"}, {"l2", 'h', 0, "l"}}, archive},
		{"FIFO", []wtNode{{"p", 'p', 0o640, ""}, {"p2", 'h', 0, "p"}}, archive},
		{"LinkMode-al", []wtNode{{"f", 'f', 0o644, "f"}, {"f2", 'h', 0, "f"}},
			func() Options { o := archive; o.HardLink = true; return o }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			os.Mkdir(src, 0o755)
			wtBuild(t, src, tc.nodes)
			opts := tc.opts
			opts.Jobs = 2
			c, _ := ttNew(t, opts, nil)
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
			a := wtLstat(t, filepath.Join(dst, tc.nodes[0].path))
			b := wtLstat(t, filepath.Join(dst, tc.nodes[1].path))
			if a.Ino != b.Ino {
				t.Errorf("%s and %s are not one inode in the copy", tc.nodes[0].path, tc.nodes[1].path)
			}
		})
	}
}

// A later hard link below PATH_MAX is linked to its first link's copy
// without a path from the working directory (which fails with
// ENAMETOOLONG there; fixed in 651e329).
func TestWalkDeepHardlinks(t *testing.T) {
	const depth, width = 20, 250
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.Mkdir(src, 0o755)
	treetest.Deep(t, src, depth, width)
	// A second link of the leaf, beside it, below PATH_MAX.
	fd := treetest.OpenDeep(t, src, depth, width)
	if err := unix.Linkat(fd, "leaf", fd, "leaf2", 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)

	c, _ := ttNew(t, Options{Recursive: true, Jobs: 2, Preserve: Preserve{Links: true}}, nil)
	st := ttRun(t, c, dst, src)
	if st.Errors != 0 {
		msg := st.Failures[0].Err
		t.Fatalf("%d errors copying a hard link deeper than PATH_MAX: ...%s", st.Errors, msg[max(len(msg)-80, 0):])
	}
	if st.Hardlinks != 1 {
		t.Errorf("Hardlinks = %d, want 1", st.Hardlinks)
	}
	wtDeepCheck(t, dst, depth, width)
}
