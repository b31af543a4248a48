package tree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

const kib = 1024

// writeFile makes path with n bytes of data at off, the rest a hole up to
// size (if larger).
func writeFile(t testing.TB, path string, off, n, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(i%251 + 1)
	}
	if _, err := f.WriteAt(buf, off); err != nil {
		t.Fatal(err)
	}
	if size > off+n {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
}

// usageTree makes a small tree with every kind of entry the walk must
// handle and returns its root and the data bytes of its distinct files.
func usageTree(t *testing.T) (string, uint64) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a"), 0, 64*kib, 0)
	writeFile(t, filepath.Join(root, "hole"), 512*kib, 4*kib, 1<<20)
	writeFile(t, filepath.Join(root, "empty"), 0, 0, 0)
	writeFile(t, filepath.Join(root, "sub", "b"), 0, 8*kib, 0)
	writeFile(t, filepath.Join(root, "sub", "deeper", "c"), 0, 4*kib, 0)
	must(t, os.Link(filepath.Join(root, "a"), filepath.Join(root, "sub", "link-to-a")))
	must(t, os.Symlink("/etc", filepath.Join(root, "sym")))
	must(t, os.Symlink("a", filepath.Join(root, "sym-a")))
	must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
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
	if _, err := Extents(f, 0); errors.Is(err, errors.ErrUnsupported) || errors.Is(err, unix.ENOTTY) {
		t.Skipf("no FIEMAP on %s: %v", dir, err)
	}
}

func measure(t *testing.T, c *UsageCounter, path string) Usage {
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
	c := NewUsageCounter(UsageOptions{Files: true, Workers: 3, OnError: func(err error) { errs = append(errs, err) }})
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
	c := NewUsageCounter(UsageOptions{})
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
			u := measure(t, NewUsageCounter(UsageOptions{Files: true}), tt.path)
			if u.Total != tt.want || u.Exclusive != tt.want {
				t.Errorf("usage %+v, want Total = Exclusive = %d", u, tt.want)
			}
		})
	}
}

func TestUsageMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope")
	_, err := NewUsageCounter(UsageOptions{}).Measure(path)
	var pe *PathError
	if !errors.As(err, &pe) || pe.Path != path || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("Measure of a missing path: %v, want a *PathError with ENOENT", err)
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
	u := measure(t, NewUsageCounter(UsageOptions{OnError: func(err error) { errs = append(errs, err) }}), root)
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
	writeFile(t, filepath.Join(mnt, "big"), 0, 256*kib, 0)

	outside := filepath.Join(t.TempDir(), "outside")
	writeFile(t, outside, 0, 128*kib, 0)
	target := filepath.Join(root, "sub", "bound")
	writeFile(t, target, 0, 0, 0)
	mountAt(t, outside, target, "", unix.MS_BIND)

	u := measure(t, NewUsageCounter(UsageOptions{Files: true}), root)
	if u.Total != data || u.Unmapped != 0 {
		t.Errorf("usage %+v, want Total %d: nothing from the mounts", u, data)
	}
	// Given as a PATH, the mount point is measured: tmpfs has no FIEMAP,
	// so its blocks count as exclusive.
	m := measure(t, NewUsageCounter(UsageOptions{}), mnt)
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
	c := NewUsageCounter(UsageOptions{OnError: func(err error) { reported = append(reported, err) }})
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
		root = b.TempDir()
		const dirs, files = 100, 100
		for d := range dirs {
			for f := range files {
				writeFile(b, filepath.Join(root, fmt.Sprint(d), fmt.Sprint(f)), 0, int64(4*kib*(1+f%3)), 0)
			}
		}
		unix.Sync()
	}
	var n int
	for b.Loop() {
		u, err := NewUsageCounter(UsageOptions{Files: true}).Measure(root)
		if err != nil || u.Errors != 0 {
			b.Fatalf("Measure: %v, %d errors", err, u.Errors)
		}
		n = len(u.Files)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
