package fusefs

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is a file or directory of the mount: go-fuse's loopback node, with
// the operations that Options take away or make fail.
type node struct {
	*fs.LoopbackNode
	opts *Options
	// tmp is the open backing file of an O_TMPFILE inode until it has a
	// name: the loopback links by path, and such an inode has none.
	tmp atomic.Pointer[fs.LoopbackFile]
}

// WrapChild makes every node the loopback creates below the root a node.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if lb, ok := ops.(*fs.LoopbackNode); ok {
		return &node{LoopbackNode: lb, opts: n.opts}
	}
	return ops
}

// childPath is the path of name in the directory n, relative to the mount
// root, as Options' patterns see it.
func (n *node) childPath(name string) string {
	if dir := n.Path(nil); dir != "" {
		return dir + "/" + name
	}
	return name
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ch, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return ch, wrapFile(fh, n.childPath(name), n.opts), fuseFlags, 0
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return wrapFile(fh, n.Path(nil), n.opts), fuseFlags, 0
}

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

// Rename answers ENOSYS to a rename with flags under NoRenameFlags: the
// kernel then returns EINVAL to renameat2, as NFS does.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags != 0 && n.opts.NoRenameFlags {
		return syscall.ENOSYS
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.opts.NoLink {
		return nil, syscall.EPERM
	}
	if t, ok := target.(*node); ok {
		if lf := t.tmp.Load(); lf != nil {
			return n.linkTmpfile(ctx, t, lf, name, out)
		}
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}

// linkTmpfile gives the O_TMPFILE inode t, open as lf, the name name in
// n, through the backing file's descriptor (linkat(2) of
// /proc/self/fd/N, which is how a program names such a file too).
func (n *node) linkTmpfile(ctx context.Context, t *node, lf *fs.LoopbackFile, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	fd, ok := lf.PassthroughFd()
	if !ok {
		return nil, syscall.EBADF
	}
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
