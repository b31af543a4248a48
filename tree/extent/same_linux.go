package extent

import "runtime"

// sameLimit is the most extents SameBlocks compares: one FIEMAP batch.
const sameLimit = fiemapBatch

// SameBlocks reports whether the open files a and b, of the same size,
// are made of the very same data blocks: the same extents at the same
// offsets, every one of b's shared, none inline, delalloc or of unknown
// place. Such files hold the same bytes, and cloning a over b would
// change nothing. Both are mapped with MapSync, so data still in the
// page cache is on its blocks before they are compared. A file of more
// than 256 extents, or one that cannot be mapped, is not judged the same.
func SameBlocks(a, b File) bool {
	defer runtime.KeepAlive(a)
	defer runtime.KeepAlive(b)
	bs, ok := sharedExtents(int(b.Fd()), true)
	if !ok || len(bs) == 0 {
		return false
	}
	as, ok := sharedExtents(int(a.Fd()), false)
	if !ok || len(as) != len(bs) {
		return false
	}
	for i := range as {
		if as[i].Logical != bs[i].Logical || as[i].Physical != bs[i].Physical || as[i].Length != bs[i].Length {
			return false
		}
	}
	return true
}

// sharedExtents maps fd, and reports false for a map SameBlocks cannot
// trust: too long, with an extent without blocks of its own, or (when
// mustShare) with one that is not shared.
func sharedExtents(fd int, mustShare bool) ([]Extent, bool) {
	var es []Extent
	ok := true
	err := Visit(fd, MapSync, func(e Extent) {
		if len(es) == sameLimit || !e.HasBlocks() || e.Physical == 0 || mustShare && !e.Shared() {
			ok = false
		}
		if ok {
			es = append(es, e)
		}
	})
	return es, ok && err == nil
}
