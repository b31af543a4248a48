package tests

// cowcp as a drop-in for cp: people alias cp=cowcp and run it in
// scripts, so wherever GNU cp gets a result right, cowcp must get the same
// one. Each case runs GNU cp and cowcp on identical scratch trees on
// loopback btrfs, ext4 and XFS (dropin_run_test.go) and compares the exit
// status (zero or not), the diagnostics (cowcp's "cowcp:" read as "cp:"),
// the resulting tree, whether the destination is still the same inode where
// cp rewrites it in place, and what a reader, writer or bind mount saw.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// TestDropin holds one subtest per behaviour, each on the filesystems it
// concerns, so that the three loopback filesystems are made once.
func TestDropin(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	btrfs := mountScratchFS(t, fsBtrfs, "256M")
	ext4 := mountScratchFS(t, fsExt4, "256M")
	xfs := mountScratchFS(t, fsXFS, "320M")
	all := []scratchFS{btrfs, ext4, xfs}

	behaviour := func(name string, envs []scratchFS, cases []dropinCase) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, e := range envs {
				t.Run(e.kind, func(t *testing.T) {
					t.Parallel()
					runDropinCases(t, e, name+"-", cases)
				})
			}
		})
	}
	// The same-file logic does not depend on the filesystem: the full
	// matrix (the longest part, started first) runs on one, the other
	// rules on a cloning one and on one without clones.
	behaviour("SameFileAsCp", []scratchFS{btrfs}, sameFileMatrix())
	behaviour("SameFileRules", []scratchFS{btrfs, ext4}, sameFileRuleCases())
	behaviour("SpecialSourcesAreRead", []scratchFS{btrfs, ext4}, specialSourceCases())
	behaviour("SpecialDestinationsAreWrittenInto", all, specialDestinationCases())
	behaviour("ProcAndSysFilesCopyTheirContent", []scratchFS{btrfs, ext4}, procSysCases())
	behaviour("ReplaceRewritesInPlace", all, replaceCases())
	behaviour("PreserveAsUser", []scratchFS{btrfs, ext4}, preserveAsUserCases())
	behaviour("AttributesOnly", []scratchFS{btrfs, ext4}, attributesOnlyCases())
	behaviour("LinkFailuresNameTheTarget", []scratchFS{btrfs}, linkFailureCases())

	// Silence: one filesystem to another is where cowcp falls back to
	// byte copies, which it says only in --json and on a terminal.
	toExt4, toBtrfs := btrfs, ext4
	toExt4.other, toBtrfs.other = filepath.Join(ext4.mnt, "from-btrfs"), filepath.Join(btrfs.mnt, "from-ext4")
	behaviour("SilentOnSuccess", []scratchFS{toExt4, toBtrfs}, silentCases())

	t.Run("ReplaceRewritesInPlaceOnANearlyFullExt4", func(t *testing.T) {
		t.Parallel()
		// Its own filesystem, which the cases fill one after the other.
		mnt := mountFS(t, fsExt4, "32M")
		e := scratchFS{kind: fsExt4, mnt: mnt}
		for i, c := range nearlyFullCases(mnt) {
			t.Run(c.name, func(t *testing.T) { runDropinCase(t, e, c, fmt.Sprintf("full%03d", i)) })
		}
	})
}

