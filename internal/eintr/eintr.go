//go:build linux

// Package eintr retries system calls that a signal interrupted.
//
// Go installs its signal handlers with SA_RESTART, yet some calls fail
// with EINTR all the same: calls on FUSE and network filesystems whose
// request was interrupted, open of a FIFO, ioctls, and the calls signal(7)
// lists as never restarted. Go's os package retries every call it makes;
// code calling golang.org/x/sys/unix directly must do it itself, and does
// it here, in one place.
//
// close(2) must never be retried: on Linux its descriptor is gone even
// when it reports EINTR, and may already belong to another file.
package eintr

import "golang.org/x/sys/unix"

// Ignoring calls fn until it returns anything but EINTR, and returns that.
// fn returns the call's raw error (a unix.Errno), not a wrapped one.
func Ignoring(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// Ignoring2 is Ignoring for a call that also returns a value.
func Ignoring2[T any](fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if err != unix.EINTR {
			return v, err
		}
	}
}
