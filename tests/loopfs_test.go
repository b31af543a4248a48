package tests

// Tests of tests/loopfs itself: every other end-to-end test stands on it, so
// it must make what it says, take down only what it made, and leave no
// mount or loop device behind. Each test points LOOPFS_DIR at its own
// temporary directory, so it sees only its own filesystems and never
// touches those of tests running in parallel.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// loopfsStateDir returns a fresh LOOPFS_DIR for one test and registers a
// cleanup, run before the directory is removed, that takes down whatever
// loopfs still lists there, so a failing test leaves nothing mounted.
func loopfsStateDir(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	t.Cleanup(func() {
		r := runLoopfs(t, dir, nil, "list")
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if mnt, _, _ := strings.Cut(line, "\t"); mnt != "" {
				if r := runLoopfs(t, dir, nil, "down", mnt); r.code != 0 {
					t.Errorf("cleanup: loopfs down %s: %s", mnt, r.stderr)
				}
			}
		}
	})
	return dir
}

// runLoopfs runs tests/loopfs with LOOPFS_DIR=dir and extra environment.
func runLoopfs(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	return runEnv(t, append([]string{"LOOPFS_DIR=" + dir}, env...), filepath.Join(repoRoot, "tests", "loopfs"), args...)
}

// loopfsUp runs `loopfs up` and checks that stdout is exactly one line: an
// absolute path to a mounted directory under dir.
func loopfsUp(t testing.TB, dir, kind, size string) string {
	t.Helper()
	r := runLoopfs(t, dir, nil, "up", kind, size)
	if r.code != 0 {
		t.Fatalf("loopfs up %s %s: exit %d\n%s", kind, size, r.code, r.stderr)
	}
	mnt := strings.TrimSuffix(r.stdout, "\n")
	if strings.Contains(mnt, "\n") || !filepath.IsAbs(mnt) || !strings.HasPrefix(mnt, dir+"/") {
		t.Fatalf("loopfs up %s %s: stdout should be only a mount point under %s, got %q", kind, size, dir, r.stdout)
	}
	return mnt
}

// mountEntry is one line of findmnt.
type mountEntry struct{ target, source, fstype string }

// mountsUnder returns the mounts whose target is under dir.
func mountsUnder(t testing.TB, dir string) []mountEntry {
	t.Helper()
	out, err := exec.Command("findmnt", "-rn", "-o", "TARGET,SOURCE,FSTYPE").Output()
	if err != nil {
		t.Fatalf("findmnt: %v", err)
	}
	var ms []mountEntry
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasPrefix(f[0], dir+"/") {
			ms = append(ms, mountEntry{f[0], f[1], f[2]})
		}
	}
	return ms
}

// loopsUnder returns "NAME BACK-FILE" for loop devices backed by files
// under dir.
func loopsUnder(t testing.TB, dir string) []string {
	t.Helper()
	out, err := exec.Command("losetup", "-l", "-n", "-O", "NAME,BACK-FILE").Output()
	if err != nil {
		t.Fatalf("losetup -l: %v", err)
	}
	var ls []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[1], dir+"/") {
			ls = append(ls, strings.Join(f, " "))
		}
	}
	return ls
}

// checkNothingLeft fails if anything loopfs made under dir remains: a
// mount, a loop device, or a file.
func checkNothingLeft(t testing.TB, dir string) {
	t.Helper()
	if ms := mountsUnder(t, dir); len(ms) > 0 {
		t.Errorf("mounts left under %s: %v", dir, ms)
	}
	if ls := loopsUnder(t, dir); len(ls) > 0 {
		t.Errorf("loop devices left for images under %s: %v", dir, ls)
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in %s: %s", dir, e.Name())
	}
}