// specialSourceCases: a FIFO, a device or a pipe named as a source
// without -R is read like a file, and the bytes that come through are
// copied into a regular file (cp's copy_reg); only -R/-a without
// --copy-contents recreates them as nodes. `cp /dev/null file` is how
// people empty a file, so there the file must stay the same inode, as
// with cp (its other names, owner and open descriptors see it emptied).
func specialSourceCases() []dropinCase {
	notes := testtree.F("notes.txt", 0o644, []byte("notes that are about to be emptied\n"))
	null := testtree.N("null", testtree.CharDev, 0o666, unix.Mkdev(1, 3))
	fifo := testtree.N("fifo", testtree.FIFO, 0o644, 0)
	e := testtree.D("e", 0o755)
	const fed = "through the fifo\n"
	return []dropinCase{
		{name: "/dev/null onto a file empties it in place", nodes: scratchTree(notes),
			args: "/dev/null notes.txt", inodes: []string{"notes.txt"}, cp: "ok"},
		{name: "a null device node onto a file empties it in place", nodes: scratchTree(notes, null),
			args: "null notes.txt", inodes: []string{"notes.txt"}, cp: "ok"},
		{name: "/dev/null to a new name makes an empty file", nodes: scratchTree(), args: "/dev/null empty", cp: "ok"},
		{name: "/dev/stdin of a pipe to a new name", nodes: scratchTree(), args: "/dev/stdin f", stdin: "hi\n", cp: "ok"},
		{name: "/dev/stdin of a pipe onto a file", nodes: scratchTree(notes), args: "/dev/stdin notes.txt",
			stdin: "hi\n", replaces: true, cp: "ok"},
		{name: "a FIFO with a writer to a new name", nodes: scratchTree(fifo), args: "fifo copy",
			setup: feedFIFO("fifo", fed), want: map[string]string{"the writer into fifo": "was read"}, cp: "ok"},
		{name: "a FIFO with a writer into a directory", nodes: scratchTree(fifo, e), args: "fifo e",
			setup: feedFIFO("fifo", fed), want: map[string]string{"the writer into fifo": "was read"}, cp: "ok"},
		{name: "a process substitution to a new name", nodes: scratchTree(),
			shell: `exec "$0" <(printf 'from a process\n') copy`, cp: "ok"},
		{name: "a process substitution onto a file", nodes: scratchTree(notes),
			shell: `exec "$0" <(printf 'from a process\n') notes.txt`, replaces: true, cp: "ok"},
		{name: "-R recreates a FIFO and a device as nodes", nodes: scratchTree(fifo, null, e), args: "-R fifo null e", cp: "ok"},
		{name: "-a recreates a FIFO and a device as nodes", nodes: scratchTree(fifo, null, e), args: "-a fifo null e", cp: "ok"},
		{name: "-R --copy-contents reads a FIFO and a device", nodes: scratchTree(fifo, null, e),
			args: "-R --copy-contents fifo null e", setup: feedFIFO("fifo", fed),
			want: map[string]string{"the writer into fifo": "was read"}, cp: "ok"},
	}
}

// specialDestinationCases: an existing FIFO or device under the
// destination name is opened and written, never replaced.
func specialDestinationCases() []dropinCase {
	const data = "for whoever reads\n"
	f := testtree.F("f", 0o644, []byte(data))
	fifo := testtree.N("fifo", testtree.FIFO, 0o644, 0)
	null := testtree.N("null", testtree.CharDev, 0o666, unix.Mkdev(1, 3))
	return []dropinCase{
		{name: "a FIFO with a reader gets the data and stays a FIFO", nodes: scratchTree(f, fifo), args: "f fifo",
			setup: readFIFO("fifo"), inodes: []string{"fifo"}, cp: "ok",
			want: map[string]string{"the reader of fifo got": strconv.Quote(data)}},
		{name: "a FIFO in the target directory gets the data", nodes: scratchTree(f, testtree.D("e", 0o755), testtree.N("e/f", testtree.FIFO, 0o644, 0)),
			args: "f e", setup: readFIFO("e/f"), inodes: []string{"e/f"}, cp: "ok",
			want: map[string]string{"the reader of e/f got": strconv.Quote(data)}},
		{name: "a character device stays the same node", nodes: scratchTree(f, null), args: "f null",
			inodes: []string{"null"}, cp: "ok"},
		{name: "-f onto a character device writes it", nodes: scratchTree(f, null), args: "-f f null",
			inodes: []string{"null"}, cp: "ok"},
		// Asked to, cp does remove the FIFO: the contrast that shows the
		// cases above are about the default.
		{name: "--remove-destination replaces a FIFO by a file", nodes: scratchTree(f, fifo),
			args: "--remove-destination f fifo", cp: "ok"},
	}
}

