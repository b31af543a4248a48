package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
	"github.com/cowcp/cowcp/tree"
)

// The parser's table, --help, the man page and the three completions name
// the same options; only cp's old --path, which cp's --help does not
// show either, is hidden.
func TestDocumentsNameTheParsersOptions(t *testing.T) {
	m, d := gendoctest.Load(t, manual)
	_, help, _ := runT(t, t.TempDir(), "--help")
	var table []string
	for _, o := range longOpts {
		table = append(table, "--"+o.name)
	}
	for _, c := range strings.ReplaceAll(shortOpts, ":", "") {
		table = append(table, "-"+string(c))
	}
	// The man page's prose may shorten options as getopt_long reads them
	// (--rem, --b=nu), and shows a wrong command line (--x).
	reads := func(name string) bool {
		_, err := findLong(name[2:], name[2:], longOpts)
		return err == nil || name == "--x"
	}
	gendoctest.CheckNames(t, m, d, help, table, reads)
	var hidden []string
	for _, o := range m.Options {
		if o.Hidden {
			hidden = append(hidden, o.Names()...)
		}
	}
	if !slices.Equal(hidden, []string{"--path"}) {
		t.Errorf("hidden options %q, want only --path", hidden)
	}
}

// Each option's entry says what --help says of it, word for word.
func TestManualOptionsSayWhatHelpSays(t *testing.T) {
	m, _ := gendoctest.Load(t, manual)
	_, help, _ := runT(t, t.TempDir(), "--help")
	flat := strings.Join(strings.Fields(help), " ")
	for _, o := range m.Options {
		if !o.Hidden && !strings.Contains(flat, o.Help) {
			t.Errorf("%v: %q is not in --help", o.Names(), o.Help)
		}
	}
	if !slices.Equal(m.Synopsis, []string{"cowcp [OPTION]... [-T] SOURCE DEST",
		"cowcp [OPTION]... SOURCE... DIRECTORY", "cowcp [OPTION]... -t DIRECTORY SOURCE..."}) {
		t.Errorf("synopsis %q", m.Synopsis)
	}
}

var quotedWord = regexp.MustCompile(`'([^']*)'`)

// The choices the documents offer are the words the parser accepts: an
// option whose argument is not one of them is refused with cp's "Valid
// arguments are:" list, which must be the option's choices; any other
// option has none.
func TestManualChoicesAreTheParsers(t *testing.T) {
	cleanEnv(t)
	t.Setenv("LC_ALL", "C")
	m, _ := gendoctest.Load(t, manual)
	for _, o := range m.Options {
		if o.Arg == "" || o.Long == "" {
			continue
		}
		_, err := parseArgs([]string{"--" + o.Long + "=xyzzy", "a", "b"})
		var valid []string
		if err != nil {
			if _, list, ok := strings.Cut(err.Error(), "Valid arguments are:"); ok {
				for _, w := range quotedWord.FindAllStringSubmatch(list, -1) {
					valid = append(valid, w[1])
				}
			}
		}
		if !slices.Equal(valid, o.Choices) {
			t.Errorf("--%s: the documents offer %q, the parser accepts %q", o.Long, o.Choices, valid)
		}
	}
}

func TestManPageRendersWithoutWarnings(t *testing.T) {
	m, d := gendoctest.Load(t, manual)
	text := gendoctest.CheckMan(t, d.Man)
	for _, want := range []string{
		"COWCP(1)", "cowcp - copy files and directories", "cowcp [OPTION]... -t DIRECTORY SOURCE...",
		"--reflink[=WHEN]", "WHEN is one of: auto, always, never.", "-R, -r, --recursive",
		"THE JSON REPORT", "EXIT STATUS", "ENVIRONMENT", "DIFFERENCES FROM GNU CP", "EXAMPLES",
		"cowcp -a --json src dst | jq .saved_bytes", "cp(1), cowdu(1)", "cowcp v0.0.0", "2026-11-30",
	} {
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

// sectionText is the words of a section of the manual.
func sectionText(t *testing.T, m *gendoc.Model, title string) string {
	t.Helper()
	i := slices.IndexFunc(m.Sections, func(s gendoc.Section) bool { return s.Title == title })
	if i < 0 {
		t.Fatalf("no section %s", title)
	}
	var b strings.Builder
	for _, bl := range m.Sections[i].Blocks {
		b.WriteString(bl.Text + "\n" + bl.Pre + "\n" + strings.Join(bl.Bullets, "\n") + "\n")
		for _, it := range bl.Items {
			b.WriteString(it.Term + "\n" + it.Text + "\n")
		}
	}
	return b.String()
}

// jsonNames are the JSON field names of a struct type, and of the struct
// types in its fields.
func jsonNames(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		ft := f.Type
		for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			names = append(names, jsonNames(ft)...)
		}
	}
	return names
}

