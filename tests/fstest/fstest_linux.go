package fstest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// kind is one filesystem the package can make.
type kind struct {
	name  string   // the type mount(2) is given
	mkfs  []string // program and flags; the image's path is appended
	magic int64    // statfs's f_type once mounted
}

var (
	btrfs = kind{"btrfs", []string{"mkfs.btrfs", "-q"}, unix.BTRFS_SUPER_MAGIC}
	// reflink=1 is the default since xfsprogs 5.1; it is asked for so that
	// an older mkfs.xfs does not silently make an XFS that cannot clone.
	xfs  = kind{"xfs", []string{"mkfs.xfs", "-q", "-m", "reflink=1"}, unix.XFS_SUPER_MAGIC}
	ext4 = kind{"ext4", []string{"mkfs.ext4", "-q", "-F"}, unix.EXT4_SUPER_MAGIC}
)

// MinXFSSize is the smallest size XFS accepts: mkfs.xfs refuses data
// sections under 300 MiB ("Filesystem must be larger than 300MB").
const MinXFSSize = 300 << 20

// Btrfs makes a btrfs of size bytes (mkfs.btrfs needs about 109 MiB at
// least) on a fresh sparse image, mounts it, and returns the mount point.
// It is taken down in t.Cleanup, also when the test fails. Without root or
// a needed program the test is skipped, or failed under CI=true.
func Btrfs(t testing.TB, size int64) string {
	t.Helper()
	return mount(t, btrfs, size)
}

// XFS is Btrfs for an XFS with reflinks (mkfs.xfs -m reflink=1). A size
// under MinXFSSize fails the test: rounding it up would hand a test that
// fills the filesystem more space than it asked for.
func XFS(t testing.TB, size int64) string {
	t.Helper()
	if size < MinXFSSize {
		t.Fatalf("fstest: an XFS needs at least MinXFSSize (300 MiB; mkfs.xfs refuses smaller), got %d bytes", size)
	}
	return mount(t, xfs, size)
}

// Ext4 is Btrfs for an ext4, which has no reflinks: a clone fails there
// with EOPNOTSUPP, which makes it the usual "cannot clone" filesystem.
func Ext4(t testing.TB, size int64) string {
	t.Helper()
	return mount(t, ext4, size)
}

// mount makes, mounts and registers the teardown of one filesystem. The
// teardown is registered before anything exists, and knows how far the
// setup got, so a setup failing half-way is undone too.
func mount(t testing.TB, k kind, size int64) string {
	t.Helper()
	if size <= 0 {
		t.Fatalf("fstest: a %s of %d bytes: the size must be positive", k.name, size)
	}
	RequireRoot(t)
	RequireTools(t, k.mkfs[0], "losetup")

	// Not t.TempDir: its RemoveAll runs whether or not the unmount worked,
	// and would walk into a filesystem still mounted.
	dir, err := os.MkdirTemp("", "fstest-"+k.name+"-")
	if err != nil {
		t.Fatalf("fstest: %v", err)
	}
	lf := &loopFS{dir: dir, image: filepath.Join(dir, "image"), mnt: filepath.Join(dir, "mnt")}
	t.Cleanup(func() {
		if err := lf.teardown(); err != nil {
			t.Errorf("fstest: taking down the %s at %s: %v", k.name, lf.mnt, err)
		}
	})
	if err := lf.setup(k, size); err != nil {
		t.Fatalf("fstest: making a %s of %d bytes: %v", k.name, size, err)
	}
	return lf.mnt
}

// loopFS is one filesystem on a loop device, and how far it was made:
// teardown undoes exactly what setup did, and nothing else.
type loopFS struct {
	dir, image, mnt    string // the temporary directory, and the image and mount point in it
	imageDev, imageIno uint64 // the image's identity, to recognise its loop device

	dev     string // the loop device bound to image, once bound
	devRdev uint64 // its device number
	mounted bool   // whether setup mounted dev on mnt (and teardown has not unmounted it)
}

func (lf *loopFS) setup(k kind, size int64) error {
	// mountinfo and the loop driver name resolved paths; so does the package.
	dir, err := filepath.EvalSymlinks(lf.dir)
	if err != nil {
		return err
	}
	lf.dir, lf.image, lf.mnt = dir, filepath.Join(dir, "image"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(lf.mnt, 0o755); err != nil {
		return err
	}
	if err := makeImage(lf.image, size); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(lf.image, &st); err != nil {
		return &os.PathError{Op: "stat", Path: lf.image, Err: err}
	}
	lf.imageDev, lf.imageIno = uint64(st.Dev), uint64(st.Ino)

	cmd := slices.Concat(k.mkfs, []string{lf.image})
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd, " "), err, firstLines(out, 5))
	}
	if err := lf.bind(); err != nil {
		return err
	}
	if err := unix.Mount(lf.dev, lf.mnt, k.name, 0, ""); err != nil {
		return fmt.Errorf("mount -t %s %s %s: %w", k.name, lf.dev, lf.mnt, err)
	}
	lf.mounted = true
	var sfs unix.Statfs_t
	if err := unix.Statfs(lf.mnt, &sfs); err != nil {
		return &os.PathError{Op: "statfs", Path: lf.mnt, Err: err}
	}
	if int64(uint32(sfs.Type)) != k.magic {
		return fmt.Errorf("%s has filesystem type %#x after mounting, not %s's %#x", lf.mnt, sfs.Type, k.name, k.magic)
	}
	return nil
}

// makeImage creates a sparse file of size bytes at path.
func makeImage(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// bind binds a free loop device to the image with losetup -f --show,
// which finds and binds one in a single call. A parallel losetup can still
// take the same device between the two steps inside it (util-linux then
// fails with EBUSY), so it is tried a few times.
func (lf *loopFS) bind() error {
	var out []byte
	var err error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
		}
		out, err = exec.Command("losetup", "-f", "--show", lf.image).Output()
		if err == nil {
			break
		}
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			out = ee.Stderr
		}
		return fmt.Errorf("losetup -f --show %s: %v\n%s", lf.image, err, out)
	}
	dev := strings.TrimSpace(string(out))
	if !strings.HasPrefix(dev, "/dev/loop") {
		return fmt.Errorf("losetup -f --show %s printed %q, not a loop device", lf.image, out)
	}
	lf.dev = dev
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return &os.PathError{Op: "stat", Path: dev, Err: err}
	}
	lf.devRdev = uint64(st.Rdev)
	return nil
}

// firstLines returns the first n lines of a program's output: mkfs.xfs
// follows its one-line reason with forty lines of usage.
func firstLines(out []byte, n int) string {
	lines := strings.SplitAfterN(string(out), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...\n")
	}
	return strings.Join(lines, "")
}
