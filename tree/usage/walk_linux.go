package usage

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/cowcp/cowcp/tree/extent"
	"github.com/cowcp/cowcp/tree/internal/pool"
	"golang.org/x/sys/unix"
)

// Measure adds the usage of path and returns it. A directory is walked
// without following symbolic links and without crossing into other
// mounts, but into btrfs subvolumes and snapshots (which are on the same
// mount), as btrfs filesystem du does; path itself is followed if it is a
// symbolic link. Only regular files count. Entries that cannot be measured
// are counted in Usage.Errors and passed to OnError; the returned error,
// a *cpmsg.PathError, says that path itself could not be measured.
//
// Below path, every entry is reached relative to its open parent
// directory, so trees deeper than PATH_MAX are measured; messages still
// name the whole path.
func (c *Counter) Measure(path string) (Usage, error) {
	var st unix.Statx_t
	if err := statxRetry(unix.AT_FDCWD, path, 0, &st); err != nil {
		return Usage{Path: path}, pathErr("cannot access", path, err)
	}
	p := &pathCount{c: c, u: Usage{Path: path}, names: map[devIno]int{}}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		p.collect(measureFile(fileRef{dir: cwdDir(), name: path}, 0, mountOf(&st), keepName))
	case unix.S_IFDIR:
		c.walk(p, path, mountOf(&st))
	}
	return p.finish(), nil
}

// walk measures the tree under root: a usageWalker on this goroutine
// reads directories and queues their regular files, workers map the
// files, and p.collect, as the pool's collector, counts them.
func (c *Counter) walk(p *pathCount, root string, mnt mountID) {
	workers := c.opts.Workers
	if workers <= 0 {
		// FIEMAP blocks on metadata reads when the cache is cold, so
		// more workers than CPUs keep the disk busy.
		workers = max(8, 2*runtime.GOMAXPROCS(0))
	}
	named := c.opts.Files // only the file list needs every file's path
	jobs := pool.New(workers, 32*workers,
		func(f fileRef) fileMeasure {
			m := measureFile(f, unix.O_NOFOLLOW, mnt, named)
			f.dir.release()
			return m
		},
		p.collect)
	// Every queued file holds its directory open: the files the walker
	// holds before a hand-over, those queued and those a worker took are
	// at most 16 + 32 + 16 per worker, not the default batches' 32 + 64 +
	// 32, so a deep chain of directories with a file each stays within
	// a hundred descriptors.
	jobs.SetBatch(16, 32*workers)
	w := &usageWalker{pool: jobs, mnt: mnt}
	w.run(root)
	jobs.Wait()
}

// usageDir is an open directory of a walked tree. Its files and
// subdirectories are opened relative to it, never by their whole path,
// which may be longer than PATH_MAX. The walker holds a reference while
// it reads the directory and one for each subdirectory still to be
// opened; every queued file holds one until a worker has measured it. The
// last release closes it, so the descriptors open at once are bounded by
// the queue and by the ancestors with subdirectories left to read, not by
// depth: a chain of single subdirectories keeps a few open however deep.
type usageDir struct {
	f    *os.File // nil for the working directory
	fd   int
	path string // for messages and the file list; "" for the working directory
	refs atomic.Int32
}

// cwdDir is the directory relative paths given to Measure start from.
func cwdDir() *usageDir { return &usageDir{fd: unix.AT_FDCWD} }

func (d *usageDir) hold() { d.refs.Add(1) }

func (d *usageDir) release() {
	if d.refs.Add(-1) == 0 && d.f != nil {
		d.f.Close()
	}
}

// child returns the path of the entry name of d, as du prints it: a PATH
// given with a trailing slash keeps it and gets no second one.
func (d *usageDir) child(name string) string {
	switch {
	case d.path == "":
		return name
	case strings.HasSuffix(d.path, "/"):
		return d.path + name
	}
	return d.path + "/" + name
}

// fileRef names an entry by its directory and its name there.
type fileRef struct {
	dir  *usageDir
	name string
}

func (f fileRef) path() string { return f.dir.child(f.name) }

// pendingDir is a subdirectory the walker has seen but not yet opened.
type pendingDir struct {
	parent *usageDir
	name   string
}

