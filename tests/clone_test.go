package tests

// End-to-end tests of cloning (issue 2): cowcp runs on real loopback btrfs,
// XFS and ext4 filesystems, and every claim about sharing is checked by
// measurement (filefrag's FIEMAP shared flags, btrfs's own accounting,
// statfs used space), never by cowcp's exit code or its report alone.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cloneTMustCopy runs cowcp and fails unless it exits 0.
func cloneTMustCopy(t testing.TB, env []string, args ...string) cowcpReport {
	t.Helper()
	r := runEnv(t, env, cowcpBin, args...)
	if r.code != 0 {
		t.Fatalf("cowcp %q: exit %d\nstderr: %s\nstdout: %s", args, r.code, r.stderr, r.stdout)
	}
	return parseReport(t, r)
}

// cloneTSeg is a run of data written at Off, Len bytes long.
type cloneTSeg struct{ Off, Len int64 }

// cloneTWrite creates path with incompressible data in segs and size size;
// what lies outside segs is a hole. It returns the file's content.
func cloneTWrite(t testing.TB, path string, size int64, segs ...cloneTSeg) []byte {
	t.Helper()
	rng := rand.New(rand.NewChaCha8([32]byte([]byte(fmt.Sprintf("%-32.32s", path)))))
	want := make([]byte, size)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range segs {
		b := want[s.Off : s.Off+s.Len]
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(b, s.Off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// cloneTGoroot copies the Go distribution into dir/go with `cp -a` and
// returns that path.
func cloneTGoroot(t testing.TB, dir string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	src := filepath.Join(dir, "go")
	if out, err := exec.Command("cp", "-a", goroot, src).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", goroot, src, err, out)
	}
	return src
}

// cloneTTree counts what a tree holds.
type cloneTTree struct {
	files, dirs, symlinks, others int64
	bytes                         int64    // st_size of regular files
	regular                       []string // paths of regular files in the copy
}

// cloneTCompareTrees walks src and dst and reports every difference in
// type, mode, ownership, size, ns mtime, content or symlink target, and any
// entry only one side has. It returns the counts of src and the copy's
// regular files.
func cloneTCompareTrees(t testing.TB, src, dst string) cloneTTree {
	t.Helper()
	var tr cloneTTree
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	diffs := 0
	diff := func(format string, args ...any) {
		t.Helper()
		if diffs++; diffs <= 20 {
			t.Errorf(format, args...)
		}
	}
	err := filepath.WalkDir(src, func(sp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, sp)
		dp := filepath.Join(dst, rel)
		var ss, ds unix.Stat_t
		if err := unix.Lstat(sp, &ss); err != nil {
			return err
		}
		if err := unix.Lstat(dp, &ds); err != nil {
			diff("%s: missing in the copy: %v", rel, err)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ss.Mode != ds.Mode || ss.Uid != ds.Uid || ss.Gid != ds.Gid {
			diff("%s: mode/uid/gid %o %d:%d, copy has %o %d:%d", rel, ss.Mode, ss.Uid, ss.Gid, ds.Mode, ds.Uid, ds.Gid)
		}
		if ss.Mtim != ds.Mtim {
			diff("%s: mtime %d.%09d, copy has %d.%09d", rel, ss.Mtim.Sec, ss.Mtim.Nsec, ds.Mtim.Sec, ds.Mtim.Nsec)
		}
		switch ss.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			tr.files++
			tr.bytes += ss.Size
			tr.regular = append(tr.regular, dp)
			if ss.Size != ds.Size {
				diff("%s: size %d, copy has %d", rel, ss.Size, ds.Size)
			} else if same, err := cloneTSameContent(sp, dp, ba, bb); err != nil || !same {
				diff("%s: content differs (%v)", rel, err)
			}
		case unix.S_IFDIR:
			tr.dirs++
		case unix.S_IFLNK:
			tr.symlinks++
			sl, err1 := os.Readlink(sp)
			dl, err2 := os.Readlink(dp)
			if sl != dl || err1 != nil || err2 != nil {
				diff("%s: symlink to %q, copy to %q (%v, %v)", rel, sl, dl, err1, err2)
			}
		default:
			tr.others++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", src, err)
	}
	var n int64
	err = filepath.WalkDir(dst, func(dp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(dst, dp)
		if _, err := os.Lstat(filepath.Join(src, rel)); err != nil {
			diff("%s: in the copy but not in the source", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dst, err)
	}
	if all := tr.files + tr.dirs + tr.symlinks + tr.others; n != all {
		diff("copy has %d entries, source %d", n, all)
	}
	if diffs > 20 {
		t.Errorf("... and %d more differences", diffs-20)
	}
	return tr
}

// cloneTSameContent compares two files byte by byte, reading into ba and
// bb (equal lengths).
func cloneTSameContent(a, b string, ba, bb []byte) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}

// cloneTCheckContent fails unless path holds exactly want.
func cloneTCheckContent(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: content differs from what was written (%d bytes, want %d)", path, len(got), len(want))
	}
}

// cloneTNoClone fails if the report claims any cloning.
func cloneTNoClone(t testing.TB, rep cowcpReport) {
	t.Helper()
	if rep.Methods.Ficlone != 0 || rep.Methods.Ficlonerange != 0 || rep.ClonedBytes != 0 || rep.SavedBytes != 0 {
		t.Errorf("report claims cloning where none is possible: methods %+v, cloned_bytes %d, saved_bytes %d",
			rep.Methods, rep.ClonedBytes, rep.SavedBytes)
	}
	if rep.CopiedBytes != rep.Bytes {
		t.Errorf("report: copied_bytes %d, want all %d bytes", rep.CopiedBytes, rep.Bytes)
	}
}

// TestCloneGoTree clones the Go distribution on btrfs and XFS and proves by
// measurement that the copy shares nearly all its data with the source.
func TestCloneGoTree(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "2G")
			start := time.Now()
			phase := func(what string) {
				t.Logf("%s: %s took %.1fs", kind, what, time.Since(start).Seconds())
				start = time.Now()
			}
			src := cloneTGoroot(t, mnt)
			before := usedBytes(t, mnt)
			phase("cp -a of GOROOT")

			dst := filepath.Join(mnt, "clone")
			rep := cloneTMustCopy(t, nil, "-a", "--json", src, dst)
			growth := usedBytes(t, mnt) - before
			phase("cowcp -a")
			tr := cloneTCompareTrees(t, src, dst)
			phase("comparing the trees")
			t.Logf("%s: %d files, %d dirs, %d symlinks, %d bytes; report %+v; used space grew %d bytes",
				kind, tr.files, tr.dirs, tr.symlinks, tr.bytes, rep, growth)

			if tr.files < 1000 || tr.bytes < 50<<20 {
				t.Fatalf("the Go tree is too small to prove anything: %d files, %d bytes", tr.files, tr.bytes)
			}
			if rep.Files != tr.files || rep.Dirs != tr.dirs || rep.Symlinks != tr.symlinks || rep.Bytes != tr.bytes {
				t.Errorf("report counts files/dirs/symlinks/bytes %d/%d/%d/%d, the tree has %d/%d/%d/%d",
					rep.Files, rep.Dirs, rep.Symlinks, rep.Bytes, tr.files, tr.dirs, tr.symlinks, tr.bytes)
			}
			if rep.Errors != 0 {
				t.Errorf("report: %d errors: %+v", rep.Errors, rep.Failures)
			}
			if rep.ClonedBytes*100 < tr.bytes*99 {
				t.Errorf("report: cloned_bytes %d < 99%% of %d", rep.ClonedBytes, tr.bytes)
			}
			if rep.SavedBytes*100 < tr.bytes*95 {
				t.Errorf("report: saved_bytes %d < 95%% of %d", rep.SavedBytes, tr.bytes)
			}

			// Measured: used space.
			if growth*4 >= tr.bytes {
				t.Errorf("used space grew %d bytes, not well under a quarter of the tree's %d", growth, tr.bytes)
			}

			// Measured: FIEMAP shared flags on every file of the copy.
			syncFS(t, mnt)
			var shared, sharedData, total, inline int64
			unshared := 0
			for p, fi := range filefragMany(t, tr.regular) {
				shared += fi.SharedBytes
				sharedData += fi.SharedData
				total += fi.TotalBytes
				inline += fi.InlineBytes
				if fi.Size >= 64<<10 && (fi.TotalBytes == 0 || fi.SharedBytes != fi.TotalBytes) {
					if unshared++; unshared <= 10 {
						t.Errorf("%s: %d of %d extent bytes shared (flags %v); a cloned file shares all", p, fi.SharedBytes, fi.TotalBytes, fi.Flags)
					}
				}
			}
			phase("filefrag")
			t.Logf("filefrag: %d of %d extent bytes shared (%d inline)", shared, total, inline)
			if unshared > 10 {
				t.Errorf("... %d files of 64 KiB or more not fully shared", unshared)
			}
			if shared*100 < tr.bytes*95 {
				t.Errorf("filefrag: only %d bytes of the copy shared, < 95%% of %d", shared, tr.bytes)
			}
			// The report must not claim more sharing than the disk shows.
			if rep.SavedBytes > sharedData {
				t.Errorf("report: saved_bytes %d, but filefrag finds only %d bytes of file data shared", rep.SavedBytes, sharedData)
			}

			if kind == fsBtrfs {
				u := btrfsDiskUsage(t, dst)
				t.Logf("btrfs filesystem du %s: %+v", dst, u)
				if u.Total == 0 || u.Exclusive*20 > u.Total || u.SetShared*100 < u.Total*95 {
					t.Errorf("btrfs filesystem du: total %d, exclusive %d, shared %d; want >= 95%% shared",
						u.Total, u.Exclusive, u.SetShared)
				}
			}
		})
	}
}

