package tests

// End-to-end tests of destinations that fight back. An unprivileged user
// swaps the directories root is copying into for symbolic links to a
// canary directory elsewhere, in a tight loop, or replaces each FIFO root
// makes by such a symlink: nothing outside the destination may ever
// change (every step of the copy is relative to a directory descriptor
// opened with O_NOFOLLOW, or never follows a final symlink). And
// destinations that cannot be written — immutable and append-only files
// and directories, a read-only bind mount — fail in cp's words, naming
// each, while the rest is copied and nothing is left under a temporary
// name.
//
// GNU cp 9.1 runs in the same conditions, for the record (t.Log) where it
// is not the reference: it walks by path, and writes into the canary.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// swapperEnv makes the test binary, started with it set, run the swapper
// (swapperMain) instead of the tests: the attacker is this same program
// re-run as an unprivileged user, so it needs no building and can make
// the calls a shell cannot (renameat2 with RENAME_EXCHANGE).
const swapperEnv = "COWCP_TEST_SWAPPER"

func init() {
	// In init, not TestMain: the attacker must not build the binaries
	// under test first (nor could it, as uid 1000).
	if os.Getenv(swapperEnv) != "" {
		os.Exit(swapperMain(os.Args[1:]))
	}
}

// Swapping modes.
const (
	// swapRename renames a directory away, puts a symlink at its name,
	// then removes the symlink and renames the directory back: for a
	// moment the name is missing, and a copier may make it again.
	swapRename = "rename"
	// swapExchange swaps the directory and a symlink atomically
	// (RENAME_EXCHANGE): the name is always there, a directory or not.
	swapExchange = "exchange"
	// swapEntries watches one directory (inotify) and, as soon as the
	// copier makes an entry there, renames it away (NAME.x) and puts a
	// symlink in its place: the attack on metadata set by name.
	swapEntries = "entries"
)

// swapperMain swaps each victim directory under root (args: mode root
// target victim...) for a symlink to target/victim and back, all victims
// together, until SIGTERM; it then puts every directory back and exits.
// It prints "ready" once it has swapped once, and at the end how many
// swaps it made. Directories a copier made while a name was away are
// renamed aside (NAME.freshN) so the real one can go back.
func swapperMain(args []string) int {
	if len(args) < 4 {
		fmt.Fprintln(os.Stderr, "swapper: usage: MODE ROOT TARGET VICTIM...")
		return 2
	}
	mode, root, target, victims := args[0], args[1], args[2], args[3:]
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	if mode == swapEntries {
		return swapNewEntries(root, target, stop)
	}
	fresh := 0
	aside := func(p string) {
		fresh++
		unix.Rename(p, p+".fresh"+strconv.Itoa(fresh))
	}
	// putBack puts the directory saved at p.away back at p.
	putBack := func(p string) {
		if err := unix.Rename(p+".away", p); err != nil {
			aside(p)
			unix.Rename(p+".away", p)
		}
	}
	if mode == swapExchange {
		for _, v := range victims {
			unix.Symlink(filepath.Join(target, v), filepath.Join(root, v)+".lnk")
		}
	}
	var swaps, failed int
	swapped := make([]bool, len(victims))
	for cycle := 0; ; cycle++ {
		for i, v := range victims {
			p := filepath.Join(root, v)
			swapped[i] = false
			switch mode {
			case swapRename:
				if unix.Rename(p, p+".away") != nil {
					failed++ // not made yet, or the copier's and not ours to move
					continue
				}
				if unix.Symlink(filepath.Join(target, v), p) != nil {
					aside(p) // the copier made it again, in the moment
					putBack(p)
					continue
				}
			case swapExchange:
				if unix.Renameat2(unix.AT_FDCWD, p, unix.AT_FDCWD, p+".lnk", unix.RENAME_EXCHANGE) != nil {
					failed++
					continue
				}
			}
			swapped[i] = true
			swaps++
		}
		for i, v := range slices.Backward(victims) {
			if !swapped[i] {
				continue
			}
			p := filepath.Join(root, v)
			switch mode {
			case swapRename:
				unix.Unlink(p)
				putBack(p)
			case swapExchange:
				unix.Renameat2(unix.AT_FDCWD, p, unix.AT_FDCWD, p+".lnk", unix.RENAME_EXCHANGE)
			}
		}
		if cycle == 0 {
			fmt.Println("ready")
		}
		select {
		case <-stop:
			if mode == swapExchange {
				for _, v := range victims {
					unix.Unlink(filepath.Join(root, v) + ".lnk")
				}
			}
			fmt.Printf("swaps %d failed %d cycles %d\n", swaps, failed, cycle+1)
			return 0
		default:
		}
	}
}

