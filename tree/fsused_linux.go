package tree

import "golang.org/x/sys/unix"

// fsUsed follows one destination filesystem's used space across the copy:
// the filesystem's own estimate of what the copy cost, shown beside the
// saved bytes cowcp counted. Measured after a syncfs, since btrfs updates
// its counters only when a transaction commits.
type fsUsed struct {
	fd     int
	before int64
}

// watchFS starts following the filesystem holding the directory dirFd,
// once per filesystem.
func (w *walker) watchFS(dev uint64, dirFd int) {
	if !w.opts.MeasureFS || w.fsWatch[dev] != nil {
		return
	}
	fd, err := openat(dirFd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return // no estimate for this one; the copy does not depend on it
	}
	used, err := usedBytes(fd)
	if err != nil {
		unix.Close(fd)
		return
	}
	w.fsWatch[dev] = &fsUsed{fd: fd, before: used}
}

// fsDelta is the growth of used space over all watched filesystems.
// It runs after the workers are done, and closes what watchFS opened.
func (w *walker) fsDelta() (int64, bool) {
	var delta int64
	ok := false
	for dev, fs := range w.fsWatch {
		if after, err := usedBytes(fs.fd); err == nil {
			delta += after - fs.before
			ok = true
		}
		unix.Close(fs.fd)
		delete(w.fsWatch, dev)
	}
	return delta, ok
}

// usedBytes is the used space of the filesystem of fd, after a syncfs.
func usedBytes(fd int) (int64, error) {
	if err := syncfs(fd); err != nil {
		return 0, err
	}
	var s unix.Statfs_t
	if err := fstatfs(fd, &s); err != nil {
		return 0, err
	}
	return int64(s.Blocks-s.Bfree) * int64(s.Bsize), nil
}

// freeSpace adds the available space of a destination filesystem, once,
// for --dry-run's "needed vs free".
func (w *walker) freeSpace(dev uint64, dirFd int) {
	if w.freeSeen[dev] {
		return
	}
	w.freeSeen[dev] = true
	fd, err := openat(dirFd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var s unix.Statfs_t
	if fstatfs(fd, &s) == nil {
		w.freeBytes += int64(s.Bavail) * int64(s.Bsize)
	}
}
