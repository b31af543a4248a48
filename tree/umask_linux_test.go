package tree

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatusUmask(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         uint32
		ok           bool
	}{
		{"Default", "Name:\tcowcp\nUmask:\t0022\nState:\tR (running)\n", 0o022, true},
		{"Strict", "Umask:\t0077\n", 0o077, true},
		{"Zero", "Name:\tx\nUmask:\t0000", 0, true},
		{"OldKernel", "Name:\tcowcp\nState:\tR (running)\n", 0, false},
		{"Empty", "", 0, false},
		{"NotOctal", "Umask:\t0089\n", 0, false},
		{"TooLarge", "Umask:\t01000\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := statusUmask([]byte(tc.status))
			if got != tc.want || ok != tc.ok {
				t.Errorf("statusUmask = %#o, %v; want %#o, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// umaskChildEnv tells a re-run of the test binary which umask to set.
const umaskChildEnv = "COWCP_TEST_UMASK"

// TestUmaskReadIsTheRealOne sets two umasks, each in a child process of
// its own (the umask is the whole process's, and other tests run beside
// this one), and checks that processUmask and its fallback read it and
// leave it as it was.
func TestUmaskReadIsTheRealOne(t *testing.T) {
	if v := os.Getenv(umaskChildEnv); v != "" {
		want, err := strconv.ParseUint(v, 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		unix.Umask(int(want))
		if status, err := os.ReadFile("/proc/self/status"); err != nil {
			t.Skip(err)
		} else if _, ok := statusUmask(status); !ok {
			t.Skip("no Umask line in /proc/self/status (Linux < 4.7)")
		}
		if got := processUmask(); got != uint32(want) {
			t.Errorf("processUmask() = %#o, umask is %#o", got, want)
		}
		if got := readUmask(filepath.Join(t.TempDir(), "missing")); got != uint32(want) {
			t.Errorf("the umask(0)/umask(old) fallback read %#o, umask is %#o", got, want)
		}
		if now := unix.Umask(0); now != int(want) {
			t.Errorf("umask is %#o after reading it, was %#o", now, want)
		}
		return
	}
	for _, mask := range []uint32{0o022, 0o077} {
		t.Run(fmt.Sprintf("%04o", mask), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestUmaskReadIsTheRealOne$", "-test.v")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%o", umaskChildEnv, mask))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child with umask %04o: %v\n%s", mask, err, out)
			}
			switch {
			case strings.Contains(string(out), "--- SKIP: TestUmaskReadIsTheRealOne"):
				t.Skipf("child with umask %04o:\n%s", mask, out)
			case !strings.Contains(string(out), "--- PASS: TestUmaskReadIsTheRealOne"):
				t.Fatalf("child with umask %04o did not pass:\n%s", mask, out)
			}
		})
	}
}
