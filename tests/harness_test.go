package tests

// Shared harness for the end-to-end tests: the binaries under test and the
// loopback filesystems they run on (made by package fstest). Every test
// file in this package uses these helpers; none makes its own loopback
// filesystems.

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/tests/fstest"
)

var (
	cowcpBin string // built once by TestMain
	cowduBin string
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// A -race binary sleeps a second at exit by default; the suites run
	// cowcp thousands of times.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	dir, err := os.MkdirTemp("", "cowcp-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, b := range []struct {
		dst *string
		pkg string
	}{{&cowcpBin, "./cmd/cowcp"}, {&cowduBin, "./cmd/cowdu"}} {
		*b.dst = filepath.Join(dir, filepath.Base(b.pkg))
		args := []string{"build", "-o", *b.dst}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// inCI reports whether skipping a loopback test must fail instead (the
// policy of fstest.RequireRoot, for tests that need something else).
func inCI() bool { return os.Getenv("CI") == "true" }

// requireRoot skips a test that needs root (loop devices, mount), except
// under CI=true, where a skipped loopback test would hide a broken suite.
func requireRoot(t testing.TB) {
	t.Helper()
	fstest.RequireRoot(t)
}

// Filesystem kinds mountFS can make.
const (
	fsBtrfs = "btrfs"
	fsXFS   = "xfs"
	fsExt4  = "ext4"
)

// mountFS makes a fresh loopback filesystem of the given kind and size
// (e.g. "1G", "512M") with fstest, and removes it in t.Cleanup, even when
// the test fails. It returns the mount point.
func mountFS(t testing.TB, kind, size string) string {
	t.Helper()
	n, err := parseSize(size)
	if err != nil {
		t.Fatalf("mountFS %s: %v", kind, err)
	}
	switch kind {
	case fsBtrfs:
		return fstest.Btrfs(t, n)
	case fsXFS:
		return fstest.XFS(t, n)
	case fsExt4:
		return fstest.Ext4(t, n)
	}
	t.Fatalf("mountFS: unknown filesystem kind %q", kind)
	return ""
}

// parseSize reads a size as tests/loopfs does: digits with an optional
// K, M, G or T suffix, in powers of 1024.
func parseSize(s string) (int64, error) {
	num, shift := s, 0
	if k := len(s) - 1; k >= 0 {
		if i := strings.IndexByte("KMGT", s[k]); i >= 0 {
			num, shift = s[:k], 10*(i+1)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M or 2G)", s)
	}
	return n << shift, nil
}

// result is one run of a binary.
type result struct {
	code           int
	stdout, stderr string
}

// run runs a binary with args and returns its exit code and output. It
// fails the test only if the binary could not be started at all.
func run(t testing.TB, bin string, args ...string) result {
	t.Helper()
	return runEnv(t, nil, bin, args...)
}

// runEnv is run with extra environment variables ("K=V"); t.Setenv would
// forbid parallel tests.
func runEnv(t testing.TB, env []string, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %s %q: %v", bin, args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: so.String(), stderr: se.String()}
}

// cowcp runs the cowcp binary under test.
func cowcp(t testing.TB, args ...string) result { t.Helper(); return run(t, cowcpBin, args...) }

// cowdu runs the cowdu binary under test.
func cowdu(t testing.TB, args ...string) result { t.Helper(); return run(t, cowduBin, args...) }
