package usage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"github.com/cowcp/cowcp/tree/extent"
	"golang.org/x/sys/unix"
)

const kib = 1024

// usageTree makes a small tree with every kind of entry the walk must
// handle and returns its root and the data bytes of its distinct files.
func usageTree(t *testing.T) (string, uint64) {
	root := filepath.Join(t.TempDir(), "t")
	testtree.Build(t, root, []testtree.Node{
		testtree.S("a", 64*kib, testtree.Random(0, 1, 64*kib)),
		testtree.S("hole", 1<<20, testtree.Random(512*kib, 2, 4*kib)),
		testtree.F("empty", 0o644, nil),
		testtree.D("sub", 0o755),
		testtree.S("sub/b", 8*kib, testtree.Random(0, 3, 8*kib)),
		testtree.D("sub/deeper", 0o755),
		testtree.S("sub/deeper/c", 4*kib, testtree.Random(0, 4, 4*kib)),
		testtree.H("sub/link-to-a", "a"),
		testtree.L("sym", "/etc"),
		testtree.L("sym-a", "a"),
		testtree.N("fifo", testtree.FIFO, 0o644, 0),
	})
	requireFiemapAt(t, root)
	return root, 64*kib + 4*kib + 8*kib + 4*kib
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func requireFiemapAt(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	must(t, err)
	defer f.Close()
	if _, err := extent.Map(f, 0); errors.Is(err, errors.ErrUnsupported) || errors.Is(err, unix.ENOTTY) {
		t.Skipf("no FIEMAP on %s: %v", dir, err)
	}
}

func measure(t *testing.T, c *Counter, path string) Usage {
	t.Helper()
	u, err := c.Measure(path)
	if err != nil {
		t.Fatalf("Measure(%s): %v", path, err)
	}
	return u
}

func TestUsageTree(t *testing.T) {
	root, data := usageTree(t)
	var errs []error
	c := NewCounter(Options{Files: true, Workers: 3, OnError: func(err error) { errs = append(errs, err) }})
	u := measure(t, c, root)
	if len(errs) != 0 || u.Errors != 0 {
		t.Fatalf("errors: %v (Usage.Errors %d)", errs, u.Errors)
	}
	// Nothing is shared on the temp dir's filesystem unless it was
	// cloned, so everything is exclusive.
	want := Usage{Path: root, Total: data, Exclusive: data}
	if u.Total != want.Total || u.Exclusive != want.Exclusive || u.Shared != 0 || u.SetShared != 0 {
		t.Errorf("usage %+v, want %+v", u, want)
	}
	var names []string
	for _, f := range u.Files {
		rel, _ := filepath.Rel(root, f.Path)
		names = append(names, fmt.Sprintf("%s %d", rel, f.Total))
	}
	// One line per inode: the hard link shows under its smaller name;
	// symbolic links and the FIFO are not files.
	wantNames := []string{"a 65536", "empty 0", "hole 4096", "sub/b 8192", "sub/deeper/c 4096"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("files %q, want %q", names, wantNames)
	}
	if tot := c.Total(); tot.Total != data || tot.Exclusive != data {
		t.Errorf("Total() = %+v, want Total = Exclusive = %d", tot, data)
	}
}

// TestUsageAcrossPaths checks that a file reached from two PATHs counts
// for the first only, so the total counts it once.
func TestUsageAcrossPaths(t *testing.T) {
	root, data := usageTree(t)
	c := NewCounter(Options{})
	sub := measure(t, c, filepath.Join(root, "sub"))
	if want := uint64(64*kib + 8*kib + 4*kib); sub.Total != want {
		t.Errorf("sub: Total %d, want %d (its hard link to a included)", sub.Total, want)
	}
	all := measure(t, c, root+"/")
	if want := uint64(4 * kib); all.Total != want {
		t.Errorf("root after sub: Total %d, want %d (only what sub did not count)", all.Total, want)
	}
	again := measure(t, c, root)
	if again.Total != 0 {
		t.Errorf("root measured twice: Total %d, want 0", again.Total)
	}
	if tot := c.Total(); tot.Total != data {
		t.Errorf("Total() = %d, want %d", tot.Total, data)
	}
}

func TestUsageRootFileAndSymlink(t *testing.T) {
	root, data := usageTree(t)
	link := filepath.Join(t.TempDir(), "tree")
	must(t, os.Symlink(root, link))
	tests := []struct {
		name, path string
		want       uint64
	}{
		{"File", filepath.Join(root, "a"), 64 * kib},
		{"SymlinkToFile", filepath.Join(root, "sym-a"), 64 * kib},
		{"SymlinkToDir", link, data},
		{"Fifo", filepath.Join(root, "fifo"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := measure(t, NewCounter(Options{Files: true}), tt.path)
			if u.Total != tt.want || u.Exclusive != tt.want {
				t.Errorf("usage %+v, want Total = Exclusive = %d", u, tt.want)
			}
		})
	}
}

func TestUsageMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope")
	_, err := NewCounter(Options{}).Measure(path)
	var pe *cpmsg.PathError
	if !errors.As(err, &pe) || pe.Path != path || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("Measure of a missing path: %v, want a *cpmsg.PathError with ENOENT", err)
	}
	if want := fmt.Sprintf("cannot access '%s': No such file or directory", path); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestUsageUnreadable needs a user that permissions apply to.
func TestUsageUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	root, _ := usageTree(t)
	locked := filepath.Join(root, "sub", "deeper")
	must(t, os.Chmod(locked, 0))
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	var errs []error
	u := measure(t, NewCounter(Options{OnError: func(err error) { errs = append(errs, err) }}), root)
	if u.Errors != 1 || len(errs) != 1 || !errors.Is(errs[0], unix.EACCES) {
		t.Fatalf("Errors %d, reported %v; want one EACCES", u.Errors, errs)
	}
	if want := uint64(64*kib + 4*kib + 8*kib); u.Total != want {
		t.Errorf("Total %d, want %d (all but the unreadable directory)", u.Total, want)
	}
}

// TestUsageMountPoints checks that the walk does not count a filesystem
// mounted inside the tree, nor a file bind-mounted over one of its names.
func TestUsageMountPoints(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	root, data := usageTree(t)
	mnt := filepath.Join(root, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	mountAt(t, "tmpfs", mnt, "tmpfs", 0)
	testtree.WriteFile(t, filepath.Join(mnt, "big"), 256*kib, testtree.Random(0, 5, 256*kib))

	outside := filepath.Join(t.TempDir(), "outside")
	testtree.WriteFile(t, outside, 128*kib, testtree.Random(0, 6, 128*kib))
	target := filepath.Join(root, "sub", "bound")
	testtree.WriteFile(t, target, 0)
	mountAt(t, outside, target, "", unix.MS_BIND)

	u := measure(t, NewCounter(Options{Files: true}), root)
	if u.Total != data || u.Unmapped != 0 {
		t.Errorf("usage %+v, want Total %d: nothing from the mounts", u, data)
	}
	// Given as a PATH, the mount point is measured: tmpfs has no FIEMAP,
	// so its blocks count as exclusive.
	m := measure(t, NewCounter(Options{}), mnt)
	if m.Unmapped != 1 || m.Total != 256*kib || m.Exclusive != 256*kib {
		t.Errorf("tmpfs usage %+v, want 1 unmapped file of 256 KiB", m)
	}
}

func mountAt(t *testing.T, source, target, fstype string, flags uintptr) {
	t.Helper()
	if err := unix.Mount(source, target, fstype, flags, ""); err != nil {
		t.Skipf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, 0); err != nil {
			t.Errorf("unmount %s: %v", target, err)
			unix.Unmount(target, unix.MNT_DETACH)
		}
	})
}

// TestUsageCollectErrors checks that errors are counted, reported and
// leave the numbers alone.
func TestUsageCollectErrors(t *testing.T) {
	var reported []error
	c := NewCounter(Options{OnError: func(err error) { reported = append(reported, err) }})
	p := &pathCount{c: c, u: Usage{Path: "x"}, names: map[devIno]int{}}
	p.collect(fileMeasure{err: pathErr("cannot open", "x/y", unix.EIO)})
	p.collect(fileMeasure{path: "x/z", links: 1, total: 8192, exclusive: 4096, shared: 4096,
		sharedSpans: []span{{0, 4096}}})
	u := p.finish()
	if u.Errors != 1 || len(reported) != 1 || u.Total != 8192 || u.SetShared != 4096 {
		t.Fatalf("usage %+v, reported %v", u, reported)
	}
	if tot := c.Total(); tot.Errors != 1 || tot.SetShared != 4096 {
		t.Fatalf("Total() = %+v", tot)
	}
}