// swapNewEntries is the swapper's swapEntries mode: each entry made in
// root is renamed to NAME.x and replaced by a symlink to target/NAME, once.
func swapNewEntries(root, target string, stop chan os.Signal) int {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err == nil {
		_, err = unix.InotifyAddWatch(fd, root, unix.IN_CREATE)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "swapper: inotify:", err)
		return 1
	}
	var swaps atomic.Int64
	go func() {
		<-stop
		fmt.Printf("swaps %d\n", swaps.Load())
		os.Exit(0)
	}()
	fmt.Println("ready")
	done := map[string]bool{}
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "swapper: reading inotify events:", err)
			return 1
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			size := int(binary.NativeEndian.Uint32(buf[off+12:])) // struct inotify_event's len
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+size], "\x00"))
			off += unix.SizeofInotifyEvent + size
			if name == "" || done[name] || strings.HasSuffix(name, ".x") {
				continue // the symlinks it made itself show up too
			}
			p := filepath.Join(root, name)
			if unix.Rename(p, p+".x") == nil {
				done[name] = true
				if unix.Symlink(filepath.Join(target, name), p) == nil {
					swaps.Add(1)
				}
			}
		}
	}
}

// swapperScratch makes mnt/user a directory uid 1000 can reach (see
// userScratch), and returns its path for uid 1000 and the swapper
// program there: a copy of the test binary.
func swapperScratch(t *testing.T, mnt string) (user, racer string) {
	t.Helper()
	user, _ = userScratch(t, mnt)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	racer = filepath.Join(user, "swapper")
	if out, err := exec.Command("cp", self, racer).CombinedOutput(); err != nil {
		t.Fatalf("copying the test binary for the swapper: %v\n%s", err, out)
	}
	return user, racer
}

// swapper is a running swapper process.
type swapper struct {
	cmd   *exec.Cmd
	lines chan string
}

