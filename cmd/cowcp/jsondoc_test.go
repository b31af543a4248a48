package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
	"github.com/cowcp/cowcp/tree"
)

// The README's table and the man page's THE JSON REPORT name each field of
// the report and of --dry-run's plan by its jq path; real reports have
// every field they name, and no other.
func TestJSONFieldsAreTheDocumentedOnes(t *testing.T) {
	got := map[string]bool{}
	for _, rep := range reportsWithEveryField(t) {
		if rep["version"] != 1.0 {
			t.Errorf("version %v, want 1 as documented", rep["version"])
		}
		jsonPaths(got, "", rep)
	}
	m, _ := gendoctest.Load(t, manual)
	docs := map[string]map[string]bool{
		"the README's report table":   readmeFields(t, "### The report (`--json`)"),
		"the man page's JSON section": manFields(t, m, "THE JSON REPORT"),
	}
	for doc, named := range docs {
		checkDocumented(t, doc, named, got)
	}
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

// checkDocumented says which fields of the reports, got, doc does not
// name, and which it names that no report has.
func checkDocumented(t *testing.T, doc string, named, got map[string]bool) {
	t.Helper()
	if len(named) == 0 {
		t.Fatalf("%s names no field: has its table moved?", doc)
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if !named[p] {
			t.Errorf("%s does not name the field %s", doc, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(named)) {
		if !got[p] {
			t.Errorf("%s names %s, which no report has", doc, p)
		}
	}
}

// jsonPaths adds to paths the jq path of every key in v, a decoded JSON
// value, under prefix: "methods", "methods.ficlone", "plan[].src".
func jsonPaths(paths map[string]bool, prefix string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			paths[p] = true
			jsonPaths(paths, p, e)
		}
	case []any:
		for _, e := range v {
			jsonPaths(paths, prefix+"[]", e)
		}
	}
}

var (
	codeSpan  = regexp.MustCompile("`([^`]*)`")
	fieldPath = regexp.MustCompile(`^[a-z_]+(\[\])?(\.[a-z_]+(\[\])?)*$`)
)

// fieldNames adds to into the jq paths a table's first column or a
// list's term names: code spans separated by commas, and nothing else.
func fieldNames(t *testing.T, where, cell string, into map[string]bool) {
	t.Helper()
	if rest := strings.Trim(codeSpan.ReplaceAllString(cell, ""), ", "); rest != "" {
		t.Errorf("%s: %q names more than fields", where, cell)
	}
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		if !fieldPath.MatchString(m[1]) {
			t.Errorf("%s: %q is not a field's jq path", where, m[1])
		}
		into[m[1]] = true
	}
}

// readmeFields are the fields named in the first column of the table in
// the README's section under heading (up to the next heading).
func readmeFields(t *testing.T, heading string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.Index(lines, heading)
	if i < 0 {
		t.Fatalf("the README has no heading %q", heading)
	}
	named := map[string]bool{}
	fence := false
	for k := i + 1; k < len(lines); k++ {
		line := lines[k]
		switch {
		case strings.HasPrefix(line, "```"):
			fence = !fence
		case fence:
		case strings.HasPrefix(line, "#"):
			return named
		case !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---"):
		case k+1 < len(lines) && strings.HasPrefix(lines[k+1], "|---"): // the header row
		default:
			fieldNames(t, "README "+heading, strings.Split(line, "|")[1], named)
		}
	}
	return named
}

// manFields are the fields the terms of the lists in section title of the
// manual name.
func manFields(t *testing.T, m *gendoc.Model, title string) map[string]bool {
	t.Helper()
	named := map[string]bool{}
	for _, s := range m.Sections {
		if s.Title != title {
			continue
		}
		for _, bl := range s.Blocks {
			for _, it := range bl.Items {
				fieldNames(t, title, it.Term, named)
			}
		}
	}
	return named
}
