package extent

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/cowcp/cowcp/internal/eintr"
	"github.com/cowcp/cowcp/internal/fastcall"
	"golang.org/x/sys/unix"
)

// fsIocFiemap is FS_IOC_FIEMAP, _IOWR('f', 11, struct fiemap): direction
// read|write (3<<30), size 32 (sizeof(struct fiemap) without its extent
// array) <<16, type 'f' <<8, number 11. golang.org/x/sys/unix does not
// define it; TestFiemapIoctlNumber recomputes it and maps a real file,
// because a wrong hand-written number fails only as ENOTTY at run time.
const fsIocFiemap = 0xC020660B

// MapFlags change how a file's extents are mapped.
type MapFlags uint32

// MapSync flushes the file's dirty data before mapping it
// (FIEMAP_FLAG_SYNC), so freshly written data shows up as allocated
// extents instead of delalloc ones. It costs a writeback of that data.
const MapSync MapFlags = 0x1

// MapQuick makes the ioctl without the scheduler's hand-off (see package
// fastcall), for a file whose extents are in memory and few, as a
// just-cloned file's are. Not a FIEMAP flag: it is not passed on.
const MapQuick MapFlags = 1 << 31

// File is an open file to map: its descriptor, and its name for
// messages. *os.File is one.
type File interface {
	Fd() uintptr
	Name() string
}

// struct fiemap and struct fiemap_extent from linux/fiemap.h.
type fiemapHeader struct {
	start         uint64
	length        uint64
	flags         uint32
	mappedExtents uint32
	extentCount   uint32
	_             uint32
}

type fiemapExtent struct {
	logical  uint64
	physical uint64
	length   uint64
	_        [2]uint64
	flags    uint32
	_        [3]uint32
}

// fiemapBatch extents are asked for per ioctl: one call maps all but
// badly fragmented files.
const fiemapBatch = 256

type fiemapBuf struct {
	hdr     fiemapHeader
	extents [fiemapBatch]fiemapExtent
}

// The buffer is 14 KiB; reusing it keeps mapping 100k small files from
// feeding the garbage collector.
var fiemapBufs = sync.Pool{New: func() any { return new(fiemapBuf) }}

// Map returns all extents of the open file f, in logical order. A file
// with no data blocks (empty, or all holes) has none. Errors are
// *os.PathError values naming f; a filesystem without FIEMAP (tmpfs, many
// FUSE filesystems) fails with EOPNOTSUPP or ENOTTY.
func Map(f *os.File, flags MapFlags) ([]Extent, error) {
	var extents []Extent
	err := Visit(int(f.Fd()), flags, func(e Extent) { extents = append(extents, e) })
	runtime.KeepAlive(f)
	if err != nil {
		return nil, &os.PathError{Op: "fiemap", Path: f.Name(), Err: err}
	}
	return extents, nil
}

// SummarizeFile counts the extents of the open file f, whose size is
// size, without keeping them: one ioctl for files of up to 256 extents.
// The copy engine calls it on a source after cloning it to learn how
// many of the copy's bytes are shared (see Summary.Clonable).
func SummarizeFile(f File, size int64, flags MapFlags) (Summary, error) {
	var s Summary
	clip := uint64(max(size, 0))
	err := Visit(int(f.Fd()), flags, func(e Extent) { s.add(e, clip) })
	runtime.KeepAlive(f)
	if err != nil {
		return Summary{}, &os.PathError{Op: "fiemap", Path: f.Name(), Err: err}
	}
	return s, nil
}

// Visit calls fn for every extent of the open file descriptor fd in
// logical order, asking the kernel for 256 extents at a time, without
// keeping them. It returns a bare errno, since it knows no path: callers
// name the file in their own words. EOPNOTSUPP or ENOTTY mean the
// filesystem has no FIEMAP.
func Visit(fd int, flags MapFlags, fn func(Extent)) error {
	buf := fiemapBufs.Get().(*fiemapBuf)
	defer fiemapBufs.Put(buf)
	var start uint64
	for {
		err := eintr.Ignoring(func() error { return fiemap(fd, buf, start, flags) })
		// EBADR: the filesystem refuses a flag it does not support.
		// Every mainline one accepts SYNC, but mapping unsynced
		// beats not mapping at all.
		if err == unix.EBADR && flags&MapSync != 0 {
			flags &^= MapSync
			continue
		}
		if err != nil {
			return err
		}
		next, more := buf.decode(start, fn)
		if !more {
			return nil
		}
		start = next
		// The first call flushed the file already.
		flags &^= MapSync
	}
}

// decode hands fn the extents of the kernel's reply in b to a request
// for the extents from start on. It returns where the next request
// starts, and false when the reply holds the file's last extent. It
// only reads b: the fuzz test feeds it arbitrary replies.
//
// The extents go to fn in logical order, none overlapping another: one
// that starts before the end of the one before (or before start, which
// is where the last batch ended) is cut to the bytes after it, or
// dropped, and one that would run past the end of the address space is
// cut there. The kernel's filesystems do not send such maps, but a bad
// one must not make a file's bytes count twice, its data exceed its
// size, or the next request go backwards.
func (b *fiemapBuf) decode(start uint64, fn func(Extent)) (next uint64, more bool) {
	n := b.hdr.mappedExtents
	if n == 0 {
		return start, false
	}
	end := start
	for i := range b.extents[:min(n, fiemapBatch)] {
		x := &b.extents[i]
		e := Extent{Logical: x.logical, Physical: x.physical, Length: x.length, Flags: x.flags}
		if e.Logical < end {
			cut := end - e.Logical
			if cut >= e.Length {
				continue
			}
			e.Logical, e.Length = end, e.Length-cut
			if e.Physical != 0 { // 0 is no place (inline, unknown)
				e.Physical += cut
			}
		}
		e.Length = min(e.Length, ^uint64(0)-e.Logical)
		end = e.Logical + e.Length
		fn(e)
	}
	// A short batch holds every remaining extent, even from
	// filesystems that forget the LAST flag.
	if b.extents[min(n, fiemapBatch)-1].flags&extentLast != 0 || n < fiemapBatch {
		return start, false
	}
	if end <= start { // no progress: zero-length or dropped extents
		return start, false
	}
	return end, true
}

// fiemap asks for the next batch of fd's extents from start into buf.
func fiemap(fd int, buf *fiemapBuf, start uint64, flags MapFlags) error {
	buf.hdr = fiemapHeader{
		start:       start,
		length:      ^uint64(0) - start, // to the end of the file; the kernel clamps it
		flags:       uint32(flags &^ MapQuick),
		extentCount: fiemapBatch,
	}
	if flags&MapQuick != 0 {
		return fastcall.Ioctl(fd, fsIocFiemap, uintptr(unsafe.Pointer(buf)))
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fsIocFiemap, uintptr(unsafe.Pointer(buf)))
	if errno != 0 {
		return errno
	}
	return nil
}
