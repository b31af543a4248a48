//go:build linux

package fusefs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Mount mounts a passthrough of the directory backing, departing from it
// as opts say, at a fresh temporary directory, and returns that directory.
// The FUSE server runs in the test process. It mounts with mount(2) itself
// (no fusermount), so it needs root and /dev/fuse: without them the test
// is skipped, and under CI=true that skip is a failure. t.Cleanup unmounts
// it, even when the test fails; Mount never unmounts anything else.
func Mount(t testing.TB, backing string, opts Options) (mnt string) {
	t.Helper()
	requireFuse(t)
	for _, p := range []string{opts.FailWrite, opts.FailFlush} {
		if _, err := path.Match(p, ""); err != nil {
			t.Fatalf("fusefs: bad pattern %q: %v", p, err)
		}
	}
	backing, err := filepath.Abs(backing)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		t.Fatalf("fusefs: a passthrough of %s: %v", backing, err)
	}
	root := &node{LoopbackNode: lb.(*fs.LoopbackNode), opts: &opts}
	// The loopback finds its root through RootNode; it must be the
	// wrapper, whose WrapChild wraps every node below it.
	root.RootData.RootNode = root

	mnt, err = os.MkdirTemp("", "fusefs-")
	if err != nil {
		t.Fatal(err)
	}
	server, err := fs.Mount(mnt, root, &fs.Options{MountOptions: fuse.MountOptions{
		DirectMountStrict: true,
		// As a kernel filesystem would: other users may enter it, and the
		// kernel checks their permissions (the server runs as root).
		AllowOther: true,
		Options:    []string{"default_permissions"},
		FsName:     "fusefs",
		Name:       "fusefs",
		// With passthrough the kernel would read and write the backing
		// files itself, and the server would never see the writes it is
		// told to fail.
		DisabledCapabilities: fuse.CAP_PASSTHROUGH,
	}})
	if err != nil {
		os.Remove(mnt)
		t.Fatalf("fusefs: mounting a passthrough of %s at %s: %v", backing, mnt, err)
	}
	t.Cleanup(func() { unmount(t, server, mnt) })
	return mnt
}

// unmount unmounts what Mount mounted at mnt and removes the directory. A
// process that still has a file open there (a copier killed by a timeout
// has not been reaped yet) keeps it busy for a moment: retry.
func unmount(t testing.TB, server *fuse.Server, mnt string) {
	var err error
	for try := 0; try < 20; try++ {
		if err = server.Unmount(); err == nil {
			if err := os.Remove(mnt); err != nil {
				t.Errorf("fusefs: %v", err)
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Left mounted and in place: removing the directory's contents now
	// would remove the backing files through the mount.
	t.Errorf("fusefs: unmounting %s: %v", mnt, err)
}

// requireFuse skips t without root or /dev/fuse, or fails it under
// CI=true, where a skipped test would hide a broken suite.
func requireFuse(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "FUSE test mounts need root (they mount without fusermount)"
	} else if f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0); err != nil {
		why = fmt.Sprintf("FUSE test mounts need /dev/fuse: %v", err)
	} else {
		f.Close()
	}
	switch {
	case why == "":
	case os.Getenv("CI") == "true":
		t.Fatal(why + ", and CI=true forbids skipping")
	default:
		t.Skip(why)
	}
}
