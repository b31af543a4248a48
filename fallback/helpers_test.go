package fallback

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// seg is a run of data in a test file; everything else is a hole.
type seg struct{ off, n int64 }

// makeFile creates a file of size bytes in dir with data (never a zero
// byte) only in segs, the rest holes, syncs it so that SEEK_DATA and
// st_blocks are settled, and returns its content.
func makeFile(t *testing.T, dir, name string, size int64, segs ...seg) []byte {
	t.Helper()
	var data []testtree.Seg
	for i, s := range segs {
		data = append(data, testtree.Random(s.off, uint64(i+1)*7+uint64(size), s.n))
	}
	p := filepath.Join(dir, name)
	testtree.WriteFile(t, p, size, data...)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return testtree.Content(size, data...)
}

func openRead(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func createRW(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func checkContent(t *testing.T, f *os.File, want []byte) {
	t.Helper()
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", f.Name(), len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: first difference at byte %d: %#x, want %#x", f.Name(), i, got[i], want[i])
			}
		}
	}
}

// dataMap lists f's data runs as SEEK_DATA/SEEK_HOLE report them.
func dataMap(t *testing.T, f *os.File) []seg {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	var runs []seg
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if err == unix.ENXIO {
			break
		}
		if err != nil {
			t.Fatalf("SEEK_DATA %s at %d: %v", f.Name(), off, err)
		}
		hole, err := unix.Seek(int(f.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			t.Fatalf("SEEK_HOLE %s at %d: %v", f.Name(), data, err)
		}
		runs = append(runs, seg{data, hole - data})
		off = hole
	}
	return runs
}

func blocks512(t *testing.T, f *os.File) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks
}

// requireHoles skips when dir's filesystem does not keep holes or does not
// report them through SEEK_DATA/SEEK_HOLE.
func requireHoles(t *testing.T, dir string) {
	t.Helper()
	f := createRW(t, filepath.Join(dir, ".holeprobe"))
	defer os.Remove(f.Name())
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 512<<10); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	data, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_DATA)
	if err != nil || data == 0 || blocks512(t, f)*512 >= 1<<20 {
		t.Skipf("the filesystem of %s does not keep or report holes (SEEK_DATA -> %d, %v; %d blocks)",
			dir, data, err, blocks512(t, f))
	}
}
