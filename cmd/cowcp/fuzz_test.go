package main

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
)

// FuzzCowcpArgs reads fuzzed command lines, from the words of the
// command lines of cowcp's tests: the line is split into arguments on NUL
// bytes if it has any, else on spaces, and read with POSIXLY_CORRECT set
// or not, in the C locale or C.UTF-8. Whatever the arguments:
//
//   - reading them (parseArgs, options) does not panic;
//   - a line cowcp refuses gets one message, cp's hint to --help where cp
//     gives one, nothing on stdout and exit status exitUsage, which is 1
//     as GNU cp's; and where GNU cp 9.1 reads the line as cowcp does
//     (no cowcp or cp 9.5 option), GNU cp says the same, word for word;
//   - a line cowcp accepts is run with --dry-run, its operands moved into
//     a scratch tree (an absolute path made relative, ".." made "_"): it
//     exits 0 or 1, every line on stderr is a message of cowcp's, and
//     nothing in or beside the scratch tree changes.
//
// Messages say cp, as cowcp installed as cp does, to compare them with
// cp's.
func FuzzCowcpArgs(f *testing.F) {
	for _, line := range testCommandLines(f) {
		f.Add(line, false, false)
	}
	for _, line := range []string{
		"-j 1000000000 -r many e",   // a queue for a billion workers: out of memory
		"--jobs=99999999999 -a d e", // more than an int
		"-r --dry-run --json -v many e",
		"--progress=always -v -r d e",
		"-i -r d e",
		"-rl d e", "-rs d e", "--attributes-only -a d e", "-b --backup=numbered f g",
		"-a /d /e", "-r ../d e", "-t.. f", "--target-directory=/e f",
		"f\x00\x00e", "\x00", "-S\x00f\x00g", "--\x00-dash\x00e",
	} {
		f.Add(line, false, false)
	}
	for _, line := range []string{"f -v e", "-a f -- g e", "-t e f -r d"} {
		f.Add(line, true, false)
	}
	for _, line := range []string{"caf\xc3\xa9", "--reflink=\xc3\xa9 f g", "-\xc3\xa9 f g", "f \xff e"} {
		f.Add(line, false, false)
		f.Add(line, false, true)
	}
	for _, name := range []string{"VERSION_CONTROL", "SIMPLE_BACKUP_SUFFIX", "COWCP_CLONE_CHUNK", "LANGUAGE"} {
		f.Setenv(name, "")
	}
	if exitUsage != 1 {
		f.Fatalf("exitUsage is %d; GNU cp exits 1 on a usage error", exitUsage)
	}
	saved := progName
	progName = "cp"
	f.Cleanup(func() { progName = saved })

	// cowcp runs in work, beside a canary; cp in a tree of its own.
	top := filepath.Join(f.TempDir(), "top")
	work := filepath.Join(top, "work")
	testtree.Build(f, top, []testtree.Node{testtree.F("canary", 0o644, []byte("canary\n"))})
	testtree.Build(f, work, fuzzTree())
	before := testtree.Fingerprint(f, top)
	var cp *cpTree
	if _, err := os.Stat(gnuCp); err == nil && !selinuxEnabled() {
		cp = newCpTree(f, filepath.Join(f.TempDir(), "cp"))
	}

	f.Fuzz(func(t *testing.T, line string, posixly, utf8 bool) {
		args := testtree.SplitArgs(line)
		locale := "C"
		if utf8 {
			locale = "C.UTF-8"
		}
		t.Setenv("LC_ALL", locale)
		if posixly {
			t.Setenv("POSIXLY_CORRECT", "1")
		} else {
			unsetenv(t, "POSIXLY_CORRECT")
		}
		c, err := parseArgs(args)
		if err != nil {
			// run stops at the mistake, touching no file.
			code, stdout, stderr := runIn(t, work, args)
			checkUsage(t, args, c, err, code, stdout, stderr)
			if cp != nil && confined(args) && readsAsCp91(args) {
				cp.compareUsage(t, args, code, stdout, stderr)
			}
			return
		}
		if _, err := c.options(); err != nil {
			t.Fatalf("%q: options: %v", args, err)
		}

		args = testtree.Confine(args)
		if c, err = parseArgs(args); err != nil || c.help || c.version {
			return // (confining changed an option's value, or cp only talks)
		}
		if !inside(c.targetDir) || slices.ContainsFunc(c.files, func(f string) bool { return !inside(f) }) {
			return // an operand still leaves the tree: "-t/x" in a cluster
		}
		code, stdout, stderr := runIn(t, work, append([]string{"--dry-run"}, args...))
		if code != exitOK && code != exitFailed {
			t.Fatalf("%q: exit %d\nstderr:\n%s", args, code, stderr)
		}
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if c.progress == "always" {
				l = l[strings.LastIndexByte(l, '\r')+1:] // after the bar's frames
			}
			if l != "" && !strings.HasPrefix(l, progName+": ") && !strings.HasPrefix(l, "Try '") && !strings.HasPrefix(l, "dry run: ") {
				t.Fatalf("%q: stderr line %q is no message of %s's\nstderr:\n%s", args, l, progName, stderr)
			}
		}
		if diffs := testtree.Diff(probed(before), probed(testtree.Fingerprint(t, top)), "before", "after"); len(diffs) > 0 {
			t.Fatalf("%q --dry-run changed the tree:\n%s", args, strings.Join(diffs, "\n"))
		}
		if cp != nil && code == exitUsage && strings.HasSuffix(stderr, "Try 'cp --help' for more information.\n") &&
			readsAsCp91(args) {
			// Operands that do not fit, found after reading the options.
			cp.compareUsage(t, args, code, stdout, stderr)
		}
	})
}

