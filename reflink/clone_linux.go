package reflink

import (
	"fmt"
	"os"
	"runtime"

	"github.com/cowcp/cowcp/internal/eintr"
	"github.com/cowcp/cowcp/internal/fastcall"
	"golang.org/x/sys/unix"
)

// File is an open file as the clone calls need it: its descriptor, and
// its name for messages. *os.File is one.
type File interface {
	Fd() uintptr
	Name() string
}

// Clone makes dst share all of src's data blocks with FICLONE. dst must be
// open for writing on the same filesystem; its previous content is replaced
// and its size becomes src's size. Errors are wrapped *os.PathError values
// naming dst and keep the errno for Classify.
func Clone(dst, src File) error {
	return clone(dst, src, func(d, s int) error { return unix.IoctlFileClone(d, s) })
}

// CloneSmall is Clone for a file of a few extents, whose clone returns in
// microseconds: the ioctl is made without the scheduler's hand-off (see
// package fastcall). A large or fragmented file goes to Clone.
func CloneSmall(dst, src File) error {
	return clone(dst, src, func(d, s int) error { return fastcall.Ioctl(d, unix.FICLONE, uintptr(s)) })
}

func clone(dst, src File, ioctl func(dst, src int) error) error {
	err := eintr.Ignoring(func() error { return ioctl(int(dst.Fd()), int(src.Fd())) })
	// The descriptors are bare ints in the ioctl: keep their files (and
	// so the descriptors) from being finalized while it runs.
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	if err != nil {
		return &os.PathError{Op: "clone from " + src.Name(), Path: dst.Name(), Err: err}
	}
	return nil
}

// CloneRange makes dst[dstOff, dstOff+n) share src[srcOff, srcOff+n) with
// FICLONERANGE. Offsets must be aligned to the filesystem block size; n may
// end unaligned only where the range ends at src's end of file. n == 0
// clones from srcOff to the end of src.
func CloneRange(dst File, dstOff int64, src File, srcOff, n int64) error {
	if srcOff < 0 || dstOff < 0 || n < 0 {
		return &os.PathError{Op: "clone range", Path: dst.Name(), Err: unix.EINVAL}
	}
	arg := unix.FileCloneRange{
		Src_fd:      int64(src.Fd()),
		Src_offset:  uint64(srcOff),
		Src_length:  uint64(n),
		Dest_offset: uint64(dstOff),
	}
	err := eintr.Ignoring(func() error { return unix.IoctlFileCloneRange(int(dst.Fd()), &arg) })
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src) // arg holds its descriptor
	if err != nil {
		op := fmt.Sprintf("clone range [%d,+%d) from %s", srcOff, n, src.Name())
		return &os.PathError{Op: op, Path: dst.Name(), Err: err}
	}
	return nil
}
