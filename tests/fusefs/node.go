//go:build linux

package fusefs

import (
	"context"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a file or directory of the mount: go-fuse's loopback node, with
// the operations that Options take away or make fail.
type node struct {
	*fs.LoopbackNode
	opts *Options
	// tmp is the open backing file of an O_TMPFILE inode until it has a
	// name (tmpfile.go): the loopback works by path, and it has none.
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
	if t, ok := target.(*node); ok && t.tmp.Load() != nil {
		return n.linkTmpfile(ctx, t, name, out)
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}
