//go:build linux

package fusefs

import (
	"context"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// An O_TMPFILE inode has no path until it is linked, and go-fuse's
// loopback does everything but reads and writes by path. A program sets
// such a file's mode, owner, times and xattrs through its descriptor
// (fchown, fsetxattr) before linking it, but FUSE sends those requests
// without the file handle. So until it is linked, the node does them on
// its backing file's descriptor instead, as a kernel filesystem would.

// Tmpfile answers ENOSYS under NoTmpfile: the kernel then returns
// EOPNOTSUPP to open(O_TMPFILE) and asks no more.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if n.opts.NoTmpfile {
		return nil, nil, 0, syscall.ENOSYS
	}
	ch, fh, fuseFlags, errno := n.LoopbackNode.Tmpfile(ctx, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	if c, ok := ch.Operations().(*node); ok {
		if lf, ok := fh.(*fs.LoopbackFile); ok {
			c.tmp.Store(lf)
		}
	}
	return ch, wrapFile(fh, n.childPath(""), n.opts), fuseFlags, 0
}

// tmpFd is the backing descriptor of n if n is an O_TMPFILE inode not
// yet linked. The kernel sends nothing for such an inode after its last
// close, so the descriptor is open whenever it is asked for.
func (n *node) tmpFd() (int, bool) {
	if lf := n.tmp.Load(); lf != nil {
		return lf.PassthroughFd()
	}
	return -1, false
}

// linkTmpfile gives the O_TMPFILE inode t the name name in n, through
// its backing descriptor (linkat(2) of /proc/self/fd/N, as a program
// names such a file).
func (n *node) linkTmpfile(ctx context.Context, t *node, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	fd, _ := t.tmpFd()
	p := filepath.Join(n.RootData.Path, n.Path(nil), name)
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return nil, fs.ToErrno(err)
	}
	out.Attr.FromStat(&st)
	t.tmp.Store(nil) // it has a path now
	// The bridge knows the inode by its StableAttr, so NewInode returns
	// it rather than the new node given here.
	return n.NewInode(ctx, &fs.LoopbackNode{RootData: n.RootData}, t.StableAttr()), 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if lf := n.tmp.Load(); f == nil && lf != nil {
		f = lf
	}
	return n.LoopbackNode.Setattr(ctx, f, in, out)
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if fd, ok := n.tmpFd(); ok {
		sz, err := unix.Fgetxattr(fd, attr, dest)
		return uint32(max(sz, 0)), fs.ToErrno(err)
	}
	return n.LoopbackNode.Getxattr(ctx, attr, dest)
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	if fd, ok := n.tmpFd(); ok {
		sz, err := unix.Flistxattr(fd, dest)
		return uint32(max(sz, 0)), fs.ToErrno(err)
	}
	return n.LoopbackNode.Listxattr(ctx, dest)
}

func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if fd, ok := n.tmpFd(); ok {
		return fs.ToErrno(unix.Fsetxattr(fd, attr, data, int(flags)))
	}
	return n.LoopbackNode.Setxattr(ctx, attr, data, flags)
}

func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if fd, ok := n.tmpFd(); ok {
		return fs.ToErrno(unix.Fremovexattr(fd, attr))
	}
	return n.LoopbackNode.Removexattr(ctx, attr)
}
