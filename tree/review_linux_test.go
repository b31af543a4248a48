package tree

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cowcp/cowcp/tree/internal/treetest"
	"golang.org/x/sys/unix"
)

// Tests from a code review: each one shows a problem found by reading the
// code, or guards a subtle behaviour the review checked.

// GNU cp 9.1 writes through a destination that is a chain of 40 symlinks
// (the kernel's own limit, MAXSYMLINKS): `cp src d0/l` with d0/l -> ../d1/l
// -> ... -> d40/l rewrites d40/l. existing() gives up one hop early with
// ELOOP, and on that error path the directories it opened to follow the
// chain (place.opened) are never closed: copyFile defers at.close() only
// after existing() succeeded.
func TestReviewDestSymlinkChainOf40(t *testing.T) {
	root := t.TempDir()
	for i := 0; i <= maxLinkHops; i++ {
		if err := os.Mkdir(filepath.Join(root, "d"+strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= maxLinkHops; i++ {
		link := filepath.Join(root, "d"+strconv.Itoa(i-1), "l")
		if err := os.Symlink("../d"+strconv.Itoa(i)+"/l", link); err != nil {
			t.Fatal(err)
		}
	}
	last := filepath.Join(root, "d"+strconv.Itoa(maxLinkHops), "l")
	ttWrite(t, last, []byte("old\n"), 0o644)
	src := filepath.Join(root, "src")
	ttWrite(t, src, []byte("new\n"), 0o644)
	if _, err := os.Stat(filepath.Join(root, "d0", "l")); err != nil {
		t.Fatalf("the kernel does not resolve a chain of %d links: %v", maxLinkHops, err)
	}

	c, _ := ttNew(t, Options{Jobs: 1}, nil)
	before := treetest.OpenFds(t)
	st := ttRun(t, c, filepath.Join(root, "d0", "l"), src)
	treetest.FdsLeft(t, before)
	if st.Errors != 0 {
		t.Errorf("copy through %d symlinks failed: %v (cp 9.1 writes through them)", maxLinkHops, st.Failures)
	}
	ttCheckFile(t, last, []byte("new\n"))
}

// cp --backup with a destination that is a symlink backs up the symlink
// itself (dst~ is the symlink) and makes dst a new regular file; the file
// the symlink pointed to is not touched. cowcp follows the symlink first
// (existing), so it renames the symlink's target to target~ and replaces
// the target: a file outside the destination name is moved and rewritten.
// Verified against GNU cp 9.1:
//
//	echo old >target; ln -s target dst; echo new >src; cp -b src dst
//	=> dst: regular file "new"; dst~ -> target; target: "old"; no target~
func TestReviewBackupOfSymlinkDestination(t *testing.T) {
	root := t.TempDir()
	src, dst, target := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "target")
	ttWrite(t, src, []byte("new\n"), 0o644)
	ttWrite(t, target, []byte("old\n"), 0o644)
	if err := os.Symlink("target", dst); err != nil {
		t.Fatal(err)
	}
	c, _ := ttNew(t, Options{Jobs: 1, Backup: BackupSimple}, nil)
	if st := ttRun(t, c, dst, src); st.Errors != 0 {
		t.Fatalf("copy failed: %v", st.Failures)
	}
	ttCheckFile(t, target, []byte("old\n"))
	if _, err := os.Lstat(target + "~"); err == nil {
		t.Errorf("%s~ was made: the symlink's target was backed up, not the symlink", target)
	}
	if fi, err := os.Lstat(dst); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a new regular file (%v, %v)", dst, fi, err)
	} else {
		ttCheckFile(t, dst, []byte("new\n"))
	}
	if l, err := os.Readlink(dst + "~"); err != nil || l != "target" {
		t.Errorf("backup %s~: readlink = %q, %v; want the old symlink -> target", dst, l, err)
	}
}

// Same with a dangling symlink: cp -b succeeds (the symlink becomes dst~);
// cowcp refuses with "not writing through dangling symlink".
func TestReviewBackupOfDanglingSymlinkDestination(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	ttWrite(t, src, []byte("new\n"), 0o644)
	if err := os.Symlink("nothere", dst); err != nil {
		t.Fatal(err)
	}
	c, _ := ttNew(t, Options{Jobs: 1, Backup: BackupSimple}, nil)
	if st := ttRun(t, c, dst, src); st.Errors != 0 {
		t.Fatalf("copy failed: %v (cp -b backs up the dangling symlink)", st.Failures)
	}
	ttCheckFile(t, dst, []byte("new\n"))
	if l, err := os.Readlink(dst + "~"); err != nil || l != "nothere" {
		t.Errorf("backup %s~: readlink = %q, %v; want the old symlink", dst, l, err)
	}
}

// copyFile keys the capability cache by the job directory's device
// (j.dir.dstDev), but when the destination is a symlink the file is written
// in the directory the symlink leads to (place.dir), possibly on another
// filesystem. The EXDEV from that one clone is then cached for the wrong
// pair, and every later file into the real destination filesystem is
// byte-copied without trying to clone.
func TestReviewCloneCacheKeyedByWrongDevice(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "cowcp-review-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	src, dst, data := ttTree(t, map[string]int{"x": 64 << 10, "y": 64 << 10})
	if ttDev(t, other) == ttDev(t, dst) {
		t.Skip("/dev/shm is on the same filesystem as the temporary directory")
	}
	ttWrite(t, filepath.Join(other, "x"), []byte("old"), 0o644)
	if err := os.Symlink(filepath.Join(other, "x"), filepath.Join(dst, "x")); err != nil {
		t.Fatal(err)
	}
	s := &spy{
		// Clones work within a filesystem and answer EXDEV across.
		clone: func(d, sf *os.File) error {
			var a, b unix.Stat_t
			if err := unix.Fstat(int(d.Fd()), &a); err != nil {
				return err
			}
			if err := unix.Fstat(int(sf.Fd()), &b); err != nil {
				return err
			}
			if a.Dev != b.Dev {
				return &os.PathError{Op: "clone from " + sf.Name(), Path: d.Name(), Err: unix.EXDEV}
			}
			return fakeClone(d, sf)
		},
		copyRange: realCopyRange,
	}
	c, _ := ttNew(t, Options{Jobs: 1}, s)
	c.Copy(filepath.Join(dst, "x"), filepath.Join(src, "x")) // written in /dev/shm
	c.Copy(filepath.Join(dst, "y"), filepath.Join(src, "y")) // a plain new file beside x
	st := c.Close()
	if st.Errors != 0 {
		t.Fatalf("copy failed: %v", st.Failures)
	}
	ttCheckFile(t, filepath.Join(other, "x"), data["x"])
	ttCheckFile(t, filepath.Join(dst, "y"), data["y"])
	if st.Methods.Ficlone != 1 {
		t.Errorf("%d files cloned, want 1: y (same filesystem as its source) was not even tried (%d FICLONE calls)",
			st.Methods.Ficlone, s.clones)
	}
	if c.env.caps.cloneFails(pair{src: ttDev(t, src), dst: ttDev(t, dst)}) {
		t.Error("an EXDEV from a file written on another filesystem was cached for the destination's own pair")
	}
}

// --dry-run --parents plans nothing: the walker skips makeParents under
// --dry-run, then openOperand cannot open DEST/a/b (it does not exist), so
// every operand whose parent directories are not there yet fails with "No
// such file or directory", though the real run copies it.
func TestReviewDryRunParents(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b", "dest"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ttWrite(t, filepath.Join(root, "a/b/f"), []byte("data"), 0o644)
	t.Chdir(root)
	for _, tc := range []struct {
		name, src string
		recursive bool
	}{{"file", "a/b/f", false}, {"dir", "a/b", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := ttNew(t, Options{Jobs: 2, DryRun: true, Parents: true, Recursive: tc.recursive}, nil)
			st := ttRun(t, c, "dest/"+tc.src, tc.src)
			if st.Errors != 0 || st.Files != 1 {
				t.Errorf("dry run of --parents %s: %d files, %d errors %v; want 1 file, no error",
					tc.src, st.Files, st.Errors, st.Failures)
			}
			if ents, _ := os.ReadDir("dest"); len(ents) != 0 {
				t.Errorf("--dry-run created %v in dest", ents)
			}
		})
	}
}