// sameFileMatrix is coreutils' tests/cp/same-file.sh: every
// scenario of two names for one file with every option set.
//
// Two departures from the script: --remove-destination is spelled out
// (the script's --rem is a getopt abbreviation, a different matter), and
// the environment has no VERSION_CONTROL, so -b makes simple "~" backups
// rather than numbered ones. The script skips six combinations that make a
// hard link to a symlink, "not portable"; on Linux they are well defined,
// so they are kept.
func sameFileMatrix() []dropinCase {
	scenarios := []string{"foo symlink", "symlink foo", "foo foo", "sl1 sl2", "foo hardlink", "hlsl sl2"}
	options := []string{"", "-d", "-f", "-df", "--remove-destination", "-b", "-bd", "-bf", "-bdf",
		"-l", "-dl", "-fl", "-dfl", "-bl", "-bdl", "-bfl", "-bdfl", "-s", "-sf"}
	var cases []dropinCase
	for _, args := range scenarios {
		nodes := []testtree.Node{testtree.F("foo", 0o644, []byte("XYZ\n"))}
		for _, n := range []testtree.Node{testtree.L("symlink", "foo"), testtree.H("hardlink", "foo"), testtree.L("sl1", "foo"), testtree.L("sl2", "foo"), testtree.H("hlsl", "sl2")} {
			if strings.Contains(args, n.Path) {
				nodes = append(nodes, n)
			}
		}
		for _, o := range options {
			cases = append(cases, dropinCase{name: strings.TrimSpace("cp " + o + " " + args), nodes: scratchTree(nodes...),
				args: strings.TrimSpace(o + " " + args)})
		}
	}
	return cases
}

// sameFileRuleCases: the other same-file rules of cp (its same_file_ok
// and the backup check), through symlinks and symlinked directories.
//
// Left out: `cp -b d/f ld/f` where ld links to d. cp 9.1 backs up ld/f
// (renaming d/f to d/f~), then cannot open its source and fails: a cp bug,
// not a result to match.
func sameFileRuleCases() []dropinCase {
	foo := testtree.F("foo", 0o644, []byte("data\n"))
	d := []testtree.Node{testtree.D("d", 0o755), testtree.F("d/f", 0o644, []byte("in d\n")), testtree.L("ld", "d")}
	return []dropinCase{
		{name: "-d of a symlink onto the file it names refuses", nodes: scratchTree(foo, testtree.L("sl", "foo")),
			args: "-d sl foo", cp: "fails"},
		{name: "--backup=simple refuses a backup that would destroy the source",
			nodes: scratchTree(testtree.F("a", 0o644, []byte("a\n")), testtree.F("a~", 0o644, []byte("a~\n"))),
			args:  "--backup=simple a~ a", cp: "fails"},
		{name: "-b -S refuses a backup that would destroy the source",
			nodes: scratchTree(testtree.F("a", 0o644, []byte("a\n")), testtree.F("a.bak", 0o644, []byte("a.bak\n"))),
			args:  "-b -S .bak a.bak a", cp: "fails"},
		{name: "-l onto an existing hard link of the source succeeds",
			nodes: scratchTree(testtree.F("f", 0o644, []byte("f\n")), testtree.H("h", "f")), args: "-l f h", cp: "ok"},
		{name: "a file onto itself through a symlinked directory", nodes: scratchTree(d...), args: "d/f ld/", cp: "fails"},
		{name: "a file onto itself through a symlinked directory with -f", nodes: scratchTree(d...), args: "-f d/f ld/f"},
		{name: "-r a directory into a symlink to itself", nodes: scratchTree(d...), args: "-r d ld", cp: "fails"},
		{name: "-rT a directory onto a symlink to itself", nodes: scratchTree(d...), args: "-rT d ld"},
		{name: "-a a symlink to a directory into that directory", nodes: scratchTree(d...), args: "-a ld d"},
		{name: "-a a directory onto itself through its symlink", nodes: scratchTree(d...), args: "-aT d/ ld/"},
	}
}

