package tree

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

func inoOf(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// A destination with another hard link is rewritten in place, as cp does:
// both names see the new content.
func TestReplaceInPlaceWhenLinked(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 200 << 10})
	to, other := filepath.Join(dst, "a"), filepath.Join(dst, "other")
	writeFile(t, to, []byte("old\n"), 0o640)
	if err := os.Link(to, other); err != nil {
		t.Fatal(err)
	}
	ino := inoOf(t, to)
	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	if st := runCopies(t, c, to, filepath.Join(src, "a")); st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	checkFile(t, to, data["a"])
	checkFile(t, other, data["a"])
	if got := inoOf(t, to); got != ino {
		t.Errorf("inode changed %d -> %d: the file was replaced, not rewritten", ino, got)
	}
	if fi, _ := os.Stat(to); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old file's 0640", fi.Mode().Perm())
	}
	checkNoLeftovers(t, dst)
}

// A file alone under its name is replaced by a complete copy renamed over
// it: a new inode, with the old one's mode.
func TestReplaceByRenameWhenAlone(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 200 << 10})
	to := filepath.Join(dst, "a")
	writeFile(t, to, []byte("old\n"), 0o640)
	ino := inoOf(t, to)
	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	if st := runCopies(t, c, to, filepath.Join(src, "a")); st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	checkFile(t, to, data["a"])
	if got := inoOf(t, to); got == ino {
		t.Errorf("same inode %d: expected a replacement renamed into place", ino)
	}
	if fi, _ := os.Stat(to); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old file's 0640", fi.Mode().Perm())
	}
}

// An in-place rewrite that fails leaves no truncated file under the name.
func TestReplaceInPlaceFailureRemovesName(t *testing.T) {
	src, dst, _ := srcDstTree(t, map[string]int{"a": 200 << 10})
	to, other := filepath.Join(dst, "a"), filepath.Join(dst, "other")
	writeFile(t, to, []byte("old\n"), 0o644)
	if err := os.Link(to, other); err != nil {
		t.Fatal(err)
	}
	c, _ := testCopier(t, Options{Jobs: 1}, &spy{clone: cloneErr(unix.EIO)})
	if st := runCopies(t, c, to, filepath.Join(src, "a")); st.Errors != 1 {
		t.Fatalf("Errors = %d, want 1", st.Errors)
	}
	if _, err := os.Lstat(to); !os.IsNotExist(err) {
		t.Errorf("%s still exists after a failed in-place rewrite (err %v)", to, err)
	}
}

// An existing FIFO at the destination is written into and stays a FIFO.
func TestWriteIntoFIFODestination(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 300 << 10})
	to := filepath.Join(dst, "fifo")
	if err := unix.Mkfifo(to, 0o644); err != nil {
		t.Fatal(err)
	}
	ino := inoOf(t, to)
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(to)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	if st := runCopies(t, c, to, filepath.Join(src, "a")); st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	if b := <-got; !bytes.Equal(b, data["a"]) {
		t.Errorf("the FIFO's reader got %d bytes, want %d", len(b), len(data["a"]))
	}
	var st unix.Stat_t
	if err := unix.Lstat(to, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Ino != ino {
		t.Errorf("destination is no longer the same FIFO: mode %o ino %d (was %d), err %v", st.Mode, st.Ino, ino, err)
	}
}

// A FIFO named as a source without -R is read to its end into a file.
func TestFIFOSourceIsRead(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "fifo"), filepath.Join(dir, "copy")
	if err := unix.Mkfifo(from, 0o600); err != nil {
		t.Fatal(err)
	}
	want := testtree.Bytes(9, 3<<20+17)
	go func() {
		f, err := os.OpenFile(from, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(want)
		f.Close()
	}()
	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	st := runCopies(t, c, to, from)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	checkFile(t, to, want)
	if st.Bytes != int64(len(want)) || st.CopiedBytes != int64(len(want)) {
		t.Errorf("report: %d bytes, %d copied; want %d", st.Bytes, st.CopiedBytes, len(want))
	}
	if fi, err := os.Lstat(to); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("copy is not a regular file: %v %v", fi, err)
	}
}

// /proc files say size 0; their content is read to its end.
func TestProcFileReadToEnd(t *testing.T) {
	for _, from := range []string{"/proc/version", "/proc/cpuinfo", "/sys/kernel/mm/transparent_hugepage/enabled"} {
		want, err := os.ReadFile(from)
		if err != nil || len(want) == 0 {
			t.Logf("%s: not readable here (%v), skipped", from, err)
			continue
		}
		to := filepath.Join(t.TempDir(), "copy")
		c, _ := testCopier(t, Options{Jobs: 1}, nil)
		if st := runCopies(t, c, to, from); st.Errors != 0 {
			t.Fatalf("%s: errors: %v", from, st.Failures)
		}
		checkFile(t, to, want)
	}
}

// isStream tells a file whose size is real from one that must be read to
// its end.
func TestIsStream(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), []byte("data"), 0o644)
	writeFile(t, filepath.Join(dir, "empty"), nil, 0o644)
	for _, tc := range []struct {
		path string
		want bool
	}{
		{filepath.Join(dir, "f"), false},
		{filepath.Join(dir, "empty"), true},
		{"/proc/version", true},
		{"/dev/null", true},
	} {
		f, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		unix.Fstat(int(f.Fd()), &st)
		if got := isStream(int(f.Fd()), &st); got != tc.want {
			t.Errorf("isStream(%s) = %v, want %v", tc.path, got, tc.want)
		}
		f.Close()
	}
}

// permString spells modes as ls and cp's -i question do.
func TestPermString(t *testing.T) {
	for mode, want := range map[uint32]string{
		0o000: "---------", 0o644: "rw-r--r--", 0o4755: "rwsr-xr-x",
		0o2644: "rw-r-Sr--", 0o1777: "rwxrwxrwt", 0o1666: "rw-rw-rwT",
	} {
		if got := permString(mode); got != want {
			t.Errorf("permString(%04o) = %q, want %q", mode, got, want)
		}
	}
}
