package gendoc_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
)

// demo has an option of each kind.
func demo() *gendoc.Model {
	return &gendoc.Model{
		Name:     "demo",
		Package:  "cowcp",
		Version:  "v1.2.3",
		Date:     "2026-11-30",
		Summary:  "show what the generator does",
		Synopsis: []string{"demo [OPTION]... [-T] SOURCE DEST", "demo [OPTION]... -t DIRECTORY SOURCE..."},
		Description: []gendoc.Block{
			gendoc.Para("Copy SOURCE to DEST. A second sentence, e.g. 1.5 MiB, with `--when=always` in it."),
			gendoc.Para(".hidden files and 'quotes' and a back\\slash and a naïve — dash → arrow."),
			gendoc.Pre("$ demo -a 'x y' \\\n\n.starts with a dot"),
		},
		Options: []gendoc.Option{
			{Short: "a", Long: "all", Help: "do all. See below"},
			{Short: "Rr", Long: "recursive", Help: "copy directories recursively"},
			{Short: "b", Help: "like --all but does not accept an argument"},
			{Long: "when", Arg: "WHEN", OptionalArg: true, Choices: []string{"auto", "always", "never"},
				Help: "when to do it"},
			{Long: "sparse", Arg: "WHEN", Choices: []string{"never", "auto", "always"}, Help: "sparse files"},
			{Long: "preserve", Arg: "ATTR_LIST", Choices: []string{"mode", "ownership", "timestamps"},
				ChoiceList: true, Help: "keep these"},
			{Short: "t", Long: "target-directory", Arg: "DIRECTORY", Complete: gendoc.CompleteDirectory,
				Help: "copy into DIRECTORY"},
			{Short: "S", Long: "suffix", Arg: "SUFFIX", Help: "backup suffix"},
			{Long: "path", Hidden: true},
			{Short: "j", Long: "jobs", Arg: "N", Group: "demo's own options:", Help: "N at once"},
		},
		OptionNotes: []gendoc.Block{gendoc.List(gendoc.Item{Term: "none, off", Text: "never make backups"})},
		Operands:    gendoc.CompleteFile,
		Sections: []gendoc.Section{
			{Title: "EXIT STATUS", Blocks: []gendoc.Block{gendoc.List(gendoc.Item{Term: "0", Text: "Success."})}},
			{Title: "SEE ALSO", Blocks: []gendoc.Block{gendoc.Para("`cp`(1)")}},
		},
	}
}

