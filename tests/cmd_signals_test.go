package tests

// End-to-end tests of how cowcp ends and what it prints, against GNU cp:
// signals other than Ctrl-C (a closed SSH session's SIGHUP, SIGQUIT,
// SIGPIPE) clean up as Ctrl-C does; a stdout that cannot be written is
// cp's "write error"; and a successful copy prints nothing unless stderr
// is a terminal.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// waitOutput polls the open descriptors of process pid until one names
// a file in dir (the copy being written: an O_TMPFILE inode, a
// .cowcp-*.tmp file, or the destination itself) of at least size bytes,
// or until timeout; it reports whether it saw one.
func waitOutput(pid int, dir string, size int64, timeout time.Duration) bool {
	fds := fmt.Sprintf("/proc/%d/fd", pid)
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(time.Millisecond) {
		ents, err := os.ReadDir(fds)
		if err != nil {
			return false // the process is gone
		}
		for _, e := range ents {
			target, err := os.Readlink(filepath.Join(fds, e.Name()))
			if err != nil || !strings.HasPrefix(target, dir+"/") {
				continue
			}
			if fi, err := os.Stat(filepath.Join(fds, e.Name())); err == nil && fi.Mode().IsRegular() && fi.Size() >= size {
				return true
			}
		}
	}
	return false
}

