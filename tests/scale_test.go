package tests

// End-to-end tests of cowcp at scale under a memory limit: a million
// files, one directory of 200,000 entries, a tree 10,000 levels deep,
// 100,000 hard links to one inode and names of 255 bytes, each copied
// with cowcp -a inside a memory cgroup of 64 MiB. Each copy must exit 0,
// not be OOM-killed, and match its source: the same entries, names,
// types, modes, owners, mtimes, sizes, link targets, tiny files' bytes
// and grouping of hard links, compared directory by directory through
// digests rather than by holding a million entries in memory.
//
// The time each copy took and its peak memory are logged (go test -v).
// Two environment variables adjust a run:
//   - COWCP_SCALE_CP=1 copies each tree with GNU cp -a too, under the
//     same limit, and logs what it did, for comparison (cp is not tested;
//     this doubles the time);
//   - COWCP_SCALE_FILES=N makes TestScaleMillionFiles copy N files (a
//     multiple of 1,000) instead of a million, for a quicker local run.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// scaleMemLimit is the memory cgroup limit every copy here runs under.
const scaleMemLimit = 64 << 20

// scaleTimeout is how long one copy may take before it counts as hung.
const scaleTimeout = 5 * time.Minute

// needOrSkip skips a test for want of something the machine lacks, or
// fails it under CI=true, where a skipped test would hide a broken setup.
func needOrSkip(t testing.TB, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format+" (CI=true: a skip would hide it)", args...)
	}
	t.Skipf(format, args...)
}

// memCgroup is a memory cgroup of its own for one process: cgroup v1's
// memory controller (memory.limit_in_bytes) where it is mounted, else
// cgroup v2 (memory.max) at /sys/fs/cgroup.
type memCgroup struct {
	dir string
	v2  bool
}

var cgroupSeq atomic.Int64

// newMemCgroup makes a memory cgroup limited to limit bytes, swap
// included, and removes it in t.Cleanup.
func newMemCgroup(t testing.TB, limit int64) *memCgroup {
	t.Helper()
	requireRoot(t)
	name := fmt.Sprintf("cowcp-test-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	g := &memCgroup{}
	const v1 = "/sys/fs/cgroup/memory"
	var st unix.Statfs_t
	switch {
	case fileExists(filepath.Join(v1, "memory.limit_in_bytes")):
		g.dir = filepath.Join(v1, name)
	case unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil || !slices.Contains(strings.Fields(string(ctl)), "memory") {
			needOrSkip(t, "cgroup v2 at /sys/fs/cgroup has no memory controller (%q, %v)", ctl, err)
		}
		sub, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Fields(string(sub)), "memory") {
			writeCgroup(t, "/sys/fs/cgroup/cgroup.subtree_control", "+memory")
		}
		g.dir, g.v2 = filepath.Join("/sys/fs/cgroup", name), true
	default:
		needOrSkip(t, "no memory cgroup: neither %s (v1) nor a cgroup2 /sys/fs/cgroup", v1)
	}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		t.Fatalf("making a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The process is gone, but v1 may still be moving its charges
		// to the parent for a moment.
		var err error
		for range 50 {
			if err = unix.Rmdir(g.dir); err == nil || errors.Is(err, unix.ENOENT) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("removing the cgroup %s: %v", g.dir, err)
	})
	lim := strconv.FormatInt(limit, 10)
	if g.v2 {
		writeCgroup(t, g.file("memory.max"), lim)
		if fileExists(g.file("memory.swap.max")) {
			writeCgroup(t, g.file("memory.swap.max"), "0")
		}
		return g
	}
	writeCgroup(t, g.file("memory.limit_in_bytes"), lim)
	if fileExists(g.file("memory.memsw.limit_in_bytes")) {
		writeCgroup(t, g.file("memory.memsw.limit_in_bytes"), lim)
	}
	return g
}

func (g *memCgroup) file(name string) string { return filepath.Join(g.dir, name) }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func writeCgroup(t testing.TB, path, value string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		t.Fatalf("writing %q to %s: %v", value, path, err)
	}
}

