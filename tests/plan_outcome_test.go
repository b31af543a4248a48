package tests

// --dry-run is the decision list: what `cowcp --dry-run --json` plans for
// each entry is what `cowcp --json` then does, and nothing else. Each case
// makes a scratch tree, takes a snapshot of it (names, types, inode
// numbers, sizes, contents), runs the dry run — which must change nothing —
// then the run, and checks every plan entry against what the run did:
//   - a copy (ficlone, ficlonerange, copy_file_range, sparse, readwrite):
//     the destination now holds the source's data, and the run's -v line
//     names the same source, destination and method;
//   - hardlink, symlink, mknod, mkdir, create: that entry is there;
//   - skip: the destination is unchanged, byte- and inode-wise;
//   - "existing": what became of the entry that was there: "backup" (it is
//     at "backup", whole and the same inode), "remove" and "replace" (a new
//     inode has its name), "in_place" (the same inode, rewritten);
//   - "ask": -i asks first, and a "no" makes it a skip;
//   - a failure: the run fails that path with the same message, and both
//     exit alike.
// Nothing unplanned may happen: every entry of the tree that changed is a
// planned destination (or the file a destination symlink leads to, another
// link of a file rewritten in place, or a planned backup), and every -v
// line of the run is a planned entry.

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// planCase is one command line, run by cowcp --dry-run --json and then by
// cowcp --json -v on the same scratch tree.
type planCase struct {
	name  string
	nodes []testtree.Node // the scratch tree (scratchTree gives the root and past mtimes)
	// args is split on spaces; $ROOT is the scratch root, which is also the
	// working directory.
	args  string
	stdin string   // answers to -i; "n…" makes a planned "ask" a skip
	env   []string // extra environment (POSIXLY_CORRECT=1, COWCP_CLONE_CHUNK=…)
	user  bool     // run as nobody, in a tree nobody owns
	feed  string   // a FIFO of the tree a writer feeds fifoData while the run reads it
	// plan is what the case is about, a premise checked before the
	// comparison (planSummary): "dst:action[:existing][?]" per entry, the
	// copy methods all "copy", "?" where -i asks; "!src" per failure.
	// Alternatives are separated by "|" (which link of a file is met
	// first is the directory's order).
	plan string
	// accept maps the start of a difference to why the run may differ from
	// the plan there: what a dry run cannot know. An accepted difference
	// that no longer shows is an error too, so the row stays true.
	accept map[string]string
}

// fifoData is what a fed FIFO delivers.
const fifoData = "through the FIFO\n"

