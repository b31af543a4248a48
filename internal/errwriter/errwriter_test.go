package errwriter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

// limited accepts n bytes, then fails every write with err.
type limited struct {
	buf bytes.Buffer
	n   int
	err error
}

func (l *limited) Write(b []byte) (int, error) {
	if l.buf.Len()+len(b) > l.n {
		return 0, l.err
	}
	return l.buf.Write(b)
}

func TestWriterKeepsFirstErrorAndDropsLaterWrites(t *testing.T) {
	under := &limited{n: 6, err: syscall.ENOSPC}
	w := New(under)
	var calls []error
	w.OnError = func(err error) { calls = append(calls, err) }
	fmt.Fprint(w, "hello\n")
	if w.Err() != nil {
		t.Fatalf("error after a write that fit: %v", w.Err())
	}
	fmt.Fprint(w, "world\n")
	under.n = 1 << 20 // room again: later writes must still be dropped
	fmt.Fprint(w, "again\n")
	if !errors.Is(w.Err(), syscall.ENOSPC) {
		t.Errorf("Err() = %v, want ENOSPC", w.Err())
	}
	if len(calls) != 1 || !errors.Is(calls[0], syscall.ENOSPC) {
		t.Errorf("OnError called with %v, want once with ENOSPC", calls)
	}
	if got := under.buf.String(); got != "hello\n" {
		t.Errorf("written %q, want only the writes before the error", got)
	}
}

// shortWriter claims to write fewer bytes than asked, without an error.
type shortWriter struct{}

func (shortWriter) Write(b []byte) (int, error) { return len(b) / 2, nil }

func TestWriterShortWriteIsAnError(t *testing.T) {
	w := New(shortWriter{})
	if _, err := w.Write([]byte("abcd")); !errors.Is(err, io.ErrShortWrite) || !errors.Is(w.Err(), io.ErrShortWrite) {
		t.Errorf("short write: %v, Err() %v; want io.ErrShortWrite", err, w.Err())
	}
}

func TestWriterDevFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	w := New(f)
	fmt.Fprintln(w, "x")
	if !errors.Is(w.Err(), syscall.ENOSPC) {
		t.Errorf("writing to /dev/full: Err() = %v, want ENOSPC", w.Err())
	}
}
