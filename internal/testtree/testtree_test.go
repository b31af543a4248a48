//go:build linux

package testtree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The same seed gives the same bytes however they are read, another seed
// others, and none of them is zero.
func TestBytesAreOneStreamPerSeed(t *testing.T) {
	want := Bytes(7, 100000)
	r := Reader(7)
	var got []byte
	for _, n := range []int{1, 7, 8, 9, 4095, 65536, 100000} {
		b := make([]byte, n)
		r.Read(b)
		got = append(got, b...)
	}
	if !bytes.Equal(got[:len(want)], want) {
		t.Error("reading Reader(7) in pieces gives other bytes than Bytes(7, n)")
	}
	if bytes.Equal(Bytes(8, 1000), want[:1000]) {
		t.Error("seeds 7 and 8 give the same bytes")
	}
	if i := bytes.IndexByte(got, 0); i >= 0 {
		t.Errorf("byte %d is zero", i)
	}
}

func TestWriteRandomReturnsTheSum(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	sum := WriteRandom(t, p, 3<<20+5, 9)
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(got); !bytes.Equal(got, Bytes(9, 3<<20+5)) || hex.EncodeToString(h[:]) != sum {
		t.Errorf("%s: %d bytes, not Bytes(9, %d) or not of SHA-256 %s", p, len(got), 3<<20+5, sum)
	}
}

// WriteFile writes what Content says, holes where no segment is, which
// SEEK_DATA finds where the filesystem keeps holes.
func TestWriteFileAndContentAgree(t *testing.T) {
	const size = 5<<20 + 3
	segs := []Seg{Random(1<<20, 4, 3<<20-17), Data(4<<20, []byte("data")), Data(4<<20+8192, make([]byte, 100))}
	p := filepath.Join(t.TempDir(), "f")
	WriteFile(t, p, size, segs...)
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Content(size, segs...)
	if len(want) != size || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not Content's %d", p, len(got), len(want))
	}
	if !bytes.Equal(want[1<<20:4<<20-17], Bytes(4, 3<<20-17)) || string(want[4<<20:4<<20+4]) != "data" ||
		!bytes.Equal(want[:1<<20], make([]byte, 1<<20)) {
		t.Error("Content does not put each segment at its offset")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if off, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_DATA); err == nil && off != 0 && off != 1<<20 {
		t.Errorf("SEEK_DATA finds data at %d; the first segment is at %d", off, 1<<20)
	}
}

// tree is every kind of entry Build makes as any user, with directories
// it must fill that their modes shut to writing.
func tree() []Node {
	return []Node{
		D(".", 0o751).At(1234567890, 987654321),
		F("a", 0o640, []byte("alpha\n")).At(1, 2),
		S("sparse", 1<<20, Random(512<<10, 1, 4096)).At(3, 4),
		D("ro", 0o555).At(5, 6),
		F("ro/f", 0o444, []byte("in a read-only directory\n")),
		D("ro/shut", 0o500).At(7, 8),
		F("ro/shut/g", 0o400, nil).At(9, 10),
		L("ro/link", "../a").At(11, 12),
		H("ro/a2", "a"),
		N("fifo", FIFO, 0o604, 0).At(13, 14),
		N("sock", Socket, 0o711, 0),
	}
}

