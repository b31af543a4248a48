//go:build linux

package testtree

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Kind is what a Node makes.
type Kind byte

const (
	Dir      Kind = 'd'
	File     Kind = 'f'
	Symlink  Kind = 'l'
	Hardlink Kind = 'h' // another name for an earlier node
	FIFO     Kind = 'p'
	Socket   Kind = 's'
	CharDev  Kind = 'c'
	BlockDev Kind = 'b'
)

// Node is one entry of a tree. Build makes nodes in order, so a directory
// comes before its contents and a hard link after the node it links.
type Node struct {
	Path string // relative to the root, "/"-separated, raw bytes; "." is the root
	Kind Kind
	// Mode is the permission bits, set after the owner (chown clears the
	// set-id bits); ignored for symbolic and hard links.
	Mode   uint32
	Size   int64  // a file's size; what its Segs do not cover is holes
	Segs   []Seg  // a file's data
	Target string // a symbolic link's target; a hard link's: the Path of the node it links
	Rdev   uint64 // a device's number
	Owner  *Owner
	Mtime  *unix.Timespec
	// Xattrs are set after the mode: an access ACL rewrites the group bits.
	Xattrs []Xattr
}

// Owner is a node's user and group.
type Owner struct{ UID, GID int }

// Xattr is an extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// D is a directory.
func D(path string, mode uint32) Node { return Node{Path: path, Kind: Dir, Mode: mode} }

// F is a file holding data.
func F(path string, mode uint32, data []byte) Node {
	return Node{Path: path, Kind: File, Mode: mode, Size: int64(len(data)), Segs: []Seg{Data(0, data)}}
}

// S is a file (mode 0644) of size bytes with data in segs and holes
// elsewhere.
func S(path string, size int64, segs ...Seg) Node {
	return Node{Path: path, Kind: File, Mode: 0o644, Size: size, Segs: segs}
}

// L is a symbolic link to target.
func L(path, target string) Node { return Node{Path: path, Kind: Symlink, Target: target} }

// H is a hard link to the earlier node at target.
func H(path, target string) Node { return Node{Path: path, Kind: Hardlink, Target: target} }

// N is a FIFO, a socket or a device node (kind FIFO, Socket, CharDev or
// BlockDev; rdev is a device's number, unix.Mkdev(major, minor)).
func N(path string, kind Kind, mode uint32, rdev uint64) Node {
	return Node{Path: path, Kind: kind, Mode: mode, Rdev: rdev}
}

// Own returns n owned by uid and gid.
func (n Node) Own(uid, gid int) Node { n.Owner = &Owner{uid, gid}; return n }

// At returns n with its modification time at sec seconds and nsec
// nanoseconds after the epoch.
func (n Node) At(sec, nsec int64) Node { n.Mtime = &unix.Timespec{Sec: sec, Nsec: nsec}; return n }

// Xattr returns n with more extended attributes, given as name, value
// pairs.
func (n Node) Xattr(kv ...string) Node {
	n.Xattrs = slices.Clone(n.Xattrs)
	for i := 0; i+1 < len(kv); i += 2 {
		n.Xattrs = append(n.Xattrs, Xattr{kv[i], []byte(kv[i+1])})
	}
	return n
}

// ACL returns n with a POSIX access ACL and a default ACL, each in
// getfacl's short form ("u::rw-,u:1000:r--,g::r--,m::rw-,o::---", entries
// in the kernel's order: u::, u:ID, g::, g:ID, m::, o::), "" for none.
func (n Node) ACL(access, dflt string) Node {
	n.Xattrs = slices.Clone(n.Xattrs)
	if access != "" {
		n.Xattrs = append(n.Xattrs, Xattr{"system.posix_acl_access", aclXattr(access)})
	}
	if dflt != "" {
		n.Xattrs = append(n.Xattrs, Xattr{"system.posix_acl_default", aclXattr(dflt)})
	}
	return n
}

// Content returns the bytes of a file node, its holes as zeros.
func (n Node) Content() []byte { return Content(n.Size, n.Segs...) }

// Owned returns a copy of nodes in which every node without an owner,
// hard links aside (they share their target's), is owned by uid and gid.
func Owned(nodes []Node, uid, gid int) []Node {
	nodes = slices.Clone(nodes)
	for i, n := range nodes {
		if n.Owner == nil && n.Kind != Hardlink {
			nodes[i] = n.Own(uid, gid)
		}
	}
	return nodes
}

// aclXattr encodes an ACL in getfacl's short form as the value of a
// system.posix_acl_* extended attribute.
func aclXattr(text string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2) // POSIX_ACL_XATTR_VERSION
	for _, ent := range strings.Split(text, ",") {
		f := strings.Split(ent, ":")
		tag := map[string]uint16{"u": 0x01, "g": 0x04, "m": 0x10, "o": 0x20}[f[0]]
		id := uint32(0xffffffff) // ACL_UNDEFINED_ID
		if f[1] != "" {
			var n uint32
			fmt.Sscan(f[1], &n)
			tag, id = tag*2, n // ACL_USER 0x02, ACL_GROUP 0x08
		}
		var perm uint16
		for i, c := range "rwx" {
			if f[2][i] == byte(c) {
				perm |= 4 >> i
			}
		}
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return b
}