// startSwapper starts bin (a copy of the test binary that uid 1000 can
// run) as uid and gid 1000, swapping victims under root for symlinks to
// the same paths under target, and returns once it has swapped them all
// once.
func startSwapper(t *testing.T, bin, mode, root, target string, victims []string) *swapper {
	t.Helper()
	cmd := exec.Command(bin, append([]string{mode, root, target}, victims...)...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), swapperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}}}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the swapper: %v", err)
	}
	s := &swapper{cmd: cmd, lines: make(chan string, 4)}
	t.Cleanup(func() {
		// A test that failed before stopping it: the swapper must not
		// outlive it (and keep the filesystem busy).
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	select {
	case l := <-s.lines:
		if l != "ready" {
			t.Fatalf("the swapper said %q, not ready", l)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the swapper did not start swapping within 10 s")
	}
	return s
}

// stop ends the swapper, which puts every directory back first, and
// returns its last words (how many swaps it made).
func (s *swapper) stop(t *testing.T) string {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the swapper: %v", err)
	}
	var last []string
	for l := range s.lines {
		last = append(last, l)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("the swapper: %v", err)
	}
	return strings.Join(last, "; ")
}

// Shape of the tree copied under attack: sub/dNN/eN/fN with files at each
// level; the destination already has sub/dNN/eN (the user's), the fN are
// made by the copy.
const (
	hostileD, hostileE, hostileF = 8, 4, 3
	hostileFiles                 = 12 // per fN directory; a third of that above
)

// hostileDirs are the directories of the tree to copy, and skeleton those
// the destination has already.
func hostileDirs() (all, skeleton []string) {
	for d := range hostileD {
		dp := fmt.Sprintf("d%02d", d)
		all, skeleton = append(all, dp), append(skeleton, dp)
		for e := range hostileE {
			ep := fmt.Sprintf("%s/e%d", dp, e)
			all, skeleton = append(all, ep), append(skeleton, ep)
			for f := range hostileF {
				all = append(all, fmt.Sprintf("%s/f%d", ep, f))
			}
		}
	}
	return all, skeleton
}

// hostileTree is the tree root copies into the user's directory, seeded
// so that the canary (another seed) has other bytes under the same names:
// a write through a swapped directory lands on an existing canary file.
// Hard links join a file under one victim directory to one under another,
// since cp links later names by path; symlinks point up a level.
func hostileTree(seed uint64) []testtree.Node {
	all, _ := hostileDirs()
	nodes := []testtree.Node{testtree.D(".", 0o755)}
	i := 0
	for _, dir := range all {
		nodes = append(nodes, testtree.D(dir, 0o755))
		n := hostileFiles
		if strings.Count(dir, "/") < 2 {
			n /= 3
		}
		for k := range n {
			size := int64(i*131%9000 + 1)
			nodes = append(nodes, testtree.S(fmt.Sprintf("%s/x%02d", dir, k), size, testtree.Random(0, seed+uint64(i), size)))
			i++
		}
	}
	for d := range hostileD {
		nodes = append(nodes, testtree.L(fmt.Sprintf("d%02d/e1/up", d), ".."))
	}
	// A link's first name is copied first (btrfs lists a directory in
	// the order its entries were made, and d0K comes before d0K+4).
	for d := range hostileD / 2 {
		first := fmt.Sprintf("d%02d/e0/f1/h", d)
		nodes = append(nodes, testtree.S(first, 5000, testtree.Random(0, seed+9000+uint64(d), 5000)),
			testtree.H(fmt.Sprintf("d%02d/e3/f2/h", d+hostileD/2), first))
	}
	return nodes
}

// hostileVictims are the directories the attacker swaps: at each level,
// one holding a hard link's first name below it, none inside another.
// d03, d07 and most of the rest are left alone.
var hostileVictims = []string{"d00", "d04", "d01/e0", "d05/e2", "d02/e0/f1", "d06/e3/f0", "d03/e0/f1"}

// racerSuffix matches the names the swapper gives directories it moved.
var racerSuffix = regexp.MustCompile(`\.(away|fresh[0-9]+)$`)

// TestSwappedDestinationDirNeverFollowed: root copies a tree (cowcp -aT)
// into a directory tree uid 1000 owns, while uid 1000 swaps some of its
// directories for symlinks to a canary tree elsewhere, in a tight loop.
// Nothing in the canary changes, ever (contents, times, inodes, link
// counts); cowcp ends, names what it could not copy, and what it copied
// is whole. GNU cp, run the same way, is recorded.
func TestSwappedDestinationDirNeverFollowed(t *testing.T) {
	requireRoot(t)
	mnt := mountFS(t, fsBtrfs, "1G")
	user, racer := swapperScratch(t, mnt)
	src := filepath.Join(mnt, "src")
	testtree.Build(t, src, testtree.Owned(hostileTree(1), 1000, 1000))
	srcFP := testtree.Fingerprint(t, src)
	_, skeleton := hostileDirs()
	skelNodes := []testtree.Node{testtree.D(".", 0o755), testtree.D("sub", 0o755)}
	for _, d := range skeleton {
		skelNodes = append(skelNodes, testtree.D("sub/"+d, 0o755))
	}
	skelNodes = testtree.Owned(skelNodes, 1000, 1000)
	// One canary for cowcp's runs, which must leave it as it is; each of
	// cp's gets a clone of it of its own, as cp writes into it.
	canary := filepath.Join(mnt, "canary")
	testtree.Build(t, canary, hostileTree(77))
	canaryFP := testtree.Fingerprint(t, canary)

	runs := []struct {
		who, mode string
	}{
		{"cowcp", swapExchange}, {"cowcp", swapRename}, {"cowcp", swapExchange}, {"cowcp", swapRename},
		{"cowcp", swapExchange}, {"cowcp", swapRename},
		{"cp", swapExchange}, {"cp", swapRename}, {"cp", swapExchange},
	}
	var cowcpErrors, cpDamage int
	for i, run := range runs {
		name := fmt.Sprintf("%s-%s-%d", run.who, run.mode, i)
		canary, canaryFP := canary, canaryFP
		if run.who == "cp" {
			canary = filepath.Join(mnt, "canary-"+name)
			if out, err := exec.Command("cp", "-a", "--reflink=always", filepath.Join(mnt, "canary"), canary).CombinedOutput(); err != nil {
				t.Fatalf("cloning the canary: %v\n%s", err, out)
			}
			canaryFP = testtree.Fingerprint(t, canary)
		}
		topBefore := dirNames(t, mnt)
		dst := filepath.Join("user", name) // relative to mnt, as both copiers are run
		testtree.Build(t, filepath.Join(mnt, dst), skelNodes)

		sw := startSwapper(t, racer, run.mode, filepath.Join(user, name, "sub"), canary, hostileVictims)
		bin := cowcpBin
		if run.who == "cp" {
			bin = gnuCp(t)
		}
		started := time.Now()
		r := execute(t, bin, invocation{dir: mnt, args: []string{"-aT", "src", dst + "/sub"}, umask: -1, timeout: 30 * time.Second})
		took := time.Since(started)
		swaps := sw.stop(t)

		canaryDiffs := testtree.Diff(canaryFP, testtree.Fingerprint(t, canary), "before", "after")
		errLines := nonEmptyLines(r.stderr)
		t.Logf("%s: %s exit %d in %.2f s, %d error lines; swapper: %s; canary: %d changes",
			name, run.who, r.code, took.Seconds(), len(errLines), swaps, len(canaryDiffs))
		for _, l := range firstN(errorKinds(errLines), 8) {
			t.Logf("\t%s", l)
		}
		if run.who == "cp" {
			// The record: cp follows the swapped directories.
			cpDamage += len(canaryDiffs)
			for _, d := range firstN(canaryDiffs, 6) {
				t.Logf("\tcp changed the canary: %s", d)
			}
			continue
		}
		cowcpErrors += len(errLines)
		if r.code == timedOut {
			t.Errorf("%s: cowcp hung (killed after 30 s)", name)
		} else if r.code != 0 && r.code != 1 {
			t.Errorf("%s: cowcp exit %d, want 0 or 1\nstderr: %.2000s", name, r.code, r.stderr)
		}
		if len(canaryDiffs) > 0 {
			t.Errorf("%s: cowcp changed the canary %s, outside the destination, through a swapped directory:\n\t%s",
				name, canary, strings.Join(firstN(canaryDiffs, 20), "\n\t"))
		}
		if got := dirNames(t, mnt); !slices.Equal(got, topBefore) {
			t.Errorf("%s: %s held %q before the copy, %q after", name, mnt, topBefore, got)
		}
		for _, l := range errLines {
			if !strings.HasPrefix(l, "cowcp: ") || !strings.Contains(l, "'"+dst+"/sub") {
				t.Errorf("%s: stderr line %q: want a cp-style error naming a path under '%s/sub'", name, l, dst)
			}
		}
		if (r.code == 0) != (len(errLines) == 0) {
			t.Errorf("%s: exit %d with %d error lines", name, r.code, len(errLines))
		}
		checkSwappedCopy(t, name, r, srcFP, mnt, dst+"/sub")
	}
	sourceUnchanged(t, src, srcFP)
	t.Logf("cowcp: %d errors over its runs; GNU cp: %d changes to its canaries", cowcpErrors, cpDamage)
	if cowcpErrors == 0 {
		// A swapped directory met is an error ("cannot overwrite
		// non-directory"): without one, the race was never on.
		t.Errorf("cowcp never met a swapped directory: this test proved nothing")
	}
}

// TestSwappedFifoNeverChmodded: root copies FIFOs (cowcp -a) into a
// directory uid 1000 owns, while uid 1000 replaces each FIFO the moment it
// is made by a symlink to a canary file. A FIFO's mode is set by its name
// (it cannot be opened for that): the chmod must not go through the
// symlink, which would give the canary the FIFO's mode (0666: a way to
// make /etc/shadow writable). GNU cp, run the same way, is recorded.
func TestSwappedFifoNeverChmodded(t *testing.T) {
	requireRoot(t)
	mnt := mountFS(t, fsExt4, "256M")
	user, racer := swapperScratch(t, mnt)
	const fifos = 300
	var srcNodes, canaryNodes []testtree.Node
	for i := range fifos {
		name := fmt.Sprintf("p%03d", i)
		// 0666 under umask 022: mknod gives 0644, a chmod must follow.
		srcNodes = append(srcNodes, testtree.N(name, testtree.FIFO, 0o666, 0).Own(1000, 1000))
		canaryNodes = append(canaryNodes, testtree.F(name, 0o600, []byte("secret\n")))
	}
	src := filepath.Join(mnt, "src")
	testtree.Build(t, src, srcNodes)
	canaryTemplate := filepath.Join(mnt, "canary")
	testtree.Build(t, canaryTemplate, canaryNodes)

	// run runs who once, under attack, and reports whether it met a
	// symlink in the window (an error, or a change to the canary).
	var swapped, runs int
	run := func(who string) (met bool) {
		runs++
		name := fmt.Sprintf("%s-%d", who, runs)
		canary := filepath.Join(mnt, "canary-"+name)
		if out, err := exec.Command("cp", "-a", canaryTemplate, canary).CombinedOutput(); err != nil {
			t.Fatalf("copying the canary: %v\n%s", err, out)
		}
		canaryFP := testtree.Fingerprint(t, canary)
		dst := filepath.Join("user", name)
		testtree.Build(t, filepath.Join(mnt, dst), []testtree.Node{testtree.D(".", 0o755).Own(1000, 1000)})

		sw := startSwapper(t, racer, swapEntries, filepath.Join(user, name), canary, []string{"-"})
		bin := cowcpBin
		if who == "cp" {
			bin = gnuCp(t)
		}
		r := execute(t, bin, invocation{dir: mnt, args: []string{"-a", "src/.", dst}, umask: 0o022, timeout: 30 * time.Second})
		swaps := sw.stop(t)
		canaryDiffs := testtree.Diff(canaryFP, testtree.Fingerprint(t, canary), "before", "after")
		errLines := nonEmptyLines(r.stderr)
		t.Logf("%s: %s exit %d, %d error lines; swapper: %s; canary: %d changes", name, who, r.code, len(errLines), swaps, len(canaryDiffs))
		for _, l := range firstN(errorKinds(errLines), 8) {
			t.Logf("\t%s", l)
		}
		if who == "cp" {
			for _, d := range firstN(canaryDiffs, 6) {
				t.Logf("\tcp changed the canary: %s", d)
			}
			return len(errLines) > 0 || len(canaryDiffs) > 0
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(swaps, "swaps ")); err == nil {
			swapped += n
		}
		if r.code != 0 && r.code != 1 {
			t.Errorf("%s: cowcp exit %d, want 0 or 1\nstderr: %.2000s", name, r.code, r.stderr)
		}
		if len(canaryDiffs) > 0 {
			t.Errorf("%s: cowcp changed the canary %s through a symlink put in place of a FIFO it made:\n\t%s",
				name, canary, strings.Join(firstN(canaryDiffs, 20), "\n\t"))
		}
		for _, l := range errLines {
			if !strings.HasPrefix(l, "cowcp: ") || !strings.Contains(l, "'"+dst+"/") {
				t.Errorf("%s: stderr line %q: want a cp-style error naming a path under '%s'", name, l, dst)
			}
		}
		return len(errLines) > 0 || len(canaryDiffs) > 0
	}
	// cowcp until two runs met the race (at most eight), then GNU cp
	// twice, for the record.
	met := 0
	for runs < 8 && met < 2 {
		if run("cowcp") {
			met++
		}
	}
	cowcpRuns := runs
	run("cp")
	run("cp")
	if swapped == 0 {
		t.Errorf("the swapper never replaced a FIFO cowcp made: this test proved nothing")
	}
	t.Logf("%d of %d runs of cowcp met a symlink between making a FIFO and setting its metadata", met, cowcpRuns)
}

// checkSwappedCopy checks what cowcp copied into dst (relative to mnt)
// while its directories were being swapped: every file is whole, under
// its own name or a directory the swapper renamed (NAME.away,
// NAME.freshN); no file comes from anywhere but the source; every source
// file is there, or named on stderr; no temporary file is left.
func checkSwappedCopy(t *testing.T, name string, r result, srcFP testtree.Manifest, mnt, dst string) {
	t.Helper()
	root := filepath.Join(mnt, dst)
	m, err := testtree.Walk(root, testtree.WalkOptions{})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	found := map[string]bool{}
	bad := 0
	for _, rel := range slices.Sorted(maps.Keys(m)) {
		got := m[rel]
		if got["type"] != "file" {
			continue
		}
		parts := strings.Split(rel, "/")
		for i, p := range parts {
			parts[i] = racerSuffix.ReplaceAllString(p, "")
		}
		orig := strings.Join(parts, "/")
		want, ok := srcFP[orig]
		switch {
		case !ok:
			t.Errorf("%s: %s: a file that is not in the source", name, filepath.Join(root, rel))
		case got["size"] != want["size"] || got["content"] != want["content"]:
			if bad++; bad <= 10 {
				t.Errorf("%s: %s: %s bytes not the source's %s: damaged, or from somewhere else",
					name, filepath.Join(root, rel), got["size"], want["size"])
			}
		}
		found[orig] = true
	}
	var missing []string
	for _, rel := range slices.Sorted(maps.Keys(srcFP)) {
		if srcFP[rel]["type"] == "file" && !found[rel] {
			missing = append(missing, rel)
		}
	}
	if r.code == 0 && len(missing) > 0 {
		t.Errorf("%s: exit 0 but %d files not copied, e.g. %q", name, len(missing), firstN(missing, 5))
	}
	unnamed := 0
	for _, rel := range missing {
		if !namedOnStderr(r.stderr, "src", dst, rel) {
			if unnamed++; unnamed <= 5 {
				t.Errorf("%s: %s was not copied, and no error names it or a directory above it", name, filepath.Join(dst, rel))
			}
		}
	}
	if left := scratchLeft(t, root); len(left) > 0 {
		t.Errorf("%s: temporary files left: %q", name, left)
	}
}

func nonEmptyLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// messages are the lines of stderr without the program's name, which
// is cp's path as it was run.
func messages(stderr string) []string {
	lines := nonEmptyLines(stderr)
	for i, l := range lines {
		_, lines[i], _ = strings.Cut(l, ": ")
	}
	return lines
}

func firstN[E any](s []E, n int) []E { return s[:min(n, len(s))] }

// quoted matches a quoted path in a message, for errorKinds.
var quoted = regexp.MustCompile(`'[^']*'`)

// errorKinds sums up error lines by their words, paths replaced by
// PATH: "3× cp: cannot stat PATH: Too many levels of symbolic links".
func errorKinds(lines []string) []string {
	count := map[string]int{}
	for _, l := range lines {
		count[quoted.ReplaceAllString(l, "PATH")]++
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		kinds = append(kinds, fmt.Sprintf("%d× %s", count[k], k))
	}
	return kinds
}

// Inode flags (FS_IOC_GETFLAGS), as chattr sets them.
const (
	flagImmutable = 0x10 // FS_IMMUTABLE_FL, chattr +i
	flagAppend    = 0x20 // FS_APPEND_FL, chattr +a
)

// inodeFlags reads the inode flags of p, as lsattr does.
func inodeFlags(t testing.TB, p string) uint32 {
	t.Helper()
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer unix.Close(fd)
	v, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatalf("FS_IOC_GETFLAGS %s: %v", p, err)
	}
	return v
}

