package tests

// End-to-end tests on FUSE destinations (tests/fusefs, a passthrough of a
// directory on a loopback ext4). Where O_TMPFILE and renameat2 flags are
// missing, as on NFS, sshfs and many FUSE filesystems, cowcp must give GNU
// cp's result. Where writes or closes fail, it must leave no partial file
// under a final name and no temporary, name the file, and copy the rest.
// Where writes are short, every file must still arrive whole.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/tests/fusefs"

	"github.com/cowcp/cowcp/internal/testtree"
)

// fuseDestination is a kind of FUSE destination.
type fuseDestination struct {
	name string
	opts fusefs.Options
}

// fuseNFSLike are the destinations without O_TMPFILE or renameat2 flags,
// as NFS, sshfs and many FUSE filesystems are: with hard links, and
// without them either.
var fuseNFSLike = []fuseDestination{
	{"no-tmpfile-no-rename-flags", fusefs.Options{NoTmpfile: true, NoRenameFlags: true}},
	{"no-tmpfile-no-rename-flags-no-link", fusefs.Options{NoTmpfile: true, NoRenameFlags: true, NoLink: true}},
}

// fuseDestinations are the destinations the fault tests run on, one for
// each way cowcp makes a new file: an unnamed O_TMPFILE inode linked in, a
// temporary name renamed with RENAME_NOREPLACE, and what it does where
// those are missing.
var fuseDestinations = append([]fuseDestination{
	{"passthrough", fusefs.Options{}},
	{"no-tmpfile", fusefs.Options{NoTmpfile: true}},
}, fuseNFSLike...)

// fuseMount makes a loopback ext4 holding src/ (empty) and backing/, and
// mounts a FUSE passthrough of backing/ with opts. It returns the three.
func fuseMount(t *testing.T, opts fusefs.Options) (src, backing, mnt string) {
	t.Helper()
	root := mountFS(t, fsExt4, "256M")
	src, backing = filepath.Join(root, "src"), filepath.Join(root, "backing")
	for _, d := range []string{src, backing} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return src, backing, fusefs.Mount(t, backing, opts)
}

