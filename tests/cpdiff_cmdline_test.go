package tests

// The command-line table of the differential tests: each case runs
// through GNU cp and through cowcp, each in its own scratch directory made
// identical before the run, and the exit status (zero or not) and the
// resulting scratch tree must match cp's, case for case.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// cmdlineCase is one command line. Its arguments are split on spaces, and
// $ROOT stands for the scratch directory (which is also the working
// directory). The scratch tree is cmdlineBase plus extra.
type cmdlineCase struct {
	name  string
	args  string
	extra []testtree.Node
	stdin string // answers to -i prompts, the same for both
	umask string // octal umask for the run; "" keeps the test's
	user  bool   // run as uid/gid 1000 in a tree owned by 1000, where permissions bite
	tmpfs string // a directory of the tree to mount a tmpfs on (for -x)
	// replaces names the directory in which the case overwrites an
	// existing file. cowcp writes the new file beside it and renames it
	// over the old one, so the old content survives until the new one is
	// whole, even if cowcp is killed; cp rewrites the file in place. The
	// rename updates that directory's mtime: the one difference accepted
	// for such cases, deliberately, and documented in the README.
	replaces string
	// accept lists further deliberate differences (prefixes of testtree.Diff's
	// lines), each explained where the case is defined.
	accept []string
}

// dropAccepted drops from diffs the differences a case accepts.
func dropAccepted(c cmdlineCase, diffs []string) []string {
	var keep []string
next:
	for _, d := range diffs {
		if c.replaces != "" && strings.HasPrefix(d, strconv.Quote(c.replaces)+": mtime: ") && strings.HasSuffix(d, ", cowcp fresh") {
			continue
		}
		for _, a := range c.accept {
			if strings.HasPrefix(d, a) {
				continue next
			}
		}
		keep = append(keep, d)
	}
	return keep
}

// cmdlineBase is the scratch tree every case starts from. Every mtime is fixed
// and in the past, so a time made by the run ("fresh") is told apart from a
// preserved one.
func cmdlineBase() []testtree.Node {
	const m = 1 << 20
	return []testtree.Node{
		testtree.D(".", 0o755).At(1500000000, 0),
		testtree.F("f", 0o644, []byte("f\n")).At(1500000000, 111111111),
		testtree.F("g", 0o640, []byte("g, the old one\n")).At(1400000000, 222222222),
		testtree.F("h", 0o600, []byte("h\n")).At(1600000000, 333333333),
		testtree.F("ro", 0o444, []byte("read-only\n")).At(1400000000, 1),
		testtree.D("d", 0o750).At(1450000000, 444444444),
		testtree.F("d/x", 0o644, []byte("x\n")).At(1450000001, 1),
		testtree.H("d/x-link", "d/x"),
		testtree.F("d/.hidden", 0o600, []byte("hidden\n")).At(1450000002, 2),
		testtree.L("d/lx", "x").At(1450000003, 3),
		testtree.L("d/lf", "../f").At(1450000004, 4),
		testtree.D("d/sub", 0o700).At(1450000005, 5),
		testtree.F("d/sub/y", 0o640, []byte("y\n")).At(1450000006, 6),
		testtree.F("d/sub/s", 0o4755, []byte("s\n")).Own(1000, 1000).At(1450000007, 7),
		testtree.D("d/sub/empty", 0o755).At(1450000008, 8),
		testtree.D("e", 0o755).At(1460000000, 0),
		testtree.L("lf", "f").At(1470000000, 1),
		testtree.L("ld", "d").At(1470000000, 2),
		testtree.L("dang", "nowhere").At(1470000000, 3),
		testtree.L("lself", "lself").At(1470000000, 4),
		testtree.F("suid", 0o6755, []byte("suid\n")).Own(1000, 100).At(1480000000, 5),
		testtree.F("o1000", 0o640, []byte("o\n")).Own(1000, 1000).At(1480000000, 6),
		testtree.F("xf", 0o644, []byte("xattrs\n")).Xattr("user.u", "1", "trusted.t", "2", "security.s", "3").At(1480000000, 7),
		testtree.F("af", 0o640, []byte("acl\n")).ACL("u::rw-,u:1001:rw-,g::r--,m::rw-,o::---", "").At(1480000000, 8),
		testtree.S("sp", 2*m, testtree.Random(0, 40, 64<<10), testtree.Data(128<<10, make([]byte, 128<<10)),
			testtree.Random(m, 41, 64<<10)).At(1480000000, 9),
		testtree.F("zf", 0o644, make([]byte, 256<<10)).At(1480000000, 10),
		testtree.N("fifo", testtree.FIFO, 0o640, 0).At(1480000000, 11),
		testtree.N("cdev", testtree.CharDev, 0o620, unix.Mkdev(1, 3)).Own(0, 5).At(1480000000, 12),
		testtree.N("sock", testtree.Socket, 0o755, 0).At(1480000000, 13),
	}
}

