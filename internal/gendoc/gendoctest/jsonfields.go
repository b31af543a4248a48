package gendoctest

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
)

// CheckJSONDocumented checks a command's JSON report against its
// documentation, both ways: every field of the reports (decoded JSON
// values; fields by their jq paths, "methods.ficlone", "plan[].src") is
// named in the first column of the table under the README's heading
// (readme is the README's path) and in a list term of the manual's
// section manTitle, and every field they name is in some report. It
// returns the paths each of the two documents names, by document.
func CheckJSONDocumented(t *testing.T, m *gendoc.Model, readme, heading, manTitle string, reports ...any) map[string]map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, r := range reports {
		jsonPaths(got, "", r)
	}
	docs := map[string]map[string]bool{
		"the README's section " + heading: readmeFields(t, readme, heading),
		"the man page's " + manTitle:      manFields(t, m, manTitle),
	}
	for doc, named := range docs {
		checkDocumented(t, doc, named, got)
	}
	return docs
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
func readmeFields(t *testing.T, readme, heading string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(readme)
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