// Guard: no descriptor outlives Close, whatever the copy did: failures,
// --dry-run, --parents, hard links, -l, -s, replacing through symlinks,
// backups, an interrupt.
func TestReviewNoDescriptorLeaks(t *testing.T) {
	build := func(t *testing.T) (src, dst string) {
		root := t.TempDir()
		src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
		for _, d := range []string{"src/d1/d2", "src/e", "dst/d1", "other"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i, n := range []string{"a", "d1/b", "d1/d2/c", "e/f"} {
			ttWrite(t, filepath.Join(src, n), ttData(20<<10+i, uint64(i)), 0o644)
		}
		os.Link(filepath.Join(src, "a"), filepath.Join(src, "d1/d2/a2"))
		os.Symlink("a", filepath.Join(src, "sl"))
		unix.Mkfifo(filepath.Join(src, "fifo"), 0o644)
		ttWrite(t, filepath.Join(dst, "d1/b"), []byte("old"), 0o644)
		ttWrite(t, filepath.Join(root, "other/t"), []byte("old"), 0o644)
		os.Symlink("../../other/t", filepath.Join(dst, "d1/d2"))
		return src, dst
	}
	failing := &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: func(d, s *os.File, off, n int64) (int64, error) {
		return 0, &os.PathError{Op: "copy_file_range", Path: d.Name(), Err: unix.EIO}
	}}
	for _, tc := range []struct {
		name   string
		opts   Options
		spy    *spy
		cancel bool
	}{
		{"plain", Options{Recursive: true}, nil, false},
		{"archive", Options{Recursive: true, Preserve: Preserve{Mode: true, Timestamps: true, Links: true, Xattr: true}}, nil, false},
		{"errors", Options{Recursive: true, Preserve: Preserve{Links: true}}, failing, false},
		{"dry-run", Options{Recursive: true, DryRun: true, Preserve: Preserve{Links: true}}, nil, false},
		{"parents", Options{Recursive: true, Parents: true}, nil, false},
		{"link", Options{Recursive: true, HardLink: true, Force: true}, nil, false},
		{"backup", Options{Recursive: true, Backup: BackupNumbered}, nil, false},
		{"remove", Options{Recursive: true, Overwrite: OverwriteRemoveFirst}, nil, false},
		{"interrupted", Options{Recursive: true, Preserve: Preserve{Links: true}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := build(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc.opts.Jobs, tc.opts.MeasureFS = 3, true
			if tc.cancel {
				tc.opts.Observe = func(Event) { cancel() }
			}
			if tc.opts.Parents {
				t.Chdir(filepath.Dir(src)) // before counting: t.Chdir keeps a descriptor
			}
			before := treetest.OpenFds(t)
			c := New(ctx, tc.opts)
			if tc.spy != nil {
				tc.spy.install(t, c)
			}
			if tc.opts.Parents {
				ttRun(t, c, filepath.Join(dst, "src/d1/d2"), "src/d1/d2", filepath.Join(dst, "src/e/f"), "src/e/f")
			} else {
				ttRun(t, c, filepath.Join(dst, "copy"), src, filepath.Join(dst, "d1"), filepath.Join(src, "d1"))
			}
			treetest.FdsLeft(t, before)
		})
	}
}

// A directory of the source whose destination name is a symlink to a
// directory: GNU cp 9.1 refuses ("cannot overwrite non-directory 'd/sub'
// with directory 's/sub'", also for an operand with -T) and writes nothing
// through the link. makeDir stats the existing name with follow=true and
// opens it following the link, so cowcp fills the directory the symlink
// points to, which may be anywhere outside the destination tree.
func TestReviewDirOverSymlinkToDir(t *testing.T) {
	root := t.TempDir()
	src, dst, elsewhere := filepath.Join(root, "s"), filepath.Join(root, "d"), filepath.Join(root, "elsewhere")
	for _, d := range []string{filepath.Join(src, "sub"), dst, elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ttWrite(t, filepath.Join(src, "sub", "f"), []byte("x"), 0o644)
	if err := os.Symlink("../elsewhere", filepath.Join(dst, "sub")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dst, src string }{
		{"inside the tree", dst, src},
		{"operand", filepath.Join(dst, "sub"), filepath.Join(src, "sub")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := ttNew(t, Options{Jobs: 1, Recursive: true}, nil)
			st := ttRun(t, c, tc.dst, tc.src)
			if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
				t.Errorf("wrote %d entries through the symlink %s/sub into %s", len(ents), dst, elsewhere)
				os.RemoveAll(filepath.Join(elsewhere, "f"))
			}
			if st.Errors != 1 {
				t.Errorf("%d errors, want 1 (cannot overwrite non-directory with directory)", st.Errors)
			}
		})
	}
}