// command runs bin with args inside the group: a shell joins the group,
// then becomes bin, so nothing of bin runs outside it.
func (g *memCgroup) command(bin string, args ...string) *exec.Cmd {
	return exec.Command("sh", append([]string{"-c", `echo $$ > "$0" && exec "$@"`, g.file("cgroup.procs"), bin}, args...)...)
}

// memUsage is what a cgroup says of the memory its process used.
type memUsage struct {
	peak     int64 // the group's peak charge (page cache and kernel memory too), or -1
	failcnt  int64 // memory.failcnt (v1), or the "max" events (v2)
	oomKills int64
}

func (g *memCgroup) usage(t testing.TB) memUsage {
	t.Helper()
	u := memUsage{peak: -1}
	if g.v2 {
		if b, err := os.ReadFile(g.file("memory.peak")); err == nil {
			u.peak, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		}
		ev := readKeyed(t, g.file("memory.events"))
		u.failcnt, u.oomKills = ev["max"], ev["oom_kill"]
		return u
	}
	u.peak = readInt(t, g.file("memory.max_usage_in_bytes"))
	u.failcnt = readInt(t, g.file("memory.failcnt"))
	u.oomKills = readKeyed(t, g.file("memory.oom_control"))["oom_kill"]
	return u
}

func readInt(t testing.TB, p string) int64 {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return n
}

// readKeyed reads a cgroup file of "key value" lines.
func readKeyed(t testing.TB, p string) map[string]int64 {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			m[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return m
}

// limitedRun is one copy run under the memory limit.
type limitedRun struct {
	result
	took    time.Duration
	maxRSS  int64 // the process's peak resident set (VmHWM), sampled, bytes
	mem     memUsage
	killed  syscall.Signal // the signal that ended it, or 0
	timeout bool
}

func (r limitedRun) oomKilled() bool { return r.mem.oomKills > 0 || r.killed == syscall.SIGKILL }

func (r limitedRun) String() string {
	s := fmt.Sprintf("exit %d in %.1f s, peak RSS %.1f MiB, cgroup peak %.1f MiB (failcnt %d, %d OOM kills)",
		r.code, r.took.Seconds(), float64(r.maxRSS)/(1<<20), float64(r.mem.peak)/(1<<20), r.mem.failcnt, r.mem.oomKills)
	if r.killed != 0 {
		s += ", killed by " + unix.SignalName(r.killed)
	}
	if r.timeout {
		s += fmt.Sprintf(", killed after the %v timeout", scaleTimeout)
	}
	return s
}

// runLimited runs bin with args in a fresh memory cgroup of
// scaleMemLimit bytes.
func runLimited(t testing.TB, bin string, args ...string) limitedRun {
	t.Helper()
	g := newMemCgroup(t, scaleMemLimit)
	cmd := g.command(bin, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(scaleTimeout, func() { timedOut.Store(true); cmd.Process.Kill() })
	done := make(chan struct{})
	hwm := make(chan int64)
	go func() { hwm <- sampleHWM(cmd.Process.Pid, filepath.Base(bin), done) }()
	err := cmd.Wait()
	timer.Stop()
	close(done)
	r := limitedRun{took: time.Since(start), timeout: timedOut.Load(), mem: g.usage(t), maxRSS: <-hwm}
	r.stdout, r.stderr = so.String(), se.String()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %s: %v", bin, err)
	}
	ps := cmd.ProcessState
	r.code = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.killed, r.code = ws.Signal(), 128+int(ws.Signal())
	}
	return r
}

