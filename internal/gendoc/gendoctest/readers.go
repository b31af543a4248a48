package gendoctest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
