package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// cowcp -a over a copy that still shares every block with its source
// keeps it (same inode) and sets its metadata, as cp's rewrite in place
// leaves it; a copy that does not share, a source changed since (even
// with its change still in the page cache), and --reflink=never are
// copied as usual. Sharing is measured with FIEMAP (filefrag), not taken
// from the report.
func TestKeepSharedCopy(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "1G")
			src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
			if err := os.Mkdir(src, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"same", "changed", "bytes", "never"} {
				testtree.WriteRandom(t, filepath.Join(src, n), 256<<10, uint64(len(n)))
			}
			mustCopy(t, nil, "-a", "--json", src, dst)
			// "bytes" becomes a byte copy: same content, no shared block.
			if r := run(t, "cp", "-a", "--reflink=never", filepath.Join(src, "bytes"), filepath.Join(dst, "bytes")); r.code != 0 {
				t.Fatalf("cp --reflink=never: %s", r.stderr)
			}
			inode := map[string]uint64{}
			for _, n := range []string{"same", "changed", "bytes", "never"} {
				inode[n] = ino(t, filepath.Join(dst, n))
			}
			// New metadata for "same"; new data, not yet written back,
			// for "changed".
			if err := os.Chmod(filepath.Join(src, "same"), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(filepath.Join(src, "changed"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("changed in the page cache"), 100<<10); err != nil {
				t.Fatal(err)
			}
			f.Close()

			dry := parseReport(t, cowcp(t, "-a", "--dry-run", "--json", src+"/.", dst))
			actions := map[string]string{}
			for _, p := range dry.Plan {
				actions[filepath.Base(p.Dst)] = p.Action
			}
			rep := mustCopy(t, nil, "-a", "--json", src+"/.", dst)
			if rep.Methods.Shared != 2 {
				t.Errorf("methods.shared = %d, want 2 (same, never)", rep.Methods.Shared)
			}
			for n, want := range map[string]string{"same": "shared", "never": "shared", "changed": "ficlone", "bytes": "ficlone"} {
				if actions[n] != want {
					t.Errorf("--dry-run planned %s for %s, want %s", actions[n], n, want)
				}
			}
			compareTrees(t, src, dst)
			for n, kept := range map[string]bool{"same": true, "never": true, "changed": false, "bytes": false} {
				if got := ino(t, filepath.Join(dst, n)) == inode[n]; got != kept {
					t.Errorf("%s: same inode %v, want %v", n, got, kept)
				}
				if !sharedAll(t, filepath.Join(dst, n)) {
					t.Errorf("%s: not every extent shared after the copy (filefrag)", n)
				}
			}
			// --reflink=never makes a byte copy even over a shared one.
			mustCopy(t, nil, "-a", "--reflink=never", "--json", filepath.Join(src, "never"), filepath.Join(dst, "never"))
			if ino(t, filepath.Join(dst, "never")) == inode["never"] || sharedAll(t, filepath.Join(dst, "never")) {
				t.Error("--reflink=never over a shared copy kept it shared")
			}
			checkContent(t, filepath.Join(dst, "never"), readFile(t, filepath.Join(src, "never")))
		})
	}
}

func ino(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedAll reports whether filefrag finds every extent byte of path shared.
func sharedAll(t testing.TB, path string) bool {
	t.Helper()
	shared, total := filefragShared(t, path)
	return total > 0 && shared == total
}
