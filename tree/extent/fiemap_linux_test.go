package extent

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// TestFiemapIoctlNumber recomputes FS_IOC_FIEMAP from the kernel's _IOWR
// encoding and then proves the kernel accepts it on a real file: a wrong
// number would fail with ENOTTY.
func TestFiemapIoctlNumber(t *testing.T) {
	if got := unsafe.Sizeof(fiemapHeader{}); got != 32 {
		t.Fatalf("sizeof(struct fiemap) = %d, want 32", got)
	}
	if got := unsafe.Sizeof(fiemapExtent{}); got != 56 {
		t.Fatalf("sizeof(struct fiemap_extent) = %d, want 56", got)
	}
	const iocRead, iocWrite = 2, 1
	iowr := uintptr(iocRead|iocWrite)<<30 | unsafe.Sizeof(fiemapHeader{})<<16 | uintptr('f')<<8 | 11
	if iowr != fsIocFiemap {
		t.Fatalf("_IOWR('f', 11, struct fiemap) = %#x, fsIocFiemap = %#x", iowr, uint64(fsIocFiemap))
	}

	f := newFile(t, 0, blocks(0, 256)...)
	exts, err := Map(f, MapSync)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("%s has no FIEMAP: %v", t.TempDir(), err)
	}
	if err != nil {
		t.Fatalf("FS_IOC_FIEMAP on a real file: %v", err)
	}
	if s := Summarize(exts, 1<<20); s.Data != 1<<20 || s.Clonable != 1<<20 {
		t.Fatalf("1 MiB file maps to %+v in %v", s, exts)
	}
}

// newFile makes a file in a temp dir of size bytes (or more, to hold its
// data) whose data is written at each offset in data (4 KiB per offset);
// the rest are holes. It returns the file open for reading and writing.
func newFile(t testing.TB, size int64, data ...int64) *os.File {
	t.Helper()
	var segs []testtree.Seg
	for i, off := range data {
		segs = append(segs, testtree.Random(off, uint64(i), 4096))
		size = max(size, off+4096)
	}
	p := filepath.Join(t.TempDir(), "f")
	testtree.WriteFile(t, p, size, segs...)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// blocks returns the offsets of n consecutive 4 KiB blocks from off.
func blocks(off int64, n int) []int64 {
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = off + int64(i)*4096
	}
	return offs
}

func sizeOf(t *testing.T, f *os.File) int64 {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func requireFiemap(t *testing.T, f *os.File) {
	t.Helper()
	if _, err := Map(f, 0); errors.Is(err, errors.ErrUnsupported) || errors.Is(err, unix.ENOTTY) {
		t.Skipf("no FIEMAP on the temp dir's filesystem: %v", err)
	}
}

func TestExtents(t *testing.T) {
	const k = 4096
	tests := []struct {
		name     string
		size     int64
		data     []int64
		wantData uint64
	}{
		{name: "Empty", size: 0, wantData: 0},
		{name: "AllHole", size: 10 << 20, wantData: 0},
		{name: "DataHoleData", size: 0, data: []int64{0, 1 << 20}, wantData: 2 * k},
		{name: "HoleData", size: 0, data: []int64{3 << 20}, wantData: k},
		{name: "HoleAtEnd", size: 8 << 20, data: []int64{0}, wantData: k},
		{name: "Contiguous", size: 0, data: []int64{0, k, 2 * k, 3 * k}, wantData: 4 * k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFile(t, tt.size, tt.data...)
			requireFiemap(t, f)
			exts, err := Map(f, MapSync)
			if err != nil {
				t.Fatal(err)
			}
			size := sizeOf(t, f)
			s := Summarize(exts, size)
			if s.Data != tt.wantData || s.Clonable != tt.wantData || s.Shared != 0 {
				t.Errorf("summary %+v, want Data = Clonable = %d, Shared = 0; extents %v", s, tt.wantData, exts)
			}
			fs, err := SummarizeFile(f, size, MapSync)
			if err != nil || fs != s {
				t.Errorf("SummarizeFile = %+v, %v; Summarize of Extents = %+v", fs, err, s)
			}
			checkOrder(t, exts)
		})
	}
}

