package fstest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// How long teardown waits for a busy mount point (a child process of the
// test still exiting, say) and for the loop driver to let go of the image.
const (
	unmountTries = 30
	detachTries  = 50
	retryWait    = 100 * time.Millisecond
)

// teardown unmounts the filesystem, detaches its loop device and removes
// the image and directories, in that order, each step only if the one
// before it succeeded: an image is never removed under a bound device, nor
// a directory under a mount. It acts only on what it can prove is the
// package's own: the mount on mnt must come from dev, and dev must be bound
// to image. A step that cannot be done stops it with an error saying what
// was left; a later call resumes where it stopped.
func (lf *loopFS) teardown() error {
	if lf.mounted {
		if err := lf.unmount(); err != nil {
			return fmt.Errorf("%w; left it, %s and %s in place", err, lf.dev, lf.dir)
		}
	}
	if lf.dev != "" {
		if err := lf.detach(); err != nil {
			return fmt.Errorf("%w; left %s in place", err, lf.dir)
		}
	}
	var errs []error
	for _, p := range []string{lf.image, lf.mnt, lf.dir} { // never RemoveAll
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unmount unmounts dev from mnt, retrying while it is busy; it does not
// detach lazily, which would hide the error and leave a process writing
// into a filesystem nobody can see.
func (lf *loopFS) unmount() error {
	for try := 1; ; try++ {
		m, err := topMount(lf.mnt)
		if err != nil {
			return err
		}
		if m == nil {
			lf.mounted = false
			return nil
		}
		if !lf.isDev(m.source) {
			return fmt.Errorf("%s has %s (%s) mounted on it, not the package's %s: not unmounting it",
				lf.mnt, m.source, m.fstype, lf.dev)
		}
		err = unix.Unmount(lf.mnt, 0)
		switch {
		case err == nil:
			// Look again: the device may have been mounted there twice.
		case errors.Is(err, unix.EBUSY) && try < unmountTries:
			time.Sleep(retryWait)
		case errors.Is(err, unix.EBUSY):
			return fmt.Errorf("unmount %s: %w for %v", lf.mnt, err, unmountTries*retryWait)
		default:
			return fmt.Errorf("unmount %s: %w", lf.mnt, err)
		}
	}
}

// isDev reports whether a mount's source names the package's loop device.
// btrfs may report another path to the same device, so device numbers are
// compared too.
func (lf *loopFS) isDev(source string) bool {
	if source == lf.dev {
		return true
	}
	var st unix.Stat_t
	return unix.Stat(source, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK && uint64(st.Rdev) == lf.devRdev
}

// detach detaches dev if it is still bound to the image (same device and
// inode), and waits until the driver has let go of it. A device bound to
// anything else, or to nothing, was detached by someone else and may have
// been reused: it is left alone.
func (lf *loopFS) detach() error {
	f, err := os.Open(lf.dev)
	if errors.Is(err, fs.ErrNotExist) {
		lf.dev = ""
		return nil
	}
	if err != nil {
		return err
	}
	info, err := unix.IoctlLoopGetStatus64(int(f.Fd()))
	if err != nil || info.Device != lf.imageDev || info.Inode != lf.imageIno {
		f.Close()
		if err != nil && !errors.Is(err, unix.ENXIO) { // ENXIO: bound to nothing
			return &os.PathError{Op: "LOOP_GET_STATUS64", Path: lf.dev, Err: err}
		}
		lf.dev = ""
		return nil
	}
	backing := backingFile(lf.dev)
	// With other openers (udev probing after the unmount, say) the kernel
	// only marks the device to detach on its last close, and returns 0.
	err = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
	f.Close()
	if err != nil {
		return &os.PathError{Op: "LOOP_CLR_FD", Path: lf.dev, Err: err}
	}
	for try := 1; ; try++ {
		if b := backingFile(lf.dev); b == "" || b != backing {
			lf.dev = ""
			return nil
		}
		if try == detachTries {
			return fmt.Errorf("%s is still bound to %s %v after detaching it (held open; it detaches on its last close)",
				lf.dev, lf.image, detachTries*retryWait)
		}
		time.Sleep(retryWait)
	}
}

// backingFile returns the file a loop device is bound to as the loop
// driver names it (with " (deleted)" if it was removed), or "" when the
// device is bound to nothing. It reads sysfs rather than opening the
// device, which would itself hold off a pending detach.
func backingFile(dev string) string {
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop", "backing_file"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
