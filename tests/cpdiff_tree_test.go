package tests

// The differential test against GNU cp: a tree holding every file type, mode,
// owner, time, xattr, ACL and name shape that cp -a reproduces is copied by
// GNU cp -a and by cowcp -a on btrfs, XFS and ext4, and the two results must
// have the same manifest. On btrfs and XFS, cowcp's copy must still share
// its data with the source.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

func TestCpDiffTree(t *testing.T) {
	requireRoot(t)
	for _, kind := range []string{fsBtrfs, fsXFS, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "1G")
			t.Run("tree", func(t *testing.T) {
				base := filepath.Join(mnt, "tree")
				if err := os.Mkdir(base, 0o755); err != nil {
					t.Fatal(err)
				}
				testtree.Build(t, filepath.Join(base, "src"), everyKindTree(filepath.Join(base, "src")))
				checkFixture(t, filepath.Join(base, "src"))
				p := copyBoth(t, base, 0, "-a")
				reportDiffs(t, "cp -a vs cowcp -a on "+kind, p.diffs)
				if kind == fsBtrfs || kind == fsXFS {
					checkShared(t, "cp", filepath.Join(base, "cp.out"), p.mc)
					checkShared(t, "cowcp", filepath.Join(base, "cw.out"), p.mw)
				}
			})
			t.Run("deep", func(t *testing.T) {
				// A deliberate difference: GNU cp 9.1 names files by whole
				// paths, so below PATH_MAX it stops with "File name too long"
				// and exits non-zero, leaving a partial tree. cowcp works
				// relative to directory descriptors and copies the whole tree,
				// as a copier must. So the reference here is the
				// source itself: cowcp's copy must match it entry for entry,
				// with cp -a's metadata (times, modes, owners, links).
				base := filepath.Join(mnt, "deep")
				if err := os.Mkdir(base, 0o755); err != nil {
					t.Fatal(err)
				}
				testtree.Build(t, filepath.Join(base, "src"), deepTree())
				p := copyBoth(t, base, 0, "-a")
				if p.cp.code == 0 {
					t.Logf("cp -a copied the deep tree too (exit 0); comparing with the source anyway")
				}
				if p.cw.code != 0 {
					t.Errorf("cowcp -a of a tree deeper than PATH_MAX exited %d: %s", p.cw.code, short(p.cw.stderr))
				}
				src, err := testtree.Walk(filepath.Join(base, "src"), testtree.WalkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				reportDiffs(t, "the source vs cowcp -a of a tree deeper than PATH_MAX on "+kind, testtree.Diff(src, p.mw, "the source", "cowcp"))
			})
		})
	}
}

// copyPair is one source copied by cp and by the copier under test.
type copyPair struct {
	cp, cw result            // the runs
	mc, mw testtree.Manifest // the copies
	diffs  []string          // how the copier's outcome differs from cp's
}

// copyBoth runs `cp FLAGS src cp.out` and `cowcp FLAGS src cw.out` in
// base (names of the same length, so the same paths hit PATH_MAX) and
// compares the exit statuses and the copies. A zero timeout is execute's
// default.
func copyBoth(t testing.TB, base string, timeout time.Duration, flags ...string) copyPair {
	t.Helper()
	cmd := func(dst string) invocation {
		return invocation{dir: base, args: append(append([]string{}, flags...), "src", dst), umask: -1, timeout: timeout}
	}
	var p copyPair
	p.cp = execute(t, gnuCp(t), cmd("cp.out"))
	p.cw = execute(t, copierBin(), cmd("cw.out"))
	if (p.cp.code == 0) != (p.cw.code == 0) {
		p.diffs = append(p.diffs, fmt.Sprintf("exit status: cp %d, cowcp %d\n\tcp stderr: %s\n\tcowcp stderr: %s",
			p.cp.code, p.cw.code, short(p.cp.stderr), short(p.cw.stderr)))
	}
	var err error
	if p.mc, err = testtree.Walk(filepath.Join(base, "cp.out"), testtree.WalkOptions{}); err != nil {
		t.Fatal(err)
	}
	if p.mw, err = testtree.Walk(filepath.Join(base, "cw.out"), testtree.WalkOptions{}); err != nil {
		t.Fatal(err)
	}
	p.diffs = append(p.diffs, testtree.Diff(p.mc, p.mw, "cp", "cowcp")...)
	return p
}

