package tree

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
)

// What a copy does with a destination that is a symbolic link.

// A destination reached through a chain of 40 symbolic links, the
// kernel's own limit (MAXSYMLINKS), is written through, as GNU cp 9.1
// writes it: `cp src d0/l` with d0/l -> ../d1/l -> ... -> d40/l rewrites
// d40/l. Following the chain opens a directory per link: none may stay
// open.
func TestDestinationThroughFortySymlinksIsWritten(t *testing.T) {
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
	writeFile(t, last, []byte("old\n"), 0o644)
	src := filepath.Join(root, "src")
	writeFile(t, src, []byte("new\n"), 0o644)
	if _, err := os.Stat(filepath.Join(root, "d0", "l")); err != nil {
		t.Fatalf("the kernel does not resolve a chain of %d links: %v", maxLinkHops, err)
	}

	c, _ := testCopier(t, Options{Jobs: 1}, nil)
	before := testtree.OpenFds(t)
	st := runCopies(t, c, filepath.Join(root, "d0", "l"), src)
	testtree.FdsLeft(t, before)
	if st.Errors != 0 {
		t.Errorf("copy through %d symlinks failed: %v (cp 9.1 writes through them)", maxLinkHops, st.Failures)
	}
	checkFile(t, last, []byte("new\n"))
}

// cp --backup of a destination that is a symbolic link backs up the link
// itself (dst~ is the link) and makes dst a new regular file; the file the
// link leads to, outside the destination name, is neither moved nor
// rewritten. As GNU cp 9.1 does:
//
//	echo old >target; ln -s target dst; echo new >src; cp -b src dst
//	=> dst: regular file "new"; dst~ -> target; target: "old"; no target~
func TestBackupOfSymlinkDestinationIsTheLink(t *testing.T) {
	root := t.TempDir()
	src, dst, target := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "target")
	writeFile(t, src, []byte("new\n"), 0o644)
	writeFile(t, target, []byte("old\n"), 0o644)
	if err := os.Symlink("target", dst); err != nil {
		t.Fatal(err)
	}
	c, _ := testCopier(t, Options{Jobs: 1, Backup: BackupSimple}, nil)
	if st := runCopies(t, c, dst, src); st.Errors != 0 {
		t.Fatalf("copy failed: %v", st.Failures)
	}
	checkFile(t, target, []byte("old\n"))
	if _, err := os.Lstat(target + "~"); err == nil {
		t.Errorf("%s~ was made: the symlink's target was backed up, not the symlink", target)
	}
	if fi, err := os.Lstat(dst); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a new regular file (%v, %v)", dst, fi, err)
	} else {
		checkFile(t, dst, []byte("new\n"))
	}
	if l, err := os.Readlink(dst + "~"); err != nil || l != "target" {
		t.Errorf("backup %s~: readlink = %q, %v; want the old symlink -> target", dst, l, err)
	}
}

// The same with a dangling symbolic link: cp -b succeeds, the link becomes
// dst~ and dst a new file (without -b, cp refuses to write through it).
func TestBackupOfDanglingSymlinkDestinationIsTheLink(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	writeFile(t, src, []byte("new\n"), 0o644)
	if err := os.Symlink("nothere", dst); err != nil {
		t.Fatal(err)
	}
	c, _ := testCopier(t, Options{Jobs: 1, Backup: BackupSimple}, nil)
	if st := runCopies(t, c, dst, src); st.Errors != 0 {
		t.Fatalf("copy failed: %v (cp -b backs up the dangling symlink)", st.Failures)
	}
	checkFile(t, dst, []byte("new\n"))
	if l, err := os.Readlink(dst + "~"); err != nil || l != "nothere" {
		t.Errorf("backup %s~: readlink = %q, %v; want the old symlink", dst, l, err)
	}
}

// A directory of the source whose destination name is a symbolic link to
// a directory is refused, as GNU cp 9.1 refuses it ("cannot overwrite
// non-directory 'd/sub' with directory 's/sub'", also for an operand with
// -T), and nothing is written through the link, which may lead anywhere
// outside the destination tree.
func TestDirectoryNotCopiedThroughSymlinkToDirectory(t *testing.T) {
	root := t.TempDir()
	src, dst, elsewhere := filepath.Join(root, "s"), filepath.Join(root, "d"), filepath.Join(root, "elsewhere")
	for _, d := range []string{filepath.Join(src, "sub"), dst, elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(src, "sub", "f"), []byte("x"), 0o644)
	if err := os.Symlink("../elsewhere", filepath.Join(dst, "sub")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dst, src string }{
		{"inside the tree", dst, src},
		{"operand", filepath.Join(dst, "sub"), filepath.Join(src, "sub")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testCopier(t, Options{Jobs: 1, Recursive: true}, nil)
			st := runCopies(t, c, tc.dst, tc.src)
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