// planCases: each way a file gets its data, every rule of cp's about an
// entry already at the destination, and what the plan must refuse.
func planCases() []planCase {
	f := testtree.F("f", 0o644, []byte("the source\n"))
	old := []byte("the old destination, longer\n")
	g := testtree.F("g", 0o644, old)
	empty := testtree.F("e", 0o644, nil)
	fifo := testtree.N("p", testtree.FIFO, 0o644, 0)
	sparse := testtree.S("sp", 1<<20, testtree.Random(0, 1, 8<<10), testtree.Random(512<<10, 2, 8<<10))
	big := testtree.F("big", 0o644, testtree.Bytes(3, 256<<10))
	// The tree -r copies into an existing one: a new file, a file over an
	// old one, one in a subdirectory both have, a new directory, a symlink,
	// a FIFO (made as a node), a directory over a file, and a file over a
	// directory. The sources are older than the destinations (-u).
	mix := []testtree.Node{testtree.D("s", 0o755), testtree.F("s/new", 0o644, []byte("new\n")), testtree.F("s/same", 0o644, []byte("same\n")),
		testtree.D("s/sub", 0o755), testtree.F("s/sub/x", 0o644, []byte("x\n")), testtree.D("s/newdir", 0o755),
		testtree.F("s/newdir/y", 0o644, []byte("y\n")), testtree.L("s/ln", "new"), testtree.N("s/p", testtree.FIFO, 0o644, 0),
		testtree.D("s/dd", 0o755), testtree.F("s/over", 0o644, []byte("over\n")),
		testtree.D("d", 0o755), testtree.F("d/same", 0o644, old), testtree.D("d/sub", 0o755), testtree.F("d/sub/x", 0o644, old),
		testtree.F("d/dd", 0o644, old), testtree.D("d/over", 0o755)}
	// Two links of one file, copied with -a into a tree that has the
	// second, or the first.
	linked := []testtree.Node{testtree.D("s", 0o755), testtree.F("s/a", 0o644, []byte("linked\n")), testtree.H("s/b", "s/a"), testtree.D("d", 0o755)}
	hasSecond := append(slices.Clone(linked), testtree.F("d/b", 0o644, old))
	hasFirst := append(slices.Clone(linked), testtree.F("d/a", 0o644, old))
	// … and into an earlier copy of them (cp -a made it: the same mtime).
	copied := []testtree.Node{testtree.D("s", 0o755), testtree.F("s/a", 0o644, []byte("linked\n")).At(1300000000, 0), testtree.H("s/b", "s/a"),
		testtree.D("d", 0o755), testtree.F("d/a", 0o644, []byte("linked\n")).At(1300000000, 0), testtree.H("d/b", "d/a")}
	noAnswer := "-i asks, and the plan is what a yes gets: a no makes the refusal a skip"
	return []planCase{
		// How the data gets there: cloned on btrfs, copied on ext4.
		{name: "a new file", nodes: scratchTree(f), args: "f g", plan: "g:copy"},
		{name: "a new sparse file", nodes: scratchTree(sparse), args: "sp g", plan: "g:copy"},
		{name: "a file cloned range by range", nodes: scratchTree(big), args: "big g",
			env: []string{"COWCP_CLONE_CHUNK=65536"}, plan: "g:copy"},
		{name: "--reflink=never", nodes: scratchTree(f, sparse, testtree.D("d", 0o755)), args: "--reflink=never f sp d",
			plan: "d/f:copy d/sp:copy"},
		{name: "an empty file", nodes: scratchTree(empty), args: "e g", plan: "g:create"},
		{name: "a FIFO source without -R", nodes: scratchTree(fifo), args: "p g", feed: "p", plan: "g:copy"},
		{name: "a source that does not exist", nodes: scratchTree(f, testtree.D("d", 0o755)), args: "nosuch f d",
			plan: "!nosuch d/f:copy"},

		// An existing file: replaced, or rewritten in place where cp's
		// result needs the same inode.
		{name: "onto an existing file", nodes: scratchTree(f, g), args: "f g", plan: "g:copy:replace"},
		{name: "onto a file with another link", nodes: scratchTree(f, g, testtree.H("g2", "g")), args: "f g",
			plan: "g:copy:in_place"},
		{name: "-p onto a file with another link", nodes: scratchTree(f, g, testtree.H("g2", "g")), args: "-p f g",
			plan: "g:copy:in_place"},
		{name: "--preserve=links onto a file with another link", nodes: scratchTree(f, g, testtree.H("g2", "g")),
			args: "--preserve=links f g", plan: "g:copy:replace"},
		{name: "onto a writable file in a read-only directory as nobody", user: true,
			nodes: scratchTree(f, testtree.D("ro", 0o555), testtree.F("ro/g", 0o644, old)), args: "f ro/g", plan: "ro/g:copy:in_place"},
		{name: "an empty file onto an existing file", nodes: scratchTree(empty, g), args: "e g", plan: "g:create:in_place"},
		{name: "a FIFO source onto an existing file", nodes: scratchTree(fifo, g), args: "p g", feed: "p",
			plan: "g:copy:in_place"},
		{name: "a symlink destination", nodes: scratchTree(f, g, testtree.L("lg", "g")), args: "f lg", plan: "lg:copy:replace"},
		{name: "a dangling symlink destination", nodes: scratchTree(f, testtree.L("dang", "nowhere")), args: "f dang", plan: "!f"},
		{name: "a dangling symlink destination with POSIXLY_CORRECT", nodes: scratchTree(f, testtree.L("dang", "nowhere")),
			args: "f dang", env: []string{"POSIXLY_CORRECT=1"}, plan: "dang:copy"},

		// -u, -n, --update=none-fail, -i.
		{name: "-u onto an older destination", nodes: scratchTree(f, g.At(1300000000, 0)), args: "-u f g",
			plan: "g:copy:replace"},
		{name: "-u onto a newer destination", nodes: scratchTree(f, g.At(1600000000, 0)), args: "-u f g", plan: "g:skip"},
		{name: "-n onto an existing file", nodes: scratchTree(f, g), args: "-n f g", plan: "g:skip"},
		{name: "--update=none-fail onto an existing file", nodes: scratchTree(f, g), args: "--update=none-fail f g", plan: "!f"},
		{name: "-i answered y", nodes: scratchTree(f, g), args: "-i f g", stdin: "y\n", plan: "g:copy:replace?"},
		{name: "-i answered n", nodes: scratchTree(f, g), args: "-i f g", stdin: "n\n", plan: "g:copy:replace?"},
		{name: "-i answered y, a file over a directory", nodes: scratchTree(f, testtree.D("g", 0o755)), args: "-iT f g",
			stdin: "y\n", plan: "!f"},
		{name: "-i answered n, a file over a directory", nodes: scratchTree(f, testtree.D("g", 0o755)), args: "-iT f g",
			stdin: "n\n", plan: "!f",
			accept: map[string]string{"exit status": noAnswer, "failure only in the plan": noAnswer, "skipped": noAnswer}},

		// A read-only destination, -f, --remove-destination.
		{name: "a read-only destination as root", nodes: scratchTree(f, testtree.F("g", 0o444, old)), args: "f g",
			plan: "g:copy:replace"},
		{name: "-f over a read-only destination as root", nodes: scratchTree(f, testtree.F("g", 0o444, old)), args: "-f f g",
			plan: "g:copy:replace"},
		{name: "a read-only destination as nobody", nodes: scratchTree(f, testtree.F("g", 0o444, old)), args: "f g",
			user: true, plan: "!f"},
		{name: "-f over a read-only destination as nobody", nodes: scratchTree(f, testtree.F("g", 0o444, old)), args: "-f f g",
			user: true, plan: "g:copy:replace"},
		{name: "--remove-destination", nodes: scratchTree(f, g), args: "--remove-destination f g", plan: "g:copy:remove"},

		// --backup.
		{name: "--backup=simple", nodes: scratchTree(f, g), args: "--backup=simple f g", plan: "g:copy:backup"},
		{name: "--backup=numbered", nodes: scratchTree(f, g, testtree.F("g.~1~", 0o644, []byte("one\n"))),
			args: "--backup=numbered f g", plan: "g:copy:backup"},
		{name: "--backup=existing with a numbered backup", nodes: scratchTree(f, g, testtree.F("g.~1~", 0o644, []byte("one\n"))),
			args: "--backup=existing f g", plan: "g:copy:backup"},
		{name: "--backup=existing without one", nodes: scratchTree(f, g), args: "--backup=existing f g", plan: "g:copy:backup"},
		{name: "--backup=simple of a symlink destination", nodes: scratchTree(f, g, testtree.L("lg", "g")),
			args: "--backup=simple f lg", plan: "lg:copy:backup"},

		// The same file.
		{name: "a file onto itself", nodes: scratchTree(f), args: "f f", plan: "!f"},
		{name: "-b -f, a file onto itself", nodes: scratchTree(f), args: "-b -f f f", plan: "f~:copy"},
		{name: "a hard link of the source", nodes: scratchTree(f, testtree.H("h", "f")), args: "f h", plan: "!f"},

		// Kinds that do not fit.
		{name: "a directory over a file", nodes: scratchTree(testtree.D("d", 0o755), testtree.F("d/x", 0o644, nil), g),
			args: "-rT d g", plan: "!d"},
		{name: "a file over a directory", nodes: scratchTree(f, testtree.D("g", 0o755)), args: "-T f g", plan: "!f"},

		// -l and -s.
		{name: "-l meeting an existing file", nodes: scratchTree(f, g), args: "-l f g", plan: "!f"},
		{name: "-l -f meeting an existing file", nodes: scratchTree(f, g), args: "-lf f g", plan: "g:hardlink:replace"},
		{name: "-s meeting an existing file", nodes: scratchTree(f, g), args: "-s $ROOT/f g", plan: "!f"},
		{name: "-s -f meeting an existing file", nodes: scratchTree(f, g), args: "-sf f g", plan: "g:symlink:replace"},
		{name: "-s of a relative name into a directory", nodes: scratchTree(f, testtree.D("d", 0o755)), args: "-s f d/g", plan: "!f"},

		// Trees.
		{name: "-r into an existing tree", nodes: scratchTree(mix...), args: "-rT s d",
			plan: "!s/dd !s/over d/ln:symlink d/new:copy d/newdir/y:copy d/newdir:mkdir d/p:mknod " +
				"d/same:copy:replace d/sub/x:copy:replace"},
		{name: "-r -u into an existing tree", nodes: scratchTree(mix...), args: "-rTu s d",
			plan: "!s/dd d/ln:symlink d/new:copy d/newdir/y:copy d/newdir:mkdir d/over:skip d/p:mknod d/same:skip d/sub/x:skip"},
		{name: "-a with hard links into a tree that has the second", nodes: scratchTree(hasSecond...), args: "-aT s d",
			plan: "d/a:copy d/b:hardlink:replace|d/a:hardlink d/b:copy:replace"},
		{name: "-a -n with hard links into a tree that has the second", nodes: scratchTree(hasSecond...), args: "-aTn s d",
			plan: "d/a:copy d/b:skip"},
		{name: "-a -n with hard links into a tree that has the first", nodes: scratchTree(hasFirst...), args: "-aTn s d",
			plan: "d/a:skip d/b:copy"},
		{name: "-a --update=none-fail with hard links into a tree that has the second", nodes: scratchTree(hasSecond...),
			args: "-aT --update=none-fail s d", plan: "!s/b d/a:copy"},
		{name: "-a -u with hard links onto an earlier copy", nodes: scratchTree(copied...), args: "-aTu s d",
			plan: "d/a:skip d/b:skip"},

		// --attributes-only.
		{name: "--attributes-only onto an existing file", nodes: scratchTree(f, testtree.F("g", 0o600, old)),
			args: "--attributes-only -p f g", plan: "g:create:in_place"},
		{name: "--attributes-only to a new name", nodes: scratchTree(f), args: "--attributes-only f g", plan: "g:create"},
		{name: "--attributes-only -P of a symlink onto a file", nodes: scratchTree(f, g, testtree.L("l", "f")),
			args: "--attributes-only -P l g", plan: "!l"},
		{name: "--attributes-only of a FIFO source", nodes: scratchTree(fifo), args: "--attributes-only p g", feed: "p",
			plan: "g:create"},
	}
}