func TestLoopfsUpDown(t *testing.T) {
	cases := []struct {
		kind, size string
		magic      int64
	}{
		{fsBtrfs, "256M", unix.BTRFS_SUPER_MAGIC},
		{fsXFS, "300M", unix.XFS_SUPER_MAGIC},
		{fsExt4, "64M", unix.EXT4_SUPER_MAGIC},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			dir := loopfsStateDir(t)
			mnt := loopfsUp(t, dir, c.kind, c.size)

			ms := mountsUnder(t, dir)
			if len(ms) != 1 || ms[0].target != mnt || ms[0].fstype != c.kind || !strings.HasPrefix(ms[0].source, "/dev/loop") {
				t.Fatalf("after up, mounts under %s = %v; want one %s from /dev/loopN on %s", dir, ms, c.kind, mnt)
			}
			loop := ms[0].source
			var st unix.Statfs_t
			if err := unix.Statfs(mnt, &st); err != nil {
				t.Fatal(err)
			}
			if st.Type != c.magic {
				t.Errorf("statfs type of %s = %#x, want %#x", mnt, st.Type, c.magic)
			}
			if c.kind == fsXFS {
				out, err := exec.Command("xfs_info", mnt).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "reflink=1") {
					t.Errorf("xfs_info %s: %v; want reflink=1 in:\n%s", mnt, err, out)
				}
			}
			if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("data"), 0o644); err != nil {
				t.Fatalf("filesystem not writable: %v", err)
			}
			if l := runLoopfs(t, dir, nil, "list"); l.code != 0 || l.stdout != mnt+"\t"+c.kind+"\t"+loop+"\n" {
				t.Errorf("loopfs list = exit %d %q; want %q", l.code, l.stdout, mnt+"\t"+c.kind+"\t"+loop+"\n")
			}

			if r := runLoopfs(t, dir, nil, "down", mnt); r.code != 0 {
				t.Fatalf("loopfs down %s: exit %d\n%s", mnt, r.code, r.stderr)
			}
			checkNothingLeft(t, dir)
			if l := runLoopfs(t, dir, nil, "list"); l.stdout != "" {
				t.Errorf("loopfs list after down = %q, want nothing", l.stdout)
			}

			// A second down is an error, not a silent success.
			r := runLoopfs(t, dir, nil, "down", mnt)
			if r.code == 0 || !strings.Contains(r.stderr, "not made by loopfs") {
				t.Errorf("second loopfs down: exit %d, stderr %q; want an error saying it is not loopfs's", r.code, r.stderr)
			}
		})
	}
}