// cmdlineCases is the table. The comments say what GNU cp 9.1 does, for the
// reader; the test itself only asks that cowcp does the same.
var cmdlineCases = []cmdlineCase{
	// Where a file goes.
	{name: "file to a new name", args: "f new"},
	{name: "file into a dir", args: "f e"},
	{name: "file into a dir with slash", args: "f e/"},
	{name: "file to a missing dir with slash", args: "f nodir/"}, // fails
	{name: "file onto an existing file keeps its mode", replaces: ".", args: "f g"},
	// g has another link, so cowcp rewrites it in place as cp does: both
	// names see the new content.
	{name: "file onto a file with another hardlink", args: "f g", extra: []testtree.Node{testtree.H("g-link", "g")}},
	{name: "file onto a file with another hardlink with -a", args: "-a f g", extra: []testtree.Node{testtree.H("g-link", "g")}},
	{name: "file onto a file with another hardlink with --remove-destination", args: "--remove-destination f g",
		extra: []testtree.Node{testtree.H("g-link", "g")}},
	{name: "file onto an existing file with -p", replaces: ".", args: "-p f g"},
	{name: "file onto an existing file with --preserve=mode", replaces: ".", args: "--preserve=mode f g"},
	{name: "several files into a dir", args: "f g h e"},
	{name: "several sources onto a file", args: "f g h"},           // fails
	{name: "several sources onto a missing name", args: "f g new"}, // fails
	{name: "missing source among good ones", args: "f missing g e"},
	{name: "destination parent missing", args: "f no/such/x"},
	{name: "same file twice", args: "f f e"},
	{name: "same dir twice", args: "-r d d e"},
	{name: "file onto itself", args: "f f"},
	{name: "file onto ./itself", args: "f ./f"},
	{name: "file onto a symlink to itself", args: "f lf"},
	{name: "file onto a hardlink of itself", args: "d/x d/x-link"},
	{name: "file onto itself with -f", args: "-f f f"},
	{name: "file onto itself with -fb", args: "-fb f f"},
	{name: "file onto itself with -b", args: "-b f f"},
	{name: "file onto a symlink to itself with -f", args: "-f f lf"},
	{name: "file onto a symlink to itself with --remove-destination", args: "--remove-destination f lf"},
	{name: "file onto a hardlink of itself with --remove-destination", args: "--remove-destination d/x d/x-link"},
	{name: "file onto a symlink to another file", replaces: ".", args: "h lf"},
	{name: "file onto a symlink with --remove-destination", args: "--remove-destination h lf"},
	{name: "file onto a dangling symlink", args: "f dang"},
	{name: "file onto a dangling symlink with -f", args: "-f f dang"},
	{name: "file onto a self-loop symlink", args: "f lself"},
	{name: "file onto a dir", args: "f e2", extra: []testtree.Node{testtree.D("e2", 0o755).At(1, 0), testtree.D("e2/f", 0o755).At(2, 0)}},
	{name: "file onto a read-only file as root", replaces: ".", args: "f ro"},
	{name: "file onto a read-only file as root with -f", replaces: ".", args: "-f f ro"},

	// Directories.
	{name: "dir without -r", args: "d new"},
	{name: "dir without -r among files", args: "f d g e"},
	{name: "-r dir to a new name", args: "-r d new"},
	{name: "-R dir to a new name", args: "-R d new"},
	{name: "-r dir into an existing dir", args: "-r d e"},
	{name: "-r dir/ to a new name", args: "-r d/ new"},
	{name: "-r dir/ into an existing dir", args: "-r d/ e"},
	{name: "-r dir/. to a new name", args: "-r d/. new"},
	{name: "-r dir/. into an existing dir", args: "-r d/. e"},
	{name: "-r dir to a new name with slash", args: "-r d new/"},
	{name: "-r dir into itself", args: "-r d d/sub"},
	{name: "-r dir onto itself", args: "-r d d"},
	{name: "-r dir/. onto itself", args: "-r d/. d"},
	{name: "-r dir onto a file", args: "-r d f"},
	{name: "-r dir onto a dir holding a file of its name", args: "-r d e3", extra: []testtree.Node{
		testtree.D("e3", 0o755).At(1, 0), testtree.F("e3/d", 0o644, []byte("file\n")).At(2, 0)}},
	{name: "-r dir merged into an earlier copy", args: "-r d e4", extra: earlierCopyOfD()},
	{name: "-a dir to a new name", args: "-a d new"},
	{name: "-a several sources into a dir", args: "-a d f lf fifo e"},
	{name: "-r special files", args: "-r fifo cdev sock e"},
	{name: "-a special files", args: "-a fifo cdev sock e"},
	{name: "-r read-only dir with contents", args: "-r rod new", extra: []testtree.Node{
		testtree.D("rod", 0o500).At(1, 0), testtree.F("rod/x", 0o400, []byte("x\n")).At(2, 0), testtree.D("rod/sub", 0o555).At(3, 0)}},
	{name: "-r dir holding hardlinks", args: "-r d new"},
	{name: "-r setuid file", args: "-r suid d/sub/s e"},

	// -T and -t.
	{name: "-T file to a new name", args: "-T f new"},
	{name: "-T file onto a dir", args: "-T f e"},
	{name: "-rT dir onto an existing dir", args: "-rT d e"},
	{name: "-rT dir onto a file", args: "-rT d f"},
	{name: "-t dir", args: "-t e f g"},
	{name: "-t missing dir", args: "-t nodir f"},
	{name: "-t a file", args: "-t f g"},
	{name: "-t without sources", args: "-t e"},
	{name: "-t with -T", args: "-T -t e f"},
	{name: "-rt dir", args: "-r -t e d f"},

	// --parents.
	{name: "--parents", args: "--parents d/sub/y e"},
	{name: "--parents -a", args: "-a --parents d/sub/y d/x e"},
	{name: "--parents -r dir", args: "-r --parents d/sub e"},
	{name: "--parents onto a file", args: "--parents d/x f"},
	{name: "--parents without a dir", args: "--parents d/x"},

	// -n, -u, -i, -f, --remove-destination.
	{name: "-n onto an existing file", args: "-n f g"},
	{name: "-n to a new name", args: "-n f new"},
	{name: "-rn merge", args: "-rn d e4", extra: earlierCopyOfD()},
	{name: "-u onto an older file", replaces: ".", args: "-u f g"},
	{name: "-u onto a newer file", args: "-u g f"},
	{name: "-u onto a file of the same mtime", args: "-u f same", extra: []testtree.Node{
		testtree.F("same", 0o644, []byte("same mtime, other bytes\n")).At(1500000000, 111111111)}},
	{name: "-u to a new name", args: "-u f new"},
	{name: "-ru merge", args: "-ru d e4", extra: earlierCopyOfD()},
	{name: "-i answered yes", replaces: ".", args: "-i f g", stdin: "y\n"},
	{name: "-i answered no", args: "-i f g", stdin: "n\n"},
	{name: "-i at end of input", args: "-i f g"},
	{name: "-i to a new name", args: "-i f new"},
	{name: "-i several", replaces: "e5", args: "-i f h g e5", stdin: "y\nn\nyes\n", extra: dirHoldingFGH()},
	// Within a directory cp prompts in its own order (by inode), so
	// recursive cases answer all prompts alike.
	{name: "-ri merge answered yes", args: "-ri d e4", stdin: "y\ny\ny\ny\ny\n", extra: earlierCopyOfD()},
	{name: "-ri merge answered no", args: "-ri d e4", stdin: "n\nn\nn\nn\nn\n", extra: earlierCopyOfD()},
	{name: "-i then -n", args: "-i -n f g", stdin: "y\n"},
	{name: "-n then -i", replaces: ".", args: "-n -i f g", stdin: "y\n"},
	{name: "-f onto an existing file", replaces: ".", args: "-f f g"},
	{name: "--remove-destination onto an existing file", args: "--remove-destination f g"},
	{name: "--remove-destination onto a dir", args: "--remove-destination f e2", extra: []testtree.Node{
		testtree.D("e2", 0o755).At(1, 0), testtree.D("e2/f", 0o755).At(2, 0)}},

	// Not root: where read-only destinations and ownership refuse.
	{name: "user: an unreadable directory is made all the same", args: "-r ud new", user: true,
		extra: []testtree.Node{testtree.D("ud", 0o000)}},
	{name: "-s into a missing directory", args: "-s $ROOT/f nodir/f"},
	{name: "user: onto a read-only file", args: "f ro", user: true},
	{name: "user: onto a read-only file with -f", args: "-f f ro", user: true},
	{name: "user: onto a read-only file with --remove-destination", args: "--remove-destination f ro", user: true},
	{name: "user: onto a read-only file with -i", args: "-i f ro", stdin: "y\n", user: true},
	{name: "user: into a read-only dir", args: "f rod", user: true, extra: []testtree.Node{testtree.D("rod", 0o555).At(1, 0)}},
	{name: "user: -r into a read-only dir", args: "-r d rod", user: true, extra: []testtree.Node{testtree.D("rod", 0o555).At(1, 0)}},
	{name: "user: -a of another's files", args: "-a d other new", user: true, extra: []testtree.Node{
		testtree.F("other", 0o644, []byte("other\n")).Own(1001, 1001).At(1, 0)}},
	{name: "user: --preserve=ownership of another's file", args: "--preserve=ownership other new", user: true, extra: []testtree.Node{
		testtree.F("other", 0o644, []byte("other\n")).Own(1001, 1001).At(1, 0)}},
	{name: "user: -r read-only dir with contents", args: "-r rod new", user: true, extra: []testtree.Node{
		testtree.D("rod", 0o500).At(1, 0), testtree.F("rod/x", 0o400, []byte("x\n")).At(2, 0)}},
	{name: "user: unreadable source among good ones", args: "f secret g e", user: true, extra: []testtree.Node{
		testtree.F("secret", 0o000, []byte("secret\n")).At(1, 0)}},

	// Backups.
	{name: "-b", args: "-b f g"},
	{name: "-b to a new name", args: "-b f new"},
	{name: "--backup=numbered", args: "--backup=numbered f g", extra: numberedBackups()},
	{name: "--backup=t", args: "--backup=t f h"},
	{name: "--backup=existing with numbered ones", args: "--backup=existing f g", extra: numberedBackups()},
	{name: "--backup=existing without", args: "--backup=existing f h"},
	{name: "--backup=nil", args: "--backup=nil f g", extra: numberedBackups()},
	{name: "--backup=simple -S", args: "--backup=simple -S .bak f g"},
	{name: "--backup=never", args: "--backup=never f g", extra: numberedBackups()},
	{name: "-b -S", args: "-b -S .orig f g"},
	{name: "--suffix", args: "-b --suffix=.old f g"},
	{name: "-S without -b", args: "-S .x f g"},
	{name: "--backup=none", replaces: ".", args: "--backup=none f g"},
	{name: "--backup=off", replaces: ".", args: "--backup=off f g"},
	{name: "--backup=bogus", args: "--backup=bogus f g"},
	{name: "-b onto an existing backup", args: "-b f g", extra: []testtree.Node{testtree.F("g~", 0o600, []byte("old backup\n")).At(1, 0)}},
	{name: "-rb merge", args: "-r -b d e4", extra: earlierCopyOfD()},
	{name: "-ab merge", args: "-a --backup=numbered d e4", extra: earlierCopyOfD()},
	{name: "-b dir onto a dir", args: "-rT -b d e4/d", extra: earlierCopyOfD()},

	// Links instead of copies.
	{name: "-l", args: "-l f new"},
	{name: "-l onto an existing file", args: "-l f g"},
	{name: "-lf onto an existing file", args: "-lf f g"},
	{name: "-rl", args: "-rl d new"},
	{name: "-al", args: "-al d new"},
	{name: "-l dir without -r", args: "-l d new"},
	{name: "-l symlink", args: "-l lf new"},
	{name: "-lP symlink", args: "-lP lf new"},
	{name: "-s", args: "-s f new"},
	{name: "-s into a subdir, relative", args: "-s f e/"},
	{name: "-s absolute into a dir", args: "-s $ROOT/f $ROOT/g e/"},
	{name: "-rs absolute", args: "-rs $ROOT/d new"},
	{name: "-rs relative", args: "-rs d new"},
	{name: "-s onto an existing file", args: "-s f g"},
	{name: "-sf onto an existing file", args: "-sf f g"},
	{name: "-s missing source", args: "-s nothing new"},
	{name: "-s dangling symlink", args: "-s dang new"},

	// Symlinks on the command line and in trees.
	{name: "symlink to a file", args: "lf new"},
	{name: "symlink to a file with -P", args: "-P lf new"},
	{name: "symlink to a file with -d", args: "-d lf new"},
	{name: "symlink to a file with -H", args: "-H lf new"},
	{name: "symlink to a file with -L", args: "-L lf new"},
	{name: "symlink to a dir without -r", args: "ld new"},
	{name: "symlink to a dir with -r", args: "-r ld new"},
	{name: "symlink to a dir with -rH", args: "-rH ld new"},
	{name: "symlink to a dir with -rL", args: "-rL ld new"},
	{name: "symlink to a dir with -rP", args: "-rP ld new"},
	{name: "symlink to a dir with -aH", args: "-aH ld new"},
	{name: "symlink to a dir with -aL", args: "-aL ld new"},
	{name: "symlink to a dir with -a", args: "-a ld new"},
	{name: "dir with -rL", args: "-rL d new"},
	{name: "dir with -rH", args: "-rH d new"},
	{name: "dir with -aL", args: "-aL d new"},
	{name: "dangling symlink", args: "dang new"},
	{name: "dangling symlink with -P", args: "-P dang new"},
	{name: "dangling symlink with -r", args: "-r dang new"},
	{name: "dangling symlink with -L", args: "-L dang new"},
	{name: "self-loop symlink", args: "lself new"},
	{name: "self-loop symlink with -d", args: "-d lself new"},
	{name: "-rL tree with dangling and looping symlinks", args: "-rL t new", extra: []testtree.Node{
		testtree.D("t", 0o755).At(1, 0), testtree.F("t/x", 0o644, []byte("x\n")).At(2, 0), testtree.L("t/ok", "x").At(3, 0),
		testtree.L("t/dang", "nope").At(4, 0), testtree.L("t/loop", "loop").At(5, 0)}},
	{name: "-a symlinks onto a dir of symlinks", args: "-a lf ld dang e6", extra: []testtree.Node{
		testtree.D("e6", 0o755).At(1, 0), testtree.L("e6/lf", "other").At(2, 0), testtree.F("e6/ld", 0o644, []byte("file\n")).At(3, 0)}},

	// Which attributes.
	{name: "-p", args: "-p o1000 suid xf af e"},
	{name: "--preserve", args: "--preserve o1000 suid xf af e"},
	{name: "--preserve=mode", args: "--preserve=mode o1000 suid xf af e"},
	{name: "--preserve=ownership", args: "--preserve=ownership o1000 suid xf af e"},
	{name: "--preserve=timestamps", args: "--preserve=timestamps o1000 suid xf af e"},
	{name: "--preserve=xattr", args: "--preserve=xattr o1000 suid xf af e"},
	{name: "--preserve=all", args: "--preserve=all o1000 suid xf af e"},
	{name: "--preserve=mode,timestamps", args: "--preserve=mode,timestamps o1000 suid xf af e"},
	{name: "--preserve=links -r", args: "-r --preserve=links d new"},
	{name: "--preserve=bogus", args: "--preserve=bogus f new"},
	{name: "no preservation", args: "o1000 suid xf af e"},
	{name: "-a --no-preserve=mode", args: "-a --no-preserve=mode d o1000 suid xf af e"},
	{name: "-a --no-preserve=ownership", args: "-a --no-preserve=ownership d o1000 suid e"},
	{name: "-a --no-preserve=timestamps", args: "-a --no-preserve=timestamps d o1000 e"},
	{name: "-a --no-preserve=links", args: "-a --no-preserve=links d new"},
	{name: "-a --no-preserve=xattr", args: "-a --no-preserve=xattr xf af e"},
	{name: "-a --no-preserve=all", args: "-a --no-preserve=all d xf af e"},
	{name: "-p --preserve=xattr", args: "-p --preserve=xattr xf e"},
	{name: "--no-preserve=bogus", args: "--no-preserve=bogus f new"},
	{name: "-a onto an existing file", replaces: ".", args: "-a f g"},
	{name: "-a onto an existing file with other xattrs", replaces: ".", args: "-a xf gx", extra: []testtree.Node{
		testtree.F("gx", 0o600, []byte("gx\n")).Xattr("user.other", "o", "user.u", "old").At(1, 0)}},
	{name: "umask 077", args: "-r f d e", umask: "077"},
	{name: "umask 027 onto an existing file", replaces: ".", args: "f g", umask: "027"},
	{name: "umask 000", args: "-r d suid sp e", umask: "000"},
	{name: "umask 077 -a", args: "-a d new", umask: "077"},
	{name: "umask 022 into a default-ACL dir", args: "-r f d ad", umask: "022", extra: []testtree.Node{
		testtree.D("ad", 0o755).ACL("", "u::rwx,u:1001:rwx,g::r-x,m::rwx,o::---").At(1, 0)}},

	// Sparse files.
	{name: "--sparse=auto", args: "--sparse=auto sp zf e"},
	{name: "--sparse=always", args: "--sparse=always sp zf e"},
	{name: "--sparse=never", args: "--sparse=never sp zf e"},
	{name: "--sparse=bogus", args: "--sparse=bogus sp new"},
	{name: "default sparse", args: "sp zf e"},

	// --attributes-only.
	{name: "--attributes-only to a new name", args: "--attributes-only -p f new"},
	{name: "--attributes-only onto an existing file", args: "--attributes-only -p o1000 g"},
	{name: "--attributes-only without -p", args: "--attributes-only f g"},
	{name: "--attributes-only -a dir", args: "-a --attributes-only d xf e"},
	{name: "--attributes-only -a onto a file with xattrs", args: "-a --attributes-only xf af e"},

	// One file system.
	{name: "-ax", args: "-ax mt new", tmpfs: "mt/m", extra: mountTree()},
	{name: "-rx", args: "-rx mt new", tmpfs: "mt/m", extra: mountTree()},
	{name: "-a across a mount", args: "-a mt new", tmpfs: "mt/m", extra: mountTree()},
	{name: "-x of the mount itself", args: "-rx mt/m new", tmpfs: "mt/m", extra: mountTree()},

	// Usage.
	{name: "no operands", args: ""},
	{name: "one operand", args: "f"},
	{name: "unknown option", args: "--bogus f new"},
	{name: "-- before a dash name", args: "-- -dash new", extra: []testtree.Node{testtree.F("-dash", 0o644, []byte("-\n")).At(1, 0)}},
}

