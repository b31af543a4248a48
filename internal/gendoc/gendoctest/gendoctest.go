// Package gendoctest holds a command's generated documents to its parser:
// the checks each command's tests run on what package gendoc renders from
// its model, with the tools that read the documents (groff, man, bash,
// zsh, fish) where they are installed.
package gendoctest

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
)

// Docs are a command's rendered documents.
type Docs struct {
	Man, Bash, Zsh, Fish string
}

// Load builds a command's model with manual and renders its documents.
func Load(t *testing.T, manual func() (*gendoc.Model, error)) (*gendoc.Model, Docs) {
	t.Helper()
	m, err := manual()
	if err != nil {
		t.Fatal(err)
	}
	return m, Render(t, m)
}

// Render renders m's four documents, for version v0.0.0 of 2026-11-30
// where m names none.
func Render(t *testing.T, m *gendoc.Model) Docs {
	t.Helper()
	if m.Version == "" {
		m.Version, m.Date = "v0.0.0", "2026-11-30"
	}
	render := func(f func(io.Writer, *gendoc.Model) error) string {
		t.Helper()
		var b bytes.Buffer
		if err := f(&b, m); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	return Docs{Man: render(gendoc.Man), Bash: render(gendoc.Bash), Zsh: render(gendoc.Zsh), Fish: render(gendoc.Fish)}
}

// required fails the test where CI=true (CI installs the tool), and skips
// it elsewhere.
func required(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI installs man-db and groff-base)", what)
	}
	t.Skipf("%s is not installed", what)
}

var (
	longInText  = regexp.MustCompile(`(?:^|[^\w-])(--[a-z0-9][a-z0-9-]*[a-z0-9])`)
	longInRoff  = regexp.MustCompile(`\\-\\-([a-z0-9]+(?:\\-[a-z0-9]+)*)`)
	longInFish  = regexp.MustCompile(`(?m)^complete -c \S+ .*?-l (\S+)`)
	shortInFish = regexp.MustCompile(`(?m)^complete -c \S+ -s (\S)`)
)

// CheckNames checks that the parser's options, table (each name as typed:
// "-a", "--archive"), are the ones help shows and the documents name, both
// ways: every name of the table but the model's hidden ones is in help,
// the man page and each completion, and each of them names no long option
// the parser does not read: none of the table's, or, in the man page's
// prose, none that reads (a nil reads: the table's only). Its length is
// one check per document, side by side, so that they stay alike.
func CheckNames(t *testing.T, m *gendoc.Model, d Docs, help string, table []string, reads func(string) bool) {
	t.Helper()
	known := map[string]bool{}
	for _, n := range table {
		known[n] = true
	}
	if reads == nil {
		reads = func(n string) bool { return known[n] }
	}
	var visible []string
	hidden := map[string]bool{}
	for _, o := range m.Options {
		for _, n := range o.Names() {
			if !known[n] {
				t.Errorf("the model has %s, which the parser's table does not", n)
			}
			if o.Hidden {
				hidden[n] = true
			} else {
				visible = append(visible, n)
			}
		}
	}
	for _, n := range table {
		if !hidden[n] && !slices.Contains(visible, n) {
			t.Errorf("the parser's %s is not in the model", n)
		}
	}

	// Each document names every visible option.
	helpNames := tokens(help, longInText)
	for _, line := range strings.Split(help, "\n") {
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' || r == '=' || r == '[' }) {
			helpNames[f] = true
		}
	}
	manNames := map[string]bool{}
	for n := range tokens(d.Man, longInRoff) {
		manNames["--"+strings.ReplaceAll(n, `\-`, "-")] = true
	}
	fishNames := map[string]bool{}
	for n := range tokens(d.Fish, longInFish) {
		fishNames["--"+n] = true
	}
	for n := range tokens(d.Fish, shortInFish) {
		fishNames["-"+n] = true
	}
	bashNames := map[string]bool{}
	for _, n := range BashComplete(t, d.Bash, m.Name, t.TempDir(), m.Name, "-") {
		bashNames[strings.TrimSuffix(n, "=")] = true
	}
	for _, n := range visible {
		if !helpNames[n] {
			t.Errorf("--help does not show %s", n)
		}
		if !bashNames[n] {
			t.Errorf("the bash completion does not offer %s", n)
		}
		if !fishNames[n] {
			t.Errorf("the fish completion does not name %s", n)
		}
		if !regexp.MustCompile(`(^|[\s'{,])` + regexp.QuoteMeta(n) + `[\[=+,}]`).MatchString(d.Zsh) {
			t.Errorf("the zsh completion does not name %s", n)
		}
		if strings.HasPrefix(n, "--") {
			if !manNames[n] {
				t.Errorf("the man page does not name %s", n)
			}
		} else if !strings.Contains(d.Man, `\fB\-`+n[1:]+`\fR`) {
			t.Errorf("the man page does not name %s", n)
		}
	}

	// And none names a long option the parser does not know.
	for doc, names := range map[string]map[string]bool{
		"--help": tokens(help, longInText), "the man page": manNames, "the bash completion": bashNames,
		"the zsh completion": tokens(d.Zsh, longInText), "the fish completion": fishNames,
	} {
		for n := range names {
			if strings.HasPrefix(n, "--") && !known[n] && (doc != "the man page" || !reads(n)) {
				t.Errorf("%s names %s, which the parser does not know", doc, n)
			}
		}
	}
}

func tokens(s string, re *regexp.Regexp) map[string]bool {
	out := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out[m[1]] = true
	}
	return out
}
