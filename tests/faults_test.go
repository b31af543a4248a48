package tests

// End-to-end tests of "never losing data": a full disk, Ctrl-C and kill -9
// during real copies on loopback filesystems. Whatever happens, a final
// name holds either a complete copy or (for a replacement) the old
// content, never a truncated file; cowcp's own temporary files
// (.cowcp-*.tmp) are gone unless it was killed; and the source is never
// modified.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// faultTreeSize sizes a tree to copy (faultTree).
type faultTreeSize struct {
	big     int
	bigSize int64
	small   int
	sparse  int
}

// faultTree describes a tree of spec's sizes: big files of about bigSize at
// the top of big/, small files spread over 16 subdirectories of small/,
// sparse files (two runs of data, holes between and after) in sparse/, and
// a symbolic link to the first big file. The data of file i comes from
// seed+i (big), seed+1000+i (small) or seed+2000+i (sparse).
func faultTree(spec faultTreeSize, seed uint64) []testtree.Node {
	nodes := []testtree.Node{testtree.D("big", 0o755), testtree.D("small", 0o755), testtree.D("sparse", 0o755)}
	for i := range spec.big {
		// Sizes that are not block multiples, so a truncation shows.
		size := spec.bigSize + int64(i)*4099 + 1
		nodes = append(nodes, testtree.S(fmt.Sprintf("big/b%03d", i), size, testtree.Random(0, seed+uint64(i), size)))
	}
	for i := range min(spec.small, 16) {
		nodes = append(nodes, testtree.D(fmt.Sprintf("small/d%02d", i), 0o755))
	}
	for i := range spec.small {
		size := int64(i * 997 % 40000)
		nodes = append(nodes, testtree.S(fmt.Sprintf("small/d%02d/s%04d", i%16, i), size, testtree.Random(0, seed+1000+uint64(i), size)))
	}
	for i := range spec.sparse {
		s := seed + 2000 + uint64(i)
		nodes = append(nodes, testtree.S(fmt.Sprintf("sparse/h%02d", i), 6<<20+int64(i)*4099,
			testtree.Random(0, s, 512<<10), testtree.Random(3<<20, s<<32, 1<<20)))
	}
	return append(nodes, testtree.L("link", "big/b000"))
}

// makeFaultTree makes faultTree(spec, seed) at root (which must not exist)
// and syncs it.
func makeFaultTree(t testing.TB, root string, spec faultTreeSize, seed uint64) {
	t.Helper()
	testtree.Build(t, root, faultTree(spec, seed))
	syncFS(t, root)
}

// sourceUnchanged fails if root differs from its fingerprint before.
func sourceUnchanged(t testing.TB, root string, before testtree.Manifest) {
	t.Helper()
	diffs := testtree.Diff(before, testtree.Fingerprint(t, root), "before", "now")
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… and %d more", len(diffs)-10))
	}
	if len(diffs) > 0 {
		t.Errorf("the source %s changed:\n\t%s", root, strings.Join(diffs, "\n\t"))
	}
}

// isTemp reports whether name is one of cowcp's temporary names.
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".cowcp-") && strings.HasSuffix(name, ".tmp")
}

