package fallback

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// seg is a run of data in a test file; everything else is a hole.
type seg struct{ off, n int64 }

// randBytes returns n reproducible pseudo-random bytes with no all-zero
// 512-byte stretch, so data never looks like a hole.
func randBytes(n int64, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0xc0})
	r.Read(b)
	for i := range b {
		if b[i] == 0 {
			b[i] = 1
		}
	}
	return b
}

// makeFile creates a file of size bytes in dir with data only in segs
// (written with pwrite into a truncated file, so the rest are holes) and
// returns its expected content.
func makeFile(t *testing.T, dir, name string, size int64, segs ...seg) []byte {
	t.Helper()
	want := make([]byte, size)
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for i, s := range segs {
		d := randBytes(s.n, uint64(i+1)*7+uint64(size))
		if _, err := f.WriteAt(d, s.off); err != nil {
			t.Fatal(err)
		}
		copy(want[s.off:], d)
	}
	// Flush delayed allocation so SEEK_DATA and st_blocks are settled.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return want
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
