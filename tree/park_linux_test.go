package tree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// parkChildEnv tells a re-run of the test binary where to copy from and to.
const parkChildEnv = "COWCP_TEST_PARK"

// parkDepth levels of two descriptors each are more than parkFiles allows.
const (
	parkDepth = 1200
	parkFiles = 900
)

// A chain deeper than the limit on open files allows at two descriptors a
// level (the walk's source and destination directories) is copied whole,
// with a file and the timestamps of every level: the directories deep
// below the one being read are parked and opened again through "..". The
// copy runs in a child that may not raise its limit (no CAP_SYS_RESOURCE).
func TestWalkParksDeepDirectories(t *testing.T) {
	if v := os.Getenv(parkChildEnv); v != "" {
		src, dst, _ := strings.Cut(v, ":")
		lim := unix.Rlimit{Cur: parkFiles, Max: parkFiles}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		c, _ := testCopier(t, Options{Recursive: true, Jobs: 4,
			Preserve: Preserve{Mode: true, Timestamps: true}}, nil)
		st := runCopies(t, c, dst, src)
		if st.Errors != 0 {
			f := st.Failures[0]
			t.Fatalf("%d errors, first at level %d: %v", st.Errors, strings.Count(f.Path, "/d"), strings.ReplaceAll(f.Err, "d/", ""))
		}
		return
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no setpriv (util-linux) to run the copy without CAP_SYS_RESOURCE")
		}
		t.Skip("no setpriv (util-linux) to run the copy without CAP_SYS_RESOURCE")
	}
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	base := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	testtree.DeepChain(t, src, parkDepth, func(fd, level int) {
		writeAt(t, fd, "f", fmt.Sprintf("level %d\n", level))
		ts := unix.NsecToTimespec(base.Add(time.Duration(level) * time.Hour).UnixNano())
		if err := unix.UtimesNanoAt(fd, ".", []unix.Timespec{ts, ts}, 0); err != nil {
			t.Fatal(err)
		}
	})
	cmd := exec.Command("setpriv", "--bounding-set", "-sys_resource",
		os.Args[0], "-test.run=^TestWalkParksDeepDirectories$", "-test.v")
	cmd.Env = append(os.Environ(), parkChildEnv+"="+src+":"+dst)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the copy, with %d open files at most: %v\n%s", parkFiles, err, out)
	}
	sfd, dfd := openDir(t, src), openDir(t, dst)
	for level := 0; ; level++ {
		var s, d unix.Stat_t
		if err := unix.Fstat(sfd, &s); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fstat(dfd, &d); err != nil {
			t.Fatal(err)
		}
		if s.Mtim != d.Mtim {
			t.Errorf("level %d: mtime %v, want the source's %v", level, d.Mtim, s.Mtim)
		}
		if got, want := readAt(t, dfd, "f"), fmt.Sprintf("level %d\n", level); got != want {
			t.Errorf("level %d: f reads %q, want %q", level, got, want)
		}
		ns, errS := unix.Openat(sfd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		nd, errD := unix.Openat(dfd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(sfd)
		unix.Close(dfd)
		if errS != nil {
			if level != parkDepth || !errors.Is(errD, unix.ENOENT) {
				t.Fatalf("level %d: source ends (%v), copy: %v", level, errS, errD)
			}
			return
		}
		if errD != nil {
			t.Fatalf("level %d: the copy ends: %v", level, errD)
		}
		sfd, dfd = ns, nd
	}
}

// copyOrHang copies src to dst with opts, and fails the test if the copy
// is not done within a minute.
func copyOrHang(t *testing.T, opts Options, dst, src string) Stats {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := New(ctx, opts)
	done := make(chan Stats, 1)
	go func() {
		c.Copy(dst, src)
		done <- c.Close()
	}()
	select {
	case st := <-done:
		return st
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("the copy hung")
	}
	return Stats{}
}

// chainBelow makes a chain of n directories "d" in the directory open at
// fd and returns the deepest, open.
func chainBelow(t *testing.T, fd, n int) int {
	t.Helper()
	fd, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	return fd
}

// A walk that goes down past parked directories again and again (sibling
// directories below them) parks each once and ends: it once counted them
// again each time, and then waited forever for descriptors to close.
func TestWalkParksBranchingTrees(t *testing.T) {
	for _, siblings := range []int{2, 10} {
		t.Run(fmt.Sprint(siblings), func(t *testing.T) {
			src, dst, top := scratchPair(t)
			// Branches at two depths, past maxOpenLevels.
			mid := chainBelow(t, top, maxOpenLevels+50)
			defer unix.Close(mid)
			for i := range siblings {
				unix.Close(chainBelow(t, mustMkdirAt(t, mid, fmt.Sprint("m", i)), 20))
			}
			bottom := chainBelow(t, mid, 60)
			defer unix.Close(bottom)
			for i := range siblings {
				unix.Close(mustMkdirAt(t, bottom, fmt.Sprint("s", i)))
			}
			st := copyOrHang(t, Options{Recursive: true, Jobs: 4}, dst, src)
			if want := int64(maxOpenLevels + 50 + 60 + 1 + siblings*21 + siblings); st.Errors != 0 || st.Dirs != want {
				t.Fatalf("%d errors (first %v), %d directories copied; want none and %d", st.Errors, st.Failures[:min(1, len(st.Failures))], st.Dirs, want)
			}
		})
	}
}

// scratchPair makes a source directory in a fresh temporary one and
// returns it, open as top (closed when the test ends), and where its copy
// goes.
func scratchPair(t *testing.T) (src, dst string, top int) {
	t.Helper()
	root := t.TempDir()
	src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	top = openDir(t, src)
	t.Cleanup(func() { unix.Close(top) })
	return src, dst, top
}

// mustMkdirAt makes name in the directory open at fd and returns it open.
func mustMkdirAt(t *testing.T, fd int, name string) int {
	t.Helper()
	if err := unix.Mkdirat(fd, name, 0o755); err != nil {
		t.Fatal(err)
	}
	sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// A directory that cannot be parked while one of its files is copied (a
// FIFO read with --copy-contents) is not parked after the walk has left
// it, when the collector owns it: its copy gets its timestamps, and the
// race detector sees no two goroutines at its descriptors.
func TestWalkParksOnlyDirectoriesOnTheStack(t *testing.T) {
	src, dst, top := scratchPair(t)
	const busy = maxOpenLevels + 100
	at := chainBelow(t, top, busy)
	// Below the busy level: branches, walked down again and again.
	low := chainBelow(t, at, 200)
	fifo := nameListedFirst(t, at, "d") // read before the walk goes down
	if err := unix.Mkfifoat(at, fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	unix.Close(at)
	for i := range 3 {
		unix.Close(chainBelow(t, mustMkdirAt(t, low, fmt.Sprint("s", i)), maxOpenLevels))
	}
	unix.Close(low)
	old := unix.NsecToTimespec(time.Date(2001, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	for level := busy + 200; level >= 0; level-- {
		fd := chainLevel(t, src, level)
		unix.UtimesNanoAt(fd, ".", []unix.Timespec{old, old}, 0)
		unix.Close(fd)
	}
	var writer sync.WaitGroup
	defer writer.Wait()
	writer.Go(func() {
		// The walk goes deep while the FIFO's copy waits for a writer.
		time.Sleep(time.Second)
		writeFIFOs(t, src, busy, 1, fifo)
	})
	st := copyOrHang(t, Options{Recursive: true, CopyContents: true, Jobs: 4, Preserve: Preserve{Timestamps: true}}, dst, src)
	if st.Errors != 0 {
		t.Fatalf("%d errors, first %v", st.Errors, st.Failures[0])
	}
	for level := busy - 100; level <= busy+200; level++ {
		fd := chainLevel(t, dst, level)
		var s unix.Stat_t
		unix.Fstat(fd, &s)
		unix.Close(fd)
		if s.Mtim != old {
			t.Fatalf("level %d of the copy: mtime %v, want the source's %v", level, s.Mtim, old)
		}
	}
}

// chainLevel opens level n of a chain of "d" below root.
func chainLevel(t *testing.T, root string, n int) int {
	t.Helper()
	top := openDir(t, root)
	defer unix.Close(top)
	return chainBelow0(t, top, n)
}

// chainBelow0 opens the existing level n of the chain below fd.
func chainBelow0(t *testing.T, fd, n int) int {
	t.Helper()
	fd, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("level %d: %v", i+1, err)
		}
		fd = next
	}
	return fd
}

// A parked directory that moved while the walk was below it is reported
// once, "cannot return to directory", and not followed to where it went;
// the walk goes on above it, its ancestors opened again by name from the
// root. (Moved alone, it is still ".." of the level below: the walk finds
// it there, as it would holding it open. So the level below moves too.)
func TestWalkParkedDirectoryMoved(t *testing.T) {
	// The FIFOs hold the walk on levels above the one that moves: the
	// walk comes back to it from below by name, not from one of them.
	const moved, first = 120, 20
	for _, tc := range []struct {
		name string
		// move moves level moved of the chain under src (open as top),
		// and a level below it out of it, which the walk comes back to.
		move func(t *testing.T, src string, top int)
	}{
		{"away", func(t *testing.T, src string, top int) {
			parent := chainLevel(t, src, moved-1)
			defer unix.Close(parent)
			mustRename(t, parent, "d", top, "gone")
			child := chainLevel(t, filepath.Join(src, "gone"), 0)
			defer unix.Close(child)
			mustRename(t, child, "d", top, "moved")
		}},
		// Renamed where it stands, far above the level the walk comes
		// back to: every level between is out of reach, one error.
		{"in place, far above", func(t *testing.T, src string, top int) {
			parent := chainLevel(t, src, moved-1)
			defer unix.Close(parent)
			mustRename(t, parent, "d", parent, "renamed")
			below := openBelow(t, src, 299)
			defer unix.Close(below)
			mustRename(t, below, "d", top, "moved")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst, top := scratchPair(t)
			// FIFOs read with --copy-contents on more levels than may
			// wait to be parked: the walk waits deep below until they
			// are written.
			const fifos = maxOpenLevels/4 + 10 // on levels first to moved-1
			at := chainBelow(t, top, first)
			fifo := ""
			for range fifos {
				next := chainBelow(t, at, 1)
				if fifo == "" {
					fifo = nameListedFirst(t, at, "d")
				}
				if err := unix.Mkfifoat(at, fifo, 0o644); err != nil {
					t.Fatal(err)
				}
				unix.Close(at)
				at = next
			}
			unix.Close(chainBelow(t, at, 2*maxOpenLevels))
			unix.Close(at)
			// A file beside the chain above the moved level: copied all the same.
			writeFile(t, filepath.Join(src, "beside"), []byte("beside\n"), 0o644)
			var writer sync.WaitGroup
			defer writer.Wait()
			writer.Go(func() {
				time.Sleep(time.Second)
				tc.move(t, src, top)
				writeFIFOs(t, src, first, fifos, fifo)
			})
			st := copyOrHang(t, Options{Recursive: true, CopyContents: true, Jobs: 4}, dst, src)
			if st.Errors != 1 || !strings.Contains(st.Failures[0].Err, "cannot return to directory") ||
				!strings.HasSuffix(st.Failures[0].Err, errMoved.Error()) {
				t.Fatalf("%d errors, first %v; want one, that level %d moved", st.Errors, st.Failures[:min(1, len(st.Failures))], moved)
			}
			if got := strings.Count(st.Failures[0].Path, "/d"); got != moved {
				t.Errorf("the error names level %d, want %d", got, moved)
			}
			if _, err := os.Stat(filepath.Join(dst, "beside")); err != nil {
				t.Errorf("the file above the moved directory: %v", err)
			}
			for _, name := range []string{"gone", "moved"} {
				if _, err := os.Lstat(filepath.Join(dst, name)); err == nil {
					t.Errorf("%s: copied, but it was not there when the walk listed the root", name)
				}
			}
		})
	}
}

func mustRename(t *testing.T, fromDir int, from string, toDir int, to string) {
	t.Helper()
	if err := unix.Renameat(fromDir, from, toDir, to); err != nil {
		t.Errorf("rename %s: %v", from, err)
	}
}

// openBelow opens level n of the chain under root, whatever the moves
// made of it: one directory in each level.
func openBelow(t *testing.T, root string, n int) int {
	t.Helper()
	fd := openDir(t, root)
	for i := range n {
		names := dirNames(t, fd)
		if len(names) == 0 {
			t.Fatalf("level %d: empty", i)
		}
		var next int
		var err error
		for _, name := range names {
			var st unix.Stat_t
			if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR &&
				(i > 0 || name == "d") {
				next, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				break
			}
		}
		unix.Close(fd)
		if err != nil || next == 0 {
			t.Fatalf("level %d: %v", i+1, err)
		}
		fd = next
	}
	return fd
}

// dirNames lists the directory open at fd, from its start, in the order
// it lists its entries (a description of its own: fd's offset is not
// moved, and a second call lists it all again).
func dirNames(t *testing.T, fd int) []string {
	t.Helper()
	again, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(again), "dir")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// nameListedFirst is a name that the directory open at fd, holding
// other, lists before other (with it made before other): the walk copies
// what it lists first first. (Hashed orders are the same in every
// directory of a filesystem, and so is tmpfs's order of creation.)
func nameListedFirst(t *testing.T, fd int, other string) string {
	t.Helper()
	for i := range 50 {
		name := fmt.Sprint("fifo", i)
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		names := dirNames(t, fd)
		unix.Unlinkat(fd, name, unix.AT_REMOVEDIR)
		if slices.Index(names, name) < slices.Index(names, other) {
			return name
		}
	}
	t.Fatalf("no name listed before %q", other)
	return ""
}

// writeFIFOs opens the FIFOs named fifo at levels first to first+n-1 of
// the chain under src for writing, each as soon as its copy reads it, and
// closes them: end of file. It gives up after a minute.
func writeFIFOs(t *testing.T, src string, first, n int, fifo string) {
	t.Helper()
	var fds []int
	at := openBelow(t, src, first)
	for range n {
		fds = append(fds, at)
		at = chainBelow0(t, at, 1)
	}
	unix.Close(at)
	for end := time.Now().Add(time.Minute); len(fds) > 0; {
		if time.Now().After(end) {
			t.Errorf("%d FIFOs never read", len(fds))
			for _, fd := range fds {
				unix.Close(fd)
			}
			return
		}
		left := fds[:0]
		for _, fd := range fds {
			w, err := unix.Openat(fd, fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err == unix.ENXIO {
				left = append(left, fd) // no reader yet
				continue
			}
			if err != nil {
				t.Errorf("fifo: %v", err)
			} else {
				unix.Close(w)
			}
			unix.Close(fd)
		}
		fds = left
		time.Sleep(time.Millisecond)
	}
}

// No descriptor outlives a copy that parked directories, finished or
// interrupted at any depth.
func TestWalkParkingLeavesNoDescriptor(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	testtree.DeepChain(t, src, 3*maxOpenLevels, func(fd, level int) { writeAt(t, fd, "f", "x") })
	for _, stopAt := range []int{0, maxOpenLevels, 2 * maxOpenLevels, 3*maxOpenLevels - 10} {
		t.Run(fmt.Sprint(stopAt), func(t *testing.T) {
			before := testtree.OpenFds(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dirs := 0
			c := New(ctx, Options{Recursive: true, Jobs: 4, Preserve: Preserve{Timestamps: true, Mode: true},
				Observe: func(ev Event) {
					if ev.Kind == KindDir {
						if dirs++; dirs == stopAt {
							cancel()
						}
					}
				}})
			done := make(chan Stats, 1)
			go func() { c.Copy(filepath.Join(root, fmt.Sprint("dst", stopAt)), src); done <- c.Close() }()
			select {
			case st := <-done:
				if stopAt == 0 && (st.Errors != 0 || st.Dirs != 3*maxOpenLevels+1) {
					t.Errorf("%d errors, %d directories", st.Errors, st.Dirs)
				}
			case <-time.After(time.Minute):
				t.Fatal("the copy hung")
			}
			testtree.FdsLeft(t, before)
		})
	}
}

func openDir(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func writeAt(t *testing.T, dir int, name, s string) {
	t.Helper()
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func readAt(t *testing.T, dir int, name string) string {
	t.Helper()
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	n, _ := unix.Read(fd, buf)
	return string(buf[:n])
}
