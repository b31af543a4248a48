package tests

// End-to-end tests of copies that race with other writers: several cowcp
// processes copying one tree into one destination at once, and a source
// changed (files deleted, renamed, truncated, a directory renamed and one
// removed) while cowcp walks it. GNU cp 9.1 runs the same way beside
// cowcp, and what it did is logged for comparison, not tested.

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
)

// raceTree is the tree the racing copies copy: big files that take a
// while to byte-copy, and a few thousand small ones.
var raceTree = faultTreeSize{big: 6, bigSize: 6 << 20, small: 3000, sparse: 2}

// racer is one of several copies run at once.
type racer struct {
	args   []string
	cmd    *exec.Cmd
	so, se bytes.Buffer
	code   int
}

// raceCopies starts n copies of src into dst by bin (cowcp or cp) at
// once and waits for them all. Half name the destination with -T, half
// copy src/. into it: either way every copy writes the same names, whether
// dst exists or not (a plain `cp -a src dst` copies into dst/src when dst
// exists, so the copies would not meet).
func raceCopies(t testing.TB, bin string, n int, src, dst string) []*racer {
	t.Helper()
	rs := make([]*racer, n)
	for i := range rs {
		r := &racer{args: []string{"-a", "-T", src, dst}}
		if i%2 == 1 {
			r.args = []string{"-a", src + "/.", dst}
		}
		r.cmd = exec.Command(bin, r.args...)
		r.cmd.Stdout, r.cmd.Stderr = &r.so, &r.se
		rs[i] = r
	}
	for _, r := range rs {
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("starting %s %q: %v", bin, r.args, err)
		}
	}
	for _, r := range rs {
		r.code = exitStatus(t, r.cmd.Wait())
	}
	return rs
}

// stderrLines is the non-empty lines of a racer's stderr.
func (r *racer) stderrLines() []string {
	return slices.DeleteFunc(strings.Split(r.se.String(), "\n"), func(s string) bool { return s == "" })
}

// countContaining is how many of lines contain s.
func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestRacingCopiesEndWhole: two and four cowcp -a processes copy the same
// tree into the same destination at once, on btrfs (clones) and on ext4
// (byte copies), into a destination that exists and one that does not.
// Every process exits 0 and says nothing: an entry another process made
// meanwhile is one cp would overwrite had it been there first, not a
// conflict. Every file ends whole, the tree as the source's, and no
// temporary file is left. GNU cp is run the same way, for the record.
func TestRacingCopiesEndWhole(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "1G")
			src := filepath.Join(mnt, "src")
			makeFaultTree(t, src, raceTree, 70)
			srcFP := testtree.Fingerprint(t, src)
			want, err := testtree.Walk(src, testtree.WalkOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{2, 4} {
				for _, exists := range []bool{false, true} {
					name := fmt.Sprintf("%dAtOnce", n)
					if exists {
						name += "IntoExisting"
					}
					t.Run(name, func(t *testing.T) {
						dst := filepath.Join(mnt, "dst-"+name)
						if exists {
							if err := os.Mkdir(dst, 0o755); err != nil {
								t.Fatal(err)
							}
						}
						start := time.Now()
						rs := raceCopies(t, cowcpBin, n, src, dst)
						took := time.Since(start)
						for i, r := range rs {
							lines := r.stderrLines()
							t.Logf("cowcp %d %q: exit %d, %d lines on stderr (%d \"File exists\")",
								i, r.args, r.code, len(lines), countContaining(lines, "File exists"))
							if r.code != 0 || len(lines) > 0 {
								t.Errorf("cowcp %q racing %d copies: exit %d; a copy that meets the same files made by another should overwrite them as cp would, and exit 0\nstderr: %.2000s",
									r.args, n, r.code, r.se.String())
							}
						}
						t.Logf("%d copies at once in %.2f s", n, took.Seconds())
						checkRaceResult(t, srcFP, want, src, dst)
						if err := os.RemoveAll(dst); err != nil {
							t.Fatal(err)
						}
					})
				}
			}

			// GNU cp 9.1, the same way, for the record.
			for _, n := range []int{2, 4} {
				dst := filepath.Join(mnt, fmt.Sprintf("cp-%d", n))
				rs := raceCopies(t, "cp", n, src, dst)
				for i, r := range rs {
					lines := r.stderrLines()
					t.Logf("GNU cp %d of %d %q: exit %d, %d errors, %d of them \"File exists\"; first: %q",
						i, n, r.args, r.code, len(lines), countContaining(lines, "File exists"), first(lines))
				}
				got, err := testtree.Walk(dst, testtree.WalkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				diffs := testtree.Diff(want, got, "source", "copy")
				t.Logf("GNU cp, %d at once: the copy differs from the source in %d ways; first: %q", n, len(diffs), first(diffs))
				if err := os.RemoveAll(dst); err != nil {
					t.Fatal(err)
				}
			}
			sourceUnchanged(t, src, srcFP)
		})
	}
}

