package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/buildinfo"
	"github.com/cowcp/cowcp/tree"
)

// cp 9.5's options, which the cp 9.1 on the CI machine lacks, are tested
// against cp 9.5's documentation.

// writeAged writes name in dir with content and modification time.
func writeAged(t *testing.T, dir, name, content string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// "UPDATE controls which existing files in the destination are replaced.
// 'all' ... all existing files in the destination being replaced. 'none' is
// like the --no-clobber option, in that no files in the destination are
// replaced, and skipped files do not induce a failure. 'none-fail' also
// ensures no files are replaced in the destination, but any skipped files
// are diagnosed and induce a failure. 'older' is the default operation when
// --update is specified, and results in files being replaced if they're
// older than the corresponding source file."
func TestUpdateChoosesWhichExistingFilesAreReplaced(t *testing.T) {
	cleanEnv(t)
	now := time.Now()
	for _, tc := range []struct {
		args         string
		code         int
		stdout       string
		stderr       string
		older, newer string // the content of each destination afterwards
	}{
		{args: "", older: "src", newer: "src"},
		{args: "--update=all", older: "src", newer: "src"},
		{args: "-u --update=all", older: "src", newer: "src"},
		{args: "--update", older: "src", newer: "newer"},
		{args: "--update=older", older: "src", newer: "newer"},
		{args: "-u", older: "src", newer: "newer"},
		{args: "--update=none", older: "older", newer: "newer"},
		{args: "-n", older: "older", newer: "newer"},
		{args: "--update=none --debug", older: "older", newer: "newer",
			stdout: "skipped 'd/older'\nskipped 'd/newer'\n"},
		{args: "--update=none -i", older: "older", newer: "newer"}, // no question
		{args: "--update=none-fail", code: 1, older: "older", newer: "newer",
			stderr: "cowcp: not replacing 'd/older'\ncowcp: not replacing 'd/newer'\n"},
		{args: "--update=none-fail -i", code: 1, older: "older", newer: "newer",
			stderr: "cowcp: not replacing 'd/older'\ncowcp: not replacing 'd/newer'\n"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeAged(t, dir, "older", "src", now.Add(-time.Hour))
			writeAged(t, dir, "newer", "src", now.Add(-time.Hour))
			writeAged(t, dir, "new", "src", now.Add(-time.Hour))
			writeAged(t, dir, "d/older", "older", now.Add(-2*time.Hour))
			writeAged(t, dir, "d/newer", "newer", now)
			args := append(strings.Fields(tc.args), "-j1", "older", "newer", "new", "d")
			code, stdout, stderr := runT(t, dir, args...)
			if !strings.Contains(tc.args, "--debug") {
				stdout = "" // (verbose lines of what was copied are not the point)
			} else {
				stdout = regexp.MustCompile(`(?m)^('new' ->.*|copy offload.*)\n`).ReplaceAllString(stdout, "")
			}
			if code != tc.code || stdout != tc.stdout || stderr != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if got := readFile(t, filepath.Join(dir, "d/older")); got != tc.older {
				t.Errorf("the older destination holds %q, want %q", got, tc.older)
			}
			if got := readFile(t, filepath.Join(dir, "d/newer")); got != tc.newer {
				t.Errorf("the newer destination holds %q, want %q", got, tc.newer)
			}
			if got := readFile(t, filepath.Join(dir, "d/new")); got != "src" {
				t.Errorf("a file not in the destination was not copied: %q", got)
			}
		})
	}
}

