package fallback

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// RunCopier copies the n bytes at off from src to dst at the same offset;
// CopyRange and ReadWrite (with a bound buffer) both fit.
type RunCopier func(dst, src *os.File, off, n int64) (int64, error)

// Sparse copies a file of the given size from src to dst keeping src's
// holes: dst is extended to size first, so every gap it does not write
// stays a hole, then each data run that SEEK_DATA/SEEK_HOLE finds is copied
// with copyRun. It returns the data bytes copied. Filesystems without hole
// tracking report the whole file as one data run, which makes this a plain
// copy.
//
// If copyRun fails with ErrUnsupported on the first run, the error is
// returned as is and dst holds no data, so the caller may retry with
// another RunCopier.
func Sparse(dst, src *os.File, size int64, copyRun RunCopier) (int64, error) {
	if err := dst.Truncate(size); err != nil {
		return 0, err
	}
	var done int64
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(src.Fd()), off, unix.SEEK_DATA)
		runtime.KeepAlive(src) // a bare descriptor in the call
		if err == unix.ENXIO {
			break // only a hole is left
		}
		if err != nil {
			return done, &os.PathError{Op: "seek data", Path: src.Name(), Err: err}
		}
		if data >= size {
			break
		}
		hole, err := unix.Seek(int(src.Fd()), data, unix.SEEK_HOLE)
		runtime.KeepAlive(src)
		if err != nil {
			return done, &os.PathError{Op: "seek hole", Path: src.Name(), Err: err}
		}
		hole = min(hole, size)
		c, err := copyRun(dst, src, data, hole-data)
		done += c
		if err != nil {
			return done, err
		}
		if c < hole-data {
			// The source shrank while we copied: stop (dst keeps the size
			// it was given; sources changing mid-copy are not detected yet).
			return done, nil
		}
		off = hole
	}
	return done, nil
}

// HasHoles reports whether a regular file's allocated blocks cover less
// than its size, the cheap test GNU cp uses before looking for holes.
func HasHoles(st *unix.Stat_t) bool {
	return st.Size > 0 && st.Blocks*512 < st.Size
}
