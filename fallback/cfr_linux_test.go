package fallback

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyRangeOffsets(t *testing.T) {
	dir := t.TempDir()
	const size = 3<<20 + 77
	want := makeFile(t, dir, "src", size, seg{0, size})
	src := openRead(t, filepath.Join(dir, "src"))

	cases := []struct {
		name   string
		off, n int64
	}{
		{"Whole", 0, size},
		{"UnalignedMiddle", 3*4096 + 7, 1<<20 + 13},
		{"Tail", size - 100, 100},
		{"OneByte", 12345, 1},
		{"Zero", 100, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := createRW(t, filepath.Join(dir, "dst-"+tc.name))
			got, err := CopyRange(dst, src, tc.off, tc.n)
			if err != nil {
				t.Fatalf("CopyRange(off %d, n %d): %v", tc.off, tc.n, err)
			}
			if got != tc.n {
				t.Fatalf("CopyRange copied %d bytes, want %d", got, tc.n)
			}
			exp := make([]byte, tc.off+tc.n)
			if tc.n == 0 {
				exp = nil // nothing written, so the file stays empty
			} else {
				copy(exp[tc.off:], want[tc.off:tc.off+tc.n])
			}
			checkContent(t, dst, exp)
		})
	}
}

// Past the end of the source, copy_file_range returns short counts and
// then 0: CopyRange loops over the short count and stops at EOF.
func TestCopyRangeShortSource(t *testing.T) {
	dir := t.TempDir()
	want := makeFile(t, dir, "src", 10000, seg{0, 10000})
	src := openRead(t, filepath.Join(dir, "src"))
	dst := createRW(t, filepath.Join(dir, "dst"))
	n, err := CopyRange(dst, src, 0, 1<<20)
	if err != nil || n != 10000 {
		t.Fatalf("CopyRange of 1 MiB from a 10000-byte file = %d, %v; want 10000, nil", n, err)
	}
	checkContent(t, dst, want)

	// Starting exactly at EOF, the first call returns 0. CopyRange cannot
	// tell this from "silently unsupported"; it must at least write nothing.
	dst2 := createRW(t, filepath.Join(dir, "dst2"))
	n, err = CopyRange(dst2, src, 10000, 4096)
	if n != 0 {
		t.Errorf("CopyRange at EOF copied %d bytes", n)
	}
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CopyRange at EOF: %v; want nil or ErrUnsupported", err)
	}
	checkContent(t, dst2, nil)
}

func TestCopyRangeUnsupportedSources(t *testing.T) {
	dir := t.TempDir()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	if _, err := pw.Write([]byte("data in the pipe")); err != nil {
		t.Fatal(err)
	}

	srcs := map[string]*os.File{"Pipe": pr}
	if z, err := os.Open("/dev/zero"); err == nil {
		t.Cleanup(func() { z.Close() })
		srcs["DevZero"] = z
	}
	if p, err := os.Open("/proc/self/status"); err == nil {
		// procfs answers 0 (older kernels) or an errno (newer ones).
		t.Cleanup(func() { p.Close() })
		srcs["Procfs"] = p
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			dst := createRW(t, filepath.Join(dir, "dst-"+name))
			n, err := CopyRange(dst, src, 0, 4096)
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("CopyRange from %s: %v; want an error wrapping errors.ErrUnsupported", name, err)
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("error does not match fallback.ErrUnsupported: %v", err)
			}
			if n != 0 {
				t.Errorf("CopyRange from %s reported %d bytes written", name, n)
			}
			checkContent(t, dst, nil)
		})
	}
}

// A destination that is not open for writing fails with EBADF: a real
// error, not "unsupported", so callers do not silently fall back.
func TestCopyRangeRealError(t *testing.T) {
	dir := t.TempDir()
	makeFile(t, dir, "src", 8192, seg{0, 8192})
	makeFile(t, dir, "dst", 0)
	src := openRead(t, filepath.Join(dir, "src"))
	dst := openRead(t, filepath.Join(dir, "dst"))
	n, err := CopyRange(dst, src, 0, 8192)
	if err == nil {
		t.Fatal("CopyRange into a read-only descriptor succeeded")
	}
	if errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("EBADF reported as unsupported: %v", err)
	}
	if !errors.Is(err, unix.EBADF) {
		t.Errorf("error %v does not carry EBADF", err)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != dst.Name() {
		t.Errorf("error %q does not name the destination", err)
	}
	if n != 0 {
		t.Errorf("n = %d", n)
	}
}

func TestCfrUnsupported(t *testing.T) {
	for _, tc := range []struct {
		errno unix.Errno
		want  bool
	}{
		{unix.ENOSYS, true}, {unix.EXDEV, true}, {unix.EINVAL, true},
		{unix.EOPNOTSUPP, true}, {unix.EPERM, true},
		{unix.EIO, false}, {unix.ENOSPC, false}, {unix.EDQUOT, false},
		{unix.EFBIG, false}, {unix.EBADF, false}, {unix.EISDIR, false},
	} {
		if got := cfrUnsupported(tc.errno); got != tc.want {
			t.Errorf("cfrUnsupported(%v) = %v, want %v", tc.errno, got, tc.want)
		}
	}
}
