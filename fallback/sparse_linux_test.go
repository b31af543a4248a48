package fallback

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

const kib = 1 << 10

var sparseCases = []struct {
	name string
	size int64
	data []seg
}{
	{"DataHoleData", 1024 * kib, []seg{{0, 128 * kib}, {768 * kib, 256 * kib}}},
	{"HoleAtStart", 512 * kib, []seg{{256 * kib, 256 * kib}}},
	{"HoleAtEnd", 1024 * kib, []seg{{0, 64 * kib}}},
	{"HoleAtEndUnaligned", 1000*kib + 3, []seg{{0, 64 * kib}}},
	{"DataUnalignedEnd", 512*kib + 5, []seg{{64 * kib, 64 * kib}, {512 * kib, 5}}},
	{"ManyRuns", 2048 * kib, []seg{{0, 4 * kib}, {64 * kib, 4 * kib}, {512 * kib, 192 * kib}, {1536 * kib, 8 * kib}, {2040 * kib, 8 * kib}}},
	{"AllHole", 1024 * kib, nil},
	{"NoHoles", 300*kib + 17, []seg{{0, 300*kib + 17}}},
	{"Empty", 0, nil},
}

func dataBytes(segs []seg) int64 {
	var n int64
	for _, s := range segs {
		n += s.n
	}
	return n
}

func TestSparse(t *testing.T) {
	dir := t.TempDir()
	requireHoles(t, dir)
	copiers := map[string]RunCopier{
		"ReadWrite": func(dst, src *os.File, off, n int64) (int64, error) {
			return ReadWrite(dst, src, off, n, nil)
		},
		"CopyRange": CopyRange,
	}
	for _, tc := range sparseCases {
		want := makeFile(t, dir, tc.name, tc.size, tc.data...)
		src := openRead(t, filepath.Join(dir, tc.name))
		srcMap := dataMap(t, src)
		for cname, copier := range copiers {
			t.Run(tc.name+"/"+cname, func(t *testing.T) {
				dst := createRW(t, filepath.Join(dir, tc.name+"-"+cname))
				var calls []seg
				n, err := Sparse(dst, src, tc.size, func(d, s *os.File, off, n int64) (int64, error) {
					calls = append(calls, seg{off, n})
					return copier(d, s, off, n)
				})
				if err != nil {
					t.Fatalf("Sparse: %v", err)
				}
				if want := dataBytes(srcMap); n != want {
					t.Errorf("Sparse returned %d data bytes, the source has %d", n, want)
				}
				if !slices.Equal(calls, srcMap) {
					t.Errorf("copied runs %v, want the source's data runs %v", calls, srcMap)
				}
				if err := dst.Sync(); err != nil {
					t.Fatal(err)
				}
				checkContent(t, dst, want)
				if got := dataMap(t, dst); !slices.Equal(got, srcMap) {
					t.Errorf("destination data runs %v, source's %v", got, srcMap)
				}
				if sb, db := blocks512(t, src), blocks512(t, dst); db > sb {
					t.Errorf("destination has %d blocks allocated, source %d: holes were filled", db, sb)
				}
			})
		}
	}
}

// The data map of the test files is what the layout says (4 KiB blocks):
// otherwise TestSparse would compare two wrong maps.
func TestSparseLayouts(t *testing.T) {
	dir := t.TempDir()
	requireHoles(t, dir)
	for _, tc := range sparseCases {
		t.Run(tc.name, func(t *testing.T) {
			makeFile(t, dir, tc.name, tc.size, tc.data...)
			f := openRead(t, filepath.Join(dir, tc.name))
			got := dataMap(t, f)
			var want []seg
			for _, s := range tc.data {
				end := min((s.off+s.n+4095)/4096*4096, tc.size)
				if n := len(want); n > 0 && want[n-1].off+want[n-1].n == s.off {
					want[n-1].n = end - want[n-1].off
					continue
				}
				want = append(want, seg{s.off, end - s.off})
			}
			if !slices.Equal(got, want) {
				t.Skipf("filesystem maps %v as %v; layout assumptions do not hold here", want, got)
			}
		})
	}
}