// TestCloneSavedMatchesDisk: for each kind of file, the saved_bytes cowcp
// reports is exactly the file data FIEMAP shows shared after the clone: not
// a btrfs inline extent (copied, not shared), not a hole.
func TestCloneSavedMatchesDisk(t *testing.T) {
	files := []struct {
		name string
		size int64
		segs []cloneTSeg
	}{
		{"Tiny", 1000, []cloneTSeg{{0, 1000}}}, // inline on btrfs
		{"UnalignedTail", 3000, []cloneTSeg{{0, 3000}}},
		{"Large", 2<<20 + 1, []cloneTSeg{{0, 2<<20 + 1}}},
		{"DataHoleData", 5 << 20, []cloneTSeg{{0, 1 << 20}, {4 << 20, 1 << 20}}},
		{"HoleAtEnd", 3 << 20, []cloneTSeg{{0, 1 << 20}}},
		{"AllHole", 1 << 20, nil},
	}
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "512M")
			for _, f := range files {
				src := filepath.Join(mnt, f.name)
				cloneTWrite(t, src, f.size, f.segs...)
			}
			syncFS(t, mnt)
			for _, f := range files {
				t.Run(f.name, func(t *testing.T) {
					src, dst := filepath.Join(mnt, f.name), filepath.Join(mnt, f.name+".copy")
					rep := cloneTMustCopy(t, nil, "--json", src, dst)
					if same, err := cloneTSameContent(src, dst, make([]byte, 1<<20), make([]byte, 1<<20)); !same || err != nil {
						t.Fatalf("copy differs from source (%v)", err)
					}
					syncFS(t, mnt)
					fi := filefragMany(t, []string{dst})[dst]
					if rep.SavedBytes != fi.SharedData {
						t.Errorf("report: saved_bytes %d (cloned_bytes %d, methods %+v); filefrag shows %d bytes of data shared (extents %v)",
							rep.SavedBytes, rep.ClonedBytes, rep.Methods, fi.SharedData, fi.Flags)
					}
				})
			}
		})
	}
}