// runIn runs the command in dir, with nothing on stdin.
func runIn(t *testing.T, dir string, args []string) (code int, stdout, stderr string) {
	t.Chdir(dir)
	var out, errs bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errs)
	return code, out.String(), errs.String()
}

// checkUsage checks what run said of the command line args, which
// parseArgs refused with err.
func checkUsage(t *testing.T, args []string, c *cli, err error, code int, stdout, stderr string) {
	t.Helper()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("%q: %#v is not a usage error", args, err)
	}
	var want strings.Builder
	if !c.quiet {
		for _, w := range c.warnings {
			want.WriteString(progName + ": " + w + "\n")
		}
	}
	want.WriteString(progName + ": " + ue.msg + "\n")
	if ue.try {
		want.WriteString("Try '" + progName + " --help' for more information.\n")
	}
	if code != exitUsage || stdout != "" || stderr != want.String() {
		t.Fatalf("%q: exit %d, stdout %q, stderr\n%s\nwant exit %d, nothing on stdout, stderr\n%s", args, code, stdout, stderr, exitUsage, want.String())
	}
}

// cpTree is a scratch tree like cowcp's for GNU cp to run in.
type cpTree struct {
	dir    string
	before testtree.Manifest
}

func newCpTree(t testing.TB, dir string) *cpTree {
	testtree.Build(t, dir, fuzzTree())
	return &cpTree{dir: dir, before: testtree.Fingerprint(t, dir)}
}

// compareUsage runs GNU cp on args in the tree and wants cowcp's exit
// status and words. Should cp not stop at the command line but copy (a
// line cowcp refuses and cp takes), the tree is made anew.
func (cp *cpTree) compareUsage(t *testing.T, args []string, code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	cmd := &exec.Cmd{Path: gnuCp, Args: append([]string{"cp"}, args...), Dir: cp.dir,
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs}
	err := cmd.Run()
	cpCode := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		cpCode = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if !equalManifests(cp.before, testtree.Fingerprint(t, cp.dir)) {
		if err := os.RemoveAll(cp.dir); err != nil {
			t.Fatal(err)
		}
		*cp = *newCpTree(t, cp.dir)
	}
	if cpCode != code || out.String() != stdout || errs.String() != stderr {
		t.Fatalf("%q:\ncowcp: exit %d, stdout %q, stderr\n%s\ncp:    exit %d, stdout %q, stderr\n%s",
			args, code, stdout, stderr, cpCode, out.String(), errs.String())
	}
}

// readsAsCp91 reports whether GNU cp 9.1, the one on the CI machines, reads
// args as cowcp does: getopt given cp 9.1's options, without cowcp's own
// and cp 9.5's --debug, --keep-directory-symlink and --update=UPDATE,
// reads the same options, operands and mistake.
func readsAsCp91(args []string) bool {
	_, posixly := os.LookupEnv("POSIXLY_CORRECT")
	read := func(shorts string, longs []longOpt) ([]parsedOpt, []string, string) {
		var opts []parsedOpt
		files, err := getopt(args, shorts, longs, posixly, func(o parsedOpt) error {
			opts = append(opts, o)
			return nil
		})
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		return opts, files, msg
	}
	var longs91 []longOpt
	for _, o := range longOpts {
		if !o.own && o.id != optDebug && o.id != optKeepDirSymlink {
			longs91 = append(longs91, o)
		}
	}
	opts, files, msg := read(shortOpts, longOpts)
	opts91, files91, msg91 := read("abdfHilLnprst:uvxPRS:TZ", longs91)
	return slices.Equal(opts, opts91) && slices.Equal(files, files91) && msg == msg91 &&
		!slices.ContainsFunc(opts, func(o parsedOpt) bool { return o.id == 'u' && o.hasArg })
}