// checkWholeFiles checks that every regular file under dst (temporary files
// aside) has exactly the size and content of its source, as fingerprinted
// in src, and returns the source's regular files missing from dst.
func checkWholeFiles(t testing.TB, src testtree.Manifest, dst string) (missing []string) {
	t.Helper()
	syncFS(t, dst)
	m, err := testtree.Walk(dst, testtree.WalkOptions{})
	if err != nil {
		t.Fatalf("walking %s: %v", dst, err)
	}
	bad := 0
	for _, rel := range slices.Sorted(maps.Keys(m)) {
		got := m[rel]
		if got["type"] != "file" || isTemp(path.Base(rel)) {
			continue
		}
		want, ok := src[rel]
		if !ok {
			t.Errorf("%s: in the destination, not in the source", filepath.Join(dst, rel))
			continue
		}
		if got["size"] != want["size"] || got["content"] != want["content"] {
			if bad++; bad <= 10 {
				t.Errorf("%s: %s bytes, content differs from the source's %s bytes: a damaged file under a final name",
					filepath.Join(dst, rel), got["size"], want["size"])
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d damaged files in all", bad)
	}
	for _, rel := range slices.Sorted(maps.Keys(src)) {
		if src[rel]["type"] == "file" && m[rel]["type"] != "file" {
			missing = append(missing, rel)
		}
	}
	return missing
}

// namedOnStderr reports whether stderr names rel (or a directory above it)
// under dst or under src, quoted as cowcp quotes plain names.
func namedOnStderr(stderr, src, dst, rel string) bool {
	for r := rel; ; r = filepath.Dir(r) {
		for _, root := range []string{dst, src} {
			if strings.Contains(stderr, "'"+filepath.Join(root, r)+"'") {
				return true
			}
		}
		if r == "." || r == "/" {
			return false
		}
	}
}

// checkFullDisk checks a copy that ran out of space: exit 1, errors that
// name paths and ENOSPC, every file that made it complete, every file
// that did not named on stderr, some not made, and no temporary file left.
func checkFullDisk(t *testing.T, r result, srcFP testtree.Manifest, src, dst string) {
	t.Helper()
	if missing := checkOutOfRoom(t, r, srcFP, src, dst, "No space left on device"); len(missing) == 0 {
		t.Errorf("every file was copied: the disk never filled, so this test proves nothing")
	}
}

// checkOutOfRoom checks a copy that failed in part for want of room
// (reason: ENOSPC's or EDQUOT's words): exit 1, every line with reason a
// cp-style message naming a path under dst, the report's failures, then
// checkNamedOrWhole. It returns the source's files missing in the copy.
func checkOutOfRoom(t *testing.T, r result, srcFP testtree.Manifest, src, dst, reason string) []string {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit %d out of room, want 1\nstderr: %.3000s", r.code, r.stderr)
	}
	n := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, reason) {
			n++
			if !strings.HasPrefix(line, "cowcp: ") || !strings.Contains(line, "'"+dst) {
				t.Errorf("stderr line %q: want a cp-style message naming a path under '%s'", line, dst)
			}
		}
	}
	if n == 0 {
		t.Errorf("stderr has no %q:\n%.3000s", reason, r.stderr)
	}
	rep := parseReport(t, r)
	if rep.Errors == 0 || int64(len(rep.Failures)) != min(rep.Errors, 1000) {
		t.Errorf("report: %d errors, %d failures listed", rep.Errors, len(rep.Failures))
	}
	t.Logf("%d %q errors; report: %d files copied by %+v", n, reason, rep.Files, rep.Methods)
	return checkNamedOrWhole(t, r, srcFP, src, dst)
}

// checkNamedOrWhole checks what a copy that failed in part left at dst:
// every regular file there complete, every one missing named on stderr
// (or a directory above it), at least one copied, and no temporary file
// left. It returns the missing files.
func checkNamedOrWhole(t *testing.T, r result, srcFP testtree.Manifest, src, dst string) []string {
	t.Helper()
	missing := checkWholeFiles(t, srcFP, dst)
	files := 0
	for _, e := range srcFP {
		if e["type"] == "file" {
			files++
		}
	}
	t.Logf("%d of the source's %d files missing in the copy", len(missing), files)
	if len(missing) == files {
		t.Errorf("no file was copied: the test never reached the limit with a copy under way")
	}
	unnamed := 0
	for _, rel := range missing {
		if !namedOnStderr(r.stderr, src, dst, rel) {
			if unnamed++; unnamed <= 5 {
				t.Errorf("%s is missing from the copy, and no error names it or a directory above it", filepath.Join(dst, rel))
			}
		}
	}
	if left := scratchLeft(t, filepath.Dir(dst)); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	return missing
}

// fileBytes is the size of the regular files in a fingerprint.
func fileBytes(fp testtree.Manifest) int64 {
	var n int64
	for _, e := range fp {
		if e["type"] == "file" {
			size, _ := strconv.ParseInt(e["size"], 10, 64)
			n += size
		}
	}
	return n
}

