package tests

// The runner of the drop-in differential tests (cpdiff_dropin_test.go):
// a case is a small scratch tree and a command line, run by GNU cp and by
// cowcp on identical copies of the tree, with hooks for what a command line
// alone cannot set up (a process writing into a FIFO, a bind mount, a full
// disk). It generalises runCmdlineCase of the command-line table: its own
// tree instead of cmdlineBase, the diagnostics compared, inode identity and
// hook observations compared, and a second filesystem for cross-device
// copies.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// dropinCase is one command line run by cp and by cowcp.
type dropinCase struct {
	name  string
	nodes []testtree.Node // the scratch tree, from scratchTree
	// args is split on spaces; $ROOT stands for the scratch root (also the
	// working directory) and $OTHER for a fresh directory on another
	// filesystem (scratchFS.other).
	args string
	// shell, instead of args, is a bash script run in the scratch root with
	// the copier as $0 and nothing else, for what only a shell makes
	// (process substitution).
	shell string
	stdin string // fed through a pipe, the same for both
	user  bool   // run as uid/gid 1000 in a tree owned by 1000 (nodes with an owner keep it)
	// setup runs after the tree is made, just before the copier; the func
	// it returns runs after the copier, before the tree is walked, and
	// returns observations (name → value) that must be the same for cp and
	// cowcp.
	setup func(t *testing.T, root string) func() map[string]string
	// inodes are paths that cp rewrites in place: each is observed as
	// "kept" (same inode after the run), "new inode" or "gone". cp must
	// keep every one of them.
	inodes []string
	// cp is what cp must do for the test to mean what it says: "ok" (exit
	// 0), "fails" (non-zero) or "" (whatever cp does is the reference).
	cp string
	// want are observations cp must make (a check of the test itself).
	want map[string]string
	// replaces: the case overwrites a file in the scratch root where cowcp
	// may write a new file and rename it over the old one (root owns or
	// may write everything, and the file has one link): the result is
	// cp's but for that rename's update of the root's mtime, accepted as
	// in the command-line table (cmdlineCase.replaces).
	replaces bool
	// silent: cp prints nothing on stdout or stderr here, and neither may
	// cowcp (no summary line, no notice).
	silent bool
	// accept lists differences of the trees that do not count (prefixes
	// of testtree.Diff's lines), each explained where the case is defined.
	accept []string
}

// scratchTree is a scratch tree: its root (mode 0755) and nodes, each given
// a fixed past mtime unless it has one, so that a time the run sets shows
// as "fresh" in the manifest and a directory rewritten by a rename differs
// from one left alone.
func scratchTree(nodes ...testtree.Node) []testtree.Node {
	out := []testtree.Node{testtree.D(".", 0o755).At(1500000000, 0)}
	for i, n := range nodes {
		if n.Mtime == nil && n.Kind != testtree.Hardlink {
			n = n.At(1400000000+int64(i), 0)
		}
		out = append(out, n)
	}
	return out
}

// scratchFS is one filesystem the cases run on.
type scratchFS struct {
	kind   string
	mnt    string // scratch trees of the cases run as root go here
	user   string // … and of the cases run as uid 1000 (userScratch)
	copier string // the copier under test, where uid 1000 can run it
	other  string // a directory on another filesystem, for $OTHER; "" if none
}

// mountScratchFS makes a loopback filesystem of kind and the directories
// scratchFS names on it.
func mountScratchFS(t *testing.T, kind, size string) scratchFS {
	t.Helper()
	mnt := mountFS(t, kind, size)
	user, copier := userScratch(t, mnt)
	return scratchFS{kind: kind, mnt: mnt, user: user, copier: copier}
}

// outcome is one program's run of a case.
type outcome struct {
	res   result
	diags []string // its diagnostics, normalised (diagnostics)
	man   testtree.Manifest
	obs   map[string]string
}

// runDropinCases runs the cases on the filesystem of e, each as a subtest
// in its own scratch directory named after dir and its index. Most of a
// case's time is waiting for the two programs, so caseWorkers cases run
// at once, whatever -parallel says (it defaults to the number of CPUs);
// t.Run may be called from several goroutines.
func runDropinCases(t *testing.T, e scratchFS, dir string, cases []dropinCase) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, caseWorkers)
	for i, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(c.name, func(t *testing.T) { runDropinCase(t, e, c, fmt.Sprintf("%s%03d", dir, i)) })
		}()
	}
	wg.Wait()
}

const caseWorkers = 6