// earlierCopyOfD is a dir holding an earlier, different copy of d.
func earlierCopyOfD() []testtree.Node {
	return []testtree.Node{
		testtree.D("e4", 0o755).At(1, 0),
		testtree.D("e4/d", 0o700).At(2, 0),
		testtree.F("e4/d/x", 0o600, []byte("older x\n")).At(1300000000, 0),
		testtree.F("e4/d/other", 0o644, []byte("only here\n")).At(4, 0),
		testtree.D("e4/d/sub", 0o755).At(5, 0),
		testtree.F("e4/d/sub/y", 0o644, []byte("newer y\n")).At(1700000000, 0),
		testtree.L("e4/d/lx", "elsewhere").At(7, 0),
	}
}

// dirHoldingFGH is a dir already holding f and h.
func dirHoldingFGH() []testtree.Node {
	return []testtree.Node{
		testtree.D("e5", 0o755).At(1, 0),
		testtree.F("e5/f", 0o644, []byte("old f\n")).At(2, 0),
		testtree.F("e5/h", 0o644, []byte("old h\n")).At(3, 0),
		testtree.F("e5/g", 0o644, []byte("old g\n")).At(4, 0),
	}
}

// numberedBackups is g with numbered backups already made.
func numberedBackups() []testtree.Node {
	return []testtree.Node{
		testtree.F("g.~1~", 0o644, []byte("backup 1\n")).At(1, 0),
		testtree.F("g.~3~", 0o644, []byte("backup 3\n")).At(3, 0),
	}
}

