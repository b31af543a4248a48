package tree

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// pseudoFS are the filesystems whose files report a size that is not
// their content's: /proc says 0, sysfs 4096, whatever a read returns.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC:    true,
	unix.SYSFS_MAGIC:         true,
	unix.DEBUGFS_MAGIC:       true,
	unix.TRACEFS_MAGIC:       true,
	unix.SECURITYFS_MAGIC:    true,
	unix.CGROUP_SUPER_MAGIC:  true,
	unix.CGROUP2_SUPER_MAGIC: true,
	0x62656570:// configfs
	true,
	unix.EFIVARFS_MAGIC: true,
}

// isStream reports whether the open source fd (stat st) must be read to its
// end rather than trusted for its size, as cp reads it: anything not a
// regular file (a FIFO, a device, a pipe named as /dev/stdin), and the
// files of /proc and /sys. An empty regular file is read once too (a
// FUSE or network file may say 0 and hold data); that costs one read.
func isStream(fd int, st *unix.Stat_t) bool {
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG, st.Size == 0:
		return true
	case st.Blocks != 0:
		return false // real data on disk: the size is real
	}
	return onPseudoFS(fd)
}

// onPseudoFS reports whether fd is a file of /proc, /sys or the like.
func onPseudoFS(fd int) bool {
	var fs unix.Statfs_t
	return fstatfs(fd, &fs) == nil && pseudoFS[fsMagic(&fs)]
}

// writeStream reads in to its end into a new output (or the existing
// entry, for kind outInPlace), the way cp reads a FIFO, a device or a
// /proc file: no clone, no size trusted, no holes made. An empty source
// makes an empty file at once.
func (wk *worker) writeStream(at place, r *result, in *os.File, p pair, kind outKind, perm uint32) (*output, error) {
	src, dst := r.ev.Src, r.ev.Dst
	buf := wk.buffer()
	rd, regular, done := wk.cancellable(in)
	defer done()
	var out *output
	var n int
	var err error
	if !regular {
		// A FIFO, pipe or device: cp makes the file, then reads, and a
		// writer may wait to see the file before it closes (coreutils'
		// file-perm-race does). So it stands under its name while the
		// data comes, as cp's does, and is removed if the copy fails.
		if kind == outNew {
			kind = outDirect
		}
		if out, err = wk.openOutput(at, dst, kind, perm, p.dst); err != nil {
			return nil, err
		}
	} else {
		// A /proc file or an empty one: the first read says whether
		// there is data at all.
		n, err = rd.Read(buf)
		if err == io.EOF {
			err = nil
		}
		if err == nil {
			err = wk.ctx.Err()
		}
		if err != nil {
			return nil, pathErr("error reading", src, err)
		}
		if n == 0 && kind == outNew {
			kind = outEmpty
		}
		out, err = wk.openOutput(at, dst, kind, perm, p.dst)
		if err != nil || n == 0 {
			return out, err
		}
	}
	return wk.fillStream(out, in, rd, buf, n, r)
}

// fillStream is the rest of writeStream: it writes the n bytes already
// read into buf to out, then the rest of rd (in's reader) to its end.
func (wk *worker) fillStream(out *output, in *os.File, rd io.Reader, buf []byte, n int, r *result) (*output, error) {
	src, dst := r.ev.Src, r.ev.Dst
	if wk.opts.Reflink == ReflinkAlways {
		// cp --reflink=always tries the clone and fails where, as here,
		// there is nothing it can share.
		err := wk.ops.clone(out.h, in, 0)
		if err == nil {
			err = unix.EINVAL
		}
		out.discard()
		return nil, &cpmsg.PathError{Op: "failed to clone", Path: dst, After: " from " + cpmsg.Quote(src), Err: err}
	}
	if _, err := out.h.File().Write(buf[:n]); err != nil {
		out.discard()
		return nil, pathErr("error writing", dst, err)
	}
	total, pending := int64(n), int64(n)
	_, err := fallback.Stream(out.h.File(), rd, buf, func(w int64) {
		total += w
		if pending += w; pending >= wk.opts.ProgressBytes {
			wk.progress(r, pending)
			pending = 0
		}
	})
	if err == nil {
		err = wk.ctx.Err() // interrupted: what was read is not the whole stream
	}
	if err != nil {
		out.discard()
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "read" {
			return nil, pathErr("error reading", src, pe.Err)
		}
		return nil, pathErr("error writing", dst, err)
	}
	r.ev.Bytes, r.copied, r.ev.Method = total, total, MethodReadWrite
	return out, nil
}

// cancellable returns a reader of in that an interrupt stops, and whether
// in is a regular file (a /proc file), which never blocks and is its own
// reader. A FIFO, pipe or terminal may wait for its writer forever: it is
// reopened through /proc, which os.OpenFile registers with Go's poller,
// so a read deadline set when the copy is cancelled ends a blocked read.
// The returned func releases it.
func (wk *worker) cancellable(in *os.File) (rd io.Reader, regular bool, done func()) {
	var st unix.Stat_t
	if fstat(int(in.Fd()), &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFREG {
		return in, true, func() {}
	}
	// O_NONBLOCK: opening a FIFO for reading would wait for a writer,
	// and the one in has met may be gone already, its data still queued.
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(in.Fd())), os.O_RDONLY|unix.O_NONBLOCK, 0)
	runtime.KeepAlive(in) // named by its bare descriptor until the open is done
	if err != nil {
		return in, false, func() {}
	}
	stop := context.AfterFunc(wk.ctx, func() { f.SetReadDeadline(time.Now()) })
	return f, false, func() {
		stop()
		f.Close()
	}
}

// openFIFO opens the FIFO source of j for reading and waits, as cp's open
// does, for a writer to come, but so that an interrupt ends the wait: it
// opens without blocking, then polls until the FIFO has data or its
// writer has come and gone (POLLHUP is only reported once one has). The
// descriptor is then made blocking again, as openSource's would be.
func (wk *worker) openFIFO(j job, display string) (*handle, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if !j.follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openat(j.dir.srcFd, j.srcName, flags, 0)
	if err != nil {
		return nil, &cpmsg.PathError{Op: "cannot open", Path: display, After: " for reading", Err: err}
	}
	for {
		if err := wk.ctx.Err(); err != nil {
			unix.Close(fd)
			return nil, err
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 200)
		if err != nil && err != unix.EINTR {
			unix.Close(fd)
			return nil, &cpmsg.PathError{Op: "cannot open", Path: display, After: " for reading", Err: err}
		}
		if n > 0 {
			break
		}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &cpmsg.PathError{Op: "cannot open", Path: display, After: " for reading", Err: err}
	}
	return newReader(fd, display), nil
}