func first(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// checkRaceResult checks a destination that racing copies made: every
// file whole, nothing missing, no temporary file, and the whole tree as
// the source's (want), metadata included.
func checkRaceResult(t testing.TB, srcFP, want testtree.Manifest, src, dst string) {
	t.Helper()
	if missing := checkWholeFiles(t, srcFP, dst); len(missing) > 0 {
		t.Errorf("%d files missing from the copy, e.g. %q", len(missing), missing[0])
	}
	if left := scratchLeft(t, dst); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	got, err := testtree.Walk(dst, testtree.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diffs := testtree.Diff(want, got, "source", "copy")
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… and %d more", len(diffs)-10))
	}
	if len(diffs) > 0 {
		t.Errorf("the copy differs from the source %s:\n\t%s", src, strings.Join(diffs, "\n\t"))
	}
}

// change is one change the test makes to a source while it is copied.
type change int

const (
	changeDelete    change = iota // a file removed
	changeRename                  // a file renamed to NAME.moved
	changeTruncate                // a file cut to half its size
	changeMoveDir                 // a directory renamed to NAME.moved
	changeRemoveDir               // a directory removed with all it holds
)

// sourceChanges picks what to change in a faultTree: every seventh small
// file (deleted, renamed or truncated in turn), a big file truncated, one
// directory of small files renamed and one removed. It returns the
// changes by path relative to the source.
func sourceChanges(spec faultTreeSize) map[string]change {
	c := map[string]change{"small/d07": changeMoveDir, "small/d11": changeRemoveDir}
	if spec.big > 3 {
		c["big/b003"] = changeTruncate
	}
	for i := 3; i < spec.small; i += 7 {
		if d := i % 16; d != 7 && d != 11 {
			c[fmt.Sprintf("small/d%02d/s%04d", d, i)] = change(i / 7 % 3)
		}
	}
	return c
}

// applyChange makes one change under src.
func applyChange(src, rel string, c change) error {
	p := filepath.Join(src, rel)
	switch c {
	case changeDelete:
		return os.Remove(p)
	case changeRename, changeMoveDir:
		return os.Rename(p, p+".moved")
	case changeTruncate:
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		return os.Truncate(p, fi.Size()/2)
	case changeRemoveDir:
		return os.RemoveAll(p)
	}
	return fmt.Errorf("unknown change %d", c)
}

// changeSourceWhileCopying starts bin (cowcp or cp) copying src to dst
// and, once dst appears, makes changes to src in a random order, spread
// over about a third of a second. It waits for the copy, killing it after
// a minute: a copy that hangs fails the test. It reports whether the copy
// was still running when the first change was made.
func changeSourceWhileCopying(t testing.TB, bin string, changes map[string]change, src, dst string) (r result, raced bool) {
	t.Helper()
	cmd := exec.Command(bin, "-a", src, dst)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	waited := make(chan error, 1)
	go func() { err := cmd.Wait(); close(exited); waited <- err }()

	rels := slices.Sorted(maps.Keys(changes))
	rand.New(rand.NewPCG(uint64(len(rels)), 7)).Shuffle(len(rels), func(i, j int) { rels[i], rels[j] = rels[j], rels[i] })
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Microsecond) {
		if _, err := os.Lstat(dst); err == nil {
			break
		}
	}
	select {
	case <-exited:
	default:
		raced = true
	}
	pause := 300 * time.Millisecond / time.Duration(len(rels))
	for _, rel := range rels {
		if err := applyChange(src, rel, changes[rel]); err != nil {
			t.Errorf("changing the source: %v", err)
		}
		time.Sleep(pause)
	}

	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	err := <-waited
	if !timer.Stop() {
		t.Errorf("%s -a hung: killed after a minute while its source changed\nstderr: %.2000s", bin, se.String())
	}
	return result{code: exitStatus(t, err), stdout: so.String(), stderr: se.String()}, raced
}

// changedCopy is what a copy made of a source changed under it.
type changedCopy struct {
	errors, vanished, changed int // error lines; of them about vanished entries; "changed as we read it" warnings
	lost, damaged, strays     int // files gone unreported; copies neither old nor new; error lines about untouched entries
	temps                     int
	affected                  int            // changes the copy shows: files missing, moved or cut
	says                      map[string]int // error lines by what they say, path left out
}