// runDropinCase runs one case by cp and by cowcp and reports how cowcp's
// outcome differs from cp's.
func runDropinCase(t *testing.T, e scratchFS, c dropinCase, name string) {
	base, bin := filepath.Join(e.mnt, name), copierBin()
	if c.user {
		base, bin = filepath.Join(e.user, name), e.copier
	}
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := c.nodes
	if c.user {
		nodes = testtree.Owned(nodes, 1000, 1000)
	}
	var out [2]outcome
	for i, b := range []string{gnuCp(t), bin} {
		prog := []string{"cp", "cw"}[i]
		root := filepath.Join(base, prog)
		other := ""
		if e.other != "" {
			other = filepath.Join(e.other, name, prog)
			if err := os.MkdirAll(other, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		testtree.Build(t, root, nodes)
		out[i] = runOnce(t, c, root, other, b)
	}
	cp, cw := out[0], out[1]
	what := "cp " + c.args
	if c.shell != "" {
		what = "bash -c " + strconv.Quote(c.shell)
	}

	// The test's own premises: cp does what the case says it does.
	switch {
	case c.cp == "ok" && cp.res.code != 0, c.cp == "fails" && cp.res.code == 0:
		t.Errorf("test premise: %s: cp exited %d, the case expects it to %s; stderr %q",
			what, cp.res.code, map[string]string{"ok": "succeed", "fails": "fail"}[c.cp], cp.res.stderr)
	}
	for _, p := range c.inodes {
		if v := cp.obs["inode of "+p]; v != "kept" {
			t.Errorf("test premise: %s: cp left %q with %s, the case expects it rewritten in place", what, p, v)
		}
	}
	for k, v := range c.want {
		if cp.obs[k] != v {
			t.Errorf("test premise: %s: cp's %s is %q, the case expects %q", what, k, cp.obs[k], v)
		}
	}
	if c.silent && (cp.res.stdout != "" || cp.res.stderr != "") {
		t.Errorf("test premise: %s: cp printed stdout %q, stderr %q", what, cp.res.stdout, cp.res.stderr)
	}

	var diffs []string
	if (cp.res.code == 0) != (cw.res.code == 0) {
		diffs = append(diffs, fmt.Sprintf("exit status: cp %d, cowcp %d", cp.res.code, cw.res.code))
	}
	if a, b := strings.Join(cp.diags, "\n"), strings.Join(cw.diags, "\n"); a != b {
		diffs = append(diffs, fmt.Sprintf("diagnostics: cp %q, cowcp %q", a, b))
	}
	if c.silent {
		if cw.res.stdout != cp.res.stdout {
			diffs = append(diffs, fmt.Sprintf("stdout: cp %q, cowcp %q", cp.res.stdout, cw.res.stdout))
		}
		if cw.res.stderr != cp.res.stderr {
			diffs = append(diffs, fmt.Sprintf("stderr: cp %q, cowcp %q", cp.res.stderr, cw.res.stderr))
		}
	}
	for _, k := range unionKeys(cp.obs, cw.obs) {
		if cp.obs[k] != cw.obs[k] {
			diffs = append(diffs, fmt.Sprintf("%s: cp %s, cowcp %s", k, short(cp.obs[k]), short(cw.obs[k])))
		}
	}
	deliberate := cmdlineCase{accept: c.accept}
	if c.replaces {
		deliberate.replaces = "."
	}
	diffs = append(diffs, dropAccepted(deliberate, testtree.Diff(cp.man, cw.man, "cp", "cowcp"))...)
	if len(diffs) > 0 {
		t.Logf("%s\n\tcp: exit %d, stderr %q\n\tcowcp: exit %d, stderr %q",
			what, cp.res.code, cp.res.stderr, cw.res.code, cw.res.stderr)
	}
	reportDiffs(t, what, diffs)
}

// runOnce runs the case's command with bin in root (already built) and
// records what came of it.
func runOnce(t *testing.T, c dropinCase, root, other, bin string) outcome {
	t.Helper()
	var after func() map[string]string
	if c.setup != nil {
		after = c.setup(t, root)
	}
	before := map[string]unix.Stat_t{} // after the setup, which may mount a file there
	for _, p := range c.inodes {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil {
			t.Fatalf("before the run: %v", err)
		}
		before[p] = st
	}
	uid := 0
	if c.user {
		uid = 1000
	}
	cmd := invocation{dir: root, stdin: c.stdin, umask: -1, uid: uid, timeout: 20 * time.Second}
	start := time.Now().Add(-2 * time.Second) // the kernel's coarse clock may lag
	var res result
	if c.shell != "" {
		cmd.args = []string{"-c", c.shell, bin}
		res = execute(t, "/bin/bash", cmd)
	} else {
		for _, a := range strings.Fields(c.args) {
			a = strings.ReplaceAll(a, "$ROOT", root)
			cmd.args = append(cmd.args, strings.ReplaceAll(a, "$OTHER", other))
		}
		res = execute(t, bin, cmd)
	}
	o := outcome{res: res, obs: map[string]string{}}
	if after != nil {
		for k, v := range after() {
			o.obs[k] = v
		}
	}
	for _, p := range c.inodes {
		o.obs["inode of "+p] = inodeFate(filepath.Join(root, p), before[p])
	}
	o.diags = diagnostics(res.stderr, bin, root, other)
	var err error
	if o.man, err = testtree.Walk(root, testtree.WalkOptions{FreshSince: start, RootAlias: root}); err != nil {
		t.Fatal(err)
	}
	if other != "" {
		m, err := testtree.Walk(other, testtree.WalkOptions{FreshSince: start, RootAlias: other})
		if err != nil {
			t.Fatal(err)
		}
		for p, e := range m {
			o.man["$OTHER/"+p] = e
		}
	}
	return o
}

// inodeFate says whether path is still the inode it was before the run.
func inodeFate(path string, was unix.Stat_t) string {
	var st unix.Stat_t
	switch err := unix.Lstat(path, &st); {
	case errors.Is(err, unix.ENOENT):
		return "gone"
	case err != nil:
		return err.Error()
	case st.Dev == was.Dev && st.Ino == was.Ino:
		return "kept"
	}
	return "new inode"
}

// diagnostics returns the diagnostic lines of a run of bin: the
// lines of its stderr that start with "cowcp: " or with bin's own path (GNU
// cp names itself by its argv[0]), that prefix made "cp: ". cowcp's notice
// that it cannot clone and its summary line are left out here: whether
// cowcp may print them at all is the silence rule's business (the silent
// cases), and leaving them out keeps each failure about one thing. The
// scratch directories read $ROOT and $OTHER, which differ between runs.
func diagnostics(stderr, bin, root, other string) []string {
	var diags []string
	for _, l := range strings.Split(stderr, "\n") {
		var rest string
		switch {
		case strings.HasPrefix(l, "cowcp: "):
			rest = strings.TrimPrefix(l, "cowcp: ")
		case strings.HasPrefix(l, bin+": "):
			rest = strings.TrimPrefix(l, bin+": ")
		default:
			continue
		}
		if strings.Contains(rest, "; copying data instead") {
			continue
		}
		l = "cp: " + strings.ReplaceAll(rest, root, "$ROOT")
		if other != "" {
			l = strings.ReplaceAll(l, other, "$OTHER")
		}
		diags = append(diags, l)
	}
	return diags
}

// feedFIFO is a setup that has another writer put data into the
// FIFO at name, as `printf data >name &` would: the writer waits until
// someone opens the FIFO for reading. Its observation is whether the
// copier read what it wrote.
func feedFIFO(name, data string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		p := filepath.Join(root, name)
		// An O_PATH descriptor reaches this FIFO even if the copier
		// renames or removes its name, to release a writer left waiting.
		pin, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				done <- err
				return
			}
			_, err = unix.Write(fd, []byte(data))
			unix.Close(fd)
			done <- err
		}()
		return func() map[string]string {
			defer unix.Close(pin)
			key := "the writer into " + name
			select {
			case err := <-done:
				if err != nil {
					return map[string]string{key: "failed: " + err.Error()}
				}
				return map[string]string{key: "was read"}
			case <-time.After(2 * time.Second):
			}
			// Nobody opened the FIFO for reading: do it here, so that
			// the writer's open returns and its goroutine ends.
			fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", pin), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Errorf("releasing the writer into %s: %v", p, err)
				return map[string]string{key: "was never read"}
			}
			defer unix.Close(fd)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("the writer into %s did not end", p)
			}
			return map[string]string{key: "was never read"}
		}
	}
}

