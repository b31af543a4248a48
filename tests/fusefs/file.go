//go:build linux

package fusefs

import (
	"bytes"
	"context"
	"path"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// file is an open file of the mount: go-fuse's loopback file, with the
// faults that Options select for its path.
type file struct {
	*fs.LoopbackFile
	failWriteAfter int64 // writes past this size fail; -1: never
	failFlush      bool
	short          bool
}

// wrapFile gives fh, opened at p (relative to the mount root), the faults
// o selects for p.
func wrapFile(fh fs.FileHandle, p string, o *Options) fs.FileHandle {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok {
		return fh
	}
	f := &file{LoopbackFile: lf, failWriteAfter: -1, failFlush: matches(o.FailFlush, p), short: o.ShortWrites}
	if matches(o.FailWrite, p) {
		f.failWriteAfter = o.FailWriteAfter
	}
	return f
}

// matches reports whether p matches pattern; "" matches nothing. Mount
// has checked the pattern.
func matches(pattern, p string) bool {
	ok, _ := path.Match(pattern, p)
	return pattern != "" && ok
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.failWriteAfter >= 0 && off+int64(len(data)) > f.failWriteAfter {
		return 0, syscall.EIO
	}
	if f.short && len(data) > 1 {
		data = data[:len(data)/2]
	}
	return f.LoopbackFile.Write(ctx, data, off)
}

// Writev goes through Write, so its faults apply; the loopback's own
// would bypass them.
func (f *file) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	return f.Write(ctx, bytes.Join(data, nil), off)
}

// Flush is called on every close(2) of the file; its error is close's.
func (f *file) Flush(ctx context.Context) syscall.Errno {
	if errno := f.LoopbackFile.Flush(ctx); errno != 0 || !f.failFlush {
		return errno
	}
	return syscall.EIO
}