// TestPlanOutcomeIsWhatTheRunDoes runs every case on btrfs, where files
// are cloned, and on ext4, where their bytes are copied.
func TestPlanOutcomeIsWhatTheRunDoes(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("the unprivileged cases run as nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	for _, kind := range []string{fsBtrfs, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "256M")
			userBase, copier := userScratch(t, mnt)
			var wg sync.WaitGroup
			sem := make(chan struct{}, caseWorkers)
			for i, c := range planCases() {
				base, bin, id := mnt, copierBin(), 0
				if c.user {
					base, bin, id = userBase, copier, uid
				}
				root := filepath.Join(base, fmt.Sprintf("plan%03d", i))
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					t.Run(c.name, func(t *testing.T) { runPlanCase(t, c, root, bin, id) })
				}()
			}
			wg.Wait()
		})
	}
}

// planReport is the part of cowcp's --json report the test reads.
type planReport struct {
	Skipped  int64            `json:"skipped"`
	Methods  map[string]int64 `json:"methods"`
	Failures []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"failures"`
	Plan []planEntry `json:"plan"`
}

// planEntry is one entry of the plan.
type planEntry struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
	Existing string `json:"existing"`
	Backup   string `json:"backup"`
	Ask      bool   `json:"ask"`
}

// copyActions are the actions that put a source's data into its copy, and
// are the method the run's -v line names.
var copyActions = []string{"ficlone", "ficlonerange", "copy_file_range", "sparse", "readwrite"}

// runPlanCase makes the case's tree at root, runs the dry run and the run
// as uid (root when 0), and reports how the run differs from its plan.
func runPlanCase(t *testing.T, c planCase, root, bin string, uid int) {
	nodes := c.nodes
	if uid != 0 {
		nodes = testtree.Owned(nodes, uid, uid)
	}
	testtree.Build(t, root, nodes)
	cowcpRun := func(feed bool, extra ...string) result {
		var args []string
		for _, a := range strings.Fields(c.args) {
			args = append(args, strings.ReplaceAll(a, "$ROOT", root))
		}
		args = append(extra, args...)
		prog := bin
		if len(c.env) > 0 {
			// execute clears the variables that change cp's behaviour:
			// env(1) sets the case's own.
			prog, args = "/usr/bin/env", append(append(slices.Clone(c.env), bin), args...)
		}
		if feed && c.feed != "" {
			defer feedWhenRead(t, filepath.Join(root, c.feed))()
		}
		return execute(t, prog, invocation{dir: root, args: args, stdin: c.stdin, umask: -1, uid: uid, timeout: 30 * time.Second})
	}

	before := takeSnapshot(t, root)
	// The dry run does not open FIFOs: nothing is fed.
	dry := cowcpRun(false, "--dry-run", "--json")
	if after := takeSnapshot(t, root); !maps.Equal(before, after) {
		t.Errorf("--dry-run changed the tree:\n\t%s", strings.Join(changes(before, after), "\n\t"))
	}
	real := cowcpRun(true, "--json", "-v")
	after := takeSnapshot(t, root)

	var diffs []string
	if dry.code != real.code {
		diffs = append(diffs, fmt.Sprintf("exit status: --dry-run %d, the run %d", dry.code, real.code))
	}
	plan, planOK := parsePlan(dry)
	rep, repOK := parsePlan(real)
	switch {
	case planOK != repOK:
		diffs = append(diffs, fmt.Sprintf("report: --dry-run printed one: %v, the run: %v", planOK, repOK))
	case !planOK:
		// Refused before copying (a usage error): nothing to compare but
		// the exit status, and that nothing happened.
		if ch := changes(before, after); len(ch) > 0 {
			diffs = append(diffs, "the run printed no report but changed the tree: "+strings.Join(ch, "; "))
		}
	default:
		if got := planSummary(root, plan); !slices.Contains(strings.Split(c.plan, "|"), got) {
			t.Errorf("test premise: cowcp %s plans %q; the case is about %q", c.args, got, c.plan)
		}
		diffs = append(diffs, comparePlanToRun(c, root, plan, rep, real.stderr, before, after)...)
	}
	diffs = dropAcceptedPlanDiffs(t, c, diffs)
	if len(diffs) > 0 {
		t.Logf("cowcp %s\n\t--dry-run --json: exit %d, stdout %s, stderr %q\n\t--json -v: exit %d, stdout %s, stderr %q",
			c.args, dry.code, short(dry.stdout), dry.stderr, real.code, short(real.stdout), real.stderr)
		t.Errorf("cowcp %s: the run is not its plan:\n\t%s", c.args, strings.Join(diffs, "\n\t"))
	}
}

// parsePlan reads a --json report, if there is one.
func parsePlan(r result) (planReport, bool) {
	var p planReport
	if err := json.NewDecoder(strings.NewReader(r.stdout)).Decode(&p); err != nil {
		return p, false
	}
	return p, true
}

// planSummary is a plan in the terms of planCase.plan.
func planSummary(root string, plan planReport) string {
	var s []string
	for _, p := range plan.Plan {
		a := p.Action
		if slices.Contains(copyActions, a) {
			a = "copy"
		}
		e := relTo(root, p.Dst) + ":" + a
		if p.Existing != "" {
			e += ":" + p.Existing
		}
		if p.Ask {
			e += "?"
		}
		s = append(s, e)
	}
	for _, f := range plan.Failures {
		s = append(s, "!"+relTo(root, f.Path))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// verboseAtEnd is a -v line at the end of a line of stderr: 'src' ->
// 'dst' (method). -i's question is on the same line, before it.
var verboseAtEnd = regexp.MustCompile(`'([^']*)' -> '([^']*)'(?: \(([a-z_]+)\))?$`)

// comparePlanToRun checks each plan entry against the run and the trees before
// and after it, and that nothing else happened.
func comparePlanToRun(c planCase, root string, plan, rep planReport, stderr string, before, after snapshot) []string {
	var diffs []string
	rel := func(p string) string { return relTo(root, p) }

	// The run's -v lines, by source and destination.
	done := map[[2]string]string{}
	for _, line := range strings.Split(stderr, "\n") {
		if m := verboseAtEnd.FindStringSubmatch(line); m != nil {
			done[[2]string{rel(m[1]), rel(m[2])}] = m[3]
		}
	}

	failures := func(p planReport) []string {
		var s []string
		for _, f := range p.Failures {
			s = append(s, rel(f.Path)+": "+f.Error)
		}
		return s
	}
	planned, failed := failures(plan), failures(rep)
	for _, f := range planned {
		if !slices.Contains(failed, f) {
			diffs = append(diffs, "failure only in the plan: "+f)
		}
	}
	for _, f := range failed {
		if !slices.Contains(planned, f) {
			diffs = append(diffs, "failure only in the run: "+f)
		}
	}

	no := strings.HasPrefix(c.stdin, "n")
	allowed := map[string]bool{}    // entries the plan says change
	rewritten := map[inodeID]bool{} // inodes rewritten in place: all their names change
	methods := map[string]int64{}
	var skipped int64
	for _, p := range plan.Plan {
		src, dst := rel(p.Src), rel(p.Dst)
		what := fmt.Sprintf("%s -> %s (%s", src, dst, p.Action)
		if p.Existing != "" {
			what += ", existing " + p.Existing
		}
		what += ")"
		method, ran := done[[2]string{src, dst}]
		delete(done, [2]string{src, dst})
		if p.Action == "skip" || p.Ask && no {
			skipped++
			if ran {
				diffs = append(diffs, what+": planned a skip, the run made it")
			}
			if !maps.Equal(subtree(before, dst), subtree(after, dst)) {
				diffs = append(diffs, what+": planned a skip, the run changed it: "+strings.Join(changes(subtree(before, dst), subtree(after, dst)), "; "))
			}
			continue
		}
		if !ran {
			diffs = append(diffs, what+": planned, but the run has no -v line for it")
		}
		want := p.Action
		switch {
		case p.Action == "symlink" && p.Reason != "-s", !slices.Contains(copyActions, want) && want != "hardlink" && want != "symlink":
			want = "" // a symlink copied, mkdir, mknod, create: -v names no method
		}
		if ran && method != want {
			diffs = append(diffs, fmt.Sprintf("%s: the run used %q", what, method))
		}
		if slices.Contains(copyActions, p.Action) {
			methods[p.Action]++
		}

		// Where the entry is written: a regular file's data goes through
		// a destination symlink, unless that symlink is moved or removed.
		at := dst
		if b, ok := before[dst]; ok && b.typ == unix.S_IFLNK && p.Existing != "backup" && p.Existing != "remove" &&
			(slices.Contains(copyActions, p.Action) || p.Action == "create") {
			if r, err := filepath.EvalSymlinks(filepath.Join(root, dst)); err == nil {
				at = rel(r)
			}
		}
		allowed[dst], allowed[at] = true, true
		old, had := before[at]
		now, has := after[at]
		if !has {
			diffs = append(diffs, what+": "+at+" is not there after the run")
			continue
		}
		switch p.Existing {
		case "":
			if had {
				diffs = append(diffs, what+": the plan says nothing is at "+at+", but "+old.String()+" was")
			}
		case "backup":
			allowed[rel(p.Backup)] = true
			if b := after[rel(p.Backup)]; !had || b != old {
				diffs = append(diffs, fmt.Sprintf("%s: the backup %s is %s, not the old %s", what, rel(p.Backup), b, old))
			}
			if had && now.ino == old.ino {
				diffs = append(diffs, what+": backed up, but "+at+" is still the old inode")
			}
		case "remove", "replace":
			if !had || now.ino == old.ino {
				diffs = append(diffs, fmt.Sprintf("%s: %s was %s and is %s: not a new inode", what, at, old, now))
			}
		case "in_place":
			if !had || now.ino != old.ino {
				diffs = append(diffs, fmt.Sprintf("%s: %s was %s and is %s: not rewritten in place", what, at, old, now))
			}
			rewritten[now.ino] = true
		default:
			diffs = append(diffs, what+": unknown existing "+strconv.Quote(p.Existing))
		}

		source := before[src]
		if src == c.feed {
			source = snapEntry{typ: unix.S_IFREG, size: int64(len(fifoData)), data: sha256Hex([]byte(fifoData))}
		}
		attrsOnly := strings.Contains(c.args, "--attributes-only")
		ok := true
		switch {
		case slices.Contains(copyActions, p.Action), p.Action == "create" && !attrsOnly:
			ok = now.typ == unix.S_IFREG && now.data == source.data
		case p.Action == "create": // --attributes-only: the data is not copied
			ok = now.typ == unix.S_IFREG && (had && now.data == old.data || !had && now.size == 0)
		case p.Action == "mkdir":
			ok = now.typ == unix.S_IFDIR
		case p.Action == "mknod":
			ok = now.typ == source.typ
		case p.Action == "symlink" && p.Reason == "-s":
			ok = now.typ == unix.S_IFLNK && now.data == p.Src
		case p.Action == "symlink":
			ok = now.typ == unix.S_IFLNK && now.data == source.data
		case p.Action == "hardlink":
			// A link of the source (-l) or of the copy of its first link.
			ok = now.ino == after[src].ino
			for _, q := range plan.Plan {
				ok = ok || rel(q.Src) != src && before[rel(q.Src)].ino == source.ino && after[rel(q.Dst)].ino == now.ino
			}
		default:
			diffs = append(diffs, what+": unknown action")
		}
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %s is %s; the source was %s", what, at, now, source))
		}
	}
	for k, m := range done {
		diffs = append(diffs, fmt.Sprintf("the run made %s -> %s (%s), which is not in the plan", k[0], k[1], m))
	}
	for _, ch := range changedPaths(before, after) {
		if !allowed[ch] && !(rewritten[after[ch].ino] && before[ch].ino == after[ch].ino) {
			diffs = append(diffs, fmt.Sprintf("unplanned: %s was %s and is %s", ch, before[ch], after[ch]))
		}
	}
	for _, m := range copyActions {
		if rep.Methods[m] != methods[m] {
			diffs = append(diffs, fmt.Sprintf("methods: %s planned for %d files, the run's report says %d", m, methods[m], rep.Methods[m]))
		}
	}
	if rep.Skipped != skipped {
		diffs = append(diffs, fmt.Sprintf("skipped: %d planned, the run's report says %d", skipped, rep.Skipped))
	}
	return diffs
}

// dropAcceptedPlanDiffs drops the differences the case accepts, and reports an
// acceptance that matched nothing.
func dropAcceptedPlanDiffs(t *testing.T, c planCase, diffs []string) []string {
	var keep []string
	used := map[string]bool{}
next:
	for _, d := range diffs {
		for prefix := range c.accept {
			if strings.HasPrefix(d, prefix) {
				used[prefix] = true
				continue next
			}
		}
		keep = append(keep, d)
	}
	for prefix, why := range c.accept {
		if !used[prefix] {
			t.Errorf("the case accepts a difference %q (%s), but there is none: drop it", prefix, why)
		}
	}
	return keep
}

// relTo is a path cowcp printed, relative to the scratch root.
func relTo(root, p string) string {
	if filepath.IsAbs(p) {
		if r, err := filepath.Rel(root, p); err == nil {
			return r
		}
	}
	return filepath.Clean(p)
}

// snapEntry is what the snapshot keeps of an entry: its type, inode (number
// and birth time: ext4 gives a removed file's number to the next new one),
// size (0 for a directory, whose size is the filesystem's business) and
// content (a regular file's digest, a symlink's target).
type snapEntry struct {
	typ  uint32
	ino  inodeID
	size int64
	data string
}

type inodeID struct {
	num   uint64
	birth unix.StatxTimestamp
}

func (n snapEntry) String() string {
	if n.typ == 0 {
		return "nothing"
	}
	kind := map[uint32]string{unix.S_IFREG: "file", unix.S_IFDIR: "directory", unix.S_IFLNK: "symlink", unix.S_IFIFO: "FIFO"}[n.typ]
	if n.typ == unix.S_IFLNK {
		return fmt.Sprintf("a symlink to %q (inode %d)", n.data, n.ino.num)
	}
	return fmt.Sprintf("a %s of %d bytes, inode %d born %d.%09d, %.8s", kind, n.size, n.ino.num, n.ino.birth.Sec, n.ino.birth.Nsec, n.data)
}

// snapshot is a snapshot: path relative to the root → entry.
type snapshot map[string]snapEntry

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return fmt.Sprintf("%x", s) }

// takeSnapshot records the tree at root.
func takeSnapshot(t *testing.T, root string) snapshot {
	t.Helper()
	tree := snapshot{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st); err != nil {
			return err
		}
		n := snapEntry{typ: uint32(st.Mode) & unix.S_IFMT, ino: inodeID{st.Ino, st.Btime}, size: int64(st.Size)}
		switch n.typ {
		case unix.S_IFDIR:
			n.size = 0
		case unix.S_IFREG:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n.data = sha256Hex(b)
		case unix.S_IFLNK:
			if n.data, err = os.Readlink(path); err != nil {
				return err
			}
		}
		tree[relTo(root, path)] = n
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", root, err)
	}
	return tree
}

// subtree is the part of a snapshot at path and below it.
func subtree(tree snapshot, path string) snapshot {
	sub := snapshot{}
	for p, n := range tree {
		if p == path || strings.HasPrefix(p, path+"/") {
			sub[p] = n
		}
	}
	return sub
}

// changedPaths lists the paths whose entries differ between two snapshots.
func changedPaths(a, b snapshot) []string {
	var paths []string
	for _, p := range unionKeys(a, b) {
		if a[p] != b[p] {
			paths = append(paths, p)
		}
	}
	return paths
}

// changes says how each changed path changed.
func changes(a, b snapshot) []string {
	var s []string
	for _, p := range changedPaths(a, b) {
		s = append(s, fmt.Sprintf("%s: %s, now %s", p, a[p], b[p]))
	}
	return s
}

// feedWhenRead writes fifoData into the FIFO at path once a reader opens
// it, until the returned func stops it; a run that never opens it is not
// waited for.
func feedWhenRead(t *testing.T, path string) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.ENXIO) { // no reader yet
				select {
				case <-quit:
					return
				case <-time.After(5 * time.Millisecond):
					continue
				}
			}
			if err != nil {
				t.Errorf("feeding %s: %v", path, err)
				return
			}
			if _, err := unix.Write(fd, []byte(fifoData)); err != nil {
				t.Errorf("feeding %s: %v", path, err)
			}
			unix.Close(fd)
			return
		}
	}()
	return func() { close(quit); <-finished }
}