// readFIFO is a setup that holds the FIFO at name open for reading,
// as a reader process waiting on it would; its observation is the bytes
// that came through once the copier is done.
func readFIFO(name string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		// Non-blocking, so that opening does not wait for a writer and
		// reading after the run stops at what is there.
		fd, err := unix.Open(filepath.Join(root, name), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return func() map[string]string {
			defer unix.Close(fd)
			var got []byte
			buf := make([]byte, 64<<10)
			for {
				n, err := unix.Read(fd, buf)
				if n > 0 {
					got = append(got, buf[:n]...)
					continue
				}
				if err != nil && !errors.Is(err, unix.EAGAIN) {
					t.Errorf("reading the FIFO %s: %v", name, err)
				}
				break
			}
			return map[string]string{"the reader of " + name + " got": strconv.Quote(string(got))}
		}
	}
}

// bindFile is a setup that bind-mounts a file holding content over
// the file name, as a container runtime mounts /etc/hosts; the bound file
// lives beside the scratch root, outside the walked tree. Its observation
// is what the bound file holds after the run.
func bindFile(name, content string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		src, dst := root+".bound", filepath.Join(root, name)
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "--bind", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("mount --bind %s %s: %v\n%s", src, dst, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dst).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v\n%s", dst, err, out)
			}
		})
		return func() map[string]string {
			b, err := os.ReadFile(src)
			if err != nil {
				return map[string]string{"the bound file": err.Error()}
			}
			return map[string]string{"the bound file holds": strconv.Quote(string(b))}
		}
	}
}

