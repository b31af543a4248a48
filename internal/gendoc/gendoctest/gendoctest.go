// Package gendoctest holds a command's generated documents to its parser:
// the checks each command's tests run on what package gendoc renders from
// its model, with the tools that read the documents (groff, man, bash,
// zsh, fish) where they are installed.
package gendoctest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
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
// prose, none that reads (a nil reads: the table's only).
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

// BashComplete sources the bash completion script in bash, in dir, with
// COMP_WORDS set to words and COMP_CWORD to the last, calls the command's
// completion function, and returns COMPREPLY.
func BashComplete(t *testing.T, script, name, dir string, words ...string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	path := filepath.Join(t.TempDir(), name+".bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	const body = `source "$1" || exit
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_` + "${COMP_WORDS[0]//-/_}" + `
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", body, "bash", path}, words...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("bash completion of %q: %v\n%s", words, err, stderr.String())
	}
	var reply []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" {
			reply = append(reply, line)
		}
	}
	return reply
}

// CheckMan renders the page with groff (both for UTF-8 and for ASCII
// terminals) and with man, and fails on any warning. It returns the page
// as text. Without groff and man it skips, unless CI=true.
func CheckMan(t *testing.T, roff string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "page.1")
	if err := os.WriteFile(path, []byte(roff), 0o644); err != nil {
		t.Fatal(err)
	}
	text := ""
	if groff, err := exec.LookPath("groff"); err == nil {
		for _, dev := range []string{"-Tutf8", "-Tascii"} {
			out := runClean(t, exec.Command(groff, "-man", dev, "-ww", "-P-cbou", path))
			if dev == "-Tutf8" {
				text = out
			}
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command(man, "--warnings", "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=", "MANPAGER=cat", "PAGER=cat")
		out := runClean(t, cmd)
		if text == "" {
			text = out
		}
	}
	if text == "" {
		required(t, "neither groff nor man")
	}
	return text
}

// runClean runs cmd and fails if it fails or says anything on stderr.
func runClean(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return string(out)
}

// CheckZsh checks the zsh completion's syntax with zsh -n, where zsh is
// installed (it is not required, even in CI).
func CheckZsh(t *testing.T, script string) {
	t.Helper()
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed")
	}
	path := filepath.Join(t.TempDir(), "_completion")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	runClean(t, exec.Command(zsh, "-n", path))
}

// FishComplete checks the fish completion's syntax and returns what fish
// completes for line with it loaded, where fish is installed (it is not
// required, even in CI).
func FishComplete(t *testing.T, script, dir, line string) []string {
	t.Helper()
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed")
	}
	path := filepath.Join(t.TempDir(), "completion.fish")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	runClean(t, exec.Command(fish, "--no-execute", path))
	cmd := exec.Command(fish, "-c", `source $argv[1]; and complete -C $argv[2]`, path, line)
	cmd.Dir = dir
	var out []string
	for _, l := range strings.Split(runClean(t, cmd), "\n") {
		if word, _, _ := strings.Cut(l, "\t"); word != "" {
			out = append(out, word)
		}
	}
	return out
}

// RunGenerator runs "go run -tags gendocs . OUTDIR VERSION DATE" in the
// current directory, the command name's package, and checks that it
// writes its four documents, the same each time, and that without VERSION
// and DATE the page is "dev" of a day. It builds the command, so -short
// skips it.
func RunGenerator(t *testing.T, name string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command with -tags gendocs")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	files := []string{"man/" + name + ".1", "completions/" + name + ".bash", "completions/_" + name,
		"completions/" + name + ".fish"}
	generate := func(args ...string) map[string]string {
		t.Helper()
		out := t.TempDir()
		runClean(t, exec.Command(goCmd, append([]string{"run", "-tags", "gendocs", ".", out}, args...)...))
		docs := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			docs[f] = string(b)
		}
		return docs
	}
	first := generate("v9.9.9", "2026-11-30")
	if again := generate("v9.9.9", "2026-11-30"); !maps.Equal(first, again) {
		t.Error("two runs wrote different documents")
	}
	th := fmt.Sprintf(`.TH %s 1 2026\-11\-30 "cowcp v9.9.9" "User Commands"`, strings.ToUpper(name))
	if !strings.Contains(first[files[0]], "\n"+th+"\n") {
		t.Errorf("the page's header is not %s:\n%.300s", th, first[files[0]])
	}
	dev := generate()
	if !regexp.MustCompile(`\n\.TH \S+ 1 \d{4}\\-\d\d\\-\d\d "cowcp dev" `).MatchString(dev[files[0]]) {
		t.Errorf("without VERSION and DATE, the header is not dev's:\n%.300s", dev[files[0]])
	}
	cmd := exec.Command(goCmd, "run", "-tags", "gendocs", ".", t.TempDir(), "v1", "30.11.2026")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is not like 2026-11-30") {
		t.Errorf("a bad DATE: %v, %s", err, out)
	}
}