// cloneTSparseCases are the files the fallback tests copy.
var cloneTSparseCases = []struct {
	name string
	size int64
	segs []cloneTSeg
}{
	{"DataHoleData", 5 << 20, []cloneTSeg{{0, 1 << 20}, {4 << 20, 1 << 20}}},
	{"HoleAtEnd", 6 << 20, []cloneTSeg{{0, 1 << 20}}},
	{"HoleAtStart", 3 << 20, []cloneTSeg{{2 << 20, 1 << 20}}},
	{"DataHoleDataHoleAtEnd", 9 << 20, []cloneTSeg{{0, 1 << 20}, {3 << 20, 2 << 20}}},
	{"AllHole", 4 << 20, nil},
	{"Dense", 3<<20 + 123, []cloneTSeg{{0, 3<<20 + 123}}},
	{"Small", 100, []cloneTSeg{{0, 100}}},
	{"Empty", 0, nil},
}

// cloneTMakeSparse writes cloneTSparseCases into dir and returns their
// contents by name.
func cloneTMakeSparse(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, c := range cloneTSparseCases {
		want[c.name] = cloneTWrite(t, filepath.Join(dir, c.name), c.size, c.segs...)
	}
	syncFS(t, dir)
	return want
}

// cloneTCheckSparse checks that each copied file has the source's content,
// allocation and data/hole map.
func cloneTCheckSparse(t *testing.T, src, dst string, want map[string][]byte) {
	t.Helper()
	syncFS(t, dst)
	for _, c := range cloneTSparseCases {
		t.Run(c.name, func(t *testing.T) {
			sp, dp := filepath.Join(src, c.name), filepath.Join(dst, c.name)
			cloneTCheckContent(t, dp, want[c.name])
			ss, ds := dataSegments(t, sp), dataSegments(t, dp)
			if fmt.Sprint(ss) != fmt.Sprint(ds) {
				t.Errorf("data/hole map: source %v, copy %v", ss, ds)
			}
			if a, b := allocatedBytes(t, sp), allocatedBytes(t, dp); a != b {
				t.Errorf("allocated: source %d bytes, copy %d", a, b)
			}
			if shared, _ := filefragShared(t, dp); shared != 0 {
				t.Errorf("copy has %d shared bytes, want none", shared)
			}
		})
	}
}