// mountTree is a dir with a mount point m (a tmpfs is mounted there
// before the run) and a file beside it.
func mountTree() []testtree.Node {
	return []testtree.Node{
		testtree.D("mt", 0o755).At(1, 0),
		testtree.D("mt/m", 0o755).At(2, 0),
		testtree.F("mt/beside", 0o644, []byte("beside\n")).At(3, 0),
	}
}

func TestCpDiffCmdline(t *testing.T) {
	requireRoot(t)
	// The cases are independent (each has its own scratch pair), so they
	// run in parallel: most of their time is the copier's start-up.
	for _, kind := range []string{fsBtrfs, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "1G")
			userBase, copier := "", ""
			for i, c := range cmdlineCases {
				base := mnt
				if c.user {
					if userBase == "" {
						userBase, copier = userScratch(t, mnt)
					}
					base = userBase
				}
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					bin := copierBin()
					if c.user {
						bin = copier
					}
					runCmdlineCase(t, c, filepath.Join(base, fmt.Sprintf("case%03d", i)), bin)
				})
			}
		})
	}
}

// userScratch makes a directory on the filesystem at mnt that uid 1000 can
// enter (loopfs's mount points may sit in private directories), by binding
// it onto a fresh directory under the system's temporary one, and puts a
// copy of the copier under test there. It returns both.
func userScratch(t *testing.T, mnt string) (dir, copier string) {
	t.Helper()
	src := filepath.Join(mnt, "user")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "cpdiff-user-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", src, dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		t.Fatalf("mount --bind %s %s: %v\n%s", src, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
			return
		}
		os.Remove(dir)
	})
	copier = filepath.Join(dir, "copier")
	if out, err := exec.Command("cp", copierBin(), copier).CombinedOutput(); err != nil {
		t.Fatalf("copying the copier: %v\n%s", err, out)
	}
	if err := os.Chmod(copier, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, copier
}

