package tests

// End-to-end tests of cloning: cowcp runs on real loopback btrfs,
// XFS and ext4 filesystems, and every claim about sharing is checked by
// measurement (filefrag's FIEMAP shared flags, btrfs's own accounting,
// statfs used space), never by cowcp's exit code or its report alone.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// mustCopy runs cowcp and fails unless it exits 0.
func mustCopy(t testing.TB, env []string, args ...string) cowcpReport {
	t.Helper()
	r := runEnv(t, env, cowcpBin, args...)
	if r.code != 0 {
		t.Fatalf("cowcp %q: exit %d\nstderr: %s\nstdout: %s", args, r.code, r.stderr, r.stdout)
	}
	return parseReport(t, r)
}

// treeCounts counts what a tree holds.
type treeCounts struct {
	files, dirs, symlinks, others int64
	bytes                         int64    // st_size of regular files
	regular                       []string // paths of regular files in the copy
}

// compareTrees compares the manifests of src and dst (testtree.Walk)
// and reports every difference: type, mode, owner, ns mtime, content, holes,
// links, xattrs, or an entry only one side has. It returns the counts of
// src and the copy's regular files.
func compareTrees(t testing.TB, src, dst string) treeCounts {
	t.Helper()
	var m [2]testtree.Manifest
	for i, root := range []string{src, dst} {
		var err error
		if m[i], err = testtree.Walk(root, testtree.WalkOptions{}); err != nil {
			t.Fatalf("walking %s: %v", root, err)
		}
	}
	if diffs := testtree.Diff(m[0], m[1], "source", "copy"); len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("… and %d more", len(diffs)-20))
		}
		t.Errorf("the copy %s differs from its source %s:\n\t%s", dst, src, strings.Join(diffs, "\n\t"))
	}
	var tr treeCounts
	for rel, e := range m[0] {
		switch e["type"] {
		case "file":
			size, _ := strconv.ParseInt(e["size"], 10, 64)
			tr.files++
			tr.bytes += size
			tr.regular = append(tr.regular, filepath.Join(dst, rel))
		case "dir":
			tr.dirs++
		case "symlink":
			tr.symlinks++
		default:
			tr.others++
		}
	}
	return tr
}

// checkContent fails unless path holds exactly want.
func checkContent(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: content differs from what was written (%d bytes, want %d)", path, len(got), len(want))
	}
}