// THE JSON REPORT and the README's table name every action of the plan.
// (TestJSONFieldsAreTheDocumentedOnes holds their fields to real reports.)
func TestDocumentsNameEveryPlanAction(t *testing.T) {
	m, _ := gendoctest.Load(t, manual)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "\n| `plan[].action` |")
	table, _, _ = strings.Cut(table, "\n")
	docs := map[string]string{"THE JSON REPORT": sectionText(t, m, "THE JSON REPORT"), "the README's plan[].action": table}
	var want []string
	for _, ev := range []tree.Event{{Skipped: true}, {Kind: tree.KindDir}, {Kind: tree.KindSymlink},
		{Kind: tree.KindSpecial}, {Kind: tree.KindFile}} {
		want = append(want, action(ev))
	}
	for mt := tree.MethodFiclone; mt <= tree.MethodShared; mt++ {
		want = append(want, action(tree.Event{Method: mt}))
	}
	for doc, text := range docs {
		for _, name := range want {
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("%s does not name the action %q", doc, name)
			}
		}
	}
}

// ENVIRONMENT names every variable the command and the packages it is
// made of read (but COWCP_CLONE_CHUNK, which only tests set).
func TestManualNamesEveryEnvironmentVariable(t *testing.T) {
	m, _ := gendoctest.Load(t, manual)
	text := sectionText(t, m, "ENVIRONMENT")
	read := map[string]bool{}
	for _, dir := range []string{".", "../../tree", "../../reflink", "../../fallback", "../../internal"} {
		err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case e.IsDir() && e.Name() == "gendoctest": // (tests' helpers)
				return filepath.SkipDir
			case e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
					return true
				}
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, _ := strconv.Unquote(lit.Value)
					read[name] = true
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !read["POSIXLY_CORRECT"] {
		t.Fatalf("found %v: the source was not read", read)
	}
	delete(read, "COWCP_CLONE_CHUNK")
	for _, v := range append(slices.Sorted(maps.Keys(read)), "LC_ALL", "LC_CTYPE", "LANG") {
		if !strings.Contains(text, "`"+v+"`") {
			t.Errorf("ENVIRONMENT does not name %s", v)
		}
	}
}

// The exit statuses are run's.
func TestManualExitStatusesAreRuns(t *testing.T) {
	m, _ := gendoctest.Load(t, manual)
	text := sectionText(t, m, "EXIT STATUS")
	for _, want := range []string{
		strconv.Itoa(exitOK) + "\n", strconv.Itoa(exitFailed) + "\n", strconv.Itoa(exitUsage) + "\n",
		strconv.Itoa(interrupt{syscall.SIGINT}.exitStatus()) + " after SIGINT",
		strconv.Itoa(interrupt{syscall.SIGPIPE}.exitStatus()) + " after SIGPIPE",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("EXIT STATUS does not say %q:\n%s", want, text)
		}
	}
}

// The bash completion completes: option names, --reflink's values in
// each of the forms bash hands them over, -t's directories.
func TestBashCompletionCompletes(t *testing.T) {
	_, d := gendoctest.Load(t, manual)
	dir := t.TempDir()
	for _, sub := range []string{"dir1", "dir2"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dfile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"cowcp", "--refl"}, []string{"--reflink"}},
		{[]string{"cowcp", "--reflink="}, []string{"--reflink=auto", "--reflink=always", "--reflink=never"}},
		{[]string{"cowcp", "--reflink", "="}, []string{"auto", "always", "never"}},
		{[]string{"cowcp", "--reflink", "=", "n"}, []string{"never"}},
		{[]string{"cowcp", "--backup=nu"}, []string{"--backup=numbered"}},
		{[]string{"cowcp", "--preserve=mode,ti"}, []string{"--preserve=mode,timestamps"}},
		{[]string{"cowcp", "--sparse", "al"}, []string{"always"}},
		{[]string{"cowcp", "--progress=n"}, []string{"--progress=never"}},
		{[]string{"cowcp", "--update="}, []string{"--update=all", "--update=none", "--update=none-fail", "--update=older"}},
		{[]string{"cowcp", "-t", "d"}, []string{"dir1", "dir2"}},
		{[]string{"cowcp", "--target-directory=d"}, []string{"--target-directory=dir1", "--target-directory=dir2"}},
		{[]string{"cowcp", "-avt", "d"}, []string{"dir1", "dir2"}},
		{[]string{"cowcp", "-td"}, []string{"-tdir1", "-tdir2"}},
		{[]string{"cowcp", "-a", "d"}, []string{"dfile", "dir1", "dir2"}},
		{[]string{"cowcp", "--dry"}, []string{"--dry-run"}},
		{[]string{"cowcp", "--su"}, []string{"--suffix="}},
		{[]string{"cowcp", "-S", "d"}, nil},
	} {
		got := gendoctest.BashComplete(t, d.Bash, "cowcp", dir, tc.words...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: COMPREPLY %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestZshAndFishReadTheCompletions(t *testing.T) {
	_, d := gendoctest.Load(t, manual)
	t.Run("zsh", func(t *testing.T) { gendoctest.CheckZsh(t, d.Zsh) })
	t.Run("fish", func(t *testing.T) {
		got := gendoctest.FishComplete(t, d.Fish, t.TempDir(), "cowcp --reflink=")
		if want := []string{"--reflink=always", "--reflink=auto", "--reflink=never"}; !slices.Equal(got, want) {
			t.Errorf("fish completes --reflink= with %q, want %q", got, want)
		}
	})
}

// go run -tags gendocs ./cmd/cowcp OUTDIR VERSION DATE writes the four
// files, the same twice.
func TestGendocsWritesTheDocuments(t *testing.T) {
	gendoctest.RunGenerator(t, "cowcp")
}
