package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cowcp/cowcp/tree"
)

// runT runs the command in-process in dir and returns its exit status
// and output.
func runT(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var stdout bytes.Buffer
	code, stderr := runTo(t, dir, &stdout, args...)
	return code, stdout.String(), stderr
}

func TestCopyAndJSONReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("hello\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runT(t, dir, "--json", "--reflink=never", "a", "b")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep tree.Stats
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if rep.Files != 1 || rep.Bytes != 6 || rep.CopiedBytes != 6 || rep.Methods.ReadWrite != 1 {
		t.Errorf("report %+v", rep)
	}
	got, err := os.ReadFile(filepath.Join(dir, "b"))
	if err != nil || string(got) != "hello\n" {
		t.Errorf("copy: %q, %v", got, err)
	}
	// Several sources onto a directory that is not there: cp's exit 1.
	if code, _, stderr = runT(t, dir, "-q", "a", "missing", "d-not-there"); code != exitFailed ||
		!strings.Contains(stderr, "target 'd-not-there': No such file or directory") {
		t.Errorf("several sources onto a missing dir: exit %d, stderr %q", code, stderr)
	}
	// A missing source among good ones: exit 1, the good one copied.
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runT(t, dir, "-q", "a", "missing", "d")
	if code != exitFailed || !strings.Contains(stderr, "cowcp: cannot stat 'missing': No such file or directory") {
		t.Errorf("missing source: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "a")); err != nil {
		t.Errorf("the good source was not copied: %v", err)
	}
}

// failWriter fails every write with err, as stdout on /dev/full (ENOSPC)
// or on a pipe nobody reads any more (EPIPE) does.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// runTo runs the command in dir with stdout going to w.
func runTo(t *testing.T, dir string, w io.Writer, args ...string) (int, string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var stderr bytes.Buffer
	code := run(args, strings.NewReader(""), w, &stderr)
	return code, stderr.String()
}

// cp: "cp: write error: No space left on device", exit 1, and the copy is
// made all the same.
func TestStdoutWriteErrorIsCpsWriteError(t *testing.T) {
	const want = "cowcp: write error: No space left on device\n"
	for _, tc := range []struct {
		name string
		args []string
		copy bool // the copy is made
	}{
		{"Verbose", []string{"-v", "a", "b"}, true},
		{"JSON", []string{"--json", "a", "b"}, true},
		{"VerboseJSON", []string{"-v", "--json", "a", "b"}, true},
		{"DryRun", []string{"--dry-run", "a", "b"}, false},
		{"DryRunJSON", []string{"--dry-run", "--json", "a", "b"}, false},
		{"Version", []string{"--version"}, false},
		{"Help", []string{"--help"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a"), []byte("data\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stderr := runTo(t, dir, failWriter{syscall.ENOSPC}, tc.args...)
			if code != exitFailed || !strings.HasSuffix(stderr, want) || strings.Count(stderr, "write error") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one %q", code, stderr, exitFailed, want)
			}
			got, err := os.ReadFile(filepath.Join(dir, "b"))
			switch {
			case tc.copy && (err != nil || string(got) != "data\n"):
				t.Errorf("copy: %q, %v; want it made despite the write error", got, err)
			case !tc.copy && err == nil:
				t.Errorf("b exists after cowcp %q", tc.args)
			}
		})
	}
}

// A reader that went away kills cp with SIGPIPE: exit 141, nothing on
// stderr. cowcp stops the same way, cleaning up what it was writing.
func TestBrokenPipeOnStdoutStopsLikeSIGPIPE(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%03d", i)), bytes.Repeat([]byte{'x'}, 64<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stderr := runTo(t, dir, failWriter{syscall.EPIPE}, "-r", "-v", "-j1", "src", "dst")
	if code != 128+int(syscall.SIGPIPE) || stderr != "" {
		t.Errorf("exit %d, stderr %q; want %d and nothing", code, stderr, 128+int(syscall.SIGPIPE))
	}
	ents, err := os.ReadDir(filepath.Join(dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) >= n {
		t.Errorf("all %d files copied: the broken pipe did not stop the copy", len(ents))
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".cowcp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// A successful copy prints nothing when stderr is not a terminal, as cp.
func TestSilentOnSuccess(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runT(t, dir, "a", "b"); code != 0 || stdout != "" || stderr != "" {
		t.Errorf("cowcp a b: exit %d, stdout %q, stderr %q; want 0 and nothing", code, stdout, stderr)
	}
	code, stdout, stderr := runT(t, dir, "-v", "a", "c")
	if want := "'a' -> 'c' ("; code != 0 || !strings.HasPrefix(stdout, want) || stderr != "" {
		t.Errorf("cowcp -v a c: exit %d, stdout %q, stderr %q; want 0, a line starting %q, no stderr", code, stdout, stderr, want)
	}
	// Errors are still said.
	if code, _, stderr := runT(t, dir, "missing", "d"); code != exitFailed ||
		stderr != "cowcp: cannot stat 'missing': No such file or directory\n" {
		t.Errorf("cowcp missing d: exit %d, stderr %q", code, stderr)
	}
}

func TestSummaryLineNamesPairsNotCloned(t *testing.T) {
	s := tree.Stats{Files: 2, Bytes: 3 << 20, CopiedBytes: 3 << 20, Seconds: 0.5}
	if got := summaryLine(&s); strings.Contains(got, "not cloned") {
		t.Errorf("summary %q names pairs not cloned, but there are none", got)
	}
	s.NotCloned = []tree.NotCloned{{Src: "/b/x", Dst: "/e/x", SrcFS: "btrfs", DstFS: "ext4", Reason: "Invalid cross-device link"}}
	want := "2 files, 3.0 MiB: 0 B cloned, 3.0 MiB copied — saved 0 B (0%) in 0.50 s; not cloned: btrfs → ext4 (Invalid cross-device link), copied instead"
	if got := summaryLine(&s); got != want {
		t.Errorf("summary\n%q, want\n%q", got, want)
	}
}

func TestInterruptExitStatus(t *testing.T) {
	for sig, want := range map[syscall.Signal]int{
		syscall.SIGINT: 130, syscall.SIGHUP: 129, syscall.SIGQUIT: 131, syscall.SIGPIPE: 141, syscall.SIGTERM: 143,
	} {
		if got := (interrupt{sig}).exitStatus(); got != want {
			t.Errorf("%v: exit %d, want %d", sig, got, want)
		}
	}
	if got := (interrupt{syscall.SIGHUP}).Error(); got != "interrupted by SIGHUP" {
		t.Errorf("message %q", got)
	}
}
