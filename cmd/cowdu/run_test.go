package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/buildinfo"
	"github.com/cowcp/cowcp/tests/fstest"
	"golang.org/x/sys/unix"
)

func runCowdu(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var so, se bytes.Buffer
	code = run(args, &so, &se)
	return code, so.String(), se.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"UnknownFlag", []string{"--bogus", dir}, "unknown flag --bogus"},
		{"AllAndSummarize", []string{"-a", "-s", dir}, "can't be used together"},
		{"BytesAndHuman", []string{"--bytes", "-h", dir}, "can't be used together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCowdu(t, tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, exitUsage)
			}
			if !strings.HasPrefix(stderr, "cowdu: ") || !strings.Contains(stderr, tt.want) ||
				!strings.HasSuffix(stderr, "Try 'cowdu --help' for more information.\n") {
				t.Errorf("stderr %q, want a cowdu: message with %q and the --help hint", stderr, tt.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, stdout, stderr := runCowdu(t, "--help")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage: cowdu [<PATH> ...]") ||
		!strings.Contains(stdout, "-h, --human-readable") || !strings.Contains(stdout, "Set shared") {
		t.Errorf("--help: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	code, stdout, _ = runCowdu(t, "--version")
	if code != 0 || stdout != "cowdu "+buildinfo.Read().String()+"\n" {
		t.Errorf("--version: exit %d, stdout %q", code, stdout)
	}
}

// makeTree makes a directory with a 64 KiB file and an 8 KiB one.
func makeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, n := range map[string]int{"a": 64 << 10, "sub/b": 8 << 10} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fields splits output lines into columns, turning "64.0 KiB" into one.
func fields(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		line = regexp.MustCompile(` (B|KiB|MiB|GiB)\b`).ReplaceAllString(line, "_$1")
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestLines(t *testing.T) {
	dir := makeTree(t)
	tests := []struct {
		name string
		args []string
		want [][]string
	}{
		{"Default", []string{dir}, [][]string{
			{"Total", "Exclusive", "Shared", "Set", "shared", "Filename"},
			{"72.0_KiB", "72.0_KiB", "0_B", "0_B", dir},
			{"72.0_KiB", "72.0_KiB", "0_B", "0_B", "total"}}},
		{"Bytes", []string{"--bytes", "-s", dir, dir + "/sub/b"}, [][]string{
			{"Total", "Exclusive", "Shared", "Set", "shared", "Filename"},
			{"73728", "73728", "0", "0", dir},
			{"0", "0", "0", "0", dir + "/sub/b"}, // counted for the first PATH already
			{"73728", "73728", "0", "0", "total"}}},
		{"AllFiles", []string{"-a", "--bytes", dir + "/", dir + "/a"}, [][]string{
			{"Total", "Exclusive", "Shared", "Set", "shared", "Filename"},
			{"65536", "65536", "0", "-", dir + "/a"},
			{"8192", "8192", "0", "-", dir + "/sub/b"},
			{"73728", "73728", "0", "0", dir + "/"},
			{"0", "0", "0", "0", dir + "/a"},
			{"73728", "73728", "0", "0", "total"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCowdu(t, tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if got := fields(stdout); !equalRows(got, tt.want) {
				t.Errorf("output:\n%s\nwant rows %q", stdout, tt.want)
			}
		})
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func TestJSON(t *testing.T) {
	dir := makeTree(t)
	code, stdout, stderr := runCowdu(t, "--json", "-a", dir, filepath.Join(dir, "missing"))
	if code != exitFailed {
		t.Errorf("exit %d, want %d for the missing PATH", code, exitFailed)
	}
	if want := "cowdu: cannot access '" + dir + "/missing': No such file or directory\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	var got jsonReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	want := jsonReport{
		Version: 1,
		Paths: []jsonUsage{{Path: dir, Total: 73728, Exclusive: 73728, Files: []jsonFile{
			{Path: dir + "/a", Total: 65536, Exclusive: 65536},
			{Path: dir + "/sub/b", Total: 8192, Exclusive: 8192},
		}}},
		Total: jsonUsage{Total: 73728, Exclusive: 73728},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("report\n%s\nwant\n%s", g, w)
	}
	// The version comes first, where a reader looks before reading on.
	if !strings.HasPrefix(stdout, "{\n  \"version\": 1,\n") {
		t.Errorf("the report does not start with its version:\n%s", stdout)
	}
	for _, key := range []string{`"paths"`, `"total"`, `"path"`, `"total_bytes"`, `"exclusive_bytes"`, `"shared_bytes"`, `"set_shared_bytes"`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("no %s in\n%s", key, stdout)
		}
	}
}

func TestJSONNoPaths(t *testing.T) {
	code, stdout, _ := runCowdu(t, "--json", filepath.Join(t.TempDir(), "missing"))
	if code != exitFailed || !strings.Contains(stdout, `"paths": []`) {
		t.Errorf("exit %d, stdout %s; want 1 and an empty paths list", code, stdout)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Without a PATH cowdu measures the current directory, as du does.
func TestNoPathMeasuresTheCurrentDirectory(t *testing.T) {
	t.Chdir(makeTree(t))
	code, stdout, stderr := runCowdu(t, "--bytes")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := [][]string{
		{"Total", "Exclusive", "Shared", "Set", "shared", "Filename"},
		{"73728", "73728", "0", "0", "."},
		{"73728", "73728", "0", "0", "total"}}
	if got := fields(stdout); !equalRows(got, want) {
		t.Errorf("output:\n%s\nwant rows %q", stdout, want)
	}
}

// tmpfs has no FIEMAP: cowdu counts its files by their blocks and says how
// many, in words that agree with the number.
func TestUnmappedWarningCountsInWords(t *testing.T) {
	fstest.RequireRoot(t)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	for i, want := range []string{
		": 1 file on a filesystem without FIEMAP was counted by allocated blocks, as exclusive\n",
		": 2 files on a filesystem without FIEMAP were counted by allocated blocks, as exclusive\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCowdu(t, dir)
		if want = "cowdu: warning: '" + dir + "'" + want; code != 0 || stderr != want {
			t.Errorf("exit %d, stderr %q; want 0 and %q", code, stderr, want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteError(t *testing.T) {
	var se bytes.Buffer
	if code := run([]string{t.TempDir()}, failWriter{}, &se); code != exitFailed ||
		!strings.HasPrefix(se.String(), "cowdu: write error: ") {
		t.Errorf("exit %d, stderr %q; want 1 and a write error", code, se.String())
	}
}
