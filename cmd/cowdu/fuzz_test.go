package main

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/cowcp/cowcp/internal/testtree"
)

// FuzzCowduArgs reads fuzzed command lines, split into arguments on NUL
// bytes if they have any, else on spaces. Whatever the arguments:
//
//   - kong's parser does not panic;
//   - a line the parser refuses gets "cowdu: " and the parser's message,
//     the hint to --help, nothing on stdout and exit status exitUsage (2;
//     GNU du exits 1);
//   - a line it accepts is run on a scratch tree (an absolute path made
//     relative, ".." made "_"): --help and --version print on stdout and
//     exit 0; a measure exits 0 or 1, prints its table (or with --json one
//     JSON object) ending with the total, says only "cowdu: " lines on
//     stderr, and changes nothing.
func FuzzCowduArgs(f *testing.F) {
	for _, line := range []string{
		"", "d", "-a d", "-s d", "-a -s d", "-as d", "--bytes -h d", "-h d f", "--bytes -s d d/sub/y",
		"--json -a d missing", "--json --bytes", "-a --bytes d/ d/x", "lf ld dang lself sp", "--bogus d",
		"-- -dash", "--help", "--version", "--help=x", "--json=1 d", "--human-readable=false d", "-hh",
		"--bytes --bytes d", "-x", "--all --summarize", "-s -- -s", "/d", "../d", "-\x00d", "\x00",
		"-a\n\x00", // kong's message then holds the newline, as getopt's would
	} {
		f.Add(line)
	}
	top := filepath.Join(f.TempDir(), "top")
	work := filepath.Join(top, "work")
	testtree.Build(f, top, []testtree.Node{testtree.F("canary", 0o644, []byte("canary\n"))})
	testtree.Build(f, work, []testtree.Node{
		testtree.F("f", 0o644, []byte("f\n")),
		testtree.F("-dash", 0o644, []byte("-\n")),
		testtree.S("sp", 256<<10, testtree.Random(0, 1, 8192), testtree.Random(128<<10, 2, 4096)),
		testtree.D("d", 0o755),
		testtree.F("d/x", 0o644, testtree.Bytes(3, 64<<10)),
		testtree.H("d/x-link", "d/x"),
		testtree.D("d/sub", 0o700),
		testtree.F("d/sub/y", 0o640, []byte("y\n")),
		testtree.L("lf", "f"),
		testtree.L("ld", "d"),
		testtree.L("dang", "nowhere"),
		testtree.L("lself", "lself"),
	})
	before := testtree.Fingerprint(f, top)

	f.Fuzz(func(t *testing.T, line string) {
		args := testtree.SplitArgs(line)
		var c cli
		exit := -1
		parser, err := newParser(&c, kong.Vars{"version": "cowdu fuzz"}, kong.Writers(io.Discard, io.Discard),
			kong.Exit(func(code int) { exit = code }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(args); err != nil && exit < 0 {
			// run stops at the mistake, touching no file.
			code, stdout, stderr := runIn(t, work, args)
			want := "cowdu: " + err.Error() + "\nTry 'cowdu --help' for more information.\n"
			if code != exitUsage || stdout != "" || stderr != want {
				t.Fatalf("%q: exit %d, stdout %q, stderr %q; want exit %d, nothing on stdout, stderr %q",
					args, code, stdout, stderr, exitUsage, want)
			}
			return
		}

		args = testtree.Confine(args)
		c, exit = cli{}, -1
		if _, err := parser.Parse(args); err != nil && exit < 0 {
			return // confining made a mistake of an option's value
		}
		if exit < 0 && slices.ContainsFunc(c.Paths, func(p string) bool {
			return strings.HasPrefix(p, "/") || slices.Contains(strings.Split(p, "/"), "..")
		}) {
			return
		}
		code, stdout, stderr := runIn(t, work, args)
		if exit >= 0 {
			if code != 0 || stdout == "" || stderr != "" {
				t.Fatalf("%q: --help or --version: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
			return
		}
		if code != exitOK && code != exitFailed {
			t.Fatalf("%q: exit %d\nstderr:\n%s", args, code, stderr)
		}
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "cowdu: ") {
				t.Fatalf("%q: stderr line %q is no message of cowdu's\nstderr:\n%s", args, l, stderr)
			}
		}
		switch {
		case c.JSON:
			var r jsonReport
			if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Version != reportVersion {
				t.Fatalf("%q: stdout is no JSON report (%v):\n%s", args, err, stdout)
			}
		case !strings.HasPrefix(stdout, "     Total") || !strings.HasSuffix(stdout, "  total\n"):
			t.Fatalf("%q: stdout is no table ending with the total:\n%s", args, stdout)
		}
		if diffs := testtree.Diff(before, testtree.Fingerprint(t, top), "before", "after"); len(diffs) > 0 {
			t.Fatalf("%q changed the tree:\n%s", args, strings.Join(diffs, "\n"))
		}
	})
}

// runIn runs the command in dir.
func runIn(t *testing.T, dir string, args []string) (code int, stdout, stderr string) {
	t.Chdir(dir)
	var out, errs bytes.Buffer
	code = run(args, &out, &errs)
	return code, out.String(), errs.String()
}