// mustOverflow fails unless the filesystem at mnt has less free space
// than n bytes, so that copying n bytes must fill it.
func mustOverflow(t testing.TB, mnt string, n int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	if free := int64(st.Bfree) * int64(st.Bsize); free >= n {
		t.Fatalf("%s has %d bytes free for a %d-byte tree: it would not fill", mnt, free, n)
	}
}

// TestFaultFullDisk copies a tree onto a filesystem too small for it: to
// a small ext4 from another filesystem (read/write), within an ext4
// (copy_file_range and the hole-preserving copy), and within a btrfs with
// byte copies forced. Some files fail with ENOSPC; every file that exists
// under its final name is complete.
func TestFaultFullDisk(t *testing.T) {
	t.Run("ext4FromBtrfs", func(t *testing.T) {
		from := mountFS(t, fsBtrfs, "256M") // about 180 MB free
		src := filepath.Join(from, "src")
		makeFaultTree(t, src, faultTreeSize{big: 20, bigSize: 7 << 20, small: 300, sparse: 4}, 1)
		srcFP := testtree.Fingerprint(t, src)
		to := mountFS(t, fsExt4, "64M")
		dst := filepath.Join(to, "dst")
		mustOverflow(t, to, fileBytes(srcFP))
		r := cowcp(t, "-a", "--json", src, dst)
		checkFullDisk(t, r, srcFP, src, dst)
		sourceUnchanged(t, src, srcFP)

		// The same btrfs, its tree copied with byte copies forced.
		t.Run("btrfsNever", func(t *testing.T) {
			dst := filepath.Join(from, "dst")
			mustOverflow(t, from, fileBytes(srcFP))
			r := cowcp(t, "-a", "--reflink=never", "--json", src, dst)
			checkFullDisk(t, r, srcFP, src, dst)
			sourceUnchanged(t, src, srcFP)
		})
	})

	t.Run("ext4", func(t *testing.T) {
		mnt := mountFS(t, fsExt4, "160M")
		src := filepath.Join(mnt, "src")
		makeFaultTree(t, src, faultTreeSize{big: 12, bigSize: 6 << 20, small: 200, sparse: 6}, 2)
		srcFP := testtree.Fingerprint(t, src)
		dst := filepath.Join(mnt, "dst")
		mustOverflow(t, mnt, fileBytes(srcFP))
		r := cowcp(t, "-a", "--json", src, dst)
		checkFullDisk(t, r, srcFP, src, dst)
		sourceUnchanged(t, src, srcFP)
	})
}

