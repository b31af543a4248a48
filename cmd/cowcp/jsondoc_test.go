package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
	"github.com/cowcp/cowcp/tree"
)

// The README's table and the man page's THE JSON REPORT name each field of
// the report and of --dry-run's plan by its jq path; real reports have
// every field they name, and no other.
func TestJSONFieldsAreTheDocumentedOnes(t *testing.T) {
	var reps []any
	for _, rep := range reportsWithEveryField(t) {
		if rep["version"] != 1.0 {
			t.Errorf("version %v, want 1 as documented", rep["version"])
		}
		reps = append(reps, rep)
	}
	m, _ := gendoctest.Load(t, manual)
	docs := gendoctest.CheckJSONDocumented(t, m, "../../README.md", "### The report (`--json`)", "THE JSON REPORT", reps...)
	// A field that appears only where the reports above do not go (one
	// left out when empty, say) would escape that: every field of the
	// types must be named too.
	want := append(jsonNames(reflect.TypeFor[tree.Stats]()), "plan")
	want = append(want, jsonNames(reflect.TypeFor[planEntry]())...)
	for doc, named := range docs {
		last := map[string]bool{}
		for p := range named {
			last[strings.TrimSuffix(p[strings.LastIndex(p, ".")+1:], "[]")] = true
		}
		for _, name := range want {
			if !last[name] {
				t.Errorf("%s does not name the field %q", doc, name)
			}
		}
	}
}

// reportsWithEveryField runs cowcp in a temporary directory twice, so
// that between them every field appears: a tree with every kind of entry
// and a missing source copied with -a (a failure), onto another
// filesystem (a pair that cannot clone), and a --dry-run with -i and
// --backup over a copy made (a plan entry with every field).
func reportsWithEveryField(t *testing.T) []map[string]any {
	dir := t.TempDir()
	for name, data := range map[string]string{"src/a": "hello\n", "src/sub/b": strings.Repeat("data", 4096)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{
		os.Link(filepath.Join(dir, "src/a"), filepath.Join(dir, "src/a2")),
		os.Symlink("a", filepath.Join(dir, "src/l")),
		syscall.Mkfifo(filepath.Join(dir, "src/fifo"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// FICLONE never works from one filesystem to another: the copy to
	// /dev/shm (a tmpfs) has a pair that could not clone, and its data to
	// write. (Where there is no /dev/shm, the temporary directory's own
	// filesystem serves unless it clones.)
	dst := t.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "cowcp-jsondoc-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(shm) })
		dst = shm
	}

	var reps []map[string]any
	for _, run := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-a", "--json", "src", "missing", dst}, exitFailed,
			"cowcp: cannot stat 'missing': No such file or directory\n"},
		{[]string{"--dry-run", "--json", "-i", "--backup", "src/a", filepath.Join(dst, "src/a")}, exitOK, ""},
	} {
		code, stdout, stderr := runT(t, dir, run.args...)
		if code != run.code || stderr != run.stderr {
			t.Fatalf("cowcp %q: exit %d, stderr %q; want %d, %q", run.args, code, stderr, run.code, run.stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("cowcp %q: %v in:\n%s", run.args, err, stdout)
		}
		reps = append(reps, rep)
	}
	return reps
}
