package fstest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// made is what a test learned about a filesystem the package made.
type made struct{ mnt, dev, image string }

// inspect checks that mnt is mounted from a loop device bound to the image
// beside it, and returns the three.
func inspect(t testing.TB, mnt string) made {
	t.Helper()
	m, err := topMount(mnt)
	if err != nil || m == nil {
		t.Fatalf("nothing mounted on %s (%v)", mnt, err)
	}
	image := filepath.Join(filepath.Dir(mnt), "image")
	if b := backingFile(m.source); b != image {
		t.Fatalf("%s is mounted from %s, which is bound to %q, not %s", mnt, m.source, b, image)
	}
	return made{mnt, m.source, image}
}

// checkGone checks that nothing of lo is left: no mount on its mount
// point, no loop device bound to its image, no directory.
func checkGone(t testing.TB, lo made) {
	t.Helper()
	if at, err := mountsAt(lo.mnt); err != nil || len(at) > 0 {
		t.Errorf("after the test, %s still has mounts %+v (%v)", lo.mnt, at, err)
	}
	if devs := loopsBackedBy(t, lo.image); len(devs) > 0 {
		t.Errorf("after the test, %s still backs %s", lo.image, devs)
	}
	if _, err := os.Lstat(filepath.Dir(lo.mnt)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the test, %s: %v, want it removed", filepath.Dir(lo.mnt), err)
	}
}

// loopsBackedBy returns the loop devices bound to image, as sysfs says.
func loopsBackedBy(t testing.TB, image string) []string {
	t.Helper()
	devs, err := filepath.Glob("/sys/block/loop*")
	if err != nil {
		t.Fatal(err)
	}
	var bound []string
	for _, d := range devs {
		b := backingFile("/dev/" + filepath.Base(d))
		if b == image || b == image+" (deleted)" {
			bound = append(bound, filepath.Base(d))
		}
	}
	return bound
}

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		make  func(testing.TB, int64) string
		size  int64
		magic int64
	}{
		{"btrfs", Btrfs, 256 << 20, unix.BTRFS_SUPER_MAGIC},
		{"xfs", XFS, MinXFSSize, unix.XFS_SUPER_MAGIC},
		{"ext4", Ext4, 64 << 20, unix.EXT4_SUPER_MAGIC},
	} {
		var lo made
		t.Run(tc.name, func(t *testing.T) {
			mnt := tc.make(t, tc.size)
			lo = inspect(t, mnt)
			var sfs unix.Statfs_t
			if err := unix.Statfs(mnt, &sfs); err != nil {
				t.Fatal(err)
			}
			if int64(sfs.Type) != tc.magic {
				t.Errorf("%s: filesystem type %#x, want %#x", mnt, sfs.Type, tc.magic)
			}
			if size := int64(sfs.Blocks) * int64(sfs.Bsize); size > tc.size || size < tc.size/2 {
				t.Errorf("%s: %d bytes, want about %d", mnt, size, tc.size)
			}
			if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("data"), 0o644); err != nil {
				t.Fatal(err)
			}
		})
		if lo.mnt != "" {
			checkGone(t, lo)
		}
	}
}

// shared reports whether filefrag -v flags any extent of path shared.
func shared(t *testing.T, path string) bool {
	t.Helper()
	out, err := exec.Command("filefrag", "-sv", path).CombinedOutput()
	if err != nil {
		t.Fatalf("filefrag -sv %s: %v\n%s", path, err, out)
	}
	return strings.Contains(string(out), "shared")
}