// fillFS fills the filesystem at mnt with a file, then frees room bytes
// of it; it returns the free space then left. It writes until ENOSPC
// twice, syncing between, since ext4 gives back delayed-allocation
// reservations on sync.
func fillFS(t testing.TB, mnt string, room int64) int64 {
	t.Helper()
	p := filepath.Join(mnt, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	for _, chunk := range []int{1 << 20, 4096} {
		buf := bytes.Repeat([]byte{0x5a}, chunk)
		for {
			w, err := f.Write(buf)
			n += int64(w)
			if errors.Is(err, unix.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("filling %s: %v", mnt, err)
			}
		}
		if err := f.Sync(); err != nil && !errors.Is(err, unix.ENOSPC) {
			t.Fatalf("filling %s: %v", mnt, err)
		}
	}
	if err := f.Truncate(max(0, n-room)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	syncFS(t, mnt)
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bfree) * int64(st.Bsize)
}

// TestFaultReplaceFullDisk: on a full disk, replacing an existing file
// fails and the destination keeps its old content, whole; a new file that
// fails leaves nothing at its name. Dense and sparse sources, one file and
// a tree.
func TestFaultReplaceFullDisk(t *testing.T) {
	mnt := mountFS(t, fsExt4, "64M")
	srcDir, dstDir := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
	for _, d := range []string{srcDir, dstDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Files whose old versions exist in the destination: one, a sparse
	// one (4.5 MiB of data in 9 MiB), and a tree.
	names := []string{"one", "holes", "tree/a", "tree/b", "tree/sub/c"}
	old := map[string]string{}
	for i, n := range names {
		for _, d := range []string{srcDir, dstDir} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(d, n)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if n == "holes" {
			testtree.WriteFile(t, filepath.Join(srcDir, n), 9<<20+3,
				testtree.Random(0, 100+uint64(i), 512<<10), testtree.Random(3<<20, 100+uint64(i)<<32, 4<<20))
		} else {
			testtree.WriteRandom(t, filepath.Join(srcDir, n), 6<<20+int64(i)*1000+3, 100+uint64(i))
		}
		old[n] = testtree.WriteRandom(t, filepath.Join(dstDir, n), 1<<20+int64(i)*777+5, 200+uint64(i))
	}
	srcFP := testtree.Fingerprint(t, srcDir)
	free := fillFS(t, mnt, 1<<20)
	t.Logf("%d bytes free after filling", free)
	if free >= 9<<19 {
		t.Fatalf("%d bytes free after filling: more than the 4.5 MiB of data of the smallest source", free)
	}

	check := func(t *testing.T, r result, replaced, fresh []string) {
		t.Helper()
		if r.code == 0 {
			t.Fatalf("the copy succeeded on a full disk (%d bytes free before): this test proves nothing\nstderr: %s", free, r.stderr)
		}
		if r.code != 1 || !strings.Contains(r.stderr, "No space left on device") {
			t.Errorf("exit %d, stderr %q; want 1 and No space left on device", r.code, r.stderr)
		}
		for _, n := range replaced {
			p := filepath.Join(dstDir, n)
			if got := fileSHA256(t, p); got != old[n] {
				t.Errorf("%s: content changed by a replacement that failed (sha256 %s, old %s)", p, got, old[n])
			}
		}
		for _, p := range fresh {
			if fi, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after its copy failed (%v): %d bytes", p, err, fi.Size())
			}
		}
		if left := scratchLeft(t, mnt); len(left) > 0 {
			t.Errorf("temporary files left: %q", left)
		}
		sourceUnchanged(t, srcDir, srcFP)
	}
	t.Run("file", func(t *testing.T) {
		check(t, cowcp(t, filepath.Join(srcDir, "one"), filepath.Join(dstDir, "one")), []string{"one"}, nil)
	})
	t.Run("sparseFile", func(t *testing.T) {
		check(t, cowcp(t, filepath.Join(srcDir, "holes"), filepath.Join(dstDir, "holes")), []string{"holes"}, nil)
	})
	t.Run("tree", func(t *testing.T) {
		check(t, cowcp(t, "-a", "--reflink=never", filepath.Join(srcDir, "tree"), dstDir), names[2:], nil)
	})
	t.Run("newFile", func(t *testing.T) {
		p := filepath.Join(dstDir, "new-one")
		check(t, cowcp(t, "--reflink=never", filepath.Join(srcDir, "one"), p), nil, []string{p})
	})
	t.Run("newSparseFile", func(t *testing.T) {
		p := filepath.Join(dstDir, "new-holes")
		check(t, cowcp(t, filepath.Join(srcDir, "holes"), p), nil, []string{p})
	})
}

// startCowcp starts cowcp with args, its output going to the returned
// buffers.
func startCowcp(t testing.TB, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(cowcpBin, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting cowcp %q: %v", args, err)
	}
	return cmd, &so, &se
}

// waitTemp polls dir until a cowcp temporary file of at least size
// bytes appears in it, or until timeout; it reports whether one did.
func waitTemp(dir string, size int64, timeout time.Duration) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(time.Millisecond) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !isTemp(e.Name()) {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.Size() >= size {
				return true
			}
		}
	}
	return false
}

