//go:build linux

package tree

import (
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// pathErr is a failure in cp's words: "cannot stat 'x': No such file or
// directory".
func pathErr(op, path string, err error) error {
	return &cpmsg.PathError{Op: op, Path: path, Err: err}
}

// linkErr is a failure to make a link in cp's words, which name what it
// was to link to: "cannot create hard link 'b' to 'a': File exists". With
// no to, it is pathErr.
func linkErr(op, path, to string, err error) error {
	if to == "" {
		return pathErr(op, path, err)
	}
	return &cpmsg.PathError{Op: op, Path: path, After: " to " + cpmsg.Quote(to), Err: err}
}

// createVerb is cp's word for creating an entry of this type.
func createVerb(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "cannot create directory"
	case unix.S_IFLNK:
		return "cannot create symbolic link"
	case unix.S_IFREG:
		return "cannot create regular file"
	}
	return "cannot create special file"
}