func man(t *testing.T, m *gendoc.Model) string {
	t.Helper()
	var b bytes.Buffer
	if err := gendoc.Man(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestManEscapesWhatRoffWouldRead(t *testing.T) {
	page := man(t, demo())
	for _, want := range []string{
		`.TH DEMO 1 2026\-11\-30 "cowcp v1.2.3" "User Commands"`,
		"\n" + `\fBdemo\fR [\fIOPTION\fR]... [\fB\-T\fR] \fISOURCE\fR \fIDEST\fR` + "\n",
		"\nCopy SOURCE to DEST.\nA second sentence, e.g. 1.5 MiB, with \\fB\\-\\-when=always\\fR in it.\n",
		"\n" + `\&.hidden files and \(aqquotes\(aq and a back\eslash and a na\[u00EF]ve \(em dash \(-> arrow.` + "\n",
		"\n$ demo \\-a \\(aqx y\\(aq \\e\n\\&\n\\&.starts with a dot\n",
		"\n.TP\n" + `\fB\-R\fR, \fB\-r\fR, \fB\-\-recursive\fR` + "\n",
		"\n" + `\fB\-S\fR, \fB\-\-suffix\fR=\fISUFFIX\fR` + "\n",
		"\n" + `\fB\-\-when\fR[=\fIWHEN\fR]` + "\n",
		"\n.SS \"demo\\(aqs own options\"\n",
		"\n.SH \"EXIT STATUS\"\n",
		"\n.if !c\\[u00EF] .char \\[u00EF] ?\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks\n%s\npage:\n%s", want, page)
		}
	}
	for i, r := range page {
		if r > 0x7e || r < 0x20 && r != '\n' {
			t.Fatalf("the page has %q at %d: it must be ASCII", r, i)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		if strings.HasPrefix(line, "'") || line == "" || strings.HasPrefix(line, ".") && !isRequest(line) {
			t.Errorf("input line %q would be read as a request, or is blank", line)
		}
	}
	if again := man(t, demo()); again != page {
		t.Error("the same model renders another page")
	}
}

// isRequest: the man(7) requests the renderer writes.
func isRequest(line string) bool {
	req, _, _ := strings.Cut(line, " ")
	return slices.Contains([]string{`.\"`, ".TH", ".SH", ".SS", ".PP", ".TP", ".IP", ".RS", ".RE", ".nf", ".fi", ".br", ".nh", ".ad", ".if"}, req)
}

func TestEveryOptionAndChoiceIsRendered(t *testing.T) {
	m := demo()
	d := gendoctest.Render(t, m)
	var table []string
	var help strings.Builder
	for _, o := range m.Options {
		table = append(table, o.Names()...)
		if !o.Hidden {
			help.WriteString("  " + strings.Join(o.Names(), ", ") + "  " + o.Help + "\n")
		}
	}
	gendoctest.CheckNames(t, m, d, help.String(), table, nil)
	for _, doc := range []string{d.Man, d.Bash, d.Zsh, d.Fish} {
		if strings.Contains(doc, "path") {
			t.Errorf("a hidden option is shown:\n%s", doc)
		}
	}
	for name, doc := range map[string]string{"man": d.Man, "bash": d.Bash, "zsh": d.Zsh, "fish": d.Fish} {
		for _, o := range m.Options {
			for _, c := range o.Choices {
				if !strings.Contains(doc, c) {
					t.Errorf("%s lacks --%s's choice %s", name, o.Long, c)
				}
			}
		}
	}
	for _, want := range []string{`\fIWHEN\fR is one of: \fBauto\fR, \fBalways\fR, \fBnever\fR.`,
		`\fIATTR_LIST\fR is a comma\-separated list of: \fBmode\fR, \fBownership\fR, \fBtimestamps\fR.`} {
		if !strings.Contains(d.Man, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	if !strings.Contains(d.Zsh, `'--when=-[when to do it]::WHEN:(auto always never)'`) ||
		!strings.Contains(d.Zsh, `'(-t --target-directory)'{-t+,--target-directory=}'[copy into DIRECTORY]:DIRECTORY:_files -/'`) {
		t.Errorf("zsh specifications:\n%s", d.Zsh)
	}
	if !strings.Contains(d.Fish, `complete -c demo -l when -f -a 'auto always never' -d 'when to do it'`) ||
		!strings.Contains(d.Fish, `complete -c demo -s r -d 'copy directories recursively'`) {
		t.Errorf("fish completions:\n%s", d.Fish)
	}
}

func TestManRendersWithoutWarnings(t *testing.T) {
	text := gendoctest.CheckMan(t, man(t, demo()))
	for _, want := range []string{"--when[=WHEN]", "-R, -r, --recursive", "demo [OPTION]... [-T] SOURCE DEST",
		".hidden files and 'quotes' and a back\\slash and a naïve — dash → arrow", "$ demo -a 'x y' \\"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, text)
		}
	}
}

// dirTree makes a directory with a file and two directories to complete.
func dirTree(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{"sub", "src"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "some-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBashCompletesGetoptForms(t *testing.T) {
	d := gendoctest.Render(t, demo())
	dir := dirTree(t)
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"demo", "--wh"}, []string{"--when"}},
		{[]string{"demo", "--sp"}, []string{"--sparse="}},
		{[]string{"demo", "--when="}, []string{"--when=auto", "--when=always", "--when=never"}},
		{[]string{"demo", "--when", "=", "al"}, []string{"always"}},
		{[]string{"demo", "--when", "="}, []string{"auto", "always", "never"}},
		{[]string{"demo", "--sparse", "a"}, []string{"auto", "always"}},
		{[]string{"demo", "--preserve=mode,o"}, []string{"--preserve=mode,ownership"}},
		{[]string{"demo", "-t", "s"}, []string{"src", "sub"}},
		{[]string{"demo", "-at", "s"}, []string{"src", "sub"}},
		{[]string{"demo", "-atsu"}, []string{"-atsub"}},
		{[]string{"demo", "--target-directory=su"}, []string{"--target-directory=sub"}},
		{[]string{"demo", "-S", "s"}, nil},
		{[]string{"demo", "-j", "4", "so"}, []string{"some-file"}},
		{[]string{"demo", "s"}, []string{"some-file", "src", "sub"}},
		{[]string{"demo", "--", "--w"}, nil},
		{[]string{"demo", "--path"}, nil},
		{[]string{"demo", "-R"}, []string{"-R"}},
	} {
		got := gendoctest.BashComplete(t, d.Bash, "demo", dir, tc.words...)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: COMPREPLY %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestZshAndFishReadTheCompletions(t *testing.T) {
	d := gendoctest.Render(t, demo())
	t.Run("zsh", func(t *testing.T) { gendoctest.CheckZsh(t, d.Zsh) })
	t.Run("fish", func(t *testing.T) {
		dir := dirTree(t)
		for line, want := range map[string][]string{
			"demo --when=":          {"--when=always", "--when=auto", "--when=never"},
			"demo --preserve=mode,": {"--preserve=mode,mode", "--preserve=mode,ownership", "--preserve=mode,timestamps"},
			"demo -t ":              {"src/", "sub/"},
			"demo --wh":             {"--when", "--when="},
		} {
			got := gendoctest.FishComplete(t, d.Fish, dir, line)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("fish completes %q: %q, want %q", line, got, want)
			}
		}
	})
}

// The commands link this package (the linker leaves its unused functions
// out of them), so it must not make anything when they start: no
// package-level variable with a value to compute.
func TestNothingRunsAtStartup(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					if vs := spec.(*ast.ValueSpec); len(vs.Values) > 0 {
						t.Errorf("%s: package variable %s is set when a command starts", path, vs.Names[0])
					}
				}
			}
		}
	}
}