// checkNoClone fails if the report claims any cloning.
func checkNoClone(t testing.TB, rep cowcpReport) {
	t.Helper()
	if rep.Methods.Ficlone != 0 || rep.Methods.Ficlonerange != 0 || rep.ClonedBytes != 0 || rep.SavedBytes != 0 {
		t.Errorf("report claims cloning where none is possible: methods %+v, cloned_bytes %d, saved_bytes %d",
			rep.Methods, rep.ClonedBytes, rep.SavedBytes)
	}
	if rep.CopiedBytes+rep.HoleBytes != rep.Bytes || rep.CopiedBytes == 0 && rep.Bytes > 0 {
		t.Errorf("report: copied_bytes %d + hole_bytes %d, want all %d bytes", rep.CopiedBytes, rep.HoleBytes, rep.Bytes)
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
			src := copyGoroot(t, mnt)
			before := usedBytes(t, mnt)
			phase("cp -a of GOROOT")

			dst := filepath.Join(mnt, "clone")
			rep := mustCopy(t, nil, "-a", "--json", src, dst)
			growth := usedBytes(t, mnt) - before
			phase("cowcp -a")
			tr := compareTrees(t, src, dst)
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
	files := []testtree.Node{
		testtree.S("Tiny", 1000, testtree.Random(0, 1, 1000)), // inline on btrfs
		testtree.S("UnalignedTail", 3000, testtree.Random(0, 2, 3000)),
		testtree.S("Large", 2<<20+1, testtree.Random(0, 3, 2<<20+1)),
		testtree.S("DataHoleData", 5<<20, testtree.Random(0, 4, 1<<20), testtree.Random(4<<20, 5, 1<<20)),
		testtree.S("HoleAtEnd", 3<<20, testtree.Random(0, 6, 1<<20)),
		testtree.S("AllHole", 1<<20),
	}
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "512M")
			dir := filepath.Join(mnt, "src")
			testtree.Build(t, dir, files)
			syncFS(t, mnt)
			for _, f := range files {
				t.Run(f.Path, func(t *testing.T) {
					src, dst := filepath.Join(dir, f.Path), filepath.Join(mnt, f.Path+".copy")
					rep := mustCopy(t, nil, "--json", src, dst)
					if checkContent(t, dst, f.Content()); t.Failed() {
						t.FailNow()
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

// sparseCases are the files the fallback tests copy.
var sparseCases = []testtree.Node{
	testtree.S("DataHoleData", 5<<20, testtree.Random(0, 11, 1<<20), testtree.Random(4<<20, 12, 1<<20)),
	testtree.S("HoleAtEnd", 6<<20, testtree.Random(0, 13, 1<<20)),
	testtree.S("HoleAtStart", 3<<20, testtree.Random(2<<20, 14, 1<<20)),
	testtree.S("DataHoleDataHoleAtEnd", 9<<20, testtree.Random(0, 15, 1<<20), testtree.Random(3<<20, 16, 2<<20)),
	testtree.S("AllHole", 4<<20),
	testtree.S("Dense", 3<<20+123, testtree.Random(0, 17, 3<<20+123)),
	testtree.S("Small", 100, testtree.Random(0, 18, 100)),
	testtree.S("Empty", 0),
}

// makeSparseFiles makes sparseCases in dir and returns their
// contents by name.
func makeSparseFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	testtree.Build(t, dir, sparseCases)
	syncFS(t, dir)
	want := map[string][]byte{}
	for _, c := range sparseCases {
		want[c.Path] = c.Content()
	}
	return want
}

// checkSparseCopies checks that each copied file has the source's content,
// allocation and data/hole map.
func checkSparseCopies(t *testing.T, src, dst string, want map[string][]byte) {
	t.Helper()
	syncFS(t, dst)
	for _, c := range sparseCases {
		t.Run(c.Path, func(t *testing.T) {
			sp, dp := filepath.Join(src, c.Path), filepath.Join(dst, c.Path)
			checkContent(t, dp, want[c.Path])
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
	want := makeSparseFiles(t, src)
	rep := mustCopy(t, nil, "-a", "--json", src, dst)
	tr := compareTrees(t, src, dst)
	if rep.Files != tr.files || rep.Bytes != tr.bytes {
		t.Errorf("report: %d files, %d bytes; tree has %d, %d", rep.Files, rep.Bytes, tr.files, tr.bytes)
	}
	checkNoClone(t, rep)
	checkSparseCopies(t, src, dst, want)
}

// TestCloneBtrfsToXFS: two filesystems cannot share extents, so the copy
// falls back to copying bytes.
func TestCloneBtrfsToXFS(t *testing.T) {
	t.Parallel()
	from, to := mountFS(t, fsBtrfs, "512M"), mountFS(t, fsXFS, "512M")
	src, dst := filepath.Join(from, "src"), filepath.Join(to, "dst")
	want := makeSparseFiles(t, src)
	big := testtree.Bytes(20, 8<<20+5)
	testtree.WriteFile(t, filepath.Join(from, "big"), int64(len(big)), testtree.Data(0, big))
	syncFS(t, from)

	rep := mustCopy(t, nil, "-a", "--json", src, dst)
	tr := compareTrees(t, src, dst)
	if rep.Files != tr.files || rep.Bytes != tr.bytes {
		t.Errorf("report: %d files, %d bytes; tree has %d, %d", rep.Files, rep.Bytes, tr.files, tr.bytes)
	}
	checkNoClone(t, rep)
	checkSparseCopies(t, src, dst, want)

	// A single large file, too, with the default and with a small chunk.
	for i, env := range [][]string{nil, {"COWCP_CLONE_CHUNK=1048576"}} {
		d := filepath.Join(to, fmt.Sprintf("big%d", i))
		rep := mustCopy(t, env, "--json", filepath.Join(from, "big"), d)
		checkNoClone(t, rep)
		checkContent(t, d, big)
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
			testtree.WriteFile(t, filepath.Join(srcDir, "a"), 1<<20, testtree.Random(0, 21, 1<<20))
			testtree.WriteFile(t, filepath.Join(srcDir, "sub", "b"), 10000, testtree.Random(0, 22, 10000))
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
	want := testtree.Bytes(23, size)
	testtree.WriteFile(t, src, size, testtree.Data(0, want))
	before := usedBytes(t, mnt)

	rep := mustCopy(t, nil, "--reflink=never", "--json", src, dst)
	growth := usedBytes(t, mnt) - before
	checkContent(t, dst, want)
	checkNoClone(t, rep)
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
			want := testtree.Bytes(24, size)
			testtree.WriteFile(t, src, size, testtree.Data(0, want))
			before := usedBytes(t, mnt)

			rep := mustCopy(t, []string{"COWCP_CLONE_CHUNK=1048576"}, "--json", src, dst)
			growth := usedBytes(t, mnt) - before
			checkContent(t, dst, want)
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
			want := testtree.Bytes(25, size)
			testtree.WriteFile(t, src, size, testtree.Data(0, want))
			syncFS(t, mnt)
			var before unix.Stat_t
			if err := unix.Stat(src, &before); err != nil {
				t.Fatal(err)
			}
			hash := fileSHA256(t, src)

			mustCopy(t, nil, "--json", src, dst)
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
			checkContent(t, dst, copyWant)
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
	wantA, wantB := testtree.Bytes(26, 5000), testtree.Bytes(27, 70000)
	testtree.WriteFile(t, a, 5000, testtree.Data(0, wantA))
	testtree.WriteFile(t, b, 70000, testtree.Data(0, wantB))
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
	checkContent(t, filepath.Join(out, "a"), wantA)
	checkContent(t, filepath.Join(out, "b"), wantB)
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