// exitStatus is the exit status of a finished command as a shell shows
// it: 128+N when signal N killed it (cowcp dies by SIGINT, SIGHUP and
// SIGTERM after cleaning up, as cp would die by them).
func exitStatus(t testing.TB, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("waiting for cowcp: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// waitMidCopy polls dir until it holds both a complete file and a
// cowcp temporary file of at least 1 MiB (a copy under way), or until
// timeout; it reports whether it saw that.
func waitMidCopy(dir string, timeout time.Duration) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(time.Millisecond) {
		ents, _ := os.ReadDir(dir)
		var done, inFlight bool
		for _, e := range ents {
			if !isTemp(e.Name()) {
				done = true
			} else if fi, err := e.Info(); err == nil && fi.Size() >= 1<<20 {
				inFlight = true
			}
		}
		if done && inFlight {
			return true
		}
	}
	return false
}

// TestFaultInterrupt: Ctrl-C (or SIGTERM) in the middle of a byte copy of
// a big tree exits 130 (143), reports the interruption, and leaves only
// complete files and no temporary file.
func TestFaultInterrupt(t *testing.T) {
	mnt := mountFS(t, fsExt4, "2G")
	specs := []faultTreeSize{
		{big: 40, bigSize: 8 << 20, small: 400},
		{big: 80, bigSize: 9 << 20, small: 400},
	}
	trees := make([]string, len(specs))
	fps := make([]testtree.Manifest, len(specs))
	tree := func(t *testing.T, i int) (string, testtree.Manifest) {
		if trees[i] == "" {
			trees[i] = filepath.Join(mnt, fmt.Sprintf("src%d", i))
			makeFaultTree(t, trees[i], specs[i], 10*uint64(i+1))
			fps[i] = testtree.Fingerprint(t, trees[i])
		}
		return trees[i], fps[i]
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			for attempt := range specs {
				src, srcFP := tree(t, attempt)
				dst := filepath.Join(mnt, fmt.Sprintf("dst-%d-%d", sig, attempt))
				cmd, so, se := startCowcp(t, "-a", "--reflink=never", "--json", src, dst)
				started := time.Now()
				midCopy := waitMidCopy(filepath.Join(dst, "big"), 20*time.Second)
				if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				code := exitStatus(t, cmd.Wait())
				t.Logf("attempt %d: %v %.0f ms after the start (mid-copy: %v); exit %d",
					attempt, sig, time.Since(started).Seconds()*1000, midCopy, code)
				if code == 0 {
					t.Logf("the copy finished before the signal; trying a bigger tree")
					if err := os.RemoveAll(dst); err != nil {
						t.Fatal(err)
					}
					continue
				}
				r := result{code: code, stdout: so.String(), stderr: se.String()}
				if want := 128 + int(sig.(syscall.Signal)); code != want {
					t.Errorf("exit %d after %v, want %d\nstderr: %.3000s", code, sig, want, r.stderr)
				}
				if rep := parseReport(t, r); !rep.Interrupted {
					t.Errorf("report: interrupted is false after %v", sig)
				}
				missing := checkWholeFiles(t, srcFP, dst)
				t.Logf("%d of the files not copied; %d entries in the source", len(missing), len(srcFP))
				if left := scratchLeft(t, mnt); len(left) > 0 {
					t.Errorf("temporary files left after %v: %q", sig, left)
				}
				sourceUnchanged(t, src, srcFP)
				if err := os.RemoveAll(dst); err != nil {
					t.Fatal(err)
				}
				if len(missing) > 0 {
					return
				}
				t.Logf("the whole tree was copied before the signal took effect; trying a bigger tree")
			}
			t.Skipf("no copy was cut short by %v: this machine is too fast for the trees here", sig)
		})
	}
}