// procSysCases: /proc and /sys files report a size of 0 or 4096 and
// copy_file_range and SEEK_DATA go along with it; cp reads them to EOF.
// The files are ones whose content does not change between two reads,
// except for the "cpu MHz" lines of /proc/cpuinfo.
func procSysCases() []dropinCase {
	var cases []dropinCase
	for _, f := range []struct {
		src      string
		volatile []string
	}{
		{src: "/proc/version"},
		{src: "/proc/cmdline"},
		{src: "/proc/cpuinfo", volatile: []string{"cpu MHz"}},
		{src: "/sys/kernel/mm/transparent_hugepage/enabled"},
		{src: "/sys/class/net/lo/address"},
		{src: "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"},
	} {
		if _, err := os.Stat(f.src); err != nil {
			continue // not on this kernel: the others make the case
		}
		c := dropinCase{name: f.src + " to a new name", nodes: scratchTree(), args: f.src + " x", cp: "ok",
			setup: sameAsCat(f.src, "x", f.volatile...),
			want:  map[string]string{"the copy of " + f.src: "is what cat reads"}}
		if f.volatile != nil {
			// The two runs read at different moments: the content is
			// compared with cat's, less the lines that change.
			c.accept = []string{`"x": content: `, `"x": size: `, `"x": data: `}
		}
		cases = append(cases, c)
		c.name, c.args = f.src+" onto a file", f.src+" x"
		c.nodes = scratchTree(testtree.F("x", 0o644, []byte(strings.Repeat("a longer old content than the new one\n", 200))))
		c.replaces = true
		cases = append(cases, c)
	}
	return cases
}

// replaceCases: where cp rewrites an existing file in place, the result
// is cp's: the owner, the other hard links, a bind mount, and permissions
// of the directory that a rename would need.
func replaceCases() []dropinCase {
	const fresh = "the new content\n"
	f := testtree.F("f", 0o644, []byte(fresh))
	old := []byte("the old content, a little longer\n")
	return []dropinCase{
		{name: "another user's group-writable file keeps its owner and group", user: true,
			nodes: scratchTree(f, testtree.F("shared", 0o664, old).Own(1001, 1000)), args: "f shared",
			inodes: []string{"shared"}, cp: "ok"},
		{name: "every hard link sees the new content",
			nodes: scratchTree(f, testtree.F("g", 0o640, old), testtree.H("g-link", "g")), args: "f g",
			inodes: []string{"g"}, cp: "ok"},
		{name: "every hard link sees the new content as a user", user: true,
			nodes: scratchTree(f, testtree.F("g", 0o640, old), testtree.H("g-link", "g")), args: "f g",
			inodes: []string{"g"}, cp: "ok"},
		{name: "a bind-mounted file is written through",
			nodes: scratchTree(f, testtree.F("hosts", 0o644, []byte("the mount point\n"))), args: "f hosts",
			setup: bindFile("hosts", "127.0.0.1 localhost\n"), inodes: []string{"hosts"}, cp: "ok",
			want: map[string]string{"the bound file holds": strconv.Quote(fresh)}},
		{name: "a writable file in a read-only directory", user: true,
			nodes: scratchTree(f, testtree.D("rod", 0o555), testtree.F("rod/m", 0o644, old)), args: "f rod/m",
			inodes: []string{"rod/m"}, cp: "ok"},
		{name: "another user's writable file in a sticky directory", user: true,
			nodes: scratchTree(f, testtree.D("tmp", 0o1777).Own(0, 0), testtree.F("tmp/o", 0o666, old).Own(1001, 1001)), args: "f tmp/o",
			inodes: []string{"tmp/o"}, cp: "ok"},
		{name: "-p onto another user's group-writable file", user: true,
			nodes: scratchTree(f, testtree.F("shared", 0o664, old).Own(1001, 1000)), args: "-p f shared",
			inodes: []string{"shared"}},
	}
}

