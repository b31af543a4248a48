package tree

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Measure adds the usage of path and returns it. A directory is walked
// without following symbolic links and without crossing into other
// mounts, but into btrfs subvolumes and snapshots (which are on the same
// mount), as btrfs filesystem du does; path itself is followed if it is a
// symbolic link. Only regular files count. Entries that cannot be measured
// are counted in Usage.Errors and passed to OnError; the returned error,
// a *PathError, says that path itself could not be measured.
func (c *UsageCounter) Measure(path string) (Usage, error) {
	var st unix.Statx_t
	if err := statxRetry(unix.AT_FDCWD, path, 0, &st); err != nil {
		return Usage{Path: path}, pathErr("cannot access", path, err)
	}
	p := &pathCount{c: c, u: Usage{Path: path}, names: map[devIno]int{}}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		p.collect(measureFile(path, 0, mountOf(&st)))
	case unix.S_IFDIR:
		c.walk(p, path, mountOf(&st))
	}
	return p.finish(), nil
}

// walk measures the tree under root: this goroutine reads directories and
// queues their regular files, workers map the files, and p.collect, as
// the pool's collector, counts them.
func (c *UsageCounter) walk(p *pathCount, root string, mnt mountID) {
	workers := c.opts.Workers
	if workers <= 0 {
		// FIEMAP blocks on metadata reads when the cache is cold, so
		// more workers than CPUs keep the disk busy.
		workers = max(8, 2*runtime.GOMAXPROCS(0))
	}
	pool := NewPool(workers, 64*workers,
		func(path string) fileMeasure { return measureFile(path, unix.O_NOFOLLOW, mnt) },
		p.collect)
	dirs := queueDir(pool, nil, root, true, mnt)
	for len(dirs) > 0 {
		dir := dirs[len(dirs)-1]
		dirs = queueDir(pool, dirs[:len(dirs)-1], dir, false, mnt)
	}
	pool.Wait()
}

// queueDir queues the regular files of dir on pool and appends its
// subdirectories to dirs. A directory on another mount is skipped.
func queueDir(pool *Pool[string, fileMeasure], dirs []string, dir string, follow bool, mnt mountID) []string {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openRetry(dir, flags)
	if err != nil {
		pool.Report(fileMeasure{err: pathErr("cannot read directory", dir, err)})
		return dirs
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	var st unix.Statx_t
	if err := statxRetry(fd, "", unix.AT_EMPTY_PATH, &st); err != nil {
		pool.Report(fileMeasure{err: pathErr("cannot access", dir, err)})
		return dirs
	}
	if !mountOf(&st).same(mnt) {
		return dirs
	}
	prefix := dir
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	for {
		// Batches keep a directory of a million entries from being
		// held in memory at once.
		entries, err := f.ReadDir(1024)
		for _, e := range entries {
			switch e.Type() {
			case 0: // a regular file
				pool.Submit(prefix + e.Name())
			case fs.ModeDir:
				dirs = append(dirs, prefix+e.Name())
			}
		}
		if err == io.EOF {
			return dirs
		}
		if err != nil {
			pool.Report(fileMeasure{err: pathErr("cannot read directory", dir, err)})
			return dirs
		}
	}
}

// measureFile maps the extents of the regular file path; openFlags add
// O_NOFOLLOW for files met inside a walked tree. Extents are counted as
// btrfs filesystem du counts them: whole, unclipped allocations, skipping
// inline, unknown and delalloc ones (MapSync leaves few of those).
func measureFile(path string, openFlags int, mnt mountID) fileMeasure {
	// O_NONBLOCK: if a FIFO took the file's place since readdir,
	// opening it must not hang.
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|openFlags)
	if err == unix.ELOOP && openFlags&unix.O_NOFOLLOW != 0 {
		return fileMeasure{skip: true} // replaced by a symbolic link since readdir
	}
	if err != nil {
		return fileMeasure{err: pathErr("cannot open", path, err)}
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := statxRetry(fd, "", unix.AT_EMPTY_PATH, &st); err != nil {
		return fileMeasure{err: pathErr("cannot access", path, err)}
	}
	// A file bind-mounted over a name in the tree is on another mount.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || !mountOf(&st).same(mnt) {
		return fileMeasure{skip: true}
	}
	m := fileMeasure{
		path:  path,
		id:    devIno{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino},
		links: uint64(st.Nlink),
	}
	err = visitExtents(fd, MapSync, func(e Extent) {
		if !e.hasBlocks() || e.Length == 0 {
			return
		}
		m.total += e.Length
		if !e.Shared() {
			m.exclusive += e.Length
			return
		}
		m.shared += e.Length
		m.sharedSpans = append(m.sharedSpans, span{start: e.Physical, end: e.Physical + e.Length})
	})
	if errors.Is(err, errors.ErrUnsupported) || err == unix.ENOTTY {
		// No extent map here: nothing can be shared that we could
		// see, so the allocated blocks count as exclusive.
		m.total, m.exclusive, m.shared, m.sharedSpans = st.Blocks*512, st.Blocks*512, 0, nil
		m.unmapped = true
		return m
	}
	if err != nil {
		return fileMeasure{err: pathErr("cannot read extents of", path, err)}
	}
	return m
}

// mountID identifies the mount a file was reached through. btrfs gives
// every subvolume its own st_dev, so only the mount ID (Linux 5.8) tells
// a subvolume, which the walk enters, from a mount point, which it does
// not; without one, st_dev is compared and the walk stays out of both.
type mountID struct {
	id, dev uint64
	hasID   bool
}

func mountOf(st *unix.Statx_t) mountID {
	return mountID{
		id:    st.Mnt_id,
		dev:   unix.Mkdev(st.Dev_major, st.Dev_minor),
		hasID: st.Mask&unix.STATX_MNT_ID != 0,
	}
}

func (m mountID) same(o mountID) bool {
	if m.hasID && o.hasID {
		return m.id == o.id
	}
	return m.dev == o.dev
}

const usageStatxMask = unix.STATX_TYPE | unix.STATX_INO | unix.STATX_NLINK | unix.STATX_BLOCKS | unix.STATX_MNT_ID

func statxRetry(dirfd int, path string, flags int, st *unix.Statx_t) error {
	for {
		err := unix.Statx(dirfd, path, flags, usageStatxMask, st)
		if err != unix.EINTR {
			return err
		}
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