// checkOrder checks that extents come in logical order without overlap
// and that only the final one is marked last.
func checkOrder(t *testing.T, exts []Extent) {
	t.Helper()
	var end uint64
	for i, e := range exts {
		if e.Logical < end {
			t.Fatalf("extent %d %+v overlaps the one before (ends at %d)", i, e, end)
		}
		end = e.Logical + e.Length
		if e.Last() != (i == len(exts)-1) {
			t.Fatalf("extent %d of %d has Last() = %v", i, len(exts), e.Last())
		}
	}
}

// TestExtentsFragmented maps a file of more extents than one ioctl
// returns, so the batch loop must resume where the last batch ended.
func TestExtentsFragmented(t *testing.T) {
	const n, k = 3*fiemapBatch + 17, 4096
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = int64(i) * 2 * k // a hole after every block keeps extents apart
	}
	f := newFile(t, 0, offs...)
	requireFiemap(t, f)
	exts, err := Map(f, MapSync)
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) != n {
		t.Fatalf("got %d extents, want %d", len(exts), n)
	}
	checkOrder(t, exts)
	for i, e := range exts {
		if e.Logical != uint64(offs[i]) || e.Length != k {
			t.Fatalf("extent %d = %+v, want logical %d length %d", i, e, offs[i], k)
		}
	}
	s, err := SummarizeFile(f, sizeOf(t, f), 0)
	if err != nil || s.Data != n*k {
		t.Fatalf("SummarizeFile = %+v, %v; want Data %d", s, err, n*k)
	}
}

// TestExtentsSync checks that MapSync turns freshly written (delalloc)
// data into allocated extents that count as clonable.
func TestExtentsSync(t *testing.T) {
	f := newFile(t, 0)
	requireFiemap(t, f)
	if _, err := f.WriteAt(make([]byte, 256<<10), 0); err != nil {
		t.Fatal(err)
	}
	exts, err := Map(f, MapSync)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exts {
		if e.Delalloc() || e.Unknown() {
			t.Fatalf("after MapSync, extent %+v is still delalloc", e)
		}
	}
	if s := Summarize(exts, 256<<10); s.Clonable != 256<<10 {
		t.Fatalf("summary %+v, want 256 KiB clonable", s)
	}
}

func TestExtentsUnwritten(t *testing.T) {
	f := newFile(t, 0)
	requireFiemap(t, f)
	if err := unix.Fallocate(int(f.Fd()), 0, 0, 1<<20); err != nil {
		t.Skipf("fallocate: %v", err)
	}
	exts, err := Map(f, MapSync)
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) == 0 || !exts[0].Unwritten() {
		t.Fatalf("fallocated file maps to %v, want unwritten extents", exts)
	}
	if s := Summarize(exts, 1<<20); s.Data != 1<<20 || s.Clonable != 1<<20 {
		t.Fatalf("summary %+v, want 1 MiB of clonable data", s)
	}
}

func TestExtentsUnsupported(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("no tmpfs at /dev/shm")
	}
	f, err := os.CreateTemp("/dev/shm", "fiemap-")
	if err != nil {
		t.Skip(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	_, err = Map(f, 0)
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != f.Name() || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("FIEMAP on tmpfs: %v, want an unsupported *os.PathError naming the file", err)
	}
}