// fuseAgainstCp runs GNU cp and cowcp with args, where "$DST" stands for
// name/cp or name/cw on the FUSE mount (directories made beforehand, then
// given to prepare if it is not nil), and fails t unless cowcp exits 0
// like cp and leaves the same tree.
func fuseAgainstCp(t *testing.T, backing, mnt, name string, prepare func(dir string), args ...string) {
	t.Helper()
	start := time.Now().Add(-2 * time.Second) // the kernel's coarse clock may lag
	var res [2]result
	var mans [2]testtree.Manifest
	for i, who := range []string{"cp", "cw"} {
		dir := filepath.Join(name, who)
		if err := os.MkdirAll(filepath.Join(backing, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if prepare != nil {
			prepare(filepath.Join(backing, dir))
		}
		var a []string
		for _, s := range args {
			a = append(a, strings.ReplaceAll(s, "$DST", filepath.Join(mnt, dir)))
		}
		res[i] = execute(t, []string{gnuCp(t), copierBin()}[i], invocation{dir: backing, args: a, umask: -1})
		m, err := testtree.Walk(filepath.Join(backing, dir), testtree.WalkOptions{FreshSince: start})
		if err != nil {
			t.Fatal(err)
		}
		mans[i] = m
	}
	if res[0].code != 0 {
		t.Fatalf("GNU cp %q on this FUSE destination exited %d: %s", args, res[0].code, res[0].stderr)
	}
	if res[1].code != 0 {
		t.Errorf("cowcp %q exited %d where cp succeeds: %s", args, res[1].code, res[1].stderr)
	}
	reportDiffs(t, "cp vs cowcp "+strings.Join(args, " "), testtree.Diff(mans[0], mans[1], "cp", "cowcp"))
}

// fuseTree is a small tree for -a: files of several modes and owners, an
// empty one, a subdirectory, relative and dangling symlinks, hard links
// (one across directories) and an xattr, every time fixed in the past.
// Where the destination refuses link(2), cp -a fails on hard links, so the
// tree has none: these tests ask for cp's result where cp succeeds.
func fuseTree(dst fusefs.Options) []testtree.Node {
	const sec = 1500000000
	nodes := []testtree.Node{
		testtree.D(".", 0o755).At(sec, 0),
		testtree.F("big", 0o644, testtree.Bytes(1, 700<<10)).At(sec+1, 100).Xattr("user.note", "kept"),
		testtree.F("empty", 0o600, nil).At(sec+2, 0),
		testtree.F("script", 0o755, []byte("#!/bin/sh\necho hi\n")).At(sec+3, 0),
		testtree.F("theirs", 0o640, testtree.Bytes(2, 3000)).Own(1000, 1000).At(sec+4, 0),
		testtree.D("sub", 0o750).At(sec+5, 0),
		testtree.F("sub/ro", 0o444, testtree.Bytes(3, 70<<10)).At(sec+6, 0),
		testtree.L("sub/up", "../big"),
		testtree.L("dangling", "nowhere"),
	}
	if !dst.NoLink {
		nodes = append(nodes, testtree.H("big-link", "big"), testtree.H("sub/ro-link", "sub/ro"))
	}
	return nodes
}

func TestFuseDestinationWithoutTmpfileOrRenameFlagsGivesCpResult(t *testing.T) {
	requireRoot(t)
	for _, d := range fuseNFSLike {
		t.Run(d.name, func(t *testing.T) {
			src, backing, mnt := fuseMount(t, d.opts)
			testtree.Build(t, filepath.Join(src, "tree"), fuseTree(d.opts))
			file := filepath.Join(src, "tree", "big")

			t.Run("new file", func(t *testing.T) {
				fuseAgainstCp(t, backing, mnt, "new", nil, file, "$DST/file")
			})
			t.Run("tree with -a", func(t *testing.T) {
				fuseAgainstCp(t, backing, mnt, "tree", nil, "-a", filepath.Join(src, "tree"), "$DST/tree")
			})
			t.Run("replacing a file", func(t *testing.T) {
				old := func(dir string) {
					if err := os.WriteFile(filepath.Join(dir, "file"), []byte("old content\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				fuseAgainstCp(t, backing, mnt, "replace", old, file, "$DST/file")
			})
		})
	}
}

// fuseFaultSource makes the source of the fault tests in src: good files
// at the top and in sub/, and in bad/ a large file, a small one and one
// that replaces an existing destination file. It returns the SHA-256 of
// every file by its relative path.
func fuseFaultSource(t *testing.T, src string) map[string]string {
	t.Helper()
	for _, d := range []string{"sub", "bad"} {
		if err := os.Mkdir(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sums := map[string]string{}
	for i, f := range []struct {
		rel  string
		size int64
	}{{"a", 300 << 10}, {"sub/c", 100 << 10}, {"bad/big", 1 << 20}, {"bad/small", 1 << 10}, {"bad/old", 1 << 20}} {
		sums[f.rel] = testtree.WriteRandom(t, filepath.Join(src, f.rel), f.size, uint64(i+1))
	}
	return sums
}

// fuseOldContent is what the destination's bad/old holds before a copy.
const fuseOldContent = "the old content, which must survive a failed replacement\n"

// fuseFaultRun copies src with `-a -T` by GNU cp into cp/ and by cowcp
// into cw/ on the mount, each holding bad/old already, and returns
// cowcp's result. What cp does and leaves is only logged: it is the
// reference for the record, not part of the test.
func fuseFaultRun(t *testing.T, src, backing, mnt string) result {
	t.Helper()
	for _, who := range []string{"cp", "cw"} {
		if err := os.MkdirAll(filepath.Join(backing, who, "bad"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(backing, who, "bad", "old"), []byte(fuseOldContent), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp := execute(t, gnuCp(t), invocation{dir: backing, args: []string{"-a", "-T", src, filepath.Join(mnt, "cp")}, umask: -1})
	t.Logf("GNU cp: exit %d, stderr %q", cp.code, cp.stderr)
	for _, rel := range []string{"bad/big", "bad/small", "bad/old"} {
		if st, err := os.Stat(filepath.Join(backing, "cp", rel)); err == nil {
			t.Logf("GNU cp left %s with %d bytes", rel, st.Size())
		}
	}
	cw := execute(t, copierBin(), invocation{dir: backing, args: []string{"-a", "-T", src, filepath.Join(mnt, "cw")}, umask: -1})
	t.Logf("cowcp: exit %d, stderr %q", cw.code, cw.stderr)
	return cw
}

// fuseCheckFault fails t unless cowcp (res) exited non-zero naming every
// file of failed, none of which stands under its final name, and bad/old,
// which holds its old content or the new one, whole; every other file was
// copied whole; and no temporary is left anywhere on the mount.
func fuseCheckFault(t *testing.T, res result, sums map[string]string, backing string, failed ...string) {
	t.Helper()
	if res.code == 0 {
		t.Errorf("cowcp exited 0 although the destination failed %q; stderr %q", failed, res.stderr)
	}
	dst := filepath.Join(backing, "cw")
	isFailed := map[string]bool{}
	for _, rel := range failed {
		isFailed[rel] = true
		if !strings.Contains(res.stderr, rel) {
			t.Errorf("cowcp's errors do not name %s: %q", rel, res.stderr)
		}
		if _, err := os.Lstat(filepath.Join(dst, rel)); err == nil {
			t.Errorf("%s stands under its final name after failing", rel)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Error(err)
		}
	}
	if !strings.Contains(res.stderr, "bad/old") {
		t.Errorf("cowcp's errors do not name bad/old, whose replacement failed: %q", res.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dst, "bad", "old"))
	if err != nil {
		t.Errorf("bad/old, replaced, is gone: %v", err)
	} else if string(b) != fuseOldContent && fileSHA256(t, filepath.Join(dst, "bad", "old")) != sums["bad/old"] {
		t.Errorf("bad/old holds %d bytes: neither its old content nor the new one", len(b))
	}
	for rel, sum := range sums {
		if isFailed[rel] || rel == "bad/old" {
			continue
		}
		if p := filepath.Join(dst, rel); !exists(p) {
			t.Errorf("%s was not copied", rel)
		} else if fileSHA256(t, p) != sum {
			t.Errorf("%s was copied damaged", rel)
		}
	}
	filepath.WalkDir(backing, func(p string, d fs.DirEntry, err error) error {
		if err == nil && isTemp(d.Name()) {
			t.Errorf("temporary left behind: %s", p)
		}
		return err
	})
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestFuseWriteErrorLeavesNoPartialFile(t *testing.T) {
	requireRoot(t)
	for _, d := range fuseDestinations {
		t.Run(d.name, func(t *testing.T) {
			opts := d.opts
			opts.FailWrite, opts.FailWriteAfter = "*/bad/*", 512<<10
			src, backing, mnt := fuseMount(t, opts)
			sums := fuseFaultSource(t, src)
			res := fuseFaultRun(t, src, backing, mnt)
			// Half of bad/big and bad/old is written before the error;
			// bad/small fits under the limit and must arrive whole.
			fuseCheckFault(t, res, sums, backing, "bad/big")
		})
	}
}

func TestFuseFlushErrorLeavesNoPartialFile(t *testing.T) {
	requireRoot(t)
	for _, d := range fuseDestinations {
		t.Run(d.name, func(t *testing.T) {
			opts := d.opts
			opts.FailFlush = "*/bad/*"
			src, backing, mnt := fuseMount(t, opts)
			sums := fuseFaultSource(t, src)
			res := fuseFaultRun(t, src, backing, mnt)
			fuseCheckFault(t, res, sums, backing, "bad/big", "bad/small")
		})
	}
}

func TestFuseShortWritesDeliverEveryFileWhole(t *testing.T) {
	requireRoot(t)
	for _, d := range fuseDestinations {
		t.Run(d.name, func(t *testing.T) {
			opts := d.opts
			opts.ShortWrites = true
			src, backing, mnt := fuseMount(t, opts)
			testtree.Build(t, filepath.Join(src, "tree"), fuseTree(opts))
			fuseAgainstCp(t, backing, mnt, "tree", nil, "-a", filepath.Join(src, "tree"), "$DST/tree")
			fuseAgainstCp(t, backing, mnt, "file", nil, filepath.Join(src, "tree", "big"), "$DST/file")
		})
	}
}
