package tree

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		t.Skip("no setpriv (util-linux) to run the copy without CAP_SYS_RESOURCE")
	}
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	base := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	deepChain(t, src, parkDepth, func(fd, level int) {
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

// A parked directory moved meanwhile is not walked into through "..".
func TestReopenAsRefusesAMovedDirectory(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/child", "b"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var a unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "a"), &a); err != nil {
		t.Fatal(err)
	}
	child := openDir(t, filepath.Join(root, "a/child"))
	defer unix.Close(child)
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := reopenAs(child, flags, a.Dev, a.Ino)
	if err != nil {
		t.Fatalf("in place: %v", err)
	}
	unix.Close(fd)
	if err := os.Rename(filepath.Join(root, "a/child"), filepath.Join(root, "b/child")); err != nil {
		t.Fatal(err)
	}
	if fd, err := reopenAs(child, flags, a.Dev, a.Ino); !errors.Is(err, errMoved) {
		unix.Close(fd)
		t.Fatalf("moved: %v, want %v", err, errMoved)
	}
}

// deepChain makes root and a chain of depth directories "d" below it,
// calling at for each level (0 is root) with the level open.
func deepChain(t *testing.T, root string, depth int, at func(fd, level int)) {
	t.Helper()
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	fd := openDir(t, root)
	var fds []int
	for level := 0; ; level++ {
		fds = append(fds, fd)
		if level == depth {
			break
		}
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		fd = next
	}
	// Bottom up: what at makes in a level changes its parent's not.
	for level := depth; level >= 0; level-- {
		at(fds[level], level)
		unix.Close(fds[level])
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