// nearlyFullCases: on an ext4 with less free space than the new
// file, replacing a file at least as big succeeds in place, as cp's
// truncate-and-write frees the old blocks first. cowcp tries a
// replacement first (its temporary name changes the directory's mtime,
// the accepted difference of every replacement), then rewrites in place.
func nearlyFullCases(mnt string) []dropinCase {
	const m = 1 << 20
	return []dropinCase{
		{name: "a file of the same size", nodes: scratchTree(testtree.F("new", 0o644, testtree.Bytes(71, m)), testtree.F("old", 0o644, testtree.Bytes(72, m))),
			args: "new old", setup: nearlyFull(mnt, 256<<10, m), inodes: []string{"old"}, replaces: true, cp: "ok"},
		{name: "a smaller file", nodes: scratchTree(testtree.F("new", 0o644, testtree.Bytes(73, m)), testtree.F("old", 0o644, testtree.Bytes(74, 2*m))),
			args: "new old", setup: nearlyFull(mnt, 256<<10, m), inodes: []string{"old"}, replaces: true, cp: "ok"},
	}
}

// preserveAsUserCases: what cp -p and --preserve=xattr do for a user who
// does not own the source or cannot write it.
// linkFailureCases: a link that cannot be made is named with what it
// was to link to, "cannot create hard link 'rod/f' to 'f'", whether asked
// for (-l, -s) or kept from the source (-a).
func linkFailureCases() []dropinCase {
	rod := testtree.D("rod", 0o555)
	return []dropinCase{
		{name: "-l into a read-only dir", user: true, cp: "fails",
			nodes: scratchTree(testtree.F("f", 0o644, []byte("f\n")), rod), args: "-l f rod"},
		{name: "-s into a read-only dir", user: true, cp: "fails",
			nodes: scratchTree(testtree.F("f", 0o644, []byte("f\n")), rod), args: "-s $ROOT/f rod"},
		{name: "-a of a hard link into a read-only dir", user: true, cp: "fails",
			nodes: scratchTree(testtree.D("src", 0o755), testtree.D("src/a", 0o755), testtree.D("src/rod", 0o555),
				testtree.F("src/a/x", 0o644, []byte("x\n")), testtree.H("src/rod/x-link", "src/a/x"),
				testtree.D("dst", 0o755), testtree.D("dst/rod", 0o555)),
			args: "-a src/. dst"},
	}
}

func preserveAsUserCases() []dropinCase {
	suid := testtree.F("suid", 0o6755, []byte("suid\n")).Own(1001, 1001)
	ro := testtree.F("ro", 0o444, []byte("read-only\n")).Xattr("user.a", "1", "user.b", "two")
	return []dropinCase{
		// The owner cannot be kept, so neither are the set-id bits: the
		// copy would be a setuid program of the user's.
		{name: "-p of another user's setuid file drops setuid and setgid", user: true,
			nodes: scratchTree(suid), args: "-p suid copy", setup: modeOf("copy"), cp: "ok",
			want: map[string]string{"mode of copy": "100755"}},
		{name: "-a of another user's setuid file drops setuid and setgid", user: true,
			nodes: scratchTree(suid), args: "-a suid copy", setup: modeOf("copy"), cp: "ok",
			want: map[string]string{"mode of copy": "100755"}},
		{name: "--preserve=mode,ownership of another user's setgid file", user: true,
			nodes: scratchTree(testtree.F("sgid", 0o2775, []byte("sgid\n")).Own(1001, 1001)),
			args:  "--preserve=mode,ownership sgid copy", setup: modeOf("copy")},
		{name: "--preserve=xattr of a read-only file keeps its xattrs", user: true,
			nodes: scratchTree(ro), args: "--preserve=xattr ro copy", setup: xattrsOf("copy"), cp: "ok",
			want: map[string]string{"xattrs of copy": `user.a="1" user.b="two"`}},
		{name: "-a of a read-only file keeps its xattrs", user: true,
			nodes: scratchTree(ro), args: "-a ro copy", setup: xattrsOf("copy"), cp: "ok",
			want: map[string]string{"xattrs of copy": `user.a="1" user.b="two"`}},
		{name: "--preserve=xattr of a read-only file onto an existing file", user: true,
			nodes: scratchTree(ro, testtree.F("copy", 0o644, []byte("old\n"))), args: "--preserve=xattr ro copy",
			setup: xattrsOf("copy"), cp: "ok", replaces: true,
			want: map[string]string{"xattrs of copy": `user.a="1" user.b="two"`}},
	}
}