// setInodeFlags sets (or, when !on, clears) flag on p, as chattr +i/-i.
func setInodeFlags(p string, flag uint32, on bool) error {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	v, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("FS_IOC_GETFLAGS %s: %w", p, err)
	}
	if on {
		v |= flag
	} else {
		v &^= flag
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(v)); err != nil {
		return fmt.Errorf("FS_IOC_SETFLAGS %s: %w", p, err)
	}
	return nil
}

// lockedTree is the source of TestLockedDestinationNamedLikeCp; the
// destination has older versions of some of it (lockedOld), and flags
// (lockedFlags) and a read-only bind mount (ro) that stop the copy.
func lockedTree() []testtree.Node {
	nodes := []testtree.Node{testtree.D(".", 0o755)}
	for _, d := range []string{"sub", "ro", "lockdir", "lockdir/newdir", "appdir", "appdir/newdir"} {
		nodes = append(nodes, testtree.D(d, 0o755).At(1500000000, 0))
	}
	for _, f := range []string{"a", "imm", "app", "sub/s", "ro/x", "ro/y",
		"lockdir/old", "lockdir/new", "lockdir/newdir/z", "appdir/old", "appdir/new", "appdir/newdir/z"} {
		nodes = append(nodes, testtree.F(f, 0o644, []byte("new "+f+"\n")).At(1500000000, 0))
	}
	return append(nodes,
		testtree.L("appdir/lnk", "target-new"), testtree.L("lockdir/lnk", "target-new"),
		testtree.L("appdir/lnknew", "target-new"))
}

