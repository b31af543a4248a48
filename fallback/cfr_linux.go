package fallback

import (
	"fmt"
	"os"
	"runtime"

	"github.com/cowcp/cowcp/internal/eintr"
	"golang.org/x/sys/unix"
)

// maxChunk bounds one copy_file_range call: the kernel caps a call near
// 2 GiB anyway. Callers wanting progress or interruptibility pass smaller n.
const maxChunk = 1 << 30

// CopyRange copies n bytes from src at off to dst at the same offset with
// copy_file_range. It loops over short counts.
//
// If the very first call fails with an errno that means "not available
// for these files", or returns 0 before the end, it returns an error
// wrapping ErrUnsupported and nothing was written, so the caller can fall
// back. Any later failure is a real error.
//
// copy_file_range may share blocks instead of copying them (btrfs, XFS,
// NFS 4.2 server-side copy), so callers that promise a real byte copy must
// not use it.
func CopyRange(dst, src *os.File, off, n int64) (int64, error) {
	var done int64
	for done < n {
		chunk := min(n-done, maxChunk)
		c, err := eintr.Ignoring2(func() (int, error) {
			inOff, outOff := off+done, off+done
			return unix.CopyFileRange(int(src.Fd()), &inOff, int(dst.Fd()), &outOff, int(chunk), 0)
		})
		// The descriptors are bare ints in the call: keep their files
		// from being finalized while it runs.
		runtime.KeepAlive(src)
		runtime.KeepAlive(dst)
		if err != nil {
			if done == 0 && cfrUnsupported(err) {
				return 0, fmt.Errorf("copy_file_range %s to %s: %w (%w)", src.Name(), dst.Name(), ErrUnsupported, err)
			}
			return done, &os.PathError{Op: "copy_file_range from " + src.Name(), Path: dst.Name(), Err: err}
		}
		if c == 0 {
			if done == 0 && !atEOF(src, off) {
				// Some filesystems (older kernels' procfs/sysfs, FUSE
				// without support) answer 0 instead of an error.
				return 0, fmt.Errorf("copy_file_range %s to %s: %w (returned 0)", src.Name(), dst.Name(), ErrUnsupported)
			}
			// The source shrank under us: return what was copied. Nothing
			// checks sources changing during a copy yet (see the README).
			return done, nil
		}
		done += int64(c)
	}
	return done, nil
}

// cfrUnsupported lists the errnos that mean copy_file_range cannot serve
// this pair of files, so a read/write copy should be used instead.
func cfrUnsupported(err error) bool {
	switch err {
	case unix.ENOSYS:
		// Kernel without copy_file_range, or a seccomp filter denying it.
		return true
	case unix.EXDEV:
		// Before 5.3, and again since 5.19 for different filesystem types,
		// copies across filesystems are refused.
		return true
	case unix.EINVAL:
		// Not regular files, overlapping ranges, or a filesystem that
		// rejects the flags/offsets.
		return true
	case unix.EOPNOTSUPP:
		// NFS servers without COPY, some FUSE filesystems.
		return true
	case unix.EPERM:
		// Container runtimes' seccomp profiles answer EPERM, not ENOSYS.
		return true
	}
	// EIO, ENOSPC, EDQUOT, EFBIG ...: real failures. Go's own runtime also
	// treats EIO as "unsupported" because of an old CIFS bug; we do not, as
	// retrying after an I/O error can hide a failing disk.
	return false
}

// atEOF reports whether off is at or past src's end, where a 0 from
// copy_file_range means the source shrank, not "unsupported".
func atEOF(src *os.File, off int64) bool {
	var st unix.Stat_t
	err := eintr.Ignoring(func() error { return unix.Fstat(int(src.Fd()), &st) })
	runtime.KeepAlive(src)
	return err == nil && off >= st.Size
}