// checkShared fails t unless every file of the copy at dir with at least
// 64 KiB of data has all its extents marked shared by `filefrag -v` after a
// sync: the copy is a clone, not a byte copy that happens to be equal.
func checkShared(t testing.TB, who, dir string, m testtree.Manifest) {
	t.Helper()
	if out, err := exec.Command("sync", "-f", dir).CombinedOutput(); err != nil {
		t.Fatalf("sync -f %s: %v\n%s", dir, err, out)
	}
	checked := 0
	for _, p := range slices.Sorted(maps.Keys(m)) {
		e := m[p]
		if size, _ := strconv.ParseInt(e["size"], 10, 64); e["type"] != "file" || e["data"] == "none" || size < 64<<10 {
			continue
		}
		out, err := exec.Command("filefrag", "-v", filepath.Join(dir, p)).CombinedOutput()
		if err != nil {
			t.Fatalf("filefrag -v %q: %v\n%s", p, err, out)
		}
		extents, shared := 0, 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 || !strings.HasSuffix(f[0], ":") || strings.Trim(f[0], "0123456789:") != "" {
				continue // not an extent line
			}
			extents++
			if strings.Contains(f[len(f)-1], "shared") {
				shared++
			}
		}
		if extents == 0 || shared != extents {
			t.Errorf("%s's copy %q shares %d of its %d extents with the source:\n%s", who, p, shared, extents, out)
		}
		checked++
	}
	if checked == 0 {
		t.Errorf("no file of %s's copy was checked for sharing", who)
	}
}

// checkFixture makes sure the source is what the test means it to be,
// so that a passing comparison proves something: the sparse files have
// holes, and the names that are hard to make exist.
func checkFixture(t testing.TB, src string) {
	t.Helper()
	m, err := testtree.Walk(src, testtree.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sparse/hole-start", "sparse/hole-middle", "sparse/hole-end", "sparse/huge"} {
		if e := m[p]; e["data"] == "0+"+e["size"] {
			t.Errorf("source %q has no holes (data %s): the filesystem does not keep them", p, e["data"])
		}
	}
	if m["sparse/all-hole"]["data"] != "none" {
		t.Errorf("source sparse/all-hole has data: %s", m["sparse/all-hole"]["data"])
	}
	for _, p := range []string{"names/new\nline", "names/\xff\xfe\xfd", "names/" + strings.Repeat("n", 255), "special/chr", "acl/dir"} {
		if m[p] == nil {
			t.Errorf("source %q was not made", p)
		}
	}
}