// BenchmarkUsage measures a generated tree of small files (or the tree
// named by COWDU_BENCH_DIR, e.g. 100k files on a loopback btrfs, to
// compare with btrfs filesystem du -s there).
func BenchmarkUsage(b *testing.B) {
	root := os.Getenv("COWDU_BENCH_DIR")
	if root == "" {
		root = filepath.Join(b.TempDir(), "t")
		const dirs, files = 100, 100
		var nodes []testtree.Node
		for d := range dirs {
			nodes = append(nodes, testtree.D(fmt.Sprint(d), 0o755))
			for f := range files {
				size := int64(4 * kib * (1 + f%3))
				nodes = append(nodes, testtree.S(fmt.Sprint(d, "/", f), size, testtree.Random(0, uint64(d*files+f), size)))
			}
		}
		testtree.Build(b, root, nodes)
		unix.Sync()
	}
	var n int
	for b.Loop() {
		u, err := NewCounter(Options{Files: true}).Measure(root)
		if err != nil || u.Errors != 0 {
			b.Fatalf("Measure: %v, %d errors", err, u.Errors)
		}
		n = len(u.Files)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// deepFile is a file usageDeepTree wrote: its whole path and its data.
type deepFile struct {
	path string
	data uint64
}

// usageDeepTree makes at root a testtree.Chain of depth directories of
// width-byte names with files of whole 4 KiB blocks at every seventh
// level, and at the bottom an 8 KiB file, a sparse file and a hard link to
// the top file. It returns the distinct files, each under the name a
// listing shows (the smaller of the hard link's two), and their total
// data.
func usageDeepTree(t *testing.T, root string, depth, width int) ([]deepFile, uint64) {
	t.Helper()
	chain := testtree.Chain(depth, width)
	nodes := chain[:depth] // the directories, not the leaf
	var files []deepFile
	var sum uint64
	add := func(n testtree.Node) {
		nodes = append(nodes, n)
		files = append(files, deepFile{root + "/" + n.Path, uint64(n.Size)})
		sum += uint64(n.Size)
	}
	level := func(i int) string { // the path of level i's directory, "" for the root
		if i == 0 {
			return ""
		}
		return chain[i-1].Path + "/"
	}
	for i := 0; i <= depth; i += 7 {
		n := int64(4*kib) * int64(1+i%3)
		add(testtree.S(level(i)+"data", n, testtree.Random(0, uint64(i), n)))
	}
	bottom := level(depth)
	add(testtree.S(bottom+"leaf", 8*kib, testtree.Random(0, 1001, 8*kib)))
	nodes = append(nodes, testtree.S(bottom+"sparse", 1<<20, testtree.Random(256*kib, 1002, 4*kib)))
	files = append(files, deepFile{root + "/" + bottom + "sparse", 4 * kib})
	sum += 4 * kib
	nodes = append(nodes, testtree.H(bottom+"link", "data"))
	testtree.Build(t, root, nodes)
	// The link's name sorts first: "0000-..." < "data".
	if link := root + "/" + bottom + "link"; link < files[0].path {
		files[0].path = link
	}
	slices.SortFunc(files, func(a, b deepFile) int { return strings.Compare(a.path, b.path) })
	if len(files[0].path) <= unix.PathMax && len(files[len(files)-1].path) <= unix.PathMax {
		t.Fatal("the test tree is not deeper than PATH_MAX")
	}
	return files, sum
}

// TestUsageDeeperThanPathMax measures trees whose paths run far past
// PATH_MAX, as du does: every file is found and counted once, and the
// listing names each by its whole path.
func TestUsageDeeperThanPathMax(t *testing.T) {
	for _, tc := range []struct{ depth, width int }{{200, 250}, {1000, 8}} {
		t.Run(fmt.Sprintf("%dx%d", tc.depth, tc.width), func(t *testing.T) {
			dir := t.TempDir()
			requireFiemapAt(t, dir)
			root := filepath.Join(dir, "t")
			files, data := usageDeepTree(t, root, tc.depth, tc.width)
			before := testtree.OpenFds(t)
			var errs []error
			c := NewCounter(Options{Files: true, Workers: 3, OnError: func(err error) { errs = append(errs, err) }})
			u := measure(t, c, root)
			if len(errs) != 0 || u.Errors != 0 {
				t.Fatalf("%d errors, first: %.200v", u.Errors, errs)
			}
			if u.Total != data || u.Exclusive != data || u.Shared != 0 || u.SetShared != 0 {
				t.Errorf("usage Total %d Exclusive %d Shared %d SetShared %d; want %d of data written, all exclusive",
					u.Total, u.Exclusive, u.Shared, u.SetShared, data)
			}
			if len(u.Files) != len(files) {
				t.Fatalf("%d files listed, want %d", len(u.Files), len(files))
			}
			for i, f := range u.Files {
				if f.Path != files[i].path || f.Total != files[i].data {
					t.Errorf("file %d: %d bytes at ...%s; want %d at ...%s", i,
						f.Total, f.Path[max(0, len(f.Path)-60):], files[i].data, files[i].path[max(0, len(files[i].path)-60):])
				}
			}
			testtree.FdsLeft(t, before)
		})
	}
}

// TestUsageDeepChainFewDescriptors checks that a directory is closed once
// its subdirectories are open, so that a chain deeper than the descriptor
// limit is measured: holding every level open would need 1000 descriptors.
func TestUsageDeepChainFewDescriptors(t *testing.T) {
	const depth, width = 1000, 8
	dir := t.TempDir()
	requireFiemapAt(t, dir)
	root := filepath.Join(dir, "t")
	_, data := usageDeepTree(t, root, depth, width)
	var old unix.Rlimit
	must(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &old))
	// One worker queues at most 64 files, each holding its directory.
	limit := unix.Rlimit{Cur: uint64(testtree.OpenFds(t)) + 100, Max: old.Max}
	if limit.Cur >= depth {
		t.Skipf("%d descriptors open already", limit.Cur-100)
	}
	must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &limit))
	u, err := NewCounter(Options{Workers: 1}).Measure(root)
	must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &old))
	if err != nil || u.Errors != 0 || u.Total != data {
		t.Errorf("with %d descriptors: error %v, %d errors, Total %d; want %d", limit.Cur, err, u.Errors, u.Total, data)
	}
}

