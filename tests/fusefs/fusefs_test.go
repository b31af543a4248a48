package fusefs

// Each knob checked where a copier meets it: at the system call, on a real
// mount.

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// mountDirs mounts a passthrough of a fresh directory with opts, makes the
// directories dirs in it, and returns the backing directory and the mount.
func mountDirs(t *testing.T, opts Options, dirs ...string) (backing, mnt string) {
	t.Helper()
	backing = t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(backing, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return backing, Mount(t, backing, opts)
}

// create opens a new file at p for writing.
func create(t *testing.T, p string) int {
	t.Helper()
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatalf("creating %s: %v", p, err)
	}
	return fd
}

// writeAll writes b to fd, looping over short writes as a correct program
// does, and returns how many write calls it took.
func writeAll(t *testing.T, fd int, b []byte) int {
	t.Helper()
	calls := 0
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		calls++
		b = b[n:]
	}
	return calls
}

func closeFd(t *testing.T, fd int) {
	t.Helper()
	if err := unix.Close(fd); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// wantFile fails t unless the backing file p holds data.
func wantFile(t *testing.T, p string, data []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%s holds %d bytes, want %d (equal: %v)", p, len(got), len(data), bytes.Equal(got, data[:min(len(got), len(data))]))
	}
}

// data is the first n bytes of the data these tests write: data(k) is a
// prefix of data(n) for k < n.
func data(n int) []byte { return testtree.Bytes(1, n) }

func TestFusePassthroughShowsEveryChangeInTheBackingDirectory(t *testing.T) {
	backing, mnt := mountDirs(t, Options{})
	if err := os.WriteFile(filepath.Join(mnt, "f"), data(300<<10), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "d"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../f", filepath.Join(mnt, "d", "s")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(mnt, "f"), filepath.Join(mnt, "d", "h")); err != nil {
		t.Fatal(err)
	}
	wantFile(t, filepath.Join(backing, "d", "s"), data(300<<10))
	st1, err1 := os.Stat(filepath.Join(backing, "f"))
	st2, err2 := os.Stat(filepath.Join(backing, "d", "h"))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(st1, st2) || st1.Mode().Perm() != 0o640 {
		t.Errorf("f and d/h: same inode %v, mode %v; want the same inode, mode 0640", os.SameFile(st1, st2), st1.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(backing, "from-backing"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "from-backing")); err != nil || string(b) != "x" {
		t.Errorf("a file made in the backing directory reads %q, %v through the mount", b, err)
	}
}

func TestFuseTmpfileTakesMetadataAndIsLinkedIntoPlace(t *testing.T) {
	backing, mnt := mountDirs(t, Options{})
	fd, err := unix.Open(mnt, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatalf("open(O_TMPFILE) on a full passthrough: %v", err)
	}
	defer unix.Close(fd)
	writeAll(t, fd, data(5000))
	// What a copier does to a file before it names it.
	mtime := unix.NsecToTimespec(1500000000_123456789)
	err = errors.Join(
		unix.Fchown(fd, 1000, 1000),
		unix.Fchmod(fd, 0o751),
		unix.Fsetxattr(fd, "user.k", []byte("v"), 0),
		unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), []unix.Timespec{mtime, mtime}, 0),
	)
	if err != nil {
		t.Fatalf("setting the metadata of an O_TMPFILE file: %v", err)
	}
	if sz, err := unix.Flistxattr(fd, make([]byte, 100)); err != nil || sz != len("user.k\x00") {
		t.Errorf("listing the xattrs of an O_TMPFILE file: %d, %v", sz, err)
	}
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, filepath.Join(mnt, "named"), unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		t.Fatalf("linking the O_TMPFILE file to a name: %v", err)
	}
	closeFd(t, fd)
	p := filepath.Join(backing, "named")
	wantFile(t, p, data(5000))
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	v := make([]byte, 10)
	n, err := unix.Getxattr(p, "user.k", v)
	if st.Uid != 1000 || st.Gid != 1000 || st.Mode&0o7777 != 0o751 || st.Mtim != mtime || err != nil || string(v[:n]) != "v" {
		t.Errorf("the linked file: owner %d:%d mode %o mtime %v xattr %q (%v); want 1000:1000 751 %v \"v\"",
			st.Uid, st.Gid, st.Mode&0o7777, st.Mtim, v[:max(n, 0)], err, mtime)
	}
}