// TestCloneExt4Fallback: ext4 cannot clone, so cowcp -a copies bytes,
// exactly, keeping holes, and its report says no clone happened.
func TestCloneExt4Fallback(t *testing.T) {
	t.Parallel()
	mnt := mountFS(t, fsExt4, "256M")
	src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
	want := cloneTMakeSparse(t, src)
	rep := cloneTMustCopy(t, nil, "-a", "--json", src, dst)
	tr := cloneTCompareTrees(t, src, dst)
	if rep.Files != tr.files || rep.Bytes != tr.bytes {
		t.Errorf("report: %d files, %d bytes; tree has %d, %d", rep.Files, rep.Bytes, tr.files, tr.bytes)
	}
	cloneTNoClone(t, rep)
	cloneTCheckSparse(t, src, dst, want)
}

// TestCloneBtrfsToXFS: two filesystems cannot share extents, so the copy
// falls back to copying bytes.
func TestCloneBtrfsToXFS(t *testing.T) {
	t.Parallel()
	from, to := mountFS(t, fsBtrfs, "512M"), mountFS(t, fsXFS, "512M")
	src, dst := filepath.Join(from, "src"), filepath.Join(to, "dst")
	want := cloneTMakeSparse(t, src)
	big := cloneTWrite(t, filepath.Join(from, "big"), 8<<20+5, cloneTSeg{0, 8<<20 + 5})
	syncFS(t, from)

	rep := cloneTMustCopy(t, nil, "-a", "--json", src, dst)
	tr := cloneTCompareTrees(t, src, dst)
	if rep.Files != tr.files || rep.Bytes != tr.bytes {
		t.Errorf("report: %d files, %d bytes; tree has %d, %d", rep.Files, rep.Bytes, tr.files, tr.bytes)
	}
	cloneTNoClone(t, rep)
	cloneTCheckSparse(t, src, dst, want)

	// A single large file, too, with the default and with a small chunk.
	for i, env := range [][]string{nil, {"COWCP_CLONE_CHUNK=1048576"}} {
		d := filepath.Join(to, fmt.Sprintf("big%d", i))
		rep := cloneTMustCopy(t, env, "--json", filepath.Join(from, "big"), d)
		cloneTNoClone(t, rep)
		cloneTCheckContent(t, d, big)
		if shared, total := filefragShared(t, d); shared != 0 || total < int64(len(big)) {
			t.Errorf("%s: %d of %d bytes shared; want a full unshared copy of %d", d, shared, total, len(big))
		}
	}
}