func TestSparseUnsupportedFirstRun(t *testing.T) {
	dir := t.TempDir()
	makeFile(t, dir, "src", 256*kib, seg{64 * kib, 64 * kib}, seg{192 * kib, 64 * kib})
	src := openRead(t, filepath.Join(dir, "src"))
	dst := createRW(t, filepath.Join(dir, "dst"))
	calls := 0
	n, err := Sparse(dst, src, 256*kib, func(d, s *os.File, off, n int64) (int64, error) {
		calls++
		return 0, fmt.Errorf("test: %w", ErrUnsupported)
	})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Sparse: %v, want the copier's ErrUnsupported", err)
	}
	if n != 0 || calls != 1 {
		t.Errorf("Sparse = %d bytes after %d calls; want 0 after 1", n, calls)
	}
	if got := dataMap(t, dst); len(got) != 0 {
		t.Errorf("destination holds data %v after an unsupported first run", got)
	}
}

func TestSparseErrorLaterRun(t *testing.T) {
	dir := t.TempDir()
	requireHoles(t, dir)
	makeFile(t, dir, "src", 256*kib, seg{0, 64 * kib}, seg{192 * kib, 64 * kib})
	src := openRead(t, filepath.Join(dir, "src"))
	dst := createRW(t, filepath.Join(dir, "dst"))
	calls := 0
	n, err := Sparse(dst, src, 256*kib, func(d, s *os.File, off, n int64) (int64, error) {
		calls++
		if calls == 2 {
			return 100, &os.PathError{Op: "write", Path: d.Name(), Err: unix.ENOSPC}
		}
		return ReadWrite(d, s, off, n, nil)
	})
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("Sparse: %v, want ENOSPC", err)
	}
	if n != 64*kib+100 {
		t.Errorf("Sparse reported %d bytes, want %d", n, 64*kib+100)
	}
}

// A source that shrinks below the size the caller stat'ed must not loop
// or fail: Sparse returns what it copied and the caller compares sizes.
func TestSparseShrunkSource(t *testing.T) {
	dir := t.TempDir()
	want := makeFile(t, dir, "src", 100*kib, seg{0, 100 * kib})
	src := openRead(t, filepath.Join(dir, "src"))
	dst := createRW(t, filepath.Join(dir, "dst"))
	n, err := Sparse(dst, src, 200*kib, func(d, s *os.File, off, n int64) (int64, error) {
		return ReadWrite(d, s, off, n, nil)
	})
	if err != nil || n != 100*kib {
		t.Fatalf("Sparse of a shrunk source = %d, %v; want %d, nil", n, err, 100*kib)
	}
	got, _ := os.ReadFile(dst.Name())
	if len(got) != 200*kib || string(got[:100*kib]) != string(want) {
		t.Errorf("destination: %d bytes; want the 100 KiB copied, extended to 200 KiB", len(got))
	}
}

func TestHasHoles(t *testing.T) {
	for _, tc := range []struct {
		size, blocks int64
		want         bool
	}{
		{0, 0, false},
		{1, 0, true}, // a tiny file without blocks (inline or all hole)
		{1, 8, false},
		{4096, 8, false},
		{4097, 8, true},
		{1 << 20, 2048, false},
		{1 << 20, 2047, true},
		{1 << 20, 4096, false}, // preallocated beyond size
	} {
		st := unix.Stat_t{Size: tc.size, Blocks: tc.blocks}
		if got := HasHoles(&st); got != tc.want {
			t.Errorf("HasHoles(size %d, blocks %d) = %v, want %v", tc.size, tc.blocks, got, tc.want)
		}
	}

	dir := t.TempDir()
	requireHoles(t, dir)
	for _, tc := range []struct {
		name string
		size int64
		data []seg
		want bool
	}{
		{"Dense", 64 * kib, []seg{{0, 64 * kib}}, false},
		{"Sparse", 1024 * kib, []seg{{0, 64 * kib}}, true},
		{"Empty", 0, nil, false},
		{"AllHole", 64 * kib, nil, true},
	} {
		makeFile(t, dir, "hh-"+tc.name, tc.size, tc.data...)
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, "hh-"+tc.name), &st); err != nil {
			t.Fatal(err)
		}
		if got := HasHoles(&st); got != tc.want {
			t.Errorf("HasHoles(%s: size %d, blocks %d) = %v, want %v", tc.name, st.Size, st.Blocks, got, tc.want)
		}
	}
}
