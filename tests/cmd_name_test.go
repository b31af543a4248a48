package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Installed as cp (a symlink named cp), cowcp's messages say "cp:", as
// GNU cp's do; under its own name they say "cowcp:".
func TestCmdSpeaksAsCpWhenNamedCp(t *testing.T) {
	dir := t.TempDir()
	cp := filepath.Join(dir, "cp")
	if err := os.Symlink(cowcpBin, cp); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		bin, prefix string
		args        []string
	}{
		{cp, "cp: cannot stat ", []string{missing, filepath.Join(dir, "x")}},
		{cowcpBin, "cowcp: cannot stat ", []string{missing, filepath.Join(dir, "x")}},
		{cp, "cp: ", []string{"--no-such-option"}},
	} {
		r := run(t, tc.bin, tc.args...)
		if r.code == 0 || !strings.HasPrefix(r.stderr, tc.prefix) {
			t.Errorf("%s %q: exit %d, stderr %q; want failure and a message starting %q",
				filepath.Base(tc.bin), tc.args, r.code, r.stderr, tc.prefix)
		}
		if filepath.Base(tc.bin) == "cp" && strings.Contains(r.stderr, "cowcp") {
			t.Errorf("cp %q: stderr %q names cowcp", tc.args, r.stderr)
		}
	}
}