// TestFaultKillReplace: kill -9 while a large file replaces an existing
// one; the destination name then holds the old content or the new, whole.
func TestFaultKillReplace(t *testing.T) {
	mnt := mountFS(t, fsBtrfs, "2G")
	dir := filepath.Join(mnt, "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for attempt, size := range []int64{256 << 20, 512 << 20} {
		src, dst := filepath.Join(mnt, fmt.Sprintf("new%d", attempt)), filepath.Join(dir, "file")
		newSum := testtree.WriteRandom(t, src, size+12345, 300+uint64(attempt))
		oldSum := testtree.WriteRandom(t, dst, size/2+777, 400+uint64(attempt))
		syncFS(t, mnt)
		srcFP := testtree.Fingerprint(t, src)

		cmd, _, se := startCowcp(t, "--reflink=never", src, dst)
		midCopy := waitTemp(dir, 16<<20, 30*time.Second)
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		err := cmd.Wait()
		killed := false
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				killed = true
			}
		}
		if !killed || !midCopy {
			t.Logf("attempt %d: not killed mid-copy (temporary file seen: %v, wait: %v, stderr %q); trying a bigger file",
				attempt, midCopy, err, se.String())
			if err := os.Remove(src); err != nil {
				t.Fatal(err)
			}
			continue
		}
		syncFS(t, mnt)
		var st unix.Stat_t
		if err := unix.Stat(dst, &st); err != nil {
			t.Fatalf("%s after kill -9: %v", dst, err)
		}
		switch got := fileSHA256(t, dst); got {
		case oldSum:
			t.Logf("after kill -9 mid-copy %s holds its old content (%d bytes)", dst, st.Size)
		case newSum:
			t.Logf("after kill -9 mid-copy %s holds the new content (%d bytes)", dst, st.Size)
		default:
			t.Errorf("after kill -9 %s holds neither the old nor the new content: %d bytes (old %d, new %d)",
				dst, st.Size, size/2+777, size+12345)
		}
		t.Logf("left after kill -9: %q", scratchLeft(t, dir))
		sourceUnchanged(t, src, srcFP)
		return
	}
	t.Skip("cowcp finished before it could be killed mid-copy, even with the biggest file here")
}

// waitEntries polls dir until it has at least n entries, or until
// timeout; it reports whether it did.
func waitEntries(dir string, n int, timeout time.Duration) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if ents, _ := os.ReadDir(dir); len(ents) >= n {
			return true
		}
	}
	return false
}

// TestFaultSignalClone: SIGINT, and kill -9, while cowcp clones a tree of
// small files on btrfs, where each new file is made by one FICLONE: every
// file under its final name is complete (the README: "never a truncated
// file under the real name", even after kill -9).
func TestFaultSignalClone(t *testing.T) {
	mnt := mountFS(t, fsBtrfs, "1G")
	src := filepath.Join(mnt, "src")
	makeFaultTree(t, src, faultTreeSize{small: 6000}, 50)
	srcFP := testtree.Fingerprint(t, src)
	for _, c := range []struct {
		sig   os.Signal
		kills int // mid-copy runs to check
	}{{os.Interrupt, 1}, {os.Kill, 3}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			checked := 0
			for attempt := 0; attempt < 2*c.kills && checked < c.kills; attempt++ {
				dst := filepath.Join(mnt, fmt.Sprintf("dst-%d", attempt))
				cmd, _, se := startCowcp(t, "-a", "-q", src, dst)
				// Signal once the walk has made a few directories: files
				// are being cloned then.
				waitEntries(filepath.Join(dst, "small"), 4+attempt, 20*time.Second)
				if err := cmd.Process.Signal(c.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				code := exitStatus(t, cmd.Wait())
				if code == 0 {
					t.Logf("attempt %d: the copy finished before the signal", attempt)
					if err := os.RemoveAll(dst); err != nil {
						t.Fatal(err)
					}
					continue
				}
				checked++
				if c.sig == os.Interrupt && code != 130 {
					t.Errorf("exit %d after SIGINT, want 130\nstderr: %.3000s", code, se.String())
				}
				if c.sig == os.Kill && code != 128+int(syscall.SIGKILL) {
					t.Errorf("exit %d after SIGKILL: not killed by the signal", code)
				}
				missing := checkWholeFiles(t, srcFP, dst)
				left := scratchLeft(t, dst)
				t.Logf("attempt %d: %v: exit %d; %d files not copied; %d temporary files left", attempt, c.sig, code, len(missing), len(left))
				if c.sig == os.Interrupt && len(left) > 0 {
					t.Errorf("temporary files left after SIGINT: %q", left)
				}
				if err := os.RemoveAll(dst); err != nil {
					t.Fatal(err)
				}
			}
			sourceUnchanged(t, src, srcFP)
			if checked == 0 {
				t.Skipf("every copy finished before %v arrived", c.sig)
			}
		})
	}
}