// TestCloneReflinkAlwaysFails: where cloning is impossible,
// --reflink=always fails each file with a cp-style message and leaves
// nothing at its name, nor any temporary file.
func TestCloneReflinkAlwaysFails(t *testing.T) {
	cases := []struct {
		name     string
		from, to func(t *testing.T) string
	}{
		{"ext4", func(t *testing.T) string { return mountFS(t, fsExt4, "128M") }, nil},
		{"btrfsToXFS", func(t *testing.T) string { return mountFS(t, fsBtrfs, "256M") },
			func(t *testing.T) string { return mountFS(t, fsXFS, "300M") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			from := c.from(t)
			to := from
			if c.to != nil {
				to = c.to(t)
			}
			srcDir := filepath.Join(from, "src")
			if err := os.MkdirAll(filepath.Join(srcDir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			cloneTWrite(t, filepath.Join(srcDir, "a"), 1<<20, cloneTSeg{0, 1 << 20})
			cloneTWrite(t, filepath.Join(srcDir, "sub", "b"), 10000, cloneTSeg{0, 10000})
			out := filepath.Join(to, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}

			// One file.
			src, dst := filepath.Join(srcDir, "a"), filepath.Join(out, "a-copy")
			r := cowcp(t, "--reflink=always", src, dst)
			if r.code != 1 {
				t.Errorf("cowcp --reflink=always %s %s: exit %d, want 1", src, dst, r.code)
			}
			if !strings.HasPrefix(r.stderr, "cowcp: ") || !(strings.Contains(r.stderr, "'"+dst+"'") || strings.Contains(r.stderr, "'"+src+"'")) {
				t.Errorf("stderr %q: want a cp-style error naming '%s' or '%s'", r.stderr, dst, src)
			}
			if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after a failed --reflink=always copy (%v)", dst, err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("left in %s: %v", out, ents)
			}

			// A tree: every file fails, and no file (temporary or not) is left.
			tree := filepath.Join(out, "tree")
			r = cowcp(t, "-a", "--reflink=always", "--json", srcDir, tree)
			if r.code != 1 {
				t.Errorf("cowcp -a --reflink=always %s %s: exit %d, want 1\nstderr: %s", srcDir, tree, r.code, r.stderr)
			}
			rep := parseReport(t, r)
			if rep.Errors != 2 || len(rep.Failures) != 2 {
				t.Errorf("report: %d errors, failures %+v; want the 2 files", rep.Errors, rep.Failures)
			}
			for _, name := range []string{"a", "sub/b"} {
				s, d := filepath.Join(srcDir, name), filepath.Join(tree, name)
				if !strings.Contains(r.stderr, "'"+s+"'") && !strings.Contains(r.stderr, "'"+d+"'") {
					t.Errorf("stderr does not name '%s' or '%s': %q", s, d, r.stderr)
				}
			}
			filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("%s left behind by a failed --reflink=always copy", p)
				}
				return nil
			})
		})
	}
}

// TestCloneReflinkNever: --reflink=never on btrfs makes a true copy: no
// extent of the copy or the source is shared, and the space is really used.
func TestCloneReflinkNever(t *testing.T) {
	t.Parallel()
	mnt := mountFS(t, fsBtrfs, "512M")
	src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
	const size = 16<<20 + 777
	want := cloneTWrite(t, src, size, cloneTSeg{0, size})
	before := usedBytes(t, mnt)

	rep := cloneTMustCopy(t, nil, "--reflink=never", "--json", src, dst)
	growth := usedBytes(t, mnt) - before
	cloneTCheckContent(t, dst, want)
	cloneTNoClone(t, rep)
	if rep.Methods.CopyFileRange != 0 {
		t.Errorf("report: copy_file_range used %d times under --reflink=never", rep.Methods.CopyFileRange)
	}
	for _, p := range []string{dst, src} {
		if shared, total := filefragShared(t, p); shared != 0 || total < size {
			t.Errorf("%s: %d of %d extent bytes shared; want none of >= %d", p, shared, total, size)
		}
	}
	if growth < size*9/10 {
		t.Errorf("used space grew %d bytes for a %d-byte true copy", growth, size)
	}
}

// TestCloneChunked: a file larger than the clone chunk is cloned range by
// range with FICLONERANGE, and every extent of the copy is shared.
func TestCloneChunked(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "512M")
			src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
			const size = 8<<20 + 3<<10 // not a multiple of the chunk or the block
			want := cloneTWrite(t, src, size, cloneTSeg{0, size})
			before := usedBytes(t, mnt)

			rep := cloneTMustCopy(t, []string{"COWCP_CLONE_CHUNK=1048576"}, "--json", src, dst)
			growth := usedBytes(t, mnt) - before
			cloneTCheckContent(t, dst, want)
			if rep.Methods.Ficlonerange < 1 || rep.ClonedBytes != size {
				t.Errorf("report: methods %+v, cloned_bytes %d; want FICLONERANGE for all %d bytes", rep.Methods, rep.ClonedBytes, size)
			}
			for _, p := range []string{dst, src} {
				shared, total := filefragShared(t, p)
				if total < size || shared != total {
					t.Errorf("%s: %d of %d extent bytes shared; want all of >= %d", p, shared, total, size)
				}
			}
			if growth*4 >= size {
				t.Errorf("used space grew %d bytes for a clone of %d", growth, size)
			}
		})
	}
}