// sampleHWM follows the peak resident set (VmHWM) of process pid, once it
// runs the program name, every 10 ms until done, and returns the last
// value read: the peak but for the last few milliseconds. getrusage's
// ru_maxrss would not do: exec keeps the high-water mark of the image it
// replaces, and os/exec starts the child sharing the test's own memory
// (vfork), so it would report the test's size.
func sampleHWM(pid int, name string, done <-chan struct{}) int64 {
	status := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(status); err == nil {
			var comm string
			var kb int64 = -1
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "Name:"); ok {
					comm = strings.TrimSpace(v)
				}
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				}
			}
			// The name is cut to 15 bytes (TASK_COMM_LEN).
			if comm != "" && strings.HasPrefix(name, comm) && kb >= 0 {
				peak = max(peak, kb<<10)
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

// plainCowcp is a cowcp built without -race. A race-enabled binary (what
// TestMain builds under go test -race) needs several times the memory of
// the real one for its shadow memory, which a 64 MiB limit is not about.
var plainCowcp = sync.OnceValues(func() (string, error) {
	if !raceEnabled {
		return cowcpBin, nil
	}
	bin := filepath.Join(filepath.Dir(cowcpBin), "cowcp-norace")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/cowcp")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cowcp without -race: %w\n%s", err, out)
	}
	return bin, nil
})

// scaleCase is one tree to copy under the memory limit.
type scaleCase struct {
	fs    string // filesystem kind (mountFS)
	size  string // its size
	build func(t testing.TB, src string)
	check func(t testing.TB, dst string) // more checks of a copy, if any
}

// runScale builds the case's tree, copies it with cowcp -a in a memory
// cgroup of scaleMemLimit, and checks the copy; with COWCP_SCALE_CP=1,
// GNU cp -a then does the same, and its result is logged.
func runScale(t *testing.T, c scaleCase) {
	requireRoot(t)
	bin, err := plainCowcp()
	if err != nil {
		t.Fatal(err)
	}
	mnt := mountFS(t, c.fs, c.size)
	src := filepath.Join(mnt, "src")
	start := time.Now()
	c.build(t, src)
	used := usedBytes(t, mnt)
	built := time.Since(start)
	start = time.Now()
	want := walkScale(t, src)
	t.Logf("source: %d entries (%d directories, %d files, %d hard links), %.0f MiB used, made in %.1f s, walked in %.1f s",
		want.entries, want.dirs, want.files, want.links, float64(used)/(1<<20), built.Seconds(), time.Since(start).Seconds())

	tools := []struct{ name, bin string }{{"cowcp", bin}}
	if os.Getenv("COWCP_SCALE_CP") == "1" {
		tools = append(tools, struct{ name, bin string }{"cp", "cp"})
	}
	for _, tool := range tools {
		dst := filepath.Join(mnt, tool.name)
		r := runLimited(t, tool.bin, "-a", src, dst)
		start := time.Now()
		var problems []string
		if r.stderr != "" {
			problems = append(problems, fmt.Sprintf("stderr: %.1500s", r.stderr))
		}
		if !r.oomKilled() {
			problems = append(problems, diffScale(want, walkScale(t, dst))...)
			if c.check != nil && len(problems) == 0 && tool.name == "cowcp" {
				c.check(t, dst)
			}
		}
		if tool.name == "cp" {
			// GNU cp's result is for the record, not a test of cp.
			t.Logf("GNU cp -a: %v; checked in %.1f s", r, time.Since(start).Seconds())
			for _, p := range problems {
				t.Logf("GNU cp -a: %s", p)
			}
			continue
		}
		t.Logf("cowcp -a: %v; checked in %.1f s", r, time.Since(start).Seconds())
		if r.code != 0 || r.oomKilled() || r.timeout {
			t.Errorf("cowcp -a under a %d MiB memory limit did not complete: %v", scaleMemLimit>>20, r)
		}
		for _, p := range problems {
			t.Errorf("cowcp -a: %s", p)
		}
	}
}

// scaleManifest sums up a tree directory by directory: each directory's
// digest covers its entries' names, types, modes, owners, mtimes, sizes,
// symlink targets, the bytes of its files and which hard links share an
// inode. Two trees are equal when their directories' digests are.
type scaleManifest struct {
	entries, dirs, files, links int64
	sums                        map[uint64]dirSum // by a digest of the directory's path
	depth                       int
}