// An XFS must be made with reflinks: FICLONE works and the copy's extents
// are shared, where before the clone the source's were not.
func TestXFSClones(t *testing.T) {
	mnt := XFS(t, MinXFSSize)
	RequireTools(t, "filefrag")
	src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
	if err := os.WriteFile(src, bytes.Repeat([]byte{1, 2, 3}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if shared(t, src) {
		t.Fatalf("%s is shared before any clone: filefrag cannot tell", src)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err != nil {
		t.Fatalf("FICLONE on XFS: %v", err)
	}
	if !shared(t, dst) || !shared(t, src) {
		t.Error("after FICLONE, filefrag shows no shared extents")
	}
}

func TestXFSTooSmall(t *testing.T) {
	r := newRecorder(t)
	r.do(func() { XFS(r, MinXFSSize-1) })
	if reps := r.take(); len(reps) != 1 || !strings.Contains(reps[0], "fatal: fstest: an XFS needs at least") {
		t.Errorf("XFS under 300 MiB reported %q, want one failure saying the minimum", reps)
	}
}

// Parallel tests each get their own filesystem and loop device.
func TestParallel(t *testing.T) {
	RequireRoot(t)
	const n = 6
	// The first few (as many as -parallel lets run at once) wait for each
	// other with their filesystems mounted, so that they overlap.
	together := n
	if f := flag.Lookup("test.parallel"); f != nil {
		if p, err := strconv.Atoi(f.Value.String()); err == nil {
			together = min(n, p)
		}
	}
	var mounted sync.WaitGroup
	mounted.Add(together)
	var mu sync.Mutex
	var all []made
	live := map[string]string{} // loop device -> mount point, while mounted
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				var mnt string
				if i%2 == 0 {
					mnt = Ext4(t, 64<<20)
				} else {
					mnt = Btrfs(t, 256<<20)
				}
				lo := inspect(t, mnt)
				mu.Lock()
				if other, ok := live[lo.dev]; ok {
					t.Errorf("%s is on %s, which %s is still using", mnt, lo.dev, other)
				}
				live[lo.dev] = mnt
				all = append(all, lo)
				mu.Unlock()
				t.Cleanup(func() { // before the teardown
					mu.Lock()
					delete(live, lo.dev)
					mu.Unlock()
				})
				if err := os.WriteFile(filepath.Join(mnt, "f"), []byte(mnt), 0o644); err != nil {
					t.Error(err)
				}
				if i < together {
					mounted.Done()
					mounted.Wait()
				}
			})
		}
	})
	if len(all) != n {
		t.Fatalf("%d of %d parallel tests made a filesystem", len(all), n)
	}
	t.Logf("%d filesystems, %d at once", n, together)
	for _, lo := range all {
		checkGone(t, lo)
	}
}

// recordedExt4 makes a small ext4 whose teardown the test runs itself,
// through a recorder that keeps what teardown reports.
func recordedExt4(t *testing.T) (*recorder, made) {
	t.Helper()
	r := newRecorder(t)
	var lo made
	r.do(func() { lo = inspect(r, Ext4(r, 64<<20)) })
	if reps := r.take(); len(reps) > 0 {
		t.Fatalf("making an ext4: %q", reps)
	}
	return r, lo
}

// A mount stacked on the package's own is someone else's: teardown must
// leave both, and say so; once it is gone, teardown finishes.
func TestForeignMountLeftAlone(t *testing.T) {
	RequireRoot(t)
	r, lo := recordedExt4(t)
	if err := unix.Mount("fstest-foreign", lo.mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", lo.mnt, err)
	}
	unmountForeign := func() {
		if m, _ := topMount(lo.mnt); m != nil && m.source == "fstest-foreign" {
			if err := unix.Unmount(lo.mnt, 0); err != nil {
				t.Errorf("unmount the tmpfs on %s: %v", lo.mnt, err)
			}
		}
	}
	t.Cleanup(unmountForeign)

	r.runCleanups()
	if reps := r.take(); len(reps) != 1 || !strings.Contains(reps[0], "not the package's") {
		t.Errorf("teardown under a foreign mount reported %q, want one error saying it is not the package's", reps)
	}
	at, _ := mountsAt(lo.mnt)
	if len(at) != 2 || at[0].source != lo.dev || at[1].source != "fstest-foreign" {
		t.Errorf("after teardown, the mounts on %s are %+v, want %s under the tmpfs", lo.mnt, at, lo.dev)
	}
	if b := backingFile(lo.dev); b != lo.image {
		t.Errorf("after teardown, %s is bound to %q, want still %s", lo.dev, b, lo.image)
	}

	unmountForeign()
	r.runCleanups()
	if reps := r.take(); len(reps) > 0 {
		t.Errorf("teardown once the foreign mount is gone: %q", reps)
	}
	checkGone(t, lo)
}