// quotedPath is a path as cowcp and cp quote it in messages.
var quotedPath = regexp.MustCompile(`'[^']*'`)

// checkChangedCopy checks dst, the copy of src made while changes were
// made to it (pre is src's fingerprint before, post after): every file
// there holds its source's content from before or after the change (or
// was named as changed while read); every file of pre that is not there,
// under its name or the name a change gave it, was deleted or named on
// stderr; every error names something changed and says it vanished; and
// no temporary file is left. Failures go to fail (t.Errorf for cowcp,
// t.Logf for GNU cp, which is on record only).
func checkChangedCopy(t testing.TB, fail func(string, ...any), r result, changes map[string]change, pre, post testtree.Manifest, src, dst string) changedCopy {
	t.Helper()
	s := changedCopy{says: map[string]int{}}
	touched := func(rel string) bool {
		for p := rel; p != "."; p = filepath.Dir(p) {
			if _, ok := changes[strings.TrimSuffix(p, ".moved")]; ok {
				return true
			}
		}
		return false
	}
	changedRead := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line == "" {
			continue
		}
		if before, ok := strings.CutSuffix(line, ": file changed as we read it"); ok {
			s.changed++
			changedRead[strings.Trim(before[strings.Index(before, "'"):], "'")] = true
			continue
		}
		s.errors++
		s.says[quotedPath.ReplaceAllString(line, "X")]++
		if strings.Contains(line, "No such file or directory") {
			s.vanished++
		}
		named := ""
		if i := strings.Index(line, "'"); i >= 0 {
			if j := strings.Index(line[i+1:], "'"); j >= 0 {
				named = line[i+1 : i+1+j]
			}
		}
		var rel string
		for _, root := range []string{src, dst} {
			if r, err := filepath.Rel(root, named); err == nil && !strings.HasPrefix(r, "..") {
				rel = r
			}
		}
		if rel == "" || !touched(rel) || !strings.Contains(line, "No such file or directory") {
			if s.strays++; s.strays <= 5 {
				fail("stderr line %q: not about an entry that vanished from the source", line)
			}
		}
	}
	if s.errors > 0 && r.code != 1 || s.errors == 0 && s.changed == 0 && r.code != 0 || r.code != 0 && r.code != 1 {
		fail("exit %d after %d errors and %d files changed as read", r.code, s.errors, s.changed)
	}

	got, err := testtree.Walk(dst, testtree.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for rel, e := range got {
		if e["type"] != "file" {
			continue
		}
		if isTemp(filepath.Base(rel)) {
			s.temps++
			continue
		}
		orig := strings.ReplaceAll(rel, ".moved", "")
		was, now := pre[orig], post[rel]
		switch {
		case was == nil:
			fail("%s: in the copy, never in the source", rel)
		case e["content"] == was["content"] && e["size"] == was["size"]:
		case now != nil && e["content"] == now["content"] && e["size"] == now["size"]:
		case changedRead[filepath.Join(src, rel)]:
		default:
			if s.damaged++; s.damaged <= 5 {
				fail("%s: %s bytes, neither the source's %s bytes before the change nor its %s after", filepath.Join(dst, rel), e["size"], was["size"], now["size"])
			}
		}
		if rel != orig || now != nil && now["size"] != was["size"] {
			s.affected++
		}
	}
	for rel, e := range pre {
		if e["type"] != "file" {
			continue
		}
		moved := rel + ".moved"
		if strings.HasPrefix(rel, "small/d07/") {
			moved = "small/d07.moved/" + strings.TrimPrefix(rel, "small/d07/")
		}
		if got[rel] != nil || got[moved] != nil {
			continue
		}
		s.affected++
		if changes[rel] == changeDelete || strings.HasPrefix(rel, "small/d11/") ||
			namedOnStderr(r.stderr, src, dst, rel) || namedOnStderr(r.stderr, src, dst, moved) {
			continue
		}
		if s.lost++; s.lost <= 5 {
			fail("%s: missing from the copy, and nothing on stderr names it (it was not deleted)", filepath.Join(dst, rel))
		}
	}
	if s.temps > 0 {
		fail("%d temporary files left in %s", s.temps, dst)
	}
	return s
}