// lockedOld is what the destination holds before the copy.
func lockedOld() []testtree.Node {
	nodes := []testtree.Node{testtree.D(".", 0o755)}
	for _, d := range []string{"sub", "ro", "lockdir", "appdir"} {
		nodes = append(nodes, testtree.D(d, 0o755))
	}
	for _, f := range []string{"a", "imm", "app", "sub/s", "ro/x", "lockdir/old", "appdir/old"} {
		nodes = append(nodes, testtree.F(f, 0o644, []byte("old content of "+f+"\n")))
	}
	return append(nodes, testtree.L("appdir/lnk", "target-old"), testtree.L("lockdir/lnk", "target-old"))
}

// lockedFlags are the inode flags set in the destination.
var lockedFlags = map[string]uint32{"imm": flagImmutable, "app": flagAppend, "lockdir": flagImmutable, "appdir": flagAppend}

// makeLocked makes base/src and base/dst (lockedTree, lockedOld), sets
// lockedFlags in dst and makes dst/ro a read-only bind mount of itself;
// t.Cleanup undoes both before the filesystem goes.
func makeLocked(t *testing.T, base string) {
	t.Helper()
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	testtree.Build(t, filepath.Join(base, "src"), lockedTree())
	dst := filepath.Join(base, "dst")
	testtree.Build(t, dst, lockedOld())
	for _, name := range slices.Sorted(maps.Keys(lockedFlags)) {
		p, flag := filepath.Join(dst, name), lockedFlags[name]
		if err := setInodeFlags(p, flag, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := setInodeFlags(p, flag, false); err != nil {
				t.Errorf("clearing the flags of %s: %v", p, err)
			}
		})
	}
	ro := filepath.Join(dst, "ro")
	if err := unix.Mount(ro, ro, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("mount --bind %s %s: %v", ro, ro, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(ro, 0); err != nil {
			t.Errorf("umount %s: %v", ro, err)
		}
	})
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("mount -o remount,bind,ro %s: %v", ro, err)
	}
}

