package fallback

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	const size = 2<<20 + 4097
	want := makeFile(t, dir, "src", size, seg{0, size})
	src := openRead(t, filepath.Join(dir, "src"))

	cases := []struct {
		name   string
		off, n int64
		buf    int // 0 means nil
	}{
		{"WholeNilBuf", 0, size, 0},
		{"WholeSmallBuf", 0, size, 4096},
		{"OddBuf", 0, size, 6001},
		{"MiddleUnaligned", 1000003, 333333, 7},
		{"LastByte", size - 1, 1, 0},
		{"Zero", 5, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := createRW(t, filepath.Join(dir, "dst-"+tc.name))
			var buf []byte
			if tc.buf > 0 {
				buf = make([]byte, tc.buf)
			}
			n, err := ReadWrite(dst, src, tc.off, tc.n, buf)
			if err != nil || n != tc.n {
				t.Fatalf("ReadWrite(off %d, n %d) = %d, %v", tc.off, tc.n, n, err)
			}
			var exp []byte
			if tc.n > 0 {
				exp = make([]byte, tc.off+tc.n)
				copy(exp[tc.off:], want[tc.off:tc.off+tc.n])
			}
			checkContent(t, dst, exp)
		})
	}
}

// Existing bytes of the destination outside the range are left alone.
func TestReadWriteKeepsOtherBytes(t *testing.T) {
	dir := t.TempDir()
	srcData := makeFile(t, dir, "src", 10000, seg{0, 10000})
	dstData := makeFile(t, dir, "dst", 12000, seg{0, 12000})
	src := openRead(t, filepath.Join(dir, "src"))
	dst, err := os.OpenFile(filepath.Join(dir, "dst"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if n, err := ReadWrite(dst, src, 3000, 4000, make([]byte, 999)); err != nil || n != 4000 {
		t.Fatalf("ReadWrite = %d, %v", n, err)
	}
	want := append([]byte(nil), dstData...)
	copy(want[3000:7000], srcData[3000:7000])
	checkContent(t, dst, want)
}

func TestReadWriteShortSource(t *testing.T) {
	dir := t.TempDir()
	want := makeFile(t, dir, "src", 5000, seg{0, 5000})
	src := openRead(t, filepath.Join(dir, "src"))
	dst := createRW(t, filepath.Join(dir, "dst"))
	n, err := ReadWrite(dst, src, 0, 1<<20, make([]byte, 1024))
	if err != nil || n != 5000 {
		t.Fatalf("ReadWrite past EOF = %d, %v; want 5000, nil", n, err)
	}
	checkContent(t, dst, want)
}

func TestReadWriteErrors(t *testing.T) {
	dir := t.TempDir()
	makeFile(t, dir, "src", 8192, seg{0, 8192})
	makeFile(t, dir, "ro", 0)
	src := openRead(t, filepath.Join(dir, "src"))

	// Writing to a read-only descriptor fails with EBADF, reported.
	ro := openRead(t, filepath.Join(dir, "ro"))
	if n, err := ReadWrite(ro, src, 0, 8192, nil); err == nil || !errors.Is(err, unix.EBADF) || n != 0 {
		t.Errorf("ReadWrite into a read-only file = %d, %v; want 0, EBADF", n, err)
	}
	// Reading from a write-only descriptor fails too.
	dst := createRW(t, filepath.Join(dir, "dst"))
	wo, err := os.OpenFile(filepath.Join(dir, "src"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	if n, err := ReadWrite(dst, wo, 0, 8192, nil); !errors.Is(err, unix.EBADF) || n != 0 {
		t.Errorf("ReadWrite from a write-only file = %d, %v; want 0, EBADF", n, err)
	}
	checkContent(t, dst, nil)
}

func TestReadWriteHoles(t *testing.T) {
	dir := t.TempDir()
	requireHoles(t, dir)
	const bs = 4096
	// The source is dense: zero blocks are written as zeros, not holes.
	// Layout: data, 4 zero blocks, a block with one non-zero byte at its
	// end, 3 zero blocks, data, an odd tail of zeros then a non-zero byte.
	size := int64(20*bs + 123)
	want := testtree.Bytes(99, int(size))
	zero := func(off, n int64) { clear(want[off : off+n]) }
	zero(2*bs, 4*bs)
	zero(6*bs, bs-1) // block 6: zeros except its last byte
	zero(7*bs, 3*bs)
	zero(20*bs, 100) // the tail: 100 zeros, then 23 random bytes
	zero(15*bs, bs)  // one lone zero block in the middle of data
	wantHoles := []seg{{2 * bs, 4 * bs}, {7 * bs, 3 * bs}, {15 * bs, bs}}

	src := createRW(t, filepath.Join(dir, "src"))
	if _, err := src.WriteAt(want, 0); err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := dataMap(t, src); len(got) != 1 {
		t.Fatalf("source should be dense, has runs %v", got)
	}

	for _, bufSize := range []int{0, bs, 3 * bs, 64 << 10} {
		t.Run(fmt.Sprintf("buf%d", bufSize), func(t *testing.T) {
			dst := createRW(t, filepath.Join(dir, fmt.Sprintf("dst%d", bufSize)))
			if err := dst.Truncate(size); err != nil {
				t.Fatal(err)
			}
			var buf []byte
			if bufSize > 0 {
				buf = make([]byte, bufSize)
			}
			n, written, err := ReadWriteHoles(dst, src, 0, size, buf, bs)
			if err != nil || n != size {
				t.Fatalf("ReadWriteHoles = %d, %v; want %d, nil", n, err, size)
			}
			// Holes are not written; every other byte is, once.
			if want := size - 8*bs; written != want {
				t.Errorf("ReadWriteHoles wrote %d bytes; want %d (all but the 8 zero blocks)", written, want)
			}
			if err := dst.Sync(); err != nil {
				t.Fatal(err)
			}
			checkContent(t, dst, want)
			checkHoles(t, dst, size, wantHoles)
		})
	}

	// A block size of 0 means 4096.
	t.Run("DefaultBlockSize", func(t *testing.T) {
		dst := createRW(t, filepath.Join(dir, "dst-default"))
		if err := dst.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadWriteHoles(dst, src, 0, size, nil, 0); err != nil {
			t.Fatal(err)
		}
		dst.Sync()
		checkContent(t, dst, want)
		checkHoles(t, dst, size, wantHoles)
	})

	// At an offset, only the range is written; the rest stays a hole.
	t.Run("Range", func(t *testing.T) {
		dst := createRW(t, filepath.Join(dir, "dst-range"))
		if err := dst.Truncate(size); err != nil {
			t.Fatal(err)
		}
		off, n := int64(bs), int64(10*bs)
		if got, _, err := ReadWriteHoles(dst, src, off, n, nil, bs); err != nil || got != n {
			t.Fatalf("ReadWriteHoles range = %d, %v", got, err)
		}
		exp := make([]byte, size)
		copy(exp[off:off+n], want[off:off+n])
		checkContent(t, dst, exp)
	})
}

// checkHoles asserts that every range in holes is a hole in f, and that f
// has data only where its content is not zero.
func checkHoles(t *testing.T, f *os.File, size int64, holes []seg) {
	t.Helper()
	runs := dataMap(t, f)
	for _, h := range holes {
		for _, r := range runs {
			if r.off < h.off+h.n && h.off < r.off+r.n {
				t.Errorf("%s: expected hole [%d,+%d) overlaps data run [%d,+%d); runs %v",
					filepath.Base(f.Name()), h.off, h.n, r.off, r.n, runs)
			}
		}
	}
	var holeBytes int64
	for _, h := range holes {
		holeBytes += h.n
	}
	// st_blocks: allocation must not exceed the data, rounded to blocks.
	if maxBytes := (size - holeBytes + 4095) / 4096 * 4096; blocks512(t, f)*512 > maxBytes {
		t.Errorf("%s: %d bytes allocated, want at most %d", filepath.Base(f.Name()), blocks512(t, f)*512, maxBytes)
	}
}

func TestWriteNonZero(t *testing.T) {
	// Only whole, aligned zero blocks are skipped: a zero run that is not
	// block-aligned at off is written.
	dir := t.TempDir()
	requireHoles(t, dir)
	const bs = 4096
	p := make([]byte, 4*bs)
	p[0] = 1
	dst := createRW(t, filepath.Join(dir, "dst"))
	if err := dst.Truncate(8 * bs); err != nil {
		t.Fatal(err)
	}
	if n, err := writeNonZero(dst, p, 2*bs, bs); err != nil || n != bs {
		t.Fatalf("writeNonZero = %d, %v; want %d (the one block with a non-zero byte)", n, err, bs)
	}
	dst.Sync()
	got, err := os.ReadFile(dst.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[2*bs:6*bs], p) {
		t.Error("content differs")
	}
	checkHoles(t, dst, 8*bs, []seg{{0, 2 * bs}, {3 * bs, 5 * bs}})
}