// readOnlyMount is a setup that makes the directory name a read-only
// mount (a read-only bind mount of itself): writing there fails with EROFS.
func readOnlyMount(name string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		dir := filepath.Join(root, name)
		if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
			t.Fatalf("mount --bind %s: %v\n%s", dir, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v\n%s", dir, err, out)
			}
		})
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
			t.Fatalf("remount %s read-only: %v\n%s", dir, err, out)
		}
		return nil
	}
}

// sameAsCat is a setup for copies of /proc and /sys files to the
// scratch file name: its observation says whether the copy holds what
// reading src to EOF (as cat does) gives, is not empty and has no NUL
// padding. Lines starting with one of volatile (fields that change between
// two reads, like "cpu MHz") are left out of the comparison.
func sameAsCat(src, name string, volatile ...string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		return func() map[string]string {
			key := "the copy of " + src
			want, err := os.ReadFile(src)
			if err != nil {
				t.Fatalf("reading %s as cat does: %v", src, err)
			}
			got, err := os.ReadFile(filepath.Join(root, name))
			switch {
			case err != nil:
				return map[string]string{key: err.Error()}
			case len(got) == 0:
				return map[string]string{key: "is empty"}
			case strings.IndexByte(string(got), 0) >= 0:
				return map[string]string{key: fmt.Sprintf("has NUL bytes (%d bytes, %d read by cat)", len(got), len(want))}
			}
			keep := func(b []byte) string {
				var lines []string
			next:
				for _, l := range strings.Split(string(b), "\n") {
					for _, v := range volatile {
						if strings.HasPrefix(l, v) {
							continue next
						}
					}
					lines = append(lines, l)
				}
				return strings.Join(lines, "\n")
			}
			if keep(got) != keep(want) {
				return map[string]string{key: fmt.Sprintf("differs from cat's (%d bytes, cat %d)", len(got), len(want))}
			}
			return map[string]string{key: "is what cat reads"}
		}
	}
}

// nearlyFull is a setup that fills the filesystem holding root (one
// the case has to itself) until less than room bytes are free, and checks
// that a new file of size bytes would not fit; the filler is removed after
// the run, before the walk.
func nearlyFull(mnt string, room, size int64) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		free := fillFS(t, mnt, room)
		filler := filepath.Join(mnt, "filler")
		// The premise, measured rather than trusted: a new file of the
		// replacement's size cannot be allocated now.
		probe := filepath.Join(mnt, "probe")
		fd, err := unix.Open(probe, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Fallocate(fd, 0, 0, size)
		unix.Close(fd)
		os.Remove(probe)
		if !errors.Is(err, unix.ENOSPC) {
			t.Fatalf("test premise: %d bytes free after filling %s, and a %d-byte file fits (fallocate: %v)", free, mnt, size, err)
		}
		return func() map[string]string {
			if err := os.Remove(filler); err != nil {
				t.Error(err)
			}
			return nil
		}
	}
}

// modeOf is a setup whose observation is the type and permission
// bits of the scratch entry name after the run, for cases whose premise is
// about a mode.
func modeOf(name string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		return func() map[string]string {
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(root, name), &st); err != nil {
				return map[string]string{"mode of " + name: err.Error()}
			}
			return map[string]string{"mode of " + name: fmt.Sprintf("%06o", st.Mode)}
		}
	}
}

// xattrsOf is a setup whose observation is the user.* extended
// attributes of the scratch file name after the run.
func xattrsOf(name string) func(*testing.T, string) func() map[string]string {
	return func(t *testing.T, root string) func() map[string]string {
		return func() map[string]string {
			xattrs, err := testtree.ReadXattrs(filepath.Join(root, name))
			if err != nil {
				return map[string]string{"xattrs of " + name: err.Error()}
			}
			var xs []string
			for _, k := range slices.Sorted(maps.Keys(xattrs)) {
				if strings.HasPrefix(k, "user.") {
					xs = append(xs, k+"="+strconv.Quote(string(xattrs[k])))
				}
			}
			return map[string]string{"xattrs of " + name: strings.Join(xs, " ")}
		}
	}
}