// TestLockedDestinationNamedLikeCp: cowcp -a over a destination with an
// immutable file, an append-only file, an immutable directory, an
// append-only directory and a read-only bind mount. Each is named in cp's
// words (GNU cp runs on the same setup, and its messages are the
// reference), the exit status is 1, the locked files keep their content
// and flags, what cp copies is copied the same, and nothing is left under
// a temporary name — not even in the append-only directory, where nothing
// can be removed.
func TestLockedDestinationNamedLikeCp(t *testing.T) {
	for _, kind := range []string{fsExt4, fsBtrfs} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "256M")
			results := map[string]result{}
			since := time.Now().Add(-time.Second)
			for _, who := range []string{"cp", "cowcp"} {
				base := filepath.Join(mnt, who)
				makeLocked(t, base)
				bin := cowcpBin
				if who == "cp" {
					bin = gnuCp(t)
				}
				results[who] = execute(t, bin, invocation{dir: base, args: []string{"-a", "src/.", "dst"}, umask: -1})
				t.Logf("%s: exit %d\n%s", who, results[who].code, results[who].stderr)
			}
			cp, cow := results["cp"], results["cowcp"]
			if cow.code != 1 || cp.code != 1 {
				t.Errorf("exit %d (cp: %d), want 1", cow.code, cp.code)
			}
			want := messages(cp.stderr)
			got := messages(cow.stderr)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("cowcp's errors are not cp's:\ncowcp:\n\t%s\nGNU cp:\n\t%s",
					strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
			for _, line := range []string{
				"cannot create regular file 'dst/./imm': Operation not permitted",
				"cannot create regular file 'dst/./app': Operation not permitted",
				"cannot create regular file 'dst/./ro/x': Read-only file system",
				"cannot create regular file 'dst/./lockdir/new': Operation not permitted",
			} {
				if !strings.Contains(cow.stderr, "cowcp: "+line+"\n") {
					t.Errorf("no error %q in cowcp's\n%s", line, cow.stderr)
				}
			}

			dst := filepath.Join(mnt, "cowcp", "dst")
			for _, name := range []string{"imm", "app", "ro/x"} {
				b, err := os.ReadFile(filepath.Join(dst, name))
				if want := "old content of " + name + "\n"; err != nil || string(b) != want {
					t.Errorf("%s: %q, %v; want its old content %q", name, b, err, want)
				}
			}
			for name, flag := range lockedFlags {
				if got := inodeFlags(t, filepath.Join(dst, name)); got&(flagImmutable|flagAppend) != flag {
					t.Errorf("%s: inode flags %#x after the copy, want %#x of immutable|append-only", name, got, flag)
				}
			}
			for _, name := range []string{"ro/y", "lockdir/new", "lockdir/newdir"} {
				if _, err := os.Lstat(filepath.Join(dst, name)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists (%v) in a destination that could not take it", name, err)
				}
			}
			if left := scratchLeft(t, dst); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
			// The rest as cp left it: the same entries, contents, owners,
			// modes and times (those the copy set itself read "fresh").
			opts := testtree.WalkOptions{FreshSince: since}
			cpM, err := testtree.Walk(filepath.Join(mnt, "cp", "dst"), opts)
			if err != nil {
				t.Fatal(err)
			}
			cowM, err := testtree.Walk(dst, opts)
			if err != nil {
				t.Fatal(err)
			}
			reportDiffs(t, "cowcp's destination against GNU cp's", testtree.Diff(cpM, cowM, "cp", "cowcp"))
		})
	}
}