// TestCloneWriteIsolation: writing to a clone never changes the source.
func TestCloneWriteIsolation(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "512M")
			src, dst := filepath.Join(mnt, "src"), filepath.Join(mnt, "dst")
			const size = 4 << 20
			want := cloneTWrite(t, src, size, cloneTSeg{0, size})
			syncFS(t, mnt)
			var before unix.Stat_t
			if err := unix.Stat(src, &before); err != nil {
				t.Fatal(err)
			}
			hash := fileSHA256(t, src)

			cloneTMustCopy(t, nil, "--json", src, dst)
			if shared, total := filefragShared(t, dst); total == 0 || shared != total {
				t.Fatalf("copy not fully shared (%d of %d bytes), so this test would prove nothing", shared, total)
			}

			// Overwrite inside a shared extent, at the start, and append.
			f, err := os.OpenFile(dst, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			copyWant := bytes.Clone(want)
			for _, w := range []struct {
				off int64
				b   []byte
			}{
				{1 << 20, bytes.Repeat([]byte{0xAB}, 4096)},
				{0, []byte("overwritten")},
				{size - 10, bytes.Repeat([]byte("tail!"), 5000)},
			} {
				if _, err := f.WriteAt(w.b, w.off); err != nil {
					t.Fatal(err)
				}
				if end := w.off + int64(len(w.b)); end > int64(len(copyWant)) {
					copyWant = append(copyWant, make([]byte, end-int64(len(copyWant)))...)
				}
				copy(copyWant[w.off:], w.b)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			dropFileCache(t, src)
			dropFileCache(t, dst)
			cloneTCheckContent(t, dst, copyWant)
			if got := fileSHA256(t, src); got != hash {
				t.Errorf("source changed after writing to its clone: sha256 %s, was %s", got, hash)
			}
			shared, total := filefragShared(t, dst)
			if shared == 0 || shared >= total {
				t.Errorf("after writes the copy shares %d of %d bytes; want some but not all", shared, total)
			}

			// Truncating the copy leaves the source alone too.
			if err := os.Truncate(dst, 1000); err != nil {
				t.Fatal(err)
			}
			dropFileCache(t, src)
			if got := fileSHA256(t, src); got != hash {
				t.Errorf("source changed after truncating its clone")
			}
			var after unix.Stat_t
			if err := unix.Stat(src, &after); err != nil {
				t.Fatal(err)
			}
			if after.Size != before.Size || after.Mtim != before.Mtim || after.Ino != before.Ino {
				t.Errorf("source stat changed: size %d->%d, mtime %v->%v", before.Size, after.Size, before.Mtim, after.Mtim)
			}
		})
	}
}

// TestCloneExitCodes: a missing source among good ones fails only itself
// (exit 1, the others copied); a usage error exits 2 and copies nothing.
func TestCloneExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	wantA := cloneTWrite(t, a, 5000, cloneTSeg{0, 5000})
	wantB := cloneTWrite(t, b, 70000, cloneTSeg{0, 70000})
	missing := filepath.Join(dir, "missing")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}

	r := cowcp(t, "--json", a, missing, b, out)
	if r.code != 1 {
		t.Errorf("cowcp a missing b out: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	if want := "cowcp: cannot stat '" + missing + "': No such file or directory"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q; want %q", r.stderr, want)
	}
	rep := parseReport(t, r)
	if rep.Errors != 1 || len(rep.Failures) != 1 || rep.Failures[0].Path != missing || rep.Files != 2 {
		t.Errorf("report: %d files, %d errors, failures %+v; want 2 files and the missing one failed", rep.Files, rep.Errors, rep.Failures)
	}
	cloneTCheckContent(t, filepath.Join(out, "a"), wantA)
	cloneTCheckContent(t, filepath.Join(out, "b"), wantB)
	if _, err := os.Lstat(filepath.Join(out, "missing")); err == nil {
		t.Errorf("%s/missing exists", out)
	}

	for _, args := range [][]string{
		{"--no-such-flag", a, filepath.Join(dir, "c")},
		{"--reflink=sometimes", a, filepath.Join(dir, "c")},
		{"--sparse=bogus", a, filepath.Join(dir, "c")},
		{a},
	} {
		r := cowcp(t, args...)
		if r.code != 1 || r.stderr == "" {
			t.Errorf("cowcp %q: exit %d, stderr %q; want exit 1 (cp's for a usage error) with a message", args, r.code, r.stderr)
		}
		if _, err := os.Lstat(filepath.Join(dir, "c")); err == nil {
			t.Errorf("cowcp %q made %s/c", args, dir)
		}
	}
}