func TestFuseNoTmpfileRefusesOTmpfile(t *testing.T) {
	_, mnt := mountDirs(t, Options{NoTmpfile: true})
	for range 2 { // the kernel remembers the refusal; the answer must not change
		fd, err := unix.Open(mnt, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err == nil {
			unix.Close(fd)
			t.Fatal("open(O_TMPFILE) succeeded under NoTmpfile")
		}
		if !errors.Is(err, unix.EOPNOTSUPP) {
			t.Fatalf("open(O_TMPFILE) under NoTmpfile: %v, want EOPNOTSUPP", err)
		}
	}
}

func TestFuseRenameNoreplaceWorksOnAFullPassthrough(t *testing.T) {
	backing, mnt := mountDirs(t, Options{})
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(mnt, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(mnt, "a"), unix.AT_FDCWD, filepath.Join(mnt, "b"), unix.RENAME_NOREPLACE); !errors.Is(err, unix.EEXIST) {
		t.Errorf("RENAME_NOREPLACE onto an existing name: %v, want EEXIST", err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(mnt, "a"), unix.AT_FDCWD, filepath.Join(mnt, "c"), unix.RENAME_NOREPLACE); err != nil {
		t.Errorf("RENAME_NOREPLACE to a new name: %v", err)
	}
	wantFile(t, filepath.Join(backing, "c"), []byte("a"))
}

func TestFuseNoRenameFlagsFailsRenameat2WithEINVAL(t *testing.T) {
	backing, mnt := mountDirs(t, Options{NoRenameFlags: true})
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(mnt, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := filepath.Join(mnt, "a"), filepath.Join(mnt, "b"), filepath.Join(mnt, "c")
	for _, r := range []struct {
		to    string
		flags uint
	}{{c, unix.RENAME_NOREPLACE}, {c, unix.RENAME_NOREPLACE}, {b, unix.RENAME_EXCHANGE}} {
		if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, r.to, r.flags); !errors.Is(err, unix.EINVAL) {
			t.Errorf("renameat2(a, %s, %#x) under NoRenameFlags: %v, want EINVAL", filepath.Base(r.to), r.flags, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(backing, "c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused rename made c: %v", err)
	}
	if err := os.Rename(a, b); err != nil {
		t.Fatalf("a plain rename under NoRenameFlags: %v", err)
	}
	wantFile(t, filepath.Join(backing, "b"), []byte("a"))
}

func TestFuseNoLinkFailsLinkWithEPERM(t *testing.T) {
	_, mnt := mountDirs(t, Options{NoLink: true})
	if err := os.WriteFile(filepath.Join(mnt, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Link(filepath.Join(mnt, "a"), filepath.Join(mnt, "b")); !errors.Is(err, unix.EPERM) {
		t.Errorf("link under NoLink: %v, want EPERM", err)
	}
}

func TestFuseFailWriteFailsWritesPastTheLimitInSelectedFilesOnly(t *testing.T) {
	const limit = 64 << 10
	backing, mnt := mountDirs(t, Options{FailWrite: "bad/*", FailWriteAfter: limit}, "bad", "good")

	fd := create(t, filepath.Join(mnt, "bad", "f"))
	writeAll(t, fd, data(limit))
	if n, err := unix.Write(fd, data(1)); !errors.Is(err, unix.EIO) {
		t.Errorf("a write past %d bytes of bad/f: %d, %v; want EIO", limit, n, err)
	}
	closeFd(t, fd)
	wantFile(t, filepath.Join(backing, "bad", "f"), data(limit))

	// An existing file opened again, and an O_TMPFILE file in bad/.
	fd, err := unix.Open(filepath.Join(mnt, "bad", "f"), unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, data(1)); !errors.Is(err, unix.EIO) {
		t.Errorf("appending to bad/f reopened: %v, want EIO", err)
	}
	closeFd(t, fd)
	fd, err = unix.Open(filepath.Join(mnt, "bad"), unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, data(limit+1)); !errors.Is(err, unix.EIO) {
		t.Errorf("writing %d bytes to an O_TMPFILE file in bad/: %v, want EIO", limit+1, err)
	}
	closeFd(t, fd)

	fd = create(t, filepath.Join(mnt, "good", "f"))
	writeAll(t, fd, data(4*limit))
	closeFd(t, fd)
	wantFile(t, filepath.Join(backing, "good", "f"), data(4*limit))
}

func TestFuseFailFlushFailsCloseAfterTheDataIsWritten(t *testing.T) {
	backing, mnt := mountDirs(t, Options{FailFlush: "bad/*"}, "bad", "good")
	fd := create(t, filepath.Join(mnt, "bad", "f"))
	writeAll(t, fd, data(10000))
	if err := unix.Close(fd); !errors.Is(err, unix.EIO) {
		t.Errorf("close of bad/f under FailFlush: %v, want EIO", err)
	}
	wantFile(t, filepath.Join(backing, "bad", "f"), data(10000))
	fd = create(t, filepath.Join(mnt, "good", "f"))
	writeAll(t, fd, data(10000))
	closeFd(t, fd)
}

func TestFuseShortWritesReturnLessThanAskedAndLoseNothing(t *testing.T) {
	backing, mnt := mountDirs(t, Options{ShortWrites: true})
	fd := create(t, filepath.Join(mnt, "f"))
	n, err := unix.Write(fd, data(8192))
	if err != nil || n <= 0 || n >= 8192 {
		t.Errorf("write of 8192 bytes under ShortWrites: %d, %v; want a short count", n, err)
	}
	closeFd(t, fd)
	wantFile(t, filepath.Join(backing, "f"), data(n))

	fd = create(t, filepath.Join(mnt, "g"))
	if calls := writeAll(t, fd, data(1<<20)); calls < 2 {
		t.Errorf("1 MiB written in %d calls under ShortWrites", calls)
	}
	closeFd(t, fd)
	wantFile(t, filepath.Join(backing, "g"), data(1<<20))
}

func TestFuseMountIsUnmountedWhenTheTestEnds(t *testing.T) {
	var mnt string
	t.Run("mounted", func(t *testing.T) {
		_, mnt = mountDirs(t, Options{})
		if !mounted(t, mnt) {
			t.Fatalf("%s is not in /proc/self/mountinfo", mnt)
		}
	})
	if mnt == "" {
		t.Fatal("the subtest mounted nothing")
	}
	if mounted(t, mnt) {
		t.Errorf("%s is still mounted after its test ended", mnt)
	}
	if _, err := os.Lstat(mnt); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the mount point %s is left: %v", mnt, err)
	}
}

// mounted reports whether something is mounted at dir.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return false
}