// TestLoopfsDownRefusesForeign: down must leave alone what loopfs did not
// make, even when it is dressed up to look like loopfs's.
func TestLoopfsDownRefusesForeign(t *testing.T) {
	t.Parallel()
	dir := loopfsStateDir(t)
	other := t.TempDir()

	mountTmpfs := func(t *testing.T, at string) {
		t.Helper()
		if err := os.MkdirAll(at, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("none", at, "tmpfs", 0, "size=1m"); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", at, err)
		}
		t.Cleanup(func() {
			if err := unix.Unmount(at, 0); err != nil {
				t.Errorf("unmount our tmpfs %s: %v", at, err)
			}
		})
	}
	stillMounted := func(t *testing.T, at, fstype string) {
		t.Helper()
		out, err := exec.Command("findmnt", "-rn", "-o", "FSTYPE", "-M", at).Output()
		if err != nil || strings.TrimSpace(string(out)) != fstype {
			t.Errorf("%s should still be mounted (%s), findmnt says %q (%v)", at, fstype, out, err)
		}
	}
	refuse := func(t *testing.T, env []string, mnt, why string) {
		t.Helper()
		r := runLoopfs(t, dir, env, "down", mnt)
		if r.code == 0 || !strings.HasPrefix(r.stderr, "loopfs: ") || !strings.Contains(r.stderr, why) {
			t.Errorf("loopfs down %s: exit %d, stderr %q; want a refusal mentioning %q", mnt, r.code, r.stderr, why)
		}
	}

	t.Run("ForeignMount", func(t *testing.T) {
		at := filepath.Join(other, "foreign")
		mountTmpfs(t, at)
		refuse(t, nil, at, "not made by loopfs")
		stillMounted(t, at, "tmpfs")
	})
	t.Run("NotAMount", func(t *testing.T) {
		refuse(t, nil, "/", "not made by loopfs")
		refuse(t, nil, dir, "not made by loopfs")
	})
	t.Run("ForgedStateOtherSource", func(t *testing.T) {
		// Looks like loopfs's, but what is mounted is not the recorded device.
		inst := filepath.Join(dir, "btrfs.forged")
		mountTmpfs(t, filepath.Join(inst, "mnt"))
		image := filepath.Join(inst, "image")
		if err := os.WriteFile(image, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		state := "kind=btrfs\nimage=" + image + "\nloop=/dev/loop0\nmnt=" + filepath.Join(inst, "mnt") + "\n"
		if err := os.WriteFile(filepath.Join(inst, "state"), []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(image); os.Remove(filepath.Join(inst, "state")) })
		refuse(t, nil, filepath.Join(inst, "mnt"), "leaving it alone")
		stillMounted(t, filepath.Join(inst, "mnt"), "tmpfs")
		if _, err := os.Stat(image); err != nil {
			t.Errorf("down removed %s after refusing: %v", image, err)
		}
	})
	t.Run("ForgedStateElsewhere", func(t *testing.T) {
		// A state file naming files outside its own directory is not loopfs's.
		victim := filepath.Join(other, "victim")
		if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		inst := filepath.Join(dir, "ext4.forged2")
		if err := os.MkdirAll(filepath.Join(inst, "mnt"), 0o755); err != nil {
			t.Fatal(err)
		}
		state := "kind=ext4\nimage=" + victim + "\nloop=/dev/loop0\nmnt=" + filepath.Join(inst, "mnt") + "\n"
		if err := os.WriteFile(filepath.Join(inst, "state"), []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(inst) })
		refuse(t, nil, filepath.Join(inst, "mnt"), "not made by loopfs")
		if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
			t.Errorf("down touched %s: %q, %v", victim, b, err)
		}
	})
	t.Run("OtherStateDir", func(t *testing.T) {
		// A real loopfs mount, but asked of a loopfs with another state dir.
		mnt := loopfsUp(t, dir, fsExt4, "32M")
		r := runLoopfs(t, other, nil, "down", mnt)
		if r.code == 0 || !strings.Contains(r.stderr, "not made by loopfs") {
			t.Errorf("down from another LOOPFS_DIR: exit %d, stderr %q; want a refusal", r.code, r.stderr)
		}
		stillMounted(t, mnt, fsExt4)
		if r := runLoopfs(t, dir, nil, "down", mnt); r.code != 0 {
			t.Errorf("loopfs down %s: %s", mnt, r.stderr)
		}
	})
}

// TestLoopfsUpFailsCleanly: a failed up exits non-zero, says why, prints no
// mount point, and undoes what it had done.
func TestLoopfsUpFailsCleanly(t *testing.T) {
	t.Parallel()
	// A mount(8) that always fails makes up fail after mkfs and losetup,
	// the point where there is most to undo.
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "mount"), []byte("#!/bin/sh\necho 'fake mount: refused' >&2\nexit 32\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		env        []string
		args       []string
		wantStderr string
	}{
		{"XFSTooSmall", nil, []string{"up", fsXFS, "200M"}, "300M"},
		{"UnknownKind", nil, []string{"up", "zfs", "1G"}, "zfs"},
		{"BadSize", nil, []string{"up", fsExt4, "lots"}, "lots"},
		{"MissingArgs", nil, []string{"up", fsExt4}, "usage"},
		{"MkfsFails", nil, []string{"up", fsBtrfs, "16M"}, "mkfs.btrfs"},
		{"MountFails", []string{"PATH=" + fake + ":" + os.Getenv("PATH")}, []string{"up", fsExt4, "32M"}, "fake mount: refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := loopfsStateDir(t)
			r := runLoopfs(t, dir, c.env, c.args...)
			if r.code == 0 || r.stdout != "" || !strings.HasPrefix(r.stderr, "loopfs: ") || !strings.Contains(r.stderr, c.wantStderr) {
				t.Errorf("loopfs %q: exit %d, stdout %q, stderr %q; want failure mentioning %q and no stdout",
					c.args, r.code, r.stdout, r.stderr, c.wantStderr)
			}
			checkNothingLeft(t, dir)
		})
	}
}