// waitExit waits for cmd, killing it after timeout, and returns its exit
// status as a shell shows it (128+N for a process signal N killed).
func waitExit(t testing.TB, cmd *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	return exitStatus(t, cmd.Wait())
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestCmdSignalsCleanUpLikeInterrupt: SIGHUP (a closed SSH session),
// SIGQUIT and SIGPIPE in the middle of a big byte copy end cowcp as Ctrl-C
// does, with the shell's status for the signal (128+N): a new file leaves
// nothing behind, a replaced file keeps its old content, and no
// .cowcp-*.tmp is left. A hangup delivers SIGHUP twice (from the shell,
// then from the kernel when the shell exits); the second must not cut the
// cleanup short.
func TestCmdSignalsCleanUpLikeInterrupt(t *testing.T) {
	mnt := mountFS(t, fsExt4, "2G")
	src := filepath.Join(mnt, "big")
	testtree.WriteRandom(t, src, 512<<20, 91)
	srcFP := testtree.Fingerprint(t, src)
	for i, tc := range []struct {
		name    string
		sigs    []syscall.Signal
		replace bool
	}{
		{"SIGHUP/new", []syscall.Signal{syscall.SIGHUP}, false},
		{"SIGHUP/replace", []syscall.Signal{syscall.SIGHUP}, true},
		{"SIGHUP-twice/replace", []syscall.Signal{syscall.SIGHUP, syscall.SIGHUP}, true},
		{"SIGQUIT/new", []syscall.Signal{syscall.SIGQUIT}, false},
		{"SIGQUIT/replace", []syscall.Signal{syscall.SIGQUIT}, true},
		{"SIGPIPE/new", []syscall.Signal{syscall.SIGPIPE}, false},
		{"SIGPIPE/replace", []syscall.Signal{syscall.SIGPIPE}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(mnt, fmt.Sprintf("case%d", i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "file")
			var oldSum string
			if tc.replace {
				oldSum = testtree.WriteRandom(t, dst, 3<<20+5, 92)
			}
			cmd, _, se := startCowcp(t, "--reflink=never", src, dst)
			midCopy := waitOutput(cmd.Process.Pid, dir, 32<<20, 60*time.Second)
			for _, sig := range tc.sigs {
				if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
			}
			code := waitExit(t, cmd, 2*time.Minute)
			sig := tc.sigs[0]
			switch {
			case !midCopy:
				t.Fatalf("no copy under way seen before sending %v (exit %d, stderr %.500q)", sig, code, se.String())
			case code == 0:
				t.Fatalf("cowcp finished the copy after %v: the signal did not stop it (stderr %.500q)", sig, se.String())
			case code != 128+int(sig):
				t.Errorf("exit %d after %v, want %d", code, sig, 128+int(sig))
			}
			want := fmt.Sprintf("cowcp: interrupted by %s\n", unix.SignalName(sig))
			if sig == syscall.SIGPIPE {
				want = "" // as cp killed by SIGPIPE, and the shell
			}
			if se.String() != want {
				t.Errorf("stderr %.500q, want %q", se.String(), want)
			}
			if left := scratchLeft(t, dir); len(left) > 0 {
				t.Errorf("temporary files left after %v: %q", sig, left)
			}
			switch names := dirNames(t, dir); {
			case tc.replace && (len(names) != 1 || names[0] != "file"):
				t.Errorf("after %v %s holds %q, want only the old file", sig, dir, names)
			case tc.replace:
				if got := fileSHA256(t, dst); got != oldSum {
					t.Errorf("after %v the replaced file does not hold its old content", sig)
				}
			case len(names) != 0:
				t.Errorf("after %v %s holds %q, want nothing (a partial new file?)", sig, dir, names)
			}
			sourceUnchanged(t, src, srcFP)
		})
	}
}

// TestCmdBrokenStdoutPipeStopsCopy: `cowcp -v … | head -1` — once the
// reader is gone, a write to stdout kills cp with SIGPIPE (exit 141,
// nothing on stderr). cowcp stops the same way, but cleans up first: the
// big file it was writing leaves nothing behind.
func TestCmdBrokenStdoutPipeStopsCopy(t *testing.T) {
	mnt := mountFS(t, fsExt4, "1G")
	big := filepath.Join(mnt, "big")
	testtree.WriteRandom(t, big, 384<<20, 93)
	// Work is handed to workers in batches of 32 (and run by cowcp itself
	// when there is less): with 64 small files after the big one, the
	// big file and the first small ones make one worker's batch, and the
	// other worker copies the rest, and writes their -v lines, while the
	// big one is being copied.
	args := []string{"-v", "-j2", "--reflink=never", big}
	sums := map[string]string{}
	for i := range 64 {
		name := fmt.Sprintf("small%02d", i)
		sums[name] = testtree.WriteRandom(t, filepath.Join(mnt, name), 4096, uint64(100+i))
		args = append(args, filepath.Join(mnt, name))
	}
	dir := filepath.Join(mnt, "dst")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // no reader: the first -v line meets EPIPE
	defer w.Close()
	cmd := exec.Command(cowcpBin, append(args, dir)...)
	var se bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	code := waitExit(t, cmd, 2*time.Minute)
	if want := 128 + int(syscall.SIGPIPE); code != want || se.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want %d and nothing, as cp killed by SIGPIPE", code, se.String(), want)
	}
	if left := scratchLeft(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	if _, err := os.Lstat(filepath.Join(dir, "big")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("big: %v; want nothing under its name after the broken pipe stopped the copy", err)
	}
	copied := 0
	for name, sum := range sums {
		if _, err := os.Lstat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		copied++
		if got := fileSHA256(t, filepath.Join(dir, name)); got != sum {
			t.Errorf("%s, copied before the pipe broke, is not whole", name)
		}
	}
	if copied == 0 {
		t.Error("no small file was copied: the broken pipe came from nothing written")
	}
}

// runWithStdout runs bin with stdout going to out (nil: closed) and returns
// its exit status and stderr.
func runWithStdout(t testing.TB, out *os.File, bin string, args ...string) (int, string) {
	t.Helper()
	var cmd *exec.Cmd
	if out == nil {
		cmd = exec.Command("/bin/sh", append([]string{"-c", `exec "$0" "$@" >&-`, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
		cmd.Stdout = out
	}
	var se bytes.Buffer
	cmd.Stderr = &se
	return exitStatus(t, cmd.Run()), se.String()
}

// TestCmdStdoutFullIsWriteError: output that cannot be written (stdout on
// /dev/full) is cp's "write error" and exit status 1; the copy is made
// all the same, as cp makes it.
func TestCmdStdoutFullIsWriteError(t *testing.T) {
	mnt := mountFS(t, fsExt4, "256M")
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	src := filepath.Join(mnt, "f")
	sum := testtree.WriteRandom(t, src, 70000, 95)

	code, stderr := runWithStdout(t, full, "cp", "-v", src, filepath.Join(mnt, "by-cp"))
	cpWant := "cp: write error: No space left on device\n"
	if code != 1 || stderr != cpWant {
		t.Fatalf("cp -v >/dev/full: exit %d, stderr %q; the reference is not what this test expects (%q)", code, stderr, cpWant)
	}
	want := "cowcp" + strings.TrimPrefix(cpWant, "cp")
	for i, tc := range []struct {
		args []string
		copy bool
	}{
		{[]string{"-v"}, true},
		{[]string{"--json"}, true},
		{[]string{"-v", "--json"}, true},
		{[]string{"--dry-run"}, false},
		{[]string{"--dry-run", "--json"}, false},
	} {
		dst := filepath.Join(mnt, fmt.Sprintf("out%d", i))
		code, stderr := runWithStdout(t, full, cowcpBin, append(tc.args, src, dst)...)
		if code != 1 || !strings.HasSuffix(stderr, want) || strings.Count(stderr, "cowcp:") != 1 {
			t.Errorf("cowcp %q >/dev/full: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, want)
		}
		_, err := os.Stat(dst)
		switch {
		case tc.copy && err != nil:
			t.Errorf("cowcp %q >/dev/full: no copy (%v); cp makes it", tc.args, err)
		case tc.copy && fileSHA256(t, dst) != sum:
			t.Errorf("cowcp %q >/dev/full: the copy differs from its source", tc.args)
		case !tc.copy && err == nil:
			t.Errorf("cowcp %q >/dev/full made %s", tc.args, dst)
		}
	}

	// With stdout closed, cp says "write error: Bad file descriptor". Go's
	// runtime opens /dev/null on a closed stdout before cowcp starts, so
	// cowcp cannot tell (the README says so); what must hold is that no -v
	// line lands in a file cowcp opens.
	code, stderr = runWithStdout(t, nil, "cp", "-v", src, filepath.Join(mnt, "closed-cp"))
	t.Logf("cp -v >&-: exit %d, stderr %q", code, stderr)
	dir := filepath.Join(mnt, "closed")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stderr = runWithStdout(t, nil, cowcpBin, "-v", src, dir)
	t.Logf("cowcp -v >&-: exit %d, stderr %q", code, stderr)
	if names := dirNames(t, dir); len(names) != 1 || fileSHA256(t, filepath.Join(dir, "f")) != sum {
		t.Errorf("cowcp -v with stdout closed: %s holds %q, want f, a whole copy", dir, names)
	}
	if fileSHA256(t, src) != sum {
		t.Errorf("cowcp -v with stdout closed changed its source")
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// onTerminal runs cowcp with args on a pseudo-terminal (util-linux's
// script gives it one for stdin, stdout and stderr) and returns its exit
// status and what the terminal showed.
func onTerminal(t testing.TB, args ...string) (int, string) {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		if inCI() {
			t.Fatalf("script (util-linux) is needed for a pseudo-terminal: %v", err)
		}
		t.Skipf("no script (util-linux) for a pseudo-terminal: %v", err)
	}
	line := shellQuote(cowcpBin)
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	cmd := exec.Command(script, "-qec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := cmd.Output()
	code := exitStatus(t, err)
	return code, string(out)
}

// TestCmdSilentWhereCpIsSilent: a successful copy prints nothing when
// stderr is not a terminal, as cp — even when it could not clone and
// copied data instead (btrfs to ext4). The report is in --json
// ("not_cloned") and -v. On a terminal the summary line says it.
func TestCmdSilentWhereCpIsSilent(t *testing.T) {
	b := mountFS(t, fsBtrfs, "512M")
	e := mountFS(t, fsExt4, "512M")
	src := filepath.Join(b, "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	testtree.WriteRandom(t, filepath.Join(src, "a"), 3<<20, 96)
	testtree.WriteRandom(t, filepath.Join(src, "sub", "b"), 5000, 97)
	srcFP := testtree.Fingerprint(t, src)

	// stderr to a file, as a script or a Makefile has it.
	errFile := func(t *testing.T, name string) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	runToFile := func(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
		f := errFile(t, "stderr")
		cmd := exec.Command(bin, args...)
		var so bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, f
		code = exitStatus(t, cmd.Run())
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return code, so.String(), string(got)
	}

	t.Run("cp", func(t *testing.T) {
		code, stdout, stderr := runToFile(t, "cp", "-a", src, filepath.Join(e, "by-cp"))
		if code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("cp -a: exit %d, stdout %q, stderr %q; the reference is not silent", code, stdout, stderr)
		}
	})
	t.Run("Plain", func(t *testing.T) {
		dst := filepath.Join(e, "plain")
		code, stdout, stderr := runToFile(t, cowcpBin, "-a", src, dst)
		if code != 0 || stdout != "" || stderr != "" {
			t.Errorf("cowcp -a btrfs→ext4: exit %d, stdout %q, stderr %q; want 0 and nothing, as cp", code, stdout, stderr)
		}
		if missing := checkWholeFiles(t, srcFP, dst); len(missing) > 0 {
			t.Errorf("not copied: %q", missing)
		}
	})
	t.Run("Verbose", func(t *testing.T) {
		dst := filepath.Join(e, "verbose")
		code, stdout, stderr := runToFile(t, cowcpBin, "-a", "-v", src, dst)
		if code != 0 || stderr != "" {
			t.Errorf("cowcp -a -v: exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
		}
		if m := verboseMethods(stdout); m[filepath.Join(dst, "a")] == "" || m[filepath.Join(dst, "sub", "b")] == "" {
			t.Errorf("cowcp -a -v: stdout has no line with a method for each file:\n%s", stdout)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		dst := filepath.Join(e, "json")
		code, stdout, stderr := runToFile(t, cowcpBin, "-a", "--json", src, dst)
		if code != 0 || stderr != "" {
			t.Fatalf("cowcp -a --json: exit %d, stderr %q", code, stderr)
		}
		var rep struct {
			NotCloned []struct {
				Src, Dst, Reason string
				SrcFS            string `json:"src_fs"`
				DstFS            string `json:"dst_fs"`
			} `json:"not_cloned"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%v in\n%s", err, stdout)
		}
		if len(rep.NotCloned) != 1 {
			t.Fatalf("not_cloned %+v, want one pair (btrfs → ext4)", rep.NotCloned)
		}
		nc := rep.NotCloned[0]
		if !strings.HasPrefix(nc.Src, src+"/") || !strings.HasPrefix(nc.Dst, dst+"/") ||
			strings.TrimPrefix(nc.Src, src) != strings.TrimPrefix(nc.Dst, dst) ||
			nc.SrcFS != "btrfs" || nc.DstFS != "ext4" || nc.Reason != "Invalid cross-device link" {
			t.Errorf("not_cloned %+v, want a file of %s, its copy, btrfs, ext4, Invalid cross-device link", nc, src)
		}
	})
	t.Run("Terminal", func(t *testing.T) {
		dst := filepath.Join(e, "tty")
		code, out := onTerminal(t, "-a", src, dst)
		want := "; not cloned: btrfs → ext4 (Invalid cross-device link), copied instead"
		if code != 0 || !strings.Contains(out, "2 files, 3.0 MiB: 0 B cloned, 3.0 MiB copied") || !strings.Contains(out, want) {
			t.Errorf("cowcp -a on a terminal: exit %d, shown %q; want the summary ending %q", code, out, want)
		}
		if strings.Count(out, "not cloned") != 1 || strings.Contains(out, "cannot clone") {
			t.Errorf("on a terminal the fallback is said once, in the summary; shown %q", out)
		}
		if missing := checkWholeFiles(t, srcFP, dst); len(missing) > 0 {
			t.Errorf("not copied: %q", missing)
		}

		code, out = onTerminal(t, "-a", "-q", src, filepath.Join(e, "tty-q"))
		if code != 0 || strings.TrimSpace(out) != "" {
			t.Errorf("cowcp -a -q on a terminal: exit %d, shown %q; want nothing", code, out)
		}
	})
	sourceUnchanged(t, src, srcFP)
}
