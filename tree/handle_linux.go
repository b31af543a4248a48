package tree

import (
	"os"

	"golang.org/x/sys/unix"
)

// handle is an open descriptor and the name messages give it. It becomes
// an *os.File only when a byte copy or a stream needs one: os.NewFile
// asks the kernel for the descriptor's flags (an fcntl), and a clone,
// which needs only the number, would pay that twice per file.
type handle struct {
	fd    int
	name  string
	file  *os.File // once asked for; then it owns fd
	quick bool     // closing writes nothing back (see closeQuick)
}

func newHandle(fd int, name string) *handle { return &handle{fd: fd, name: name} }

// newReader is newHandle for a descriptor opened for reading, whose close
// writes nothing back.
func newReader(fd int, name string) *handle { return &handle{fd: fd, name: name, quick: true} }

// Fd and Name make a handle a reflink.File and an extent.File.
func (h *handle) Fd() uintptr  { return uintptr(h.fd) }
func (h *handle) Name() string { return h.name }

// File is the handle as an *os.File, made on first use.
func (h *handle) File() *os.File {
	if h.file == nil {
		h.file = os.NewFile(uintptr(h.fd), h.name)
	}
	return h.file
}

// Close closes the descriptor once. Its error is close(2)'s: where data
// is written back at close (NFS, FUSE), the failure shows up here.
func (h *handle) Close() error {
	switch {
	case h.fd < 0:
		return os.ErrClosed
	case h.file != nil:
		h.fd = -1
		return h.file.Close()
	case h.quick:
		closeQuick(h.fd)
		h.fd = -1
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: h.name, Err: err}
	}
	return nil
}