func TestBuildMakesTheTreeWalkRecords(t *testing.T) {
	root := filepath.Join(t.TempDir(), "t")
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "ro/shut"), 0o700); os.Chmod(filepath.Join(root, "ro"), 0o700) })
	nodes := tree()
	Build(t, root, nodes)
	m, err := Walk(root, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(path, field, want string) {
		t.Helper()
		if got := m[path][field]; got != want {
			t.Errorf("%s: %s %q, want %q", path, field, got, want)
		}
	}
	for _, n := range nodes {
		if n.Kind != Symlink && n.Kind != Hardlink {
			check(n.Path, "mode", fmt.Sprintf("%04o", n.Mode))
		}
	}
	check(".", "mtime", "1234567890.987654321")
	check("a", "mtime", "1.000000002")
	check("ro", "mtime", "5.000000006")
	check("ro/shut", "mtime", "7.000000008")
	check("ro/link", "mtime", "11.000000012")
	check("fifo", "mtime", "13.000000014")
	check("ro/link", "target", `"../a"`)
	check("a", "links", `"a" "ro/a2"`)
	check("a", "nlink", "2")
	check("fifo", "type", "fifo")
	check("sock", "type", "socket")
	check("ro/shut/g", "size", "0")
	check("sparse", "size", "1048576")
	if d := m["sparse"]["data"]; d != "524288+4096" && !strings.HasPrefix(d, "0+") {
		t.Errorf("sparse: data %s, want 524288+4096 (or all of it, where holes are not kept)", d)
	}

	// The content digest is the bytes', wherever the holes are.
	other := filepath.Join(t.TempDir(), "dense")
	if err := os.WriteFile(other, Content(1<<20, Random(512<<10, 1, 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := Walk(other, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o["."]["content"] != m["sparse"]["content"] {
		t.Error("a sparse file and a dense one of the same bytes have different content digests")
	}
}

// As root, owners, devices, extended attributes and ACLs, and the order
// that makes them hold: the owner before the mode (chown clears setuid),
// the mode before an access ACL (which sets the group bits), a default
// ACL before the entries that inherit it.
func TestBuildOwnersAndAttributes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owners and devices need root")
	}
	root := filepath.Join(t.TempDir(), "t")
	Build(t, root, []Node{
		F("suid", 0o4755, []byte("#!/bin/sh\n")).Own(1000, 1000),
		N("chr", CharDev, 0o620, unix.Mkdev(1, 3)).Own(0, 5),
		F("x", 0o644, nil).Xattr("user.a", "1", "trusted.t", "\x00\xff"),
		F("acl", 0o640, nil).ACL("u::rw-,u:1000:r--,g::r--,m::rw-,o::---", ""),
		D("dflt", 0o755).ACL("", "u::rwx,g::r-x,g:100:rwx,m::rwx,o::---"),
		F("dflt/inherits", 0o640, nil),
	})
	m, err := Walk(root, WalkOptions{})
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	for path, want := range map[string]Entry{
		"suid":          {"mode": "4755", "uid": "1000", "gid": "1000"},
		"chr":           {"type": "char", "rdev": "1:3", "mode": "0620", "gid": "5"},
		"x":             {"xattr user.a": `"1"`, "xattr trusted.t": `"\x00\xff"`},
		"acl":           {"mode": "0660", "xattr system.posix_acl_access": strconv.Quote(string(aclXattr("u::rw-,u:1000:r--,g::r--,m::rw-,o::---")))},
		"dflt/inherits": {"xattr system.posix_acl_access": strconv.Quote(string(aclXattr("u::rw-,g::r-x,g:100:rwx,m::r--,o::---")))},
	} {
		for f, v := range want {
			if got := m[path][f]; got != v {
				t.Errorf("%s: %s %s, want %s", path, f, got, v)
			}
		}
	}
}

// A chain deeper than PATH_MAX is made without leaking a descriptor,
// reached again, and walked whole.
func TestChainPassesPathMax(t *testing.T) {
	const depth, width = 40, 250
	if depth*(width+1) <= unix.PathMax {
		t.Fatal("the chain is not deeper than PATH_MAX")
	}
	root := filepath.Join(t.TempDir(), "t")
	before := OpenFds(t)
	Build(t, root, Chain(depth, width))
	FdsLeft(t, before)
	fd := OpenDeep(t, root, depth, width)
	defer unix.Close(fd)
	lf, err := unix.Openat(fd, "leaf", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lf)
	b := make([]byte, 100)
	n, _ := unix.Read(lf, b)
	if string(b[:n]) != "bottom of 40 levels\n" {
		t.Errorf("leaf holds %q", b[:n])
	}
	m, err := Walk(root, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != depth+2 {
		t.Errorf("walked %d entries, want the root, %d directories and the leaf", len(m), depth)
	}
}

// Diff names the path and the field of each difference, and the side
// that has what the other lacks.
func TestDiffSaysWhereAndWhat(t *testing.T) {
	want := Manifest{".": {"type": "dir"}, "a": {"type": "file", "mtime": "1.000000000"}, "gone": {"type": "fifo"}}
	got := Manifest{".": {"type": "dir"}, "a": {"type": "file", "mtime": "2.000000000", "xattr user.x": `"1"`}, "new": {"type": "symlink"}}
	d := Diff(want, got, "cp", "cowcp")
	wantDiffs := []string{
		`"a": mtime: cp 1.000000000, cowcp 2.000000000`,
		`"a": xattr user.x: cp (none), cowcp "1"`,
		`"gone": missing (cp has a fifo)`,
		`"new": extra symlink (cp has none)`,
	}
	if !slices.Equal(d, wantDiffs) {
		t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(d, "\n"), strings.Join(wantDiffs, "\n"))
	}
	if d := Diff(want, want, "a", "b"); len(d) != 0 {
		t.Errorf("a manifest differs from itself: %q", d)
	}
}

// Identity makes any change to an entry show, its replacement included.
func TestWalkIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	WriteFile(t, p, 3, Data(0, []byte("abc")))
	before, err := Walk(dir, WalkOptions{Identity: true})
	if err != nil {
		t.Fatal(err)
	}
	if before["f"]["ino"] == "" || before["f"]["ctime"] == "" {
		t.Fatalf("no identity in %v", before["f"])
	}
	WriteFile(t, p+".new", 3, Data(0, []byte("abc")))
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	after, err := Walk(dir, WalkOptions{Identity: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(before, after, "before", "after"); !slices.ContainsFunc(d, func(s string) bool { return strings.HasPrefix(s, `"f": ino: `) }) {
		t.Errorf("a file replaced by an equal one: %q; want its inode to differ", d)
	}
}

// Owned gives an owner to the nodes without one, hard links aside.
func TestOwned(t *testing.T) {
	nodes := []Node{F("a", 0o644, nil), F("b", 0o644, nil).Own(1, 2), H("c", "a")}
	got := Owned(nodes, 1000, 1001)
	if *got[0].Owner != (Owner{1000, 1001}) || *got[1].Owner != (Owner{1, 2}) || got[2].Owner != nil {
		t.Errorf("owners %v %v %v", got[0].Owner, got[1].Owner, got[2].Owner)
	}
	if nodes[0].Owner != nil {
		t.Error("Owned changed the nodes it was given")
	}
}
