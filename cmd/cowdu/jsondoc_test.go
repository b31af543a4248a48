package main

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
)

// The README's table and the man page's JSON OUTPUT name each field of the
// report by its jq path; a real report has every field they name and no
// other.
func TestJSONFieldsAreTheDocumentedOnes(t *testing.T) {
	code, stdout, stderr := runCowdu(t, "--json", "-a", makeTree(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	got := map[string]bool{}
	jsonPaths(got, "", v)

	m, _ := gendoctest.Load(t, manual)
	for doc, named := range map[string]map[string]bool{
		"the README's cowdu section": readmeFields(t, "## cowdu: what is shared, what is yours"),
		"the man page's JSON OUTPUT": manFields(t, m, "JSON OUTPUT"),
	} {
		checkDocumented(t, doc, named, got)
	}
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
// value, under prefix: "total", "total.total_bytes", "paths[].files[].path".
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

// fieldNames are the jq paths a table's first column or a list's term
// names: code spans separated by commas, and nothing else.
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
