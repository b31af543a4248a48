package fstest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireRoot stops the test unless it runs as root, which making loop
// devices and mounting needs. Outside CI the test is skipped, with the
// reason; under CI=true it fails instead, because a loopback test that
// skips in CI proves nothing and hides a broken setup.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "needs root to make loopback filesystems (loop devices, mount)")
	}
}

// RequireTools stops the test, as RequireRoot does, unless every named
// program is found in $PATH: skipped outside CI, failed under CI=true.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			skip(t, "needs %s: %v", name, err)
		}
	}
}

// skip is the one skip policy of the package: t.Skipf, or t.Fatalf under
// CI=true.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI=true forbids skipping it", msg)
	}
	t.Skip(msg)
}
