// Package fstest gives a Go test a fresh btrfs, XFS or ext4 of its own:
// a sparse image file, made with mkfs, bound to a loop device and mounted
// in a temporary directory, and taken down again when the test ends. It
// exists for tests of code whose behaviour depends on the filesystem —
// reflinks (FICLONE), copy_file_range, extent maps, ENOSPC, cross-device
// errors — which tests in a tmpfs or whatever $TMPDIR is cannot cover.
// cowcp's own tests use it; other projects can import it into theirs.
//
// # Use
//
// Btrfs, XFS and Ext4 each return the mount point of a new filesystem of
// the given size. The image is sparse, so a 1 GiB filesystem costs only the
// blocks written. Tests may run in parallel: each filesystem has its own
// directory, and a loop device is found and bound in one step
// (losetup -f --show). The mount point's parent directory is private
// (mode 0700, as os.MkdirTemp makes it): a test that runs a program as
// another user must give it a way in, a bind mount for instance. An
// example, as another project's test would be:
//
//	import (
//		"bytes"
//		"os"
//		"os/exec"
//		"path/filepath"
//		"strings"
//		"testing"
//
//		"github.com/cowcp/cowcp/tests/fstest"
//		"golang.org/x/sys/unix"
//	)
//
//	func TestCloneShares(t *testing.T) {
//		mnt := fstest.Btrfs(t, 256<<20) // unmounted and removed when the test ends
//		fstest.RequireTools(t, "filefrag")
//		src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
//		if err := os.WriteFile(src, bytes.Repeat([]byte("cowcp"), 200_000), 0o644); err != nil {
//			t.Fatal(err)
//		}
//		in, err := os.Open(src)
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer in.Close()
//		out, err := os.Create(dst)
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer out.Close()
//		if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err != nil {
//			t.Fatalf("FICLONE: %v", err)
//		}
//		// Measure, don't trust the return code: the filesystem must report
//		// the copy's extents as shared.
//		frag, err := exec.Command("filefrag", "-sv", dst).CombinedOutput()
//		if err != nil {
//			t.Fatalf("filefrag: %v\n%s", err, frag)
//		}
//		if !strings.Contains(string(frag), "shared") {
//			t.Errorf("no extent of the clone is shared:\n%s", frag)
//		}
//	}
//
// # Skipping
//
// Loop devices and mount need root, and mkfs needs its program. Without
// them a test is skipped with the reason — but under CI=true it fails
// instead: a loopback test that CI skips proves nothing, and a skip in a
// green run is easy to miss. RequireRoot and RequireTools apply the same
// policy to a test's own needs (filefrag above).
//
// # Cleanup
//
// The filesystem is taken down in t.Cleanup, also when the test fails:
// unmounted, its loop device detached, the image and directories removed.
// The package touches only what it made: it unmounts the mount point only
// if the mount there comes from its own loop device, and detaches that
// device only if it is still bound to its own image (by device and inode).
// A busy mount point (a process of the test still in it) is retried for a
// few seconds and then reported with t.Errorf, with everything left in
// place, rather than detached lazily under a running process. Directories
// are removed one by one, never with os.RemoveAll, which could walk into a
// filesystem that is still mounted. A test killed outright leaves its
// filesystem behind: `losetup -a` lists it under a directory
// $TMPDIR/fstest-KIND-*.
//
// # Requirements
//
// Linux, root, util-linux (losetup), and the mkfs of each filesystem used:
// btrfs-progs (mkfs.btrfs), xfsprogs (mkfs.xfs)
// or e2fsprogs (mkfs.ext4; also filefrag). Mounting is done with mount(2),
// so the mount program is not needed.
package fstest