// runCmdlineCase makes the case's tree twice under base, runs cp in one and bin
// in the other, and compares.
func runCmdlineCase(t *testing.T, c cmdlineCase, base, bin string) {
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := append(cmdlineBase(), c.extra...)
	if c.user {
		nodes = testtree.Owned(nodes, 1000, 1000)
	}
	umask := -1
	if c.umask != "" {
		fmt.Sscanf(c.umask, "%o", &umask)
	}
	uid := 0
	if c.user {
		uid = 1000
	}
	var res [2]result
	var mans [2]testtree.Manifest
	for i, b := range []string{gnuCp(t), bin} {
		root := filepath.Join(base, []string{"cp", "cw"}[i])
		testtree.Build(t, root, nodes)
		if c.tmpfs != "" {
			mountSmallTmpfs(t, filepath.Join(root, c.tmpfs))
		}
		var args []string
		for _, a := range strings.Fields(c.args) {
			args = append(args, strings.ReplaceAll(a, "$ROOT", root))
		}
		start := time.Now().Add(-2 * time.Second) // the kernel's coarse clock may lag
		res[i] = execute(t, b, invocation{dir: root, args: args, stdin: c.stdin, umask: umask, uid: uid, timeout: 30 * time.Second})
		m, err := testtree.Walk(root, testtree.WalkOptions{FreshSince: start, RootAlias: root})
		if err != nil {
			t.Fatal(err)
		}
		mans[i] = m
	}
	var diffs []string
	if (res[0].code == 0) != (res[1].code == 0) {
		diffs = append(diffs, fmt.Sprintf("exit status: cp %d, cowcp %d", res[0].code, res[1].code))
	}
	diffs = append(diffs, dropAccepted(c, testtree.Diff(mans[0], mans[1], "cp", "cowcp"))...)
	if len(diffs) > 0 {
		t.Logf("cp %s\n\tcp: exit %d, stderr %q\n\tcowcp: exit %d, stderr %q",
			c.args, res[0].code, res[0].stderr, res[1].code, res[1].stderr)
	}
	reportDiffs(t, "cp "+c.args, diffs)
}

// mountSmallTmpfs mounts a small tmpfs on dir, puts a file in it and fixes
// the times, and unmounts it when the test ends.
func mountSmallTmpfs(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "cpdiff", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs on %s: %v\n%s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	f := filepath.Join(dir, "on-tmpfs")
	if err := os.WriteFile(f, []byte("on tmpfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f, dir} {
		ts := []unix.Timespec{{Sec: 1234567890}, {Sec: 1234567890}}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}
