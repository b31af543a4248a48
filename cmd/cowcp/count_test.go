//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/tests/fstest"
	"github.com/cowcp/cowcp/tree"
	"golang.org/x/sys/unix"
)

// figures are what the bar is given: bytes and entries.
type figures struct{ bytes, entries int64 }

// copyFigures copies as args say and adds up what the bar is told: every
// event's progress, and the entries done or left alone. A failure is a
// test error unless its message contains allowErr.
func copyFigures(t *testing.T, allowErr string, args ...string) figures {
	t.Helper()
	c, err := parseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	var f figures
	opts.Observe = func(ev tree.Event) {
		if ev.Err != nil {
			if allowErr == "" || !strings.Contains(ev.Err.Error(), allowErr) {
				t.Errorf("%v: %v", args, ev.Err)
			}
			return
		}
		f.bytes += ev.Progress
		if !ev.Partial {
			f.entries++
		}
	}
	copier := tree.New(context.Background(), opts)
	for _, tg := range resolve(t, c) {
		copier.Copy(tg.Dst, tg.Src)
	}
	copier.Close()
	return f
}

func resolve(t *testing.T, c *cli) []tree.Target {
	t.Helper()
	targets, err := tree.Operands{Args: c.files, TargetDir: c.targetDir, NoTargetDir: c.noTargetDir,
		Parents: c.parents, StripSlashes: c.stripSlashes}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return targets
}

// countFigures runs the counter to its end on what args copy.
func countFigures(t *testing.T, args ...string) figures {
	t.Helper()
	c, err := parseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, tg := range resolve(t, c) {
		srcs = append(srcs, tg.Src)
	}
	var f figures
	complete := false
	cn := &counter{ctx: context.Background(), rules: countRulesFor(c), buf: make([]byte, 4096),
		report: func(bytes, entries int64, done bool) { f, complete = figures{bytes, entries}, done }}
	if cn.rules.links {
		cn.seen = map[fileID]struct{}{}
	}
	cn.run(srcs)
	if !complete {
		t.Errorf("%v: the count never said it was complete", args)
	}
	return f
}

func write(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("x", size)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// The counter's total is what the copy then reports, under each rule that
// changes it: symlinks followed or not (-P, -L, -H, cp's default), hard
// links copied once (-a) or twice (-R), links made instead of copies (-l),
// directories walked or omitted. The test builds its tree with more than a
// getdents buffer of names, so the count reads a directory in several calls.
func TestCountIsWhatTheCopyReports(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	write(t, filepath.Join(src, "a"), 1000)
	write(t, filepath.Join(src, "sub", "b"), 70_000)
	write(t, filepath.Join(src, "sub", "deeper", "c"), 3)
	write(t, filepath.Join(src, "empty"), 0)
	for i := range 300 {
		write(t, filepath.Join(src, "many", "file-with-a-rather-long-name-"+strings.Repeat("n", i%40)+"-"+strconv.Itoa(i)), i)
	}
	if err := os.Link(filepath.Join(src, "sub", "b"), filepath.Join(src, "b-link")); err != nil {
		t.Fatal(err)
	}
	symlink(t, "a", filepath.Join(src, "to-file"))
	symlink(t, "sub", filepath.Join(src, "to-dir"))
	if err := unix.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(base, "elsewhere", "e"), 500)
	symlink(t, filepath.Join(base, "elsewhere"), filepath.Join(base, "link-to-dir"))
	symlink(t, filepath.Join(src, "a"), filepath.Join(base, "link-to-file"))

	for n, tc := range []struct {
		args     []string
		allowErr string
	}{
		{args: []string{"-R", src}},
		{args: []string{"-R", "-P", src, filepath.Join(base, "link-to-dir"), filepath.Join(base, "link-to-file")}},
		{args: []string{"-R", "-H", src, filepath.Join(base, "link-to-dir"), filepath.Join(base, "link-to-file")}},
		{args: []string{"-R", "-L", src}},
		{args: []string{"-a", src}},
		{args: []string{"-R", "-l", src}},
		{args: []string{"-R", "-s", src}}, // an absolute source: -s needs no relative one
		// Without -R a directory is omitted, and a symlink followed.
		{args: []string{filepath.Join(src, "a"), filepath.Join(src, "sub"), filepath.Join(base, "link-to-file")},
			allowErr: "omitting directory"},
	} {
		dst := filepath.Join(base, "dst"+strconv.Itoa(n))
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, tc.args...), dst)
		counted, copied := countFigures(t, args...), copyFigures(t, tc.allowErr, args...)
		if counted != copied {
			t.Errorf("%v: counted %+v, the copy reported %+v", args, counted, copied)
		}
	}
}

// A symlink to a directory above it, followed under -L, is not walked
// round for ever; and a cancelled count stops and says nothing more.
func TestCountStops(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "d", "f"), 10)
	symlink(t, "..", filepath.Join(src, "d", "up"))
	done := make(chan figures)
	go func() { done <- countFigures(t, "-R", "-L", src, "dst") }()
	select {
	case f := <-done:
		if f.bytes != 10 {
			t.Errorf("counted %+v through a loop", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the count walks a symlink loop for ever")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reports := 0
	c := &counter{ctx: ctx, rules: countRules{recursive: true, deref: tree.DerefNever}, buf: make([]byte, 4096),
		report: func(int64, int64, bool) { reports++ }}
	c.run([]string{src})
	if reports != 0 {
		t.Errorf("a cancelled count reported %d times", reports)
	}
}

// -x: the count does not walk into another filesystem, as the copy does
// not (it copies the mount point, empty).
func TestCountStaysOnOneFilesystem(t *testing.T) {
	fstest.RequireRoot(t)
	src := filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "f"), 100)
	mnt := filepath.Join(src, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mnt, 0) })
	write(t, filepath.Join(mnt, "other"), 5000)
	dst := filepath.Join(filepath.Dir(src), "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	counted, copied := countFigures(t, "-R", "-x", src, dst), copyFigures(t, "", "-R", "-x", src, dst)
	if counted != copied || counted.bytes != 100 {
		t.Errorf("-x: counted %+v, the copy reported %+v, want 100 bytes", counted, copied)
	}
}