type dirSum struct {
	where   string // the directory, for messages
	depth   int
	entries int
	digest  [sha256.Size]byte
}

type scaleWalker struct {
	m      *scaleManifest
	groups map[[2]uint64]string // first path met of each inode with several links
	buf    []byte               // for reading files
	line   []byte               // for a directory's lines
}

// walkScale walks the tree at root with descriptor-relative calls, one
// open directory per level, so a tree deeper than PATH_MAX is walked
// whole.
func walkScale(t testing.TB, root string) *scaleManifest {
	t.Helper()
	w := &scaleWalker{m: &scaleManifest{sums: map[uint64]dirSum{}}, groups: map[[2]uint64]string{}, buf: make([]byte, 64<<10)}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return w.m
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	w.m.entries, w.m.dirs = 1, 1
	if err := w.dir(fd, 0, ".", 0, fmt.Sprintf("root %o %d:%d %d.%09d", st.Mode, st.Uid, st.Gid, st.Mtim.Sec, st.Mtim.Nsec)); err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return w.m
}

func childKey(parent uint64, name string) uint64 {
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, parent)
	io.WriteString(h, name)
	return h.Sum64()
}

// dir sums up the directory open at fd: key and where name it, depth is
// its level and self the line about the directory itself, if any (the
// root's; a subdirectory's is its parent's).
func (w *scaleWalker) dir(fd int, key uint64, where string, depth int, self string) error {
	names, err := testtree.ReadDir(fd)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	w.m.depth = max(w.m.depth, depth)
	h := sha256.New()
	line := append(w.line[:0], self...)
	var subdirs []string
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("%s/%s: %w", where, n, err)
		}
		w.m.entries++
		// Formatted by hand: fmt costs more than the fstatat for a
		// million entries.
		line = strconv.AppendQuote(append(line, '\n'), n)
		line = strconv.AppendUint(append(line, ' '), uint64(st.Mode), 8)
		line = strconv.AppendUint(append(line, ' '), uint64(st.Uid), 10)
		line = strconv.AppendUint(append(line, ':'), uint64(st.Gid), 10)
		line = strconv.AppendInt(append(line, ' '), st.Mtim.Sec, 10)
		line = strconv.AppendInt(append(line, '.'), st.Mtim.Nsec, 10)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			w.m.dirs++
			subdirs = append(subdirs, n)
		case unix.S_IFLNK:
			target, err := readlinkAt(fd, n)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", where, n, err)
			}
			line = strconv.AppendQuote(append(line, " -> "...), target)
		case unix.S_IFREG:
			w.m.files++
			line = strconv.AppendInt(append(line, ' '), st.Size, 10)
			if st.Nlink > 1 {
				id := [2]uint64{st.Dev, st.Ino}
				if first, seen := w.groups[id]; seen {
					w.m.links++
					line = append(append(line, " a link of "...), first...)
					break
				}
				w.groups[id] = fmt.Sprintf("%x/%q", key, n)
				line = strconv.AppendUint(append(line, " links "...), uint64(st.Nlink), 10)
			}
			if st.Size > 0 {
				sum, err := w.content(fd, n)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", where, n, err)
				}
				line = hex.AppendEncode(append(line, ' '), sum)
			}
		}
		if len(line) > 32<<10 {
			h.Write(line)
			line = line[:0]
		}
	}
	h.Write(line)
	w.line = line
	d := dirSum{where: where, depth: depth, entries: len(names)}
	if len(where) >= 150 {
		d.where = fmt.Sprintf("%s/… (level %d)", where, depth)
	}
	copy(d.digest[:], h.Sum(nil))
	w.m.sums[key] = d
	for _, n := range subdirs {
		sub, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", where, n, err)
		}
		subWhere := where
		if len(where) < 150 {
			subWhere = where + "/" + n
		}
		err = w.dir(sub, childKey(key, n), subWhere, depth+1, "")
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *scaleWalker) content(dirfd int, name string) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	h := sha256.New()
	for {
		n, err := unix.Read(fd, w.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return h.Sum(nil), nil
		}
		h.Write(w.buf[:n])
	}
}

