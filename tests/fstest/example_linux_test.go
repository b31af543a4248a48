package fstest_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/tests/fstest"
	"golang.org/x/sys/unix"
)

// TestCloneShares is the package documentation's example, as another
// project would write it. Keep the two the same.
func TestCloneShares(t *testing.T) {
	mnt := fstest.Btrfs(t, 256<<20) // unmounted and removed when the test ends
	fstest.RequireTools(t, "filefrag")
	src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
	if err := os.WriteFile(src, bytes.Repeat([]byte("cowcp"), 200_000), 0o644); err != nil {
		t.Fatal(err)
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
		t.Fatalf("FICLONE: %v", err)
	}
	// Measure, don't trust the return code: the filesystem must report
	// the copy's extents as shared.
	frag, err := exec.Command("filefrag", "-sv", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("filefrag: %v\n%s", err, frag)
	}
	if !strings.Contains(string(frag), "shared") {
		t.Errorf("no extent of the clone is shared:\n%s", frag)
	}
}