// When someone else detached the package's loop device and the device
// was bound again to another file, teardown must not detach it.
func TestForeignLoopLeftAlone(t *testing.T) {
	RequireRoot(t)
	RequireTools(t, "losetup")
	r, lo := recordedExt4(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign")
	if err := makeImage(foreign, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(lo.mnt, 0); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("losetup", "-d", lo.dev).CombinedOutput(); err != nil {
		t.Fatalf("losetup -d %s: %v\n%s", lo.dev, err, out)
	}
	if out, err := exec.Command("losetup", lo.dev, foreign).CombinedOutput(); err != nil {
		t.Fatalf("binding %s to another file (a parallel losetup -f may have taken it first): %v\n%s", lo.dev, err, out)
	}
	t.Cleanup(func() {
		if backingFile(lo.dev) == foreign {
			if out, err := exec.Command("losetup", "-d", lo.dev).CombinedOutput(); err != nil {
				t.Errorf("losetup -d %s: %v\n%s", lo.dev, err, out)
			}
		}
	})

	r.runCleanups()
	if reps := r.take(); len(reps) > 0 {
		t.Errorf("teardown reported %q, want nothing", reps)
	}
	if b := backingFile(lo.dev); b != foreign {
		t.Errorf("after teardown, %s is bound to %q, want still the foreign %s", lo.dev, b, foreign)
	}
	checkGone(t, lo)
}

// A busy mount point is reported and left mounted, not detached lazily;
// once it is free, teardown finishes.
func TestBusyMountReported(t *testing.T) {
	RequireRoot(t)
	r, lo := recordedExt4(t)
	f, err := os.Create(filepath.Join(lo.mnt, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	r.runCleanups()
	if reps := r.take(); len(reps) != 1 || !strings.Contains(reps[0], "device or resource busy") {
		t.Errorf("teardown of a busy mount reported %q, want one error saying it is busy", reps)
	}
	if m, _ := topMount(lo.mnt); m == nil || m.source != lo.dev {
		t.Errorf("after a busy teardown, %s has %+v mounted, want still %s", lo.mnt, m, lo.dev)
	}
	if _, err := f.Write([]byte("still writable")); err != nil {
		t.Errorf("writing into the busy filesystem: %v", err)
	}

	f.Close()
	r.runCleanups()
	if reps := r.take(); len(reps) > 0 {
		t.Errorf("teardown once the file is closed: %q", reps)
	}
	checkGone(t, lo)
}

// The documentation's example is TestCloneShares, word for word.
func TestDocExampleIsTested(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile("example_linux_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var snippet []string
	in := false
	for line := range strings.SplitSeq(string(doc), "\n") {
		in = in || strings.HasPrefix(line, "//\tfunc TestCloneShares")
		if in {
			snippet = append(snippet, strings.TrimPrefix(line, "//\t"))
		}
		if in && line == "//\t}" {
			break
		}
	}
	want := strings.Join(snippet, "\n") + "\n"
	_, got, _ := strings.Cut(string(test), "\nfunc TestCloneShares")
	got = "func TestCloneShares" + got
	if len(snippet) == 0 || got != want {
		t.Errorf("doc.go's example and example_linux_test.go's TestCloneShares differ:\ndoc:\n%s\ntest:\n%s", want, got)
	}
}
