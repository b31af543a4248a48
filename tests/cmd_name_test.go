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

// Under POSIXLY_CORRECT cp writes through a dangling destination symlink,
// creating the file it names; otherwise it refuses (coreutils'
// thru-dangling).
func TestCmdPosixlyCorrectWritesThroughDanglingSymlink(t *testing.T) {
	for _, posix := range []bool{false, true} {
		dir := t.TempDir()
		f, dangle, target := filepath.Join(dir, "f"), filepath.Join(dir, "dangle"), filepath.Join(dir, "no-such")
		if err := os.WriteFile(f, []byte("hi\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("no-such", dangle); err != nil {
			t.Fatal(err)
		}
		var env []string
		if posix {
			env = []string{"POSIXLY_CORRECT=1"}
		}
		r := runEnv(t, env, cowcpBin, f, dangle)
		got, err := os.ReadFile(target)
		switch {
		case posix && (r.code != 0 || string(got) != "hi\n"):
			t.Errorf("POSIXLY_CORRECT: exit %d, stderr %q, target %q (%v); want 0 and the file made through the symlink", r.code, r.stderr, got, err)
		case !posix && (r.code == 0 || err == nil || !strings.Contains(r.stderr, "not writing through dangling symlink")):
			t.Errorf("plain: exit %d, stderr %q, target made: %v; want cp's refusal", r.code, r.stderr, err == nil)
		}
	}
}