// everyKindTree is a tree of every file type, size, hole layout, link,
// mode, owner, time, xattr, ACL and name shape cp -a reproduces. src is
// where it will be made, for the absolute symlinks into it.
func everyKindTree(src string) []testtree.Node {
	const (
		k      = 1 << 10
		m      = 1 << 20
		future = 13569465600 // 2400-01-01, within ext4's, XFS bigtime's and btrfs's ranges
	)
	zeros := make([]byte, 64*k)
	many := testtree.F("xattr/many", 0o644, []byte("many\n"))
	for i := range 30 {
		many = many.Xattr(fmt.Sprintf("user.k%02d", i), strings.Repeat("v", i))
	}
	nodes := []testtree.Node{
		testtree.D(".", 0o755),

		testtree.D("files", 0o755),
		testtree.F("files/empty", 0o644, nil),
		testtree.F("files/one", 0o644, []byte("1")),
		testtree.F("files/text", 0o644, []byte("hello\n")),
		testtree.F("files/block-1", 0o644, testtree.Bytes(1, 4*k-1)),
		testtree.F("files/block", 0o644, testtree.Bytes(2, 4*k)),
		testtree.F("files/block+1", 0o644, testtree.Bytes(3, 4*k+1)),
		testtree.F("files/inline", 0o644, testtree.Bytes(4, 2000)),
		testtree.F("files/odd", 0o644, testtree.Bytes(5, 12345)),
		testtree.F("files/64k", 0o644, testtree.Bytes(6, 64*k)),
		testtree.F("files/odd-large", 0o755, testtree.Bytes(7, 3*m+17)),
		testtree.F("files/large", 0o644, testtree.Bytes(8, 16*m+3)),
		testtree.F("files/zeros", 0o644, make([]byte, 256*k)), // zero bytes that are data, not holes

		testtree.D("sparse", 0o755),
		testtree.S("sparse/hole-start", m, testtree.Random(768*k, 10, 256*k)),
		testtree.S("sparse/hole-middle", m+64*k, testtree.Random(0, 11, 64*k), testtree.Random(m, 12, 64*k)),
		testtree.S("sparse/hole-end", m, testtree.Random(0, 13, 64*k)),
		testtree.S("sparse/all-hole", 4*m),
		testtree.S("sparse/all-hole-odd", 12345),
		testtree.S("sparse/many", 2*m, testtree.Random(0, 14, 64*k), testtree.Random(256*k, 15, 64*k),
			testtree.Random(512*k, 16, 64*k), testtree.Random(768*k, 17, 128*k), testtree.Random(1536*k, 18, 64*k)),
		testtree.S("sparse/unaligned", 2*m+3, testtree.Random(0, 19, 100), testtree.Random(m+7, 20, 100)),
		testtree.S("sparse/zeros-and-hole", 2*m, testtree.Data(0, zeros), testtree.Random(m, 21, 64*k)),
		testtree.S("sparse/huge", 8<<30, testtree.Random(0, 22, 4*k), testtree.Random(4<<30, 23, 4*k)),

		testtree.D("links", 0o755),
		testtree.L("links/rel", "../files/block"),
		testtree.L("links/abs", src+"/files/block"),
		testtree.L("links/abs-out", "/etc/passwd"),
		testtree.L("links/dangling", "does/not/exist"),
		testtree.L("links/dangling-abs", "/nonexistent/cpdiff"),
		testtree.L("links/to-dir", "../files"),
		testtree.L("links/to-dir-abs", src+"/files"),
		testtree.L("links/self", "self"),
		testtree.L("links/loop-a", "loop-b"),
		testtree.L("links/loop-b", "loop-a"),
		testtree.L("links/dot", "."),
		testtree.L("links/dotdot", ".."),
		testtree.L("links/to-fifo", "../special/fifo"),
		testtree.L("links/long", strings.Repeat("x/", 499)+"end"), // XFS allows 1024 bytes
		testtree.L("links/odd-target", "new\nline \xff target"),
		testtree.L("links/owned", "../files/one").Own(1111, 2222),

		testtree.D("special", 0o755),
		testtree.N("special/fifo", testtree.FIFO, 0o640, 0),
		testtree.N("special/fifo-000", testtree.FIFO, 0, 0).Own(42, 43),
		testtree.N("special/chr", testtree.CharDev, 0o666, unix.Mkdev(1, 3)),
		testtree.N("special/chr-big", testtree.CharDev, 0o600, unix.Mkdev(300, 70000)),
		testtree.N("special/blk", testtree.BlockDev, 0o660, unix.Mkdev(7, 200)).Own(0, 6),
		testtree.N("special/sock", testtree.Socket, 0o755, 0),

		testtree.D("hard", 0o755),
		testtree.D("hard/sub", 0o755),
		testtree.D("hard-elsewhere", 0o755),
		testtree.F("hard/a", 0o644, []byte("a\n")),
		testtree.H("hard/a-same-dir", "hard/a"),
		testtree.H("hard/sub/a-sub-dir", "hard/a"),
		testtree.H("hard-elsewhere/a-other-dir", "hard/a"),
		testtree.F("hard/b", 0o600, testtree.Bytes(30, 100*k)),
		testtree.H("hard/b2", "hard/b"),
		testtree.F("hard/empty1", 0o644, nil),
		testtree.H("hard/empty2", "hard/empty1"),
		testtree.L("hard/sym", "a"),
		testtree.H("hard/sym-link", "hard/sym"),
		testtree.N("hard/fifo", testtree.FIFO, 0o644, 0),
		testtree.H("hard/fifo-link", "hard/fifo"),
		testtree.S("hard/sparse", m, testtree.Random(512*k, 31, 4*k)),
		testtree.H("hard-elsewhere/sparse-link", "hard/sparse"),
		testtree.F("hard/ro", 0o444, []byte("ro\n")),
		testtree.H("hard/ro-link", "hard/ro"),
		testtree.F("hard/suid", 0o4755, []byte("suid\n")).Own(1000, 1000),
		testtree.H("hard-elsewhere/suid-link", "hard/suid"),

		testtree.D("perm", 0o755),
		testtree.F("perm/suid", 0o4755, []byte("#!/bin/sh\n")).Own(1000, 1000),
		testtree.F("perm/sgid", 0o2755, []byte("#!/bin/sh\n")).Own(0, 100),
		testtree.F("perm/suid-sgid", 0o6755, []byte("#!/bin/sh\n")).Own(1000, 100),
		testtree.F("perm/sticky-file", 0o1644, []byte("t\n")),
		testtree.F("perm/all-bits", 0o7777, []byte("all\n")),
		testtree.F("perm/000", 0, []byte("none\n")),
		testtree.F("perm/444", 0o444, []byte("ro\n")),
		testtree.F("perm/200", 0o200, []byte("wo\n")),
		testtree.F("perm/111", 0o111, []byte("xo\n")),
		testtree.F("perm/707", 0o707, []byte("odd\n")),
		testtree.D("perm/sticky-dir", 0o1777),
		testtree.F("perm/sticky-dir/f", 0o666, []byte("f\n")),
		testtree.D("perm/sgid-dir", 0o2775).Own(0, 100),
		testtree.F("perm/sgid-dir/f", 0o664, []byte("f\n")),
		testtree.D("perm/suid-dir", 0o4755),
		testtree.D("perm/ro-dir", 0o555),
		testtree.F("perm/ro-dir/f", 0o644, []byte("f\n")),
		testtree.D("perm/ro-dir/sub", 0o500),
		testtree.F("perm/ro-dir/sub/f", 0o400, []byte("f\n")),
		testtree.D("perm/ro-dir/sub/empty", 0o555),
		testtree.D("perm/000-dir", 0),
		testtree.F("perm/000-dir/inside", 0o644, []byte("inside\n")),
		testtree.D("perm/000-dir/sub", 0),
		testtree.D("perm/wx-dir", 0o333),
		testtree.F("perm/wx-dir/f", 0o644, []byte("f\n")),

		testtree.D("own", 0o755),
		testtree.F("own/u1000", 0o644, []byte("u\n")).Own(1000, 1000),
		testtree.F("own/nobody", 0o644, []byte("n\n")).Own(65534, 65534),
		testtree.F("own/big-ids", 0o640, []byte("b\n")).Own(123456789, 987654321),
		testtree.F("own/user-only", 0o644, []byte("u\n")).Own(4242, 0),
		testtree.F("own/group-only", 0o644, []byte("g\n")).Own(0, 4242),
		testtree.D("own/dir", 0o750).Own(4321, 8765),
		testtree.F("own/dir/f", 0o600, []byte("f\n")).Own(4321, 8765),
		testtree.N("own/fifo", testtree.FIFO, 0o620, 0).Own(3333, 4444),
		testtree.N("own/chr", testtree.CharDev, 0o620, unix.Mkdev(4, 1)).Own(0, 5),
		testtree.L("own/sym", "u1000").Own(1111, 2222),
		testtree.N("own/sock", testtree.Socket, 0o777, 0).Own(77, 78),

		testtree.D("times", 0o755),
		testtree.F("times/epoch", 0o644, []byte("e\n")).At(0, 0),
		testtree.F("times/epoch+1ns", 0o644, []byte("e\n")).At(0, 1),
		testtree.F("times/pre-epoch", 0o644, []byte("p\n")).At(-2, 500000000),
		testtree.F("times/future", 0o644, []byte("f\n")).At(future, 123456789),
		testtree.F("times/2038", 0o644, []byte("y\n")).At(1<<31, 0),
		testtree.F("times/ns", 0o644, []byte("n\n")).At(1700000000, 123456789),
		testtree.F("times/ns-max", 0o644, []byte("n\n")).At(1234567890, 999999999),
		testtree.D("times/dir-epoch", 0o755).At(0, 0),
		testtree.F("times/dir-epoch/f", 0o644, []byte("f\n")).At(1, 1),
		testtree.D("times/dir-future", 0o755).At(future, 987654321),
		testtree.D("times/dir-future/sub", 0o755).At(future+1, 1),
		testtree.L("times/sym-epoch", "epoch").At(0, 0),
		testtree.L("times/sym-future", "future").At(future, 999999999),
		testtree.L("times/sym-ns", "dangling").At(1500000000, 123),
		testtree.N("times/fifo", testtree.FIFO, 0o644, 0).At(1400000000, 42),
		testtree.N("times/chr", testtree.CharDev, 0o644, unix.Mkdev(1, 5)).At(1300000000, 7),
		testtree.F("times/ro", 0o444, []byte("ro\n")).At(1200000000, 5),
		testtree.D("times/ro-dir", 0o555).At(1100000000, 11),
		testtree.F("times/ro-dir/f", 0o644, []byte("f\n")).At(1000000000, 10),

		testtree.D("xattr", 0o755),
		testtree.F("xattr/file", 0o644, []byte("x\n")).Xattr("user.a", "1", "user.empty", "", "user.bin", "\x00\x01\xff\x00", "user.long", strings.Repeat("L", 2000), "trusted.t", "trusted value", "security.cpdiff", "sec"),
		many,
		testtree.D("xattr/dir", 0o755).Xattr("user.d", "dir", "trusted.d", "tdir"),
		testtree.F("xattr/dir/f", 0o644, nil).Xattr("user.f", "f"),
		testtree.L("xattr/sym", "file").Xattr("trusted.s", "on a symlink"),
		testtree.N("xattr/fifo", testtree.FIFO, 0o644, 0).Xattr("trusted.f", "on a fifo"),
		testtree.N("xattr/chr", testtree.CharDev, 0o644, unix.Mkdev(1, 7)).Xattr("trusted.c", "on a device"),
		testtree.F("xattr/cap", 0o755, []byte("cap\n")).Xattr("security.capability", netBindCapability()),
		testtree.F("xattr/cap-owned", 0o750, []byte("cap\n")).Own(1000, 1000).Xattr("security.capability", netBindCapability()),
		testtree.F("xattr/ro", 0o444, []byte("ro\n")).Xattr("user.ro", "read-only file"),
		testtree.F("xattr/000", 0, []byte("0\n")).Xattr("user.z", "mode 000", "trusted.z", "mode 000"),
		testtree.D("xattr/000-dir", 0).Xattr("user.d", "mode 000 dir"),
		testtree.F("xattr/000-dir/f", 0o644, nil).Xattr("user.f", "in a mode 000 dir"),
		testtree.F("xattr/owned", 0o4755, []byte("o\n")).Own(1000, 1000).Xattr("user.o", "owned setuid"),

		testtree.D("acl", 0o755),
		testtree.F("acl/file", 0o640, []byte("acl\n")).ACL("u::rw-,u:1000:r--,g::r--,g:100:rw-,m::rw-,o::---", ""),
		testtree.F("acl/000", 0, []byte("acl\n")).ACL("u::---,u:1000:rwx,g::---,m::rwx,o::---", ""),
		testtree.D("acl/dir", 0o755).ACL("u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x", "u::rwx,u:1001:r-x,g::r-x,g:100:rwx,m::rwx,o::---"),
		testtree.F("acl/dir/inherited", 0o640, []byte("i\n")),
		testtree.D("acl/dir/sub", 0o750),
		testtree.D("acl/default-only", 0o755).ACL("", "u::rwx,g::r-x,o::r-x"),
		testtree.D("acl/default-only/sub", 0o700),
		testtree.F("acl/owned", 0o660, []byte("o\n")).Own(1000, 100).ACL("u::rw-,g::rw-,g:200:r--,m::rw-,o::---", ""),

		testtree.D("names", 0o755),
		testtree.F("names/with space", 0o644, []byte("1\n")),
		testtree.F("names/ two  spaces ", 0o644, []byte("2\n")),
		testtree.F("names/new\nline", 0o644, []byte("3\n")),
		testtree.F("names/\nleading-newline", 0o644, []byte("3\n")),
		testtree.F("names/-leading-dash", 0o644, []byte("4\n")),
		testtree.F("names/--", 0o644, []byte("5\n")),
		testtree.F("names/-", 0o644, []byte("6\n")),
		testtree.F("names/\xff\xfe\xfd", 0o644, []byte("7\n")),
		testtree.F("names/latin1-caf\xe9", 0o644, []byte("8\n")),
		testtree.F("names/"+strings.Repeat("n", 255), 0o644, []byte("9\n")),
		testtree.F("names/"+strings.Repeat("é", 127)+"x", 0o644, []byte("10\n")),
		testtree.F("names/.hidden", 0o644, []byte("11\n")),
		testtree.F("names/..dots", 0o644, []byte("12\n")),
		testtree.F("names/...", 0o644, []byte("13\n")),
		testtree.F("names/tab\tname", 0o644, []byte("14\n")),
		testtree.F("names/back\\slash", 0o644, []byte("15\n")),
		testtree.F("names/quote'\"`$(x)", 0o644, []byte("16\n")),
		testtree.F("names/star*?[a]", 0o644, []byte("17\n")),
		testtree.F("names/ünïcödé", 0o644, []byte("18\n")),
		testtree.F("names/\x01ctrl\x7f", 0o644, []byte("19\n")),
		testtree.F("names/f~", 0o644, []byte("20\n")),
		testtree.F("names/f.~1~", 0o644, []byte("21\n")),
		testtree.D("names/.hidden-dir", 0o755),
		testtree.F("names/.hidden-dir/.inner", 0o644, []byte("22\n")),
		testtree.D("names/"+strings.Repeat("d", 255), 0o755),
		testtree.F("names/"+strings.Repeat("d", 255)+"/"+strings.Repeat("f", 255), 0o644, []byte("23\n")),
		testtree.D("names/dir with\nnewline", 0o755),
		testtree.L("names/dir with\nnewline/\xffsym", "../\xff\xfe\xfd"),
		testtree.D("names/emptydir", 0o755),

		testtree.D("empty", 0o755),
		testtree.D("emptydirs", 0o700),
		testtree.D("emptydirs/a", 0o755),
		testtree.D("emptydirs/a/b", 0o711),
		testtree.D("emptydirs/a/b/c", 0o755),
	}
	// Every entry without a chosen mtime gets a distinct one of its own, far
	// from the time of the run, so a copier that does not preserve it shows.
	for i := range nodes {
		if nodes[i].Mtime == nil && nodes[i].Kind != testtree.Hardlink {
			nodes[i] = nodes[i].At(1600000000+int64(i)*1000, int64(i)*7919+1)
		}
	}
	return nodes
}

// deepTree is a chain of directories whose paths pass PATH_MAX, with
// files and a symlink along the way.
func deepTree() []testtree.Node {
	nodes := []testtree.Node{testtree.D(".", 0o755)}
	p := ""
	for i := range 24 {
		p += fmt.Sprintf("%03d", i) + strings.Repeat("d", 197)
		nodes = append(nodes, testtree.D(p, 0o750).At(1500000000+int64(i), int64(i)))
		if i%4 == 3 {
			nodes = append(nodes,
				testtree.F(p+"/f", 0o640, []byte(p)).Own(1000, 1000).At(1400000000+int64(i), 1),
				testtree.L(p+"/l", "f").At(1300000000, int64(i)))
		}
		p += "/"
	}
	return nodes
}

// netBindCapability is a security.capability value (VFS_CAP_REVISION_2,
// effective) granting CAP_NET_BIND_SERVICE.
func netBindCapability() string {
	b := binary.LittleEndian.AppendUint32(nil, 0x02000000|1)
	for _, v := range []uint32{1 << 10, 0, 0, 0} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return string(b)
}
