package reflink

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/tests/fstest"
	"golang.org/x/sys/unix"
)

const (
	btrfsMagic = 0x9123683e
	xfsMagic   = 0x58465342
)

// writeRandom creates path with size bytes of testtree.Bytes(seed, size)
// and returns them.
func writeRandom(t *testing.T, path string, size int, seed uint64) []byte {
	t.Helper()
	data := testtree.Bytes(seed, size)
	testtree.WriteFile(t, path, int64(size), testtree.Data(0, data))
	return data
}

func openPair(t *testing.T, dstPath, srcPath string) (dst, src *os.File) {
	t.Helper()
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dst, err = os.OpenFile(dstPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	return dst, src
}

func fsType(t *testing.T, dir string) int64 {
	t.Helper()
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	return int64(sfs.Type)
}

// noCloneDir returns a temporary directory on a filesystem that cannot
// clone, or skips when t.TempDir() is on btrfs or XFS (where it might).
func noCloneDir(t *testing.T) string {
	dir := t.TempDir()
	switch fsType(t, dir) {
	case btrfsMagic, xfsMagic:
		t.Skipf("%s is on btrfs or XFS; clones may work there", dir)
	}
	return dir
}

func checkPathError(t *testing.T, err error, dst string) {
	t.Helper()
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != dst {
		t.Errorf("error %q (%T) is not an *os.PathError naming %s", err, err, dst)
	}
}

func TestCloneUnsupportedHere(t *testing.T) {
	dir := noCloneDir(t)
	want := writeRandom(t, filepath.Join(dir, "src"), 100<<10, 1)
	dst, src := openPair(t, filepath.Join(dir, "dst"), filepath.Join(dir, "src"))

	err := Clone(dst, src)
	if err == nil {
		t.Fatalf("Clone succeeded on a filesystem of type %#x", fsType(t, dir))
	}
	if c := Classify(err); c != FSUnsupported {
		t.Errorf("Clone error %q classifies as %v, want FSUnsupported", err, c)
	}
	checkPathError(t, err, dst.Name())

	err = CloneRange(dst, 0, src, 0, 0)
	if err == nil {
		t.Fatal("CloneRange succeeded on a filesystem that cannot clone")
	}
	if !Unsupported(err) {
		t.Errorf("CloneRange error %q classifies as %v, want unsupported", err, Classify(err))
	}
	checkPathError(t, err, dst.Name())

	// Nothing was written, and the source is intact.
	if fi, _ := dst.Stat(); fi.Size() != 0 {
		t.Errorf("failed clone left %d bytes in dst", fi.Size())
	}
	if got, _ := os.ReadFile(src.Name()); !bytes.Equal(got, want) {
		t.Error("source changed")
	}
}

// Across two filesystems the kernel answers EXDEV, which must be cacheable.
func TestCloneAcrossFilesystems(t *testing.T) {
	dir := t.TempDir()
	shm, err := os.MkdirTemp("/dev/shm", "reflink-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	var a, b unix.Stat_t
	if unix.Stat(dir, &a) != nil || unix.Stat(shm, &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm and the temporary directory are on one filesystem")
	}
	writeRandom(t, filepath.Join(shm, "src"), 8192, 2)
	dst, src := openPair(t, filepath.Join(dir, "dst"), filepath.Join(shm, "src"))
	err = Clone(dst, src)
	if !errors.Is(err, unix.EXDEV) {
		t.Errorf("Clone across filesystems: %v, want EXDEV", err)
	}
	if c := Classify(err); c != FSUnsupported {
		t.Errorf("Classify(%v) = %v, want FSUnsupported", err, c)
	}
}

func TestCloneRangeNegative(t *testing.T) {
	dir := t.TempDir()
	writeRandom(t, filepath.Join(dir, "src"), 4096, 3)
	dst, src := openPair(t, filepath.Join(dir, "dst"), filepath.Join(dir, "src"))
	for _, tc := range []struct{ dstOff, srcOff, n int64 }{{-1, 0, 0}, {0, -4096, 0}, {0, 0, -1}} {
		err := CloneRange(dst, tc.dstOff, src, tc.srcOff, tc.n)
		if !errors.Is(err, unix.EINVAL) || Classify(err) != FileUnsupported {
			t.Errorf("CloneRange(dstOff %d, srcOff %d, n %d) = %v, want EINVAL (FileUnsupported)",
				tc.dstOff, tc.srcOff, tc.n, err)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var filefragExtent = regexp.MustCompile(`^\s*\d+:\s+\d+\.\.\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+):\s*(?:\d+:)?\s*([a-z_,]*)\s*$`)

// sharedBlocks runs filefrag -v on path after a sync and returns how many
// of its blocks are in extents flagged shared, and how many in total.
func sharedBlocks(t *testing.T, path string) (shared, total int64) {
	t.Helper()
	unix.Sync()
	out := run(t, "filefrag", "-v", path)
	for line := range strings.SplitSeq(out, "\n") {
		m := filefragExtent.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var n int64
		for _, ch := range m[1] {
			n = n*10 + int64(ch-'0')
		}
		total += n
		if strings.Contains(m[2], "shared") {
			shared += n
		}
	}
	if total == 0 {
		t.Fatalf("filefrag -v %s: no extents parsed from\n%s", path, out)
	}
	return shared, total
}

func TestCloneBtrfs(t *testing.T) {
	mnt := fstest.Btrfs(t, 256<<20)
	fstest.RequireTools(t, "filefrag")
	const size = 1<<20 + 12345 // several extents' worth, unaligned end
	want := writeRandom(t, filepath.Join(mnt, "src"), size, 4)
	unix.Sync()

	t.Run("Clone", func(t *testing.T) {
		dst, src := openPair(t, filepath.Join(mnt, "clone"), filepath.Join(mnt, "src"))
		if err := Clone(dst, src); err != nil {
			t.Fatalf("Clone on btrfs: %v (class %v)", err, Classify(err))
		}
		got, err := os.ReadFile(dst.Name())
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("clone content differs from source (read err %v, %d bytes)", err, len(got))
		}
		shared, total := sharedBlocks(t, dst.Name())
		t.Logf("filefrag: %d of %d blocks shared", shared, total)
		if shared != total {
			t.Errorf("filefrag: %d of %d blocks of the clone are shared, want all", shared, total)
		}
	})

	t.Run("CloneRangeAligned", func(t *testing.T) {
		dst, src := openPair(t, filepath.Join(mnt, "range"), filepath.Join(mnt, "src"))
		const off, n = 256 << 10, 512 << 10
		if err := CloneRange(dst, off, src, off, n); err != nil {
			t.Fatalf("CloneRange aligned: %v", err)
		}
		got, err := os.ReadFile(dst.Name())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != off+n || !bytes.Equal(got[off:], want[off:off+n]) {
			t.Fatalf("range clone: %d bytes, content at [%d,%d) differs", len(got), off, off+n)
		}
		if !bytes.Equal(got[:off], make([]byte, off)) {
			t.Error("bytes before the cloned range are not zero")
		}
		if shared, _ := sharedBlocks(t, dst.Name()); shared*4096 < n {
			t.Errorf("filefrag: %d shared blocks, want at least %d", shared, n/4096)
		}
	})

	t.Run("CloneRangeToEOF", func(t *testing.T) {
		dst, src := openPair(t, filepath.Join(mnt, "tail"), filepath.Join(mnt, "src"))
		const off = 1 << 20
		if err := CloneRange(dst, off, src, off, 0); err != nil {
			t.Fatalf("CloneRange to EOF with an unaligned end: %v", err)
		}
		got, _ := os.ReadFile(dst.Name())
		if len(got) != size || !bytes.Equal(got[off:], want[off:]) {
			t.Fatalf("tail clone: %d bytes, want %d with the source's tail", len(got), size)
		}
	})

	t.Run("CloneRangeUnaligned", func(t *testing.T) {
		dst, src := openPair(t, filepath.Join(mnt, "unaligned"), filepath.Join(mnt, "src"))
		err := CloneRange(dst, 100, src, 100, 5000)
		if !errors.Is(err, unix.EINVAL) {
			t.Fatalf("CloneRange of an unaligned middle range: %v, want EINVAL", err)
		}
		if c := Classify(err); c != FileUnsupported {
			t.Errorf("Classify(%v) = %v, want FileUnsupported", err, c)
		}
		checkPathError(t, err, dst.Name())
		if fi, _ := dst.Stat(); fi.Size() != 0 {
			t.Errorf("failed range clone left %d bytes", fi.Size())
		}
	})

	t.Run("BtrfsToOtherFS", func(t *testing.T) {
		other := t.TempDir()
		if fsType(t, other) == btrfsMagic {
			t.Skip("temporary directory is btrfs too")
		}
		dst, src := openPair(t, filepath.Join(other, "dst"), filepath.Join(mnt, "src"))
		err := Clone(dst, src)
		if err == nil || Classify(err) != FSUnsupported {
			t.Errorf("Clone btrfs -> %s: %v (class %v), want FSUnsupported",
				other, err, Classify(err))
		}
	})
}
