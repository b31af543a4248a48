//go:build linux

package fallback

import (
	"io"
	"os"
	"runtime"
)

// bufSize is the read/write buffer. 1 MiB keeps syscalls per byte low
// without large per-worker memory.
const bufSize = 1 << 20

// ReadWrite copies n bytes from src at off to dst at the same offset with
// plain pread/pwrite through a user-space buffer. It never lets the kernel
// pick a faster path (io.Copy between *os.File values would silently use
// copy_file_range, which may share blocks), so the copy is a true byte copy.
// buf may be nil.
func ReadWrite(dst, src *os.File, off, n int64, buf []byte) (int64, error) {
	return readLoop(src, off, n, buf, func(p []byte, at int64) error {
		_, err := dst.WriteAt(p, at)
		return err
	})
}

// ReadWriteHoles is ReadWrite that leaves a hole wherever a whole block
// of the source reads as zeros (cp --sparse=always). dst must already have
// been extended to its final size, so skipped blocks read back as zeros.
// blockSize is the destination's block size; runs shorter than it are
// written, since they cannot become holes. It returns the bytes read, as
// ReadWrite, and of those the bytes written.
func ReadWriteHoles(dst, src *os.File, off, n int64, buf []byte, blockSize int) (read, written int64, err error) {
	if blockSize <= 0 {
		blockSize = 4096
	}
	read, err = readLoop(src, off, n, buf, func(p []byte, at int64) error {
		w, err := writeNonZero(dst, p, at, blockSize)
		written += w
		return err
	})
	return read, written, err
}

// readLoop reads n bytes of src from off in buffer-sized pieces and hands
// each to write with its offset.
func readLoop(src *os.File, off, n int64, buf []byte, write func(p []byte, at int64) error) (int64, error) {
	if len(buf) == 0 {
		buf = make([]byte, bufSize)
	}
	var done int64
	for done < n {
		// A goroutine that has run 10 ms without being rescheduled loses
		// its P at every system call over 20 µs (Go's sysmon takes it),
		// and waits for a thread to give it one back: one yield per
		// buffer keeps a long copy from paying that twice per buffer.
		runtime.Gosched()
		want := min(int64(len(buf)), n-done)
		r, rerr := src.ReadAt(buf[:want], off+done)
		if r > 0 {
			if err := write(buf[:r], off+done); err != nil {
				return done, err
			}
			done += int64(r)
		}
		if rerr == io.EOF {
			// The source shrank under us: return what was copied. Nothing
			// checks sources changing during a copy yet (see the README).
			return done, nil
		}
		if rerr != nil {
			return done, rerr
		}
	}
	return done, nil
}