// usageWalker reads the directories of one PATH, depth first, queuing
// their regular files on the pool. Only the walking goroutine uses it.
type usageWalker struct {
	pool    *pool.Pool[fileRef, fileMeasure]
	mnt     mountID
	pending []pendingDir // a stack: the last one is read next
}

// run walks the directory root, which may be a symbolic link to one.
func (w *usageWalker) run(root string) {
	cwd := cwdDir()
	cwd.hold()
	w.pending = append(w.pending, pendingDir{parent: cwd, name: root})
	for len(w.pending) > 0 {
		n := len(w.pending) - 1
		next := w.pending[n]
		w.pending[n] = pendingDir{} // drop the reference for the garbage collector too
		w.pending = w.pending[:n]
		w.read(next.parent, next.name, next.parent == cwd)
	}
}

// read opens the subdirectory name of parent, queues its regular files
// and pushes its subdirectories. It releases the reference to parent
// that the pending entry held. A directory on another mount is skipped.
func (w *usageWalker) read(parent *usageDir, name string, follow bool) {
	path := parent.child(name)
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openatRetry(parent.fd, name, flags)
	parent.release()
	if err != nil {
		w.pool.Report(fileMeasure{err: pathErr("cannot read directory", path, err)})
		return
	}
	d := &usageDir{f: os.NewFile(uintptr(fd), path), fd: fd, path: path}
	d.refs.Store(1)
	defer d.release()
	var st unix.Statx_t
	if err := statxRetry(fd, "", unix.AT_EMPTY_PATH, &st); err != nil {
		w.pool.Report(fileMeasure{err: pathErr("cannot access", path, err)})
		return
	}
	if !mountOf(&st).same(w.mnt) {
		return
	}
	for {
		// Batches keep a directory of a million entries from being
		// held in memory at once. os.File.ReadDir stats an entry of
		// unknown type with fstatat on d, not by its path.
		entries, err := d.f.ReadDir(1024)
		for _, e := range entries {
			switch e.Type() {
			case 0: // a regular file
				d.hold()
				w.pool.Submit(fileRef{dir: d, name: e.Name()})
			case fs.ModeDir:
				d.hold()
				w.pending = append(w.pending, pendingDir{parent: d, name: e.Name()})
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			w.pool.Report(fileMeasure{err: pathErr("cannot read directory", path, err)})
			return
		}
	}
}

// keepName is measureFile's named for a file measured by itself: its
// path is in the result.
const keepName = true

// measureFile maps the extents of the regular file f; openFlags add
// O_NOFOLLOW for files met inside a walked tree, and named asks for the
// file's path in the result (errors always name it). Extents are counted
// as btrfs filesystem du counts them: whole, unclipped allocations,
// skipping inline, unknown and delalloc ones (MapSync leaves few of those).
func measureFile(f fileRef, openFlags int, mnt mountID, named bool) fileMeasure {
	// O_NONBLOCK: if a FIFO took the file's place since readdir,
	// opening it must not hang.
	fd, err := openatRetry(f.dir.fd, f.name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|openFlags)
	if err == unix.ELOOP && openFlags&unix.O_NOFOLLOW != 0 {
		return fileMeasure{skip: true} // replaced by a symbolic link since readdir
	}
	if err != nil {
		return fileMeasure{err: pathErr("cannot open", f.path(), err)}
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := statxRetry(fd, "", unix.AT_EMPTY_PATH, &st); err != nil {
		return fileMeasure{err: pathErr("cannot access", f.path(), err)}
	}
	// A file bind-mounted over a name in the tree is on another mount.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || !mountOf(&st).same(mnt) {
		return fileMeasure{skip: true}
	}
	m := fileMeasure{
		id:    devIno{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino},
		links: uint64(st.Nlink),
	}
	if named {
		m.path = f.path()
	}
	err = extent.Visit(fd, extent.MapSync, func(e extent.Extent) {
		if !e.HasBlocks() || e.Length == 0 {
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
		return fileMeasure{err: pathErr("cannot read extents of", f.path(), err)}
	}
	return m
}
