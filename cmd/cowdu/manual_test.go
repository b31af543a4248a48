package main

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
)

// The model the documents are made from is the one run parses with: both
// print the same --help.
func TestManualIsRunsParser(t *testing.T) {
	_, want, _ := runCowdu(t, "--help")
	var got bytes.Buffer
	k, err := newParser(&cli{}, kong.Vars{"version": ""}, kong.Writers(&got, &got), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	k.Parse([]string{"--help"})
	if got.String() != want {
		t.Errorf("the manual's parser's --help:\n%s\nrun's:\n%s", got.String(), want)
	}
}

// kong's flags, --help, the man page and the three completions name the
// same options.
func TestDocumentsNameTheParsersOptions(t *testing.T) {
	m, d := gendoctest.Load(t, manual)
	_, help, _ := runCowdu(t, "--help")
	k, err := newParser(&cli{}, kong.Vars{"version": ""})
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, f := range k.Model.Flags {
		if f.Short != 0 {
			table = append(table, "-"+string(f.Short))
		}
		table = append(table, "--"+f.Name)
	}
	// (The page shows a wrong command line: --x.)
	gendoctest.CheckNames(t, m, d, help, table, func(n string) bool { return n == "--x" })
}

func TestManPageRendersWithoutWarnings(t *testing.T) {
	m, d := gendoctest.Load(t, manual)
	text := gendoctest.CheckMan(t, d.Man)
	for _, want := range []string{"COWDU(1)", "cowdu [OPTION]... [PATH...]", "-h, --human-readable",
		"Set shared", "JSON OUTPUT", "EXIT STATUS", "EXAMPLES", "cowcp(1)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	for _, s := range m.Sections {
		if !strings.Contains(text, "\n"+s.Title+"\n") {
			t.Errorf("the page has no section %s", s.Title)
		}
	}
}

// The exit statuses are run's. (TestJSONFieldsAreTheDocumentedOnes checks
// the JSON section against a real report.)
func TestManualGivesEveryExitStatus(t *testing.T) {
	_, d := gendoctest.Load(t, manual)
	page := strings.ReplaceAll(d.Man, `\-`, "-")
	for _, code := range []int{exitOK, exitFailed, exitUsage} {
		if !strings.Contains(page, ".TP\n"+strconv.Itoa(code)+"\n") {
			t.Errorf("the page does not give exit status %d", code)
		}
	}
}

func TestCompletionsComplete(t *testing.T) {
	_, d := gendoctest.Load(t, manual)
	dir := t.TempDir()
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"cowdu", "--hu"}, []string{"--human-readable"}},
		{[]string{"cowdu", "-"}, []string{"-a", "--all", "-s", "--summarize", "--json", "--bytes", "-h",
			"--human-readable", "--help", "--version"}},
		{[]string{"cowdu", "--json", "--h"}, []string{"--help", "--human-readable"}},
		{[]string{"cowdu", "--", "-"}, nil},
	} {
		got := gendoctest.BashComplete(t, d.Bash, "cowdu", dir, tc.words...)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: COMPREPLY %q, want %q", tc.words, got, tc.want)
		}
	}
	t.Run("zsh", func(t *testing.T) { gendoctest.CheckZsh(t, d.Zsh) })
	t.Run("fish", func(t *testing.T) {
		got := gendoctest.FishComplete(t, d.Fish, dir, "cowdu --hu")
		if want := []string{"--human-readable"}; !slices.Equal(got, want) {
			t.Errorf("fish completes --hu with %q, want %q", got, want)
		}
	})
}

// go run -tags gendocs ./cmd/cowdu OUTDIR VERSION DATE writes the four
// files, the same twice.
func TestGendocsWritesTheDocuments(t *testing.T) {
	gendoctest.RunGenerator(t, "cowdu")
}