// attributesOnlyCases: --attributes-only onto an existing file, and from
// a symlink onto a regular file (which cp refuses: it would have to
// replace the file by the symlink).
func attributesOnlyCases() []dropinCase {
	f := testtree.F("f", 0o755, []byte("f\n"))
	g := testtree.F("g", 0o600, []byte("g keeps its data\n"))
	lf := testtree.L("lf", "f")
	var cases []dropinCase
	for _, o := range []string{"-p", "--preserve=mode", "-a"} {
		cases = append(cases, dropinCase{name: "--attributes-only " + o + " onto an existing file sets its mode",
			nodes: scratchTree(f, g), args: "--attributes-only " + o + " f g", setup: modeOf("g"),
			inodes: []string{"g"}, cp: "ok", want: map[string]string{"mode of g": "100755"}})
	}
	cases = append(cases, dropinCase{name: "--attributes-only onto an existing file keeps its mode",
		nodes: scratchTree(f, g), args: "--attributes-only f g", setup: modeOf("g"),
		inodes: []string{"g"}, cp: "ok", want: map[string]string{"mode of g": "100600"}})
	for _, o := range []string{"-P", "-d", "-a", "--no-dereference --preserve=all"} {
		cases = append(cases, dropinCase{name: "--attributes-only " + o + " from a symlink onto a file refuses",
			nodes: scratchTree(f, g, lf), args: "--attributes-only " + o + " lf g", inodes: []string{"g"}, cp: "fails"})
	}
	return append(cases,
		dropinCase{name: "--attributes-only -a from a symlink to a new name", nodes: scratchTree(f, lf),
			args: "--attributes-only -a lf new", cp: "ok"},
		dropinCase{name: "--attributes-only from a symlink onto a file follows it", nodes: scratchTree(f, g, lf),
			args: "--attributes-only -p lf g", inodes: []string{"g"}, cp: "ok"},
	)
}

// silentCases: a successful cp prints nothing, so with stderr not a
// terminal (here, a pipe) cowcp prints nothing either: scripts check for
// empty stderr.
func silentCases() []dropinCase {
	f := testtree.F("f", 0o644, []byte("f\n"))
	tree := []testtree.Node{f, testtree.D("d", 0o755), testtree.F("d/a", 0o644, testtree.Bytes(81, 100<<10)), testtree.F("d/b", 0o600, []byte("b\n")),
		testtree.L("d/l", "a"), testtree.D("d/sub", 0o700), testtree.F("d/sub/c", 0o644, []byte("c\n"))}
	return []dropinCase{
		{name: "a file to a new name", nodes: scratchTree(f), args: "f g", silent: true, cp: "ok"},
		{name: "a file onto an existing file", nodes: scratchTree(f, testtree.F("g", 0o644, []byte("old\n"))), args: "f g",
			silent: true, replaces: true, cp: "ok"},
		{name: "-a of a tree", nodes: scratchTree(tree...), args: "-a d new", silent: true, cp: "ok"},
		{name: "-a of a tree onto another filesystem", nodes: scratchTree(tree...), args: "-a d $OTHER/d", silent: true, cp: "ok"},
		{name: "a file onto another filesystem", nodes: scratchTree(f), args: "f $OTHER/f", silent: true, cp: "ok"},
	}
}