// TestSourceChangesWhileCopied: while cowcp -a copies a tree, files are
// deleted, renamed and truncated in it, one directory renamed and one
// removed. cowcp does not crash or hang; it exits 0, or 1 with every
// entry that vanished under it named as cp names it ("cannot stat
// '...': No such file or directory"); every file it copied holds what its
// source held before or after the change (or is named as changed while
// read); everything not touched is copied whole; and no temporary file is
// left. On btrfs (clones) and ext4 (byte copies). GNU cp is run the same
// way, for the record.
func TestSourceChangesWhileCopied(t *testing.T) {
	spec := faultTreeSize{big: 6, bigSize: 4 << 20, small: 4000}
	changes := sourceChanges(spec)
	for _, kind := range []string{fsBtrfs, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "1G")
			for _, tool := range []string{"cowcp", "cp"} {
				src, dst := filepath.Join(mnt, "src-"+tool), filepath.Join(mnt, "dst-"+tool)
				makeFaultTree(t, src, spec, 90)
				pre, err := testtree.Walk(src, testtree.WalkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				bin, fail := cowcpBin, t.Errorf
				if tool == "cp" {
					bin, fail = "cp", t.Logf
				}
				r, raced := changeSourceWhileCopying(t, bin, changes, src, dst)
				if !raced {
					fail("%s finished before the source changed: this run proves nothing", tool)
				}
				post, err := testtree.Walk(src, testtree.WalkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				s := checkChangedCopy(t, fail, r, changes, pre, post, src, dst)
				t.Logf("%s: exit %d; %d changes to the source show in the copy; %d errors (%d \"No such file or directory\"), %d changed as read; %d files lost unreported, %d damaged, %d stray errors, %d temporary files; errors by kind: %v",
					tool, r.code, s.affected, s.errors, s.vanished, s.changed, s.lost, s.damaged, s.strays, s.temps, s.says)
				if s.affected == 0 {
					fail("%s: no change to the source shows in the copy: this run proves nothing", tool)
				}
			}
		})
	}
}

// TestRenamedWhileListedIsNeverLost: files renamed back and forth in a
// directory every 200 µs while cowcp copies it, a hundred times on btrfs.
// Every file is in each copy under one of its names, or named on stderr.
// btrfs ends a directory listing at the entry that was last when the
// directory was opened, so a file renamed between the open and the listing
// is under neither name: cowcp lists a directory at once and again if it
// changed meanwhile. (In 300 copies with a rename every 200 µs: read a
// batch at a time, cowcp lost 143 files; listed at once, 38; listed again
// when changed, none. GNU cp 9.1 lost 17; its count is logged.)
func TestRenamedWhileListedIsNeverLost(t *testing.T) {
	requireRoot(t)
	mnt := mountFS(t, fsBtrfs, "512M")
	const files, copies = 250, 100
	dir := filepath.Join(mnt, "src", "dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := make([]string, files)
	for i := range names {
		names[i] = fmt.Sprintf("f%03d", i)
		if err := os.WriteFile(filepath.Join(dir, names[i]), []byte(names[i]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	renamed := make(chan int)
	go func() {
		n, r := 0, rand.New(rand.NewPCG(1, 2))
		defer func() { renamed <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := r.IntN(files)
			next := strings.TrimSuffix(names[i], ".moved")
			if next == names[i] {
				next += ".moved"
			}
			if err := os.Rename(filepath.Join(dir, names[i]), filepath.Join(dir, next)); err != nil {
				t.Errorf("rename: %v", err)
				return
			}
			names[i], n = next, n+1
			time.Sleep(200 * time.Microsecond)
		}
	}()
	count := func(bin string) (lost int) {
		for c := range copies / 2 {
			dst := filepath.Join(mnt, fmt.Sprintf("%s-%d", filepath.Base(bin), c))
			r := run(t, bin, "-r", dir, dst)
			seen := map[string]bool{}
			ents, err := os.ReadDir(dst)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				seen[strings.TrimSuffix(e.Name(), ".moved")] = true
			}
			for _, q := range quotedPath.FindAllString(r.stderr, -1) {
				seen[strings.TrimSuffix(filepath.Base(strings.Trim(q, "'")), ".moved")] = true
			}
			for i := range files {
				if !seen[fmt.Sprintf("f%03d", i)] {
					lost++
				}
			}
			os.RemoveAll(dst)
		}
		return lost
	}
	// Alternately, so both meet the same renames.
	lostCowcp, lostCp := 0, 0
	for range 2 {
		lostCowcp += count(cowcpBin)
		lostCp += count("cp")
	}
	close(stop)
	t.Logf("%d renames; in %d copies each, files under neither name nor named on stderr: cowcp %d, cp %d", <-renamed, copies, lostCowcp, lostCp)
	if lostCowcp > 0 {
		t.Errorf("cowcp lost %d files renamed while it copied", lostCowcp)
	}
}