// inside reports whether path, relative to the working directory, stays
// inside it, as far as its name tells (the scratch tree's symbolic links
// all stay inside).
func inside(path string) bool {
	return !strings.HasPrefix(path, "/") && !slices.Contains(strings.Split(path, "/"), "..")
}

// confined reports whether every argument of args stays inside the
// working directory, whatever it turns out to be: no absolute path at the
// start of an argument, after '=' or in a cluster of short options, and
// no "..".
func confined(args []string) bool {
	return !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "/") || strings.Contains(a, "..") || strings.Contains(a, "=/") ||
			strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "/")
	})
}

// fuzzTree is the scratch tree the command lines run in: the names the
// tests' command lines use, and a directory of more entries than a batch,
// so that a copy of it starts the workers.
func fuzzTree() []testtree.Node {
	nodes := []testtree.Node{
		testtree.F("f", 0o644, []byte("f\n")).At(1500000000, 0),
		testtree.F("g", 0o640, []byte("g, the old one\n")).At(1400000000, 0),
		testtree.F("g.~1~", 0o640, []byte("backup 1\n")).At(1400000000, 0),
		testtree.F("h", 0o600, []byte("h\n")).At(1600000000, 0),
		testtree.F("ro", 0o444, []byte("read-only\n")),
		testtree.F("-dash", 0o644, []byte("-\n")),
		testtree.S("sp", 256<<10, testtree.Random(0, 1, 4096), testtree.Random(128<<10, 2, 4096)),
		testtree.D("d", 0o750),
		testtree.F("d/x", 0o644, []byte("x\n")),
		testtree.H("d/x-link", "d/x"),
		testtree.F("d/.hidden", 0o600, []byte("hidden\n")),
		testtree.L("d/lx", "x"),
		testtree.L("d/lf", "../f"),
		testtree.D("d/sub", 0o700),
		testtree.F("d/sub/y", 0o640, []byte("y\n")),
		testtree.D("d/sub/empty", 0o755),
		testtree.D("e", 0o755),
		testtree.L("lf", "f"),
		testtree.L("ld", "d"),
		testtree.L("dang", "nowhere"),
		testtree.L("lself", "lself"),
		testtree.D("many", 0o755),
	}
	for i := range 40 {
		nodes = append(nodes, testtree.F("many/"+strconv.Itoa(i), 0o644, []byte(strconv.Itoa(i)+"\n")))
	}
	return nodes
}

// probed is the manifest m of the fuzz tree without the mtime and ctime
// of the directories in work: --dry-run's probe, a scratch file made and
// removed in a destination directory, changes them (a known limit in the
// README).
func probed(m testtree.Manifest) testtree.Manifest {
	out := testtree.Manifest{}
	for p, e := range m {
		if e["type"] == "dir" && (p == "work" || strings.HasPrefix(p, "work/")) {
			e = maps.Clone(e)
			delete(e, "mtime")
			delete(e, "ctime")
		}
		out[p] = e
	}
	return out
}

func equalManifests(a, b testtree.Manifest) bool {
	return len(testtree.Diff(a, b, "a", "b")) == 0
}

// testCommandLines is the command lines of cowcp's tests, read from their
// sources, so that a case added there seeds the fuzzer too: the args
// fields of their tables, the first string of each row of an unnamed
// table, and the string arguments of parsed and runT calls. $ROOT, a
// scratch directory in the differential tests, becomes ".".
func testCommandLines(f *testing.F) []string {
	var lines []string
	add := func(lit ast.Expr) {
		if bl, ok := lit.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil {
				lines = append(lines, strings.ReplaceAll(s, "$ROOT", "."))
			}
		}
	}
	fset := token.NewFileSet()
	for _, name := range []string{"cli_test.go", "usage_test.go", "cp95_test.go", "run_test.go", "../../tests/cpdiff_cmdline_test.go"} {
		file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			f.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "args" {
					add(n.Value)
				}
			case *ast.CompositeLit:
				if n.Type == nil && len(n.Elts) > 1 {
					add(n.Elts[0])
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "runT" || id.Name == "parsed") && len(n.Args) > 1 {
					var words []string
					for _, a := range n.Args[1:] {
						if bl, ok := a.(*ast.BasicLit); ok && bl.Kind == token.STRING {
							if s, err := strconv.Unquote(bl.Value); err == nil {
								words = append(words, s)
							}
						}
					}
					lines = append(lines, strings.Join(words, " "))
				}
			}
			return true
		})
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	if len(lines) < 200 {
		f.Fatalf("only %d command lines found in the tests' sources", len(lines))
	}
	return lines
}