// TestUsageDeepUnreadable checks that an error below PATH_MAX's reach
// names the directory by its whole path, as du does. It needs a user that
// permissions apply to.
func TestUsageDeepUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	const depth, width = 30, 250
	dir := t.TempDir()
	requireFiemapAt(t, dir)
	root := filepath.Join(dir, "t")
	files, data := usageDeepTree(t, root, depth, width)
	// Lock level 25: the files at levels 28 and below go uncounted.
	fd := testtree.OpenDeep(t, root, 24, width)
	name := testtree.DeepName(24, width)
	locked := root
	for i := range 25 {
		locked += "/" + testtree.DeepName(i, width)
	}
	must(t, unix.Fchmodat(fd, name, 0, 0))
	t.Cleanup(func() { // before TempDir's removal, which needs it open
		unix.Fchmodat(fd, name, 0o755, 0)
		unix.Close(fd)
	})
	var lost uint64
	for _, f := range files {
		// The hard link at the bottom is still counted at the top.
		if strings.HasPrefix(f.path, locked+"/") && !strings.HasSuffix(f.path, "/link") {
			lost += f.data
		}
	}
	var errs []error
	u := measure(t, NewCounter(Options{OnError: func(err error) { errs = append(errs, err) }}), root)
	if u.Errors != 1 || len(errs) != 1 || !errors.Is(errs[0], unix.EACCES) {
		t.Fatalf("Errors %d, reported %.300v; want one EACCES", u.Errors, errs)
	}
	if want := "cannot read directory " + cpmsg.Quote(locked) + ": Permission denied"; errs[0].Error() != want {
		t.Errorf("error\n%s\nwant\n%s", errs[0], want)
	}
	if u.Total != data-lost {
		t.Errorf("Total %d, want %d (all but the %d bytes under the locked directory)", u.Total, data-lost, lost)
	}
}
