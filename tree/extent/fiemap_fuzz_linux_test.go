package extent

import (
	"os"
	"testing"
	"unsafe"
)

// FuzzExtentParse feeds arbitrary FIEMAP replies to the code that reads
// them, as Visit does: replies is the bytes the kernel would write into
// struct fiemap and its extent array, one reply after another (each a
// header, then as many extents as its fm_mapped_extents says, at most a
// batch), for a file of the given size. Whatever the bytes, the extents
// handed on must come in logical order without overlap, the batch loop
// must move forward, and the summary must stay within the file.
func FuzzExtentParse(f *testing.F) {
	for _, seed := range realReplies(f) {
		f.Add(seed.size, seed.replies)
	}
	const k = 4096
	for _, seed := range []struct {
		size    int64
		extents []fiemapExtent
	}{
		{0, nil},
		{100, []fiemapExtent{{length: k, flags: extentInline | extentLast}}},
		{3 * k, []fiemapExtent{
			{logical: 0, physical: 10 * k, length: k, flags: extentShared},
			{logical: 2 * k, physical: 20 * k, length: k, flags: extentLast | extentEncoded}}},
		{2 * k, []fiemapExtent{{length: 2 * k, flags: extentDelalloc | extentUnknown | extentLast}}},
		{k, []fiemapExtent{{logical: 10, length: ^uint64(0)}}},
		{-1, []fiemapExtent{{length: k, flags: extentUnwritten | extentLast}}},
	} {
		f.Add(seed.size, reply(seed.extents, uint32(len(seed.extents))))
	}
	f.Fuzz(func(t *testing.T, size int64, replies []byte) {
		var buf fiemapBuf
		var got []Extent
		var s Summary
		clip := uint64(max(size, 0))
		collect := func(e Extent) {
			got = append(got, e)
			s.add(e, clip) // as SummarizeFile counts
		}
		var start uint64
		for {
			replies = fill(&buf, replies)
			next, more := buf.decode(start, collect)
			if !more {
				break
			}
			if next <= start {
				t.Fatalf("the next request starts at %d, not past %d: Visit would not end", next, start)
			}
			start = next
		}
		var end uint64
		for i, e := range got {
			if e.Logical < end {
				t.Fatalf("extent %d %+v starts before the end of the one before, %d", i, e, end)
			}
			if e.Logical+e.Length < e.Logical {
				t.Fatalf("extent %d %+v wraps around", i, e)
			}
			end = e.Logical + e.Length
		}
		if s != Summarize(got, size) {
			t.Fatalf("counted one by one %+v, Summarize %+v", s, Summarize(got, size))
		}
		if s.Data > clip || s.Shared > s.Data || s.Clonable > s.Data {
			t.Fatalf("summary %+v of a file of %d bytes, from %d extents", s, size, len(got))
		}
	})
}

// fill writes the next reply of replies into buf as the kernel writes it,
// the bytes missing at the end being zeros, and returns the rest.
func fill(buf *fiemapBuf, replies []byte) []byte {
	*buf = fiemapBuf{}
	hdr := unsafe.Slice((*byte)(unsafe.Pointer(&buf.hdr)), unsafe.Sizeof(buf.hdr))
	replies = replies[copy(hdr, replies):]
	n := min(buf.hdr.mappedExtents, fiemapBatch)
	exts := unsafe.Slice((*byte)(unsafe.Pointer(&buf.extents)), unsafe.Sizeof(buf.extents))
	return replies[copy(exts[:uintptr(n)*unsafe.Sizeof(fiemapExtent{})], replies):]
}

// reply is the bytes of one reply holding extents, fm_mapped_extents n.
func reply(extents []fiemapExtent, n uint32) []byte {
	var buf fiemapBuf
	buf.hdr.mappedExtents = n
	copy(buf.extents[:], extents)
	size := unsafe.Sizeof(buf.hdr) + uintptr(len(extents))*unsafe.Sizeof(fiemapExtent{})
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&buf)), size)...)
}

type replySeed struct {
	size    int64
	replies []byte
}

// realReplies maps real files in a temporary directory with the real
// ioctl, as Visit asks, and returns the kernel's replies: a file of data,
// holes and data, and one of more extents than a batch. None where the
// filesystem has no FIEMAP.
func realReplies(f *testing.F) []replySeed {
	var seeds []replySeed
	for _, data := range [][]int64{
		{0, 1 << 20},
		blocks(0, 16),
		everyOther(fiemapBatch + 3),
	} {
		file := newFile(f, 0, data...)
		fi, err := file.Stat()
		if err != nil {
			f.Fatal(err)
		}
		seed := replySeed{size: fi.Size()}
		var buf fiemapBuf
		var start uint64
		for {
			if err := fiemap(int(file.Fd()), &buf, start, MapSync); err != nil {
				f.Logf("no real FIEMAP replies as seeds: %v", &os.PathError{Op: "fiemap", Path: file.Name(), Err: err})
				return seeds
			}
			n := min(buf.hdr.mappedExtents, fiemapBatch)
			seed.replies = append(seed.replies, reply(buf.extents[:n], buf.hdr.mappedExtents)...)
			next, more := buf.decode(start, func(Extent) {})
			if !more {
				break
			}
			start = next
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

// everyOther is the offsets of n blocks with a hole after each one, so
// that each is an extent of its own.
func everyOther(n int) []int64 {
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = int64(i) * 2 * 4096
	}
	return offs
}