// TestSummarize covers the flag and clipping rules on made-up extents.
func TestSummarize(t *testing.T) {
	const k = 4096
	tests := []struct {
		name string
		size int64
		exts []Extent
		want Summary
	}{
		{name: "None", size: 100, want: Summary{}},
		{name: "ClippedTail", size: 100, exts: []Extent{{Length: k, Flags: extentLast}},
			want: Summary{Data: 100, Clonable: 100}},
		{name: "Inline", size: 100, exts: []Extent{{Length: k, Flags: extentInline | extentLast}},
			want: Summary{Data: 100}},
		{name: "Delalloc", size: 2 * k, exts: []Extent{{Length: 2 * k, Flags: extentDelalloc | extentUnknown}},
			want: Summary{Data: 2 * k}},
		{name: "SharedAndNot", size: 3 * k, exts: []Extent{
			{Logical: 0, Physical: 10 * k, Length: k, Flags: extentShared},
			{Logical: 2 * k, Physical: 20 * k, Length: k, Flags: extentLast}},
			want: Summary{Data: 2 * k, Shared: k, Clonable: 2 * k}},
		{name: "PastEOF", size: k, exts: []Extent{{Logical: 0, Length: k}, {Logical: 4 * k, Length: k}},
			want: Summary{Data: k, Clonable: k}},
		{name: "HugeLength", size: k, exts: []Extent{{Logical: 10, Length: ^uint64(0)}},
			want: Summary{Data: k - 10, Clonable: k - 10}},
		{name: "NegativeSize", size: -1, exts: []Extent{{Length: k}}, want: Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.exts, tt.size); got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDecodeKeepsExtentsInOrder reads replies whose extents overlap, go
// backwards or wrap around. No mainline filesystem sends them (the fuzz
// test made them up), but read as they came they counted bytes twice: a
// file's data came out larger than the file.
func TestDecodeKeepsExtentsInOrder(t *testing.T) {
	const k, p = 4096, 1 << 30 // p: some place on the device
	tests := []struct {
		name  string
		start uint64
		in    []fiemapExtent
		want  []Extent
	}{
		{name: "InOrder", in: []fiemapExtent{{logical: 0, physical: p, length: k}, {logical: 2 * k, physical: 2 * p, length: k, flags: extentLast}},
			want: []Extent{{0, p, k, 0}, {2 * k, 2 * p, k, extentLast}}},
		{name: "Overlapping", in: []fiemapExtent{{logical: 0, physical: p, length: 2 * k}, {logical: k, physical: 2 * p, length: 2 * k, flags: extentLast}},
			want: []Extent{{0, p, 2 * k, 0}, {2 * k, 2*p + k, k, extentLast}}},
		{name: "Twice", in: []fiemapExtent{{logical: 0, physical: p, length: k}, {logical: 0, physical: p, length: k, flags: extentLast}},
			want: []Extent{{0, p, k, 0}}},
		{name: "Backwards", in: []fiemapExtent{{logical: 4 * k, physical: p, length: k}, {logical: 0, physical: 2 * p, length: k, flags: extentLast}},
			want: []Extent{{4 * k, p, k, 0}}},
		{name: "BeforeStart", start: 2 * k, in: []fiemapExtent{{logical: 0, physical: p, length: 4 * k, flags: extentLast}},
			want: []Extent{{2 * k, p + 2*k, 2 * k, extentLast}}},
		{name: "InlineKeepsNoPlace", in: []fiemapExtent{{length: k, flags: extentInline}, {length: 2 * k, flags: extentInline | extentLast}},
			want: []Extent{{0, 0, k, extentInline}, {k, 0, k, extentInline | extentLast}}},
		{name: "Wraps", in: []fiemapExtent{{logical: 10, length: ^uint64(0)}},
			want: []Extent{{10, 0, ^uint64(0) - 10, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf fiemapBuf
			buf.hdr.mappedExtents = uint32(copy(buf.extents[:], tt.in))
			var got []Extent
			if _, more := buf.decode(tt.start, func(e Extent) { got = append(got, e) }); more {
				t.Errorf("a short reply asks for more")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("extents %+v, want %+v", got, tt.want)
			}
			if s := Summarize(got, 4*k); s.Data > 4*k {
				t.Errorf("a 16 KiB file holds %+v", s)
			}
		})
	}
}