func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax+1)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// diffScale says how the copy got differs from the source want, at most
// ten ways, shallowest first.
func diffScale(want, got *scaleManifest) []string {
	var diffs []string
	if got.entries != want.entries || got.files != want.files || got.dirs != want.dirs || got.links != want.links || got.depth != want.depth {
		diffs = append(diffs, fmt.Sprintf("the copy has %d entries (%d directories, %d files, %d later hard links, %d levels), the source %d (%d, %d, %d, %d)",
			got.entries, got.dirs, got.files, got.links, got.depth, want.entries, want.dirs, want.files, want.links, want.depth))
	}
	var bad []uint64
	for k, w := range want.sums {
		if g, ok := got.sums[k]; !ok || g.digest != w.digest {
			bad = append(bad, k)
		}
	}
	slices.SortFunc(bad, func(a, b uint64) int {
		x, y := want.sums[a], want.sums[b]
		return cmp.Or(x.depth-y.depth, strings.Compare(x.where, y.where))
	})
	for i, k := range bad {
		if i == 10 {
			diffs = append(diffs, fmt.Sprintf("... %d directories differ in all", len(bad)))
			break
		}
		w := want.sums[k]
		g, ok := got.sums[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing from the copy", w.where))
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: %d entries in the copy, %d in the source, or their names, types, metadata, links or bytes differ", w.where, g.entries, w.entries))
	}
	return diffs
}

// makeFiles creates n files in the directory dir (which it makes first),
// named name(i) and holding data(i), with openat and close in a loop: a
// shell or os.WriteFile would take minutes for a million.
func makeFiles(dir string, n int, name func(int) string, data func(int) []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	for i := range n {
		fd, err := unix.Openat(dfd, name(i), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("creating %s/%s: %w", dir, name(i), err)
		}
		if b := data(i); len(b) > 0 {
			_, err = unix.Write(fd, b)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("writing %s/%s: %w", dir, name(i), err)
		}
	}
	return nil
}

// tinyEvery gives every k-th file a few bytes of its own and leaves the
// rest empty: the copy of an empty file is its creation alone, and the
// few with data show that data arrives.
func tinyEvery(k int, tag string) func(int) []byte {
	return func(i int) []byte {
		if i%k != 0 {
			return nil
		}
		return fmt.Appendf(nil, "%s %d\n", tag, i)
	}
}

// inParallel runs f(0..n-1) on four goroutines, and fails the test with
// the first error. Making files is mostly waiting in the kernel: four
// make them faster than two, even on two cores.
func inParallel(t testing.TB, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make([]error, n)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if errs[i] = f(i); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// scaleFiles is how many files TestScaleMillionFiles copies: a million,
// or COWCP_SCALE_FILES.
func scaleFiles(t testing.TB) int {
	t.Helper()
	v := os.Getenv("COWCP_SCALE_FILES")
	if v == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n%1000 != 0 {
		t.Fatalf("COWCP_SCALE_FILES=%q: want a positive multiple of 1000", v)
	}
	return n
}

// TestScaleMillionFiles: a million files in 1,000 directories (every
// 97th with a few bytes, the others empty) copied under 64 MiB.
func TestScaleMillionFiles(t *testing.T) {
	n := scaleFiles(t)
	runScale(t, scaleCase{fs: fsBtrfs, size: "4G", build: func(t testing.TB, src string) {
		inParallel(t, n/1000, func(d int) error {
			return makeFiles(filepath.Join(src, fmt.Sprintf("d%03d", d)), 1000,
				func(i int) string { return fmt.Sprintf("f%03d", i) }, tinyEvery(97, fmt.Sprint(d)))
		})
	}})
}

// TestScaleHugeDirectory: one directory of 200,000 entries.
func TestScaleHugeDirectory(t *testing.T) {
	runScale(t, scaleCase{fs: fsBtrfs, size: "2G", build: func(t testing.TB, src string) {
		err := makeFiles(filepath.Join(src, "huge"), 200_000,
			func(i int) string { return fmt.Sprintf("entry-%06d", i) }, tinyEvery(997, "huge"))
		if err != nil {
			t.Fatal(err)
		}
	}})
}

// scaleDepth is how deep TestScaleDeepTree's tree is.
const scaleDepth = 10_000

// TestScaleDeepTree: a chain of 10,000 directories named "d" with a file
// at the bottom, 20,000 bytes of path: far past PATH_MAX. (GNU cp 9.1
// stops at about 2,030 levels, where its paths reach PATH_MAX: "File
// name too long".) Two descriptors a level would be 20,000, this
// machine's hard limit, which root may not raise here (no
// CAP_SYS_RESOURCE): the walk parks the directories far above the one it
// reads (tree/park_linux.go).
func TestScaleDeepTree(t *testing.T) {
	depth := scaleDepth
	runScale(t, scaleCase{fs: fsBtrfs, size: "1G", build: func(t testing.TB, src string) {
		testtree.DeepChain(t, src, depth, func(fd, level int) {
			if level < depth {
				return
			}
			leaf, err := unix.Openat(fd, "leaf", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			unix.Write(leaf, fmt.Appendf(nil, "bottom of %d levels\n", depth))
			unix.Close(leaf)
		})
	}})
}

// scaleLinks is how many hard links TestScaleManyHardLinks adds to one
// file.
const scaleLinks = 100_000

// TestScaleManyHardLinks: one file of 64 KiB and 100,000 more hard links
// to it, in 100 directories; cowcp -a must keep them one inode. On XFS
// (with reflinks): btrfs allows 65,535 links per inode and ext4 65,000.
func TestScaleManyHardLinks(t *testing.T) {
	runScale(t, scaleCase{fs: fsXFS, size: "1G",
		build: func(t testing.TB, src string) {
			if err := os.Mkdir(src, 0o755); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(src, "target")
			testtree.WriteRandom(t, target, 64<<10, 77)
			inParallel(t, 100, func(d int) error {
				dir := filepath.Join(src, fmt.Sprintf("l%02d", d))
				if err := os.Mkdir(dir, 0o755); err != nil {
					return err
				}
				for i := range scaleLinks / 100 {
					if err := os.Link(target, filepath.Join(dir, fmt.Sprintf("link-%04d", i))); err != nil {
						return err
					}
				}
				return nil
			})
		},
		check: func(t testing.TB, dst string) {
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(dst, "target"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Nlink != scaleLinks+1 {
				t.Errorf("%s/target has %d links, want %d", dst, st.Nlink, scaleLinks+1)
			}
		}})
}

// longName is a 255-byte name (NAME_MAX) starting with prefix.
func longName(prefix string) string { return prefix + strings.Repeat("n", 255-len(prefix)) }

// TestScaleLongNames: 255-byte names (NAME_MAX) at every level of a tree
// 12 directories deep, each with 200 files, 20 symlinks to a sibling
// (255-byte targets) and a hard link: 3,000 bytes of path, short of
// PATH_MAX, which the deep tree covers.
func TestScaleLongNames(t *testing.T) {
	runScale(t, scaleCase{fs: fsBtrfs, size: "512M", build: func(t testing.TB, src string) {
		dir := src
		for level := range 12 {
			dir = filepath.Join(dir, longName(fmt.Sprintf("dir%02d-", level)))
			file := func(i int) string { return longName(fmt.Sprintf("file%03d-", i)) }
			if err := makeFiles(dir, 200, file, tinyEvery(7, fmt.Sprint(level))); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				if err := os.Symlink(file(i), filepath.Join(dir, longName(fmt.Sprintf("link%03d-", i)))); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Link(filepath.Join(dir, file(0)), filepath.Join(dir, longName("hardlink-"))); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(dir) + 256; n >= unix.PathMax {
			t.Fatalf("the deepest file's path is %d bytes: past PATH_MAX", n)
		}
	}})
}