// "--keep-directory-symlink  follow existing symlinks to directories"
func TestKeepDirectorySymlinkFillsTheDirectoryItPointsTo(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	for _, d := range []string{"src/sub", "dst", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "src/sub/f"), []byte("f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../elsewhere", filepath.Join(dir, "dst/sub")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runT(t, dir, "-R", "src/sub", "dst")
	if want := "cowcp: cannot overwrite non-directory 'dst/sub' with directory 'src/sub'\n"; code != 1 || stderr != want {
		t.Errorf("without the option: exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
	code, _, stderr = runT(t, dir, "-R", "--keep-directory-symlink", "src/sub", "dst")
	if code != 0 || stderr != "" {
		t.Errorf("--keep-directory-symlink: exit %d, stderr %q", code, stderr)
	}
	if got := readFile(t, filepath.Join(dir, "elsewhere/f")); got != "f\n" {
		t.Errorf("elsewhere/f holds %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "dst/sub")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("dst/sub is no longer the symlink: %v, %v", fi, err)
	}
	// A symlink to a file is still no directory.
	if err := os.Remove(filepath.Join(dir, "dst/sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../src/sub/f", filepath.Join(dir, "dst/sub")); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runT(t, dir, "-R", "--keep-directory-symlink", "src/sub", "dst"); code != 1 {
		t.Errorf("a symlink to a file taken for a directory: exit %d", code)
	}
}

// "--debug  explain how a file is copied.  Implies -v": cp's verbose line,
// then its "copy offload: ..., reflink: ..., sparse detection: ..." line.
func TestDebugExplainsHowEachFileIsCopied(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d/sub/f"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runT(t, dir, "--debug", "--reflink=never", "-R", "d", "e")
	want := "'d' -> 'e'\n'd/sub' -> 'e/sub'\n'd/sub/f' -> 'e/sub/f' (readwrite)\n" +
		"copy offload: avoided, reflink: no, sparse detection: no\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	// -l and -s copy no data: no debug line.
	if code, stdout, _ = runT(t, dir, "--debug", "-l", "d/sub/f", "g"); code != 0 || stdout != "'d/sub/f' -> 'g' (hardlink)\n" {
		t.Errorf("--debug -l: exit %d, stdout %q", code, stdout)
	}
}

func TestDebugLineNamesWhatWasDone(t *testing.T) {
	for _, tc := range []struct {
		m      tree.Method
		policy tree.Reflink
		want   string
	}{
		{tree.MethodFiclone, tree.ReflinkAuto, "copy offload: unknown, reflink: yes, sparse detection: unknown"},
		{tree.MethodFicloneRange, tree.ReflinkAlways, "copy offload: unknown, reflink: yes, sparse detection: unknown"},
		{tree.MethodCopyFileRange, tree.ReflinkAuto, "copy offload: yes, reflink: unsupported, sparse detection: no"},
		{tree.MethodSparse, tree.ReflinkAuto, "copy offload: avoided, reflink: unsupported, sparse detection: SEEK_HOLE + zeros"},
		{tree.MethodSparse, tree.ReflinkNever, "copy offload: avoided, reflink: no, sparse detection: SEEK_HOLE + zeros"},
		{tree.MethodReadWrite, tree.ReflinkAuto, "copy offload: unsupported, reflink: unsupported, sparse detection: no"},
		{tree.MethodReadWrite, tree.ReflinkNever, "copy offload: avoided, reflink: no, sparse detection: no"},
		{tree.MethodNone, tree.ReflinkAuto, "copy offload: unknown, reflink: unknown, sparse detection: unknown"},
	} {
		if got := debugLine(tc.m, tc.policy); got != tc.want {
			t.Errorf("%v with reflink policy %v: %q, want %q", tc.m, tc.policy, got, tc.want)
		}
	}
}

// Without SELinux, cp ignores -Z, and warns that it ignores --context=CTX.
func TestContextIgnoredWithoutSELinux(t *testing.T) {
	if selinuxEnabled() {
		t.Skip("SELinux is on")
	}
	cleanEnv(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ args, stderr, made string }{
		{"-Z a b", "", "b"},
		{"--context a c", "", "c"},
		{"--context=system_u:object_r:tmp_t:s0 a e", "cowcp: warning: ignoring --context; it requires an SELinux-enabled kernel\n", "e"},
		{"-q --context=x a f", "", "f"},
	} {
		code, _, stderr := runT(t, dir, strings.Fields(tc.args)...)
		if code != 0 || stderr != tc.stderr {
			t.Errorf("cowcp %s: exit %d, stderr %q; want 0, %q", tc.args, code, stderr, tc.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, tc.made)); err != nil {
			t.Errorf("cowcp %s: %v", tc.args, err)
		}
	}
}

// --help names cp's options by cp's names, and cowcp's own, nothing else.
func TestHelpShowsCpsOptionNames(t *testing.T) {
	code, stdout, _ := runT(t, t.TempDir(), "--help")
	if code != 0 || !strings.HasPrefix(stdout, "Usage: cowcp [OPTION]... [-T] SOURCE DEST\n") {
		t.Fatalf("--help: exit %d, stdout %q", code, stdout)
	}
	var shown []string
	for _, line := range strings.Split(stdout, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if indent := len(line) - len(trimmed); (indent == 2 || indent == 6) && strings.HasPrefix(trimmed, "-") {
			column, _, _ := strings.Cut(trimmed, "  ")
			for _, name := range strings.Split(column, ", ") {
				name, _, _ = strings.Cut(name, "=")
				name, _, _ = strings.Cut(name, "[")
				shown = append(shown, name)
			}
		}
	}
	var want []string
	for _, o := range longOpts {
		if o.name != "path" { // cp's old name for --parents, which cp does not show
			want = append(want, "--"+o.name)
		}
	}
	for _, c := range strings.ReplaceAll(shortOpts, ":", "") {
		want = append(want, "-"+string(c))
	}
	slices.Sort(shown)
	slices.Sort(want)
	if !slices.Equal(shown, want) {
		t.Errorf("--help shows %q\nwant %q", shown, want)
	}
}

func TestVersionIsTheReleaseOrTheBuildsVersion(t *testing.T) {
	want := buildinfo.Read().String()
	code, stdout, _ := runT(t, t.TempDir(), "--version")
	if code != 0 || stdout != "cowcp "+want+"\n" || want == "" {
		t.Errorf("--version: exit %d, stdout %q, want cowcp %s", code, stdout, want)
	}
	savedName := progName
	t.Cleanup(func() { progName = savedName })
	progName = "cp"
	if _, stdout, _ := runT(t, t.TempDir(), "--version"); stdout != "cp (cowcp) "+want+"\n" {
		t.Errorf("--version named cp: %q", stdout)
	}
}