func TestLoopfsCommands(t *testing.T) {
	dir := t.TempDir() // help and usage errors need no root
	if r := runLoopfs(t, dir, nil, "help"); r.code != 0 || !strings.Contains(r.stdout, "loopfs up KIND SIZE") {
		t.Errorf("loopfs help: exit %d, stdout %q", r.code, r.stdout)
	}
	for _, args := range [][]string{nil, {"frobnicate"}} {
		if r := runLoopfs(t, dir, nil, args...); r.code == 0 || r.stdout != "" {
			t.Errorf("loopfs %q: exit %d, stdout %q; want a usage error on stderr", args, r.code, r.stdout)
		}
	}
}

// TestLoopfsParallel: several ups and downs at once, as parallel tests do,
// get distinct mounts and devices and clean up completely.
func TestLoopfsParallel(t *testing.T) {
	t.Parallel()
	dir := loopfsStateDir(t)
	kinds := []struct{ kind, size string }{
		{fsBtrfs, "128M"}, {fsBtrfs, "128M"}, {fsBtrfs, "128M"},
		{fsXFS, "300M"}, {fsXFS, "300M"},
		{fsExt4, "32M"}, {fsExt4, "32M"}, {fsExt4, "32M"},
	}
	mnts := make([]string, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Go(func() {
			r := runLoopfs(t, dir, nil, "up", k.kind, k.size)
			if r.code != 0 {
				t.Errorf("parallel loopfs up %s: exit %d\n%s", k.kind, r.code, r.stderr)
				return
			}
			mnts[i] = strings.TrimSpace(r.stdout)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ms := mountsUnder(t, dir)
	targets, sources := map[string]bool{}, map[string]bool{}
	for _, m := range ms {
		targets[m.target] = true
		sources[m.source] = true
	}
	for _, mnt := range mnts {
		if !targets[mnt] {
			t.Errorf("%s printed by up is not mounted", mnt)
		}
	}
	if len(ms) != len(kinds) || len(targets) != len(kinds) || len(sources) != len(kinds) {
		t.Errorf("want %d distinct mounts on distinct loop devices, got %v", len(kinds), ms)
	}

	for _, mnt := range mnts {
		wg.Go(func() {
			if r := runLoopfs(t, dir, nil, "down", mnt); r.code != 0 {
				t.Errorf("parallel loopfs down %s: exit %d\n%s", mnt, r.code, r.stderr)
			}
		})
	}
	wg.Wait()
	checkNothingLeft(t, dir)
}

// TestLoopfsDownBusy: a process holding the mount busy does not make down
// fail or leak: it unmounts lazily, and the loop device goes once the
// process lets go.
func TestLoopfsDownBusy(t *testing.T) {
	t.Parallel()
	dir := loopfsStateDir(t)
	mnt := loopfsUp(t, dir, fsExt4, "32M")
	hold := exec.Command("sleep", "60")
	hold.Dir = mnt
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hold.Process.Kill(); hold.Wait() })

	r := runLoopfs(t, dir, nil, "down", mnt)
	if r.code != 0 {
		t.Fatalf("loopfs down of a busy mount: exit %d\n%s", r.code, r.stderr)
	}
	if ms := mountsUnder(t, dir); len(ms) > 0 {
		t.Errorf("busy mount still visible after down: %v", ms)
	}
	hold.Process.Kill()
	hold.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for len(loopsUnder(t, dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	checkNothingLeft(t, dir)
}