// TestDryRunPredictsFailures: cowcp --dry-run meets the failures the run
// will meet, so it exits as the run does and counts as many errors.
func TestDryRunPredictsFailures(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	f := testtree.F("f", 0o644, []byte("f\n"))
	g := testtree.F("g", 0o644, []byte("g\n"))
	rod := testtree.D("rod", 0o555)
	cases := []dropinCase{
		{name: "an unwritable destination directory", user: true, nodes: scratchTree(f, g, rod), args: "f g rod"},
		{name: "an unwritable destination directory with -r", user: true,
			nodes: scratchTree(f, rod, testtree.D("d", 0o755), testtree.F("d/x", 0o644, []byte("x\n"))), args: "-r d f rod"},
		{name: "a read-only filesystem", nodes: scratchTree(f, g, testtree.D("ro", 0o755)), args: "f g ro",
			setup: readOnlyMount("ro")},
		{name: "a file onto itself", nodes: scratchTree(f), args: "f f"},
		{name: "a file onto itself through a symlink", nodes: scratchTree(f, testtree.L("lf", "f")), args: "f lf"},
		{name: "a dangling symlink destination", nodes: scratchTree(f, testtree.L("dang", "nowhere")), args: "f dang"},
		{name: "failures among good copies", user: true,
			nodes: scratchTree(f, g, testtree.D("e", 0o755), testtree.L("dang", "nowhere")), args: "f nosuch g dang e"},
	}
	for _, kind := range []string{fsBtrfs, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := mountScratchFS(t, kind, "256M")
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					runDryRunCase(t, e, c, fmt.Sprintf("dry%03d", i))
				})
			}
		})
	}
}

// runDryRunCase runs cp on one copy of the case's tree, and cowcp --dry-run
// --json then cowcp --json on another.
func runDryRunCase(t *testing.T, e scratchFS, c dropinCase, name string) {
	base, bin := filepath.Join(e.mnt, name), copierBin()
	uid := 0
	if c.user {
		base, bin, uid = filepath.Join(e.user, name), e.copier, 1000
	}
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := c.nodes
	if c.user {
		nodes = testtree.Owned(nodes, 1000, 1000)
	}
	run := func(root, bin string, extra ...string) result {
		args := append(extra, strings.Fields(c.args)...)
		return execute(t, bin, invocation{dir: root, args: args, umask: -1, uid: uid, timeout: 20 * time.Second})
	}
	build := func(root string) {
		testtree.Build(t, root, nodes)
		if c.setup != nil {
			if after := c.setup(t, root); after != nil {
				t.Cleanup(func() { after() })
			}
		}
	}

	cpRoot, cwRoot := filepath.Join(base, "cp"), filepath.Join(base, "cw")
	build(cpRoot)
	cp := run(cpRoot, gnuCp(t))
	if cp.code == 0 {
		t.Fatalf("test premise: cp %s succeeded, the case expects it to fail", c.args)
	}
	cpErrors := len(diagnostics(cp.stderr, gnuCp(t), cpRoot, ""))

	build(cwRoot)
	dry := run(cwRoot, bin, "--dry-run", "--json")
	real := run(cwRoot, bin, "--json")
	dryRep, realRep := errorCount(dry), errorCount(real)
	var diffs []string
	if dry.code != real.code {
		diffs = append(diffs, fmt.Sprintf("exit status: --dry-run %d, the run %d", dry.code, real.code))
	}
	if dryRep != realRep {
		diffs = append(diffs, fmt.Sprintf("errors: --dry-run %s, the run %s", dryRep, realRep))
	}
	if real.code == 0 {
		diffs = append(diffs, fmt.Sprintf("the run exited 0; cp exited %d", cp.code))
	}
	if len(diffs) > 0 {
		t.Logf("cp %s\n\tcp: exit %d, %d diagnostics: %q\n\tcowcp --dry-run --json: exit %d, stdout %q, stderr %q\n\tcowcp --json: exit %d, stdout %q, stderr %q",
			c.args, cp.code, cpErrors, cp.stderr, dry.code, short(dry.stdout), dry.stderr, real.code, short(real.stdout), real.stderr)
		t.Errorf("cowcp %s: --dry-run does not predict the run:\n\t%s", c.args, strings.Join(diffs, "\n\t"))
	}
}

// errorCount is the "errors" count of a --json report, or why there is
// none: a dry run that fails early may print no report, and that is itself
// a difference from the run, not a reason to stop the test.
func errorCount(r result) string {
	var rep struct {
		Errors *int64 `json:"errors"`
	}
	if err := json.NewDecoder(strings.NewReader(r.stdout)).Decode(&rep); err != nil {
		return fmt.Sprintf("(no JSON report: %v)", err)
	}
	if rep.Errors == nil {
		return "(no errors field)"
	}
	return strconv.FormatInt(*rep.Errors, 10)
}
