// Package errwriter keeps the first error of a stream of writes, so that a
// command can go on with its work when its output cannot be written (a
// full disk, a closed descriptor) and say so once at the end, as cp and du
// do: "cp: write error: No space left on device", exit status 1.
package errwriter

import "io"

// Writer passes writes to an underlying writer until one fails; it then
// keeps that error and drops every later write. It is not safe for
// concurrent use: the commands write their output from one goroutine at a
// time.
type Writer struct {
	w   io.Writer
	err error
	// OnError, if not nil, is called once, with the first error, from the
	// Write that met it.
	OnError func(error)
}

// New returns a Writer writing to w.
func New(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes b unless an earlier write failed.
func (e *Writer) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = err
		if e.OnError != nil {
			e.OnError(err)
		}
	}
	return n, err
}

// Err returns the first write error, or nil.
func (e *Writer) Err() error { return e.err }
