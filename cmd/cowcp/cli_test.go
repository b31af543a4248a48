package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/tree"
)

// parsed reads args as the command does and returns what the copy would
// be told.
func parsed(t *testing.T, args ...string) (*cli, tree.Options) {
	t.Helper()
	c, err := parseArgs(args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	o, err := c.options()
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return c, o
}

// cleanEnv clears the variables that change how the command line reads.
func cleanEnv(t *testing.T) {
	for _, v := range []string{"VERSION_CONTROL", "SIMPLE_BACKUP_SUFFIX", "COWCP_CLONE_CHUNK"} {
		t.Setenv(v, "")
	}
	unsetenv(t, "POSIXLY_CORRECT") // set at all, even empty, it changes getopt
}

func unsetenv(t *testing.T, name string) {
	t.Setenv(name, "") // restored after the test
	os.Unsetenv(name)
}

var (
	defaults = tree.Preserve{Mode: true, Ownership: true, Timestamps: true}
	all      = tree.Preserve{Mode: true, Ownership: true, Timestamps: true, Links: true, Xattr: true}
)

func TestParseReadsCpsCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args  string
		files []string
		check func(c *cli, o tree.Options) bool
	}{
		// Clusters, values in a cluster or the next argument, and "--".
		{"-aRv x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Recursive && c.verbose && o.Deref == tree.DerefNever && o.Preserve == all
		}},
		{"-S~ x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.BackupSuffix == "~" && o.Backup == tree.BackupExisting
		}},
		{"-S.old x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.BackupSuffix == ".old" }},
		{"-t dir x", []string{"x"}, func(c *cli, o tree.Options) bool { return c.targetDir == "dir" }},
		{"-tdir x", []string{"x"}, func(c *cli, o tree.Options) bool { return c.targetDir == "dir" }},
		{"-vtdir x", []string{"x"}, func(c *cli, o tree.Options) bool { return c.targetDir == "dir" && c.verbose }},
		{"-t -n x", []string{"x"}, func(c *cli, o tree.Options) bool {
			return c.targetDir == "-n" && o.Overwrite == tree.OverwriteAlways
		}},
		// -S takes "--backup" as its suffix: cp makes d--backup.
		{"-S --backup s d", []string{"s", "d"}, func(c *cli, o tree.Options) bool {
			return o.BackupSuffix == "--backup" && o.Backup == tree.BackupExisting
		}},
		{"-- -a b", []string{"-a", "b"}, func(c *cli, o tree.Options) bool { return !o.Recursive }},
		{"x -v y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return c.verbose }},
		{"x - y", []string{"x", "-", "y"}, func(c *cli, o tree.Options) bool { return true }},
		// Long options by unambiguous prefix, cp's before cowcp's own.
		{"--rem x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteRemoveFirst }},
		{"--parent x d", []string{"x", "d"}, func(c *cli, o tree.Options) bool { return c.parents }},
		{"--path x d", []string{"x", "d"}, func(c *cli, o tree.Options) bool { return c.parents }},
		{"--pa x d", []string{"x", "d"}, func(c *cli, o tree.Options) bool { return c.parents }},
		{"--no-clob x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"--sy x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.SymLink && !c.sync }},
		{"--pr x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Preserve == defaults && c.progress == "auto" }},
		{"--pro=never --dry --js --jo 3 --q x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return c.progress == "never" && c.dryRun && c.json && o.Jobs == 3 && c.quiet
		}},
		{"-j3 --sync x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Jobs == 3 && o.MeasureFS }},
		// Values by unambiguous prefix; optional values only after '='.
		{"--reflink x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Reflink == tree.ReflinkAlways }},
		{"--reflink=al x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Reflink == tree.ReflinkAlways }},
		{"--reflink=n x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Reflink == tree.ReflinkNever }},
		{"--b=simple x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupSimple }},
		{"--backup=nu x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupNumbered }},
		{"--backup=ni x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupExisting }},
		{"--backup x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupExisting }},
		{"--backup=t -b x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupNumbered }},
		{"--backup=none x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Backup == tree.BackupNone }},
		{"--preserve=link x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Preserve == tree.Preserve{Links: true} }},
		{"--preserve=t,x x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Preserve == tree.Preserve{Timestamps: true, Xattr: true}
		}},
		{"--preserve x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Preserve == defaults }},
		{"--no-preserve all x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.DefaultMode }},
		{"--sparse=al x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Sparse == tree.SparseAlways }},
		{"--sparse never x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Sparse == tree.SparseNever && o.Reflink == tree.ReflinkAuto // cp 9.1 still clones
		}},
		// The last of -n and -i wins; -f is neither.
		{"-n -i x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteAsk }},
		{"-i -n x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"-in x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"--interactive --no-clobber x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"-i -f x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteAsk && o.Force }},
		{"-n -f x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever && o.Force }},
		// The last of -P, -d, -a, -L and -H wins.
		{"-aL x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Deref == tree.DerefAlways }},
		{"-La x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Deref == tree.DerefNever }},
		{"-H -P x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Deref == tree.DerefNever }},
		{"--dereference -d x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Deref == tree.DerefNever && o.Preserve.Links
		}},
		{"-d -H x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Deref == tree.DerefCommandLine }},
		{"x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Deref == tree.DerefDefault }},
		// --preserve and --no-preserve in order.
		{"--no-preserve=mode --preserve=all x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Preserve == all && !o.DefaultMode
		}},
		{"--preserve=all --no-preserve=mode x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return !o.Preserve.Mode && o.Preserve.Links && o.DefaultMode
		}},
		{"-a --no-preserve=timestamps x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Preserve.Mode && !o.Preserve.Timestamps && !o.DefaultMode
		}},
		{"--no-preserve=mode -p x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.Preserve.Mode && !o.DefaultMode
		}},
		// cp 9.5's --update.
		{"-u x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Update && o.Overwrite == tree.OverwriteAlways }},
		{"--update x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Update }},
		{"--update=older x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Update }},
		{"-u --update=all x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return !o.Update && !o.RefuseExisting }},
		{"--update=none x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"--update=none -i x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"-n --update=all x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Overwrite == tree.OverwriteNever }},
		{"--update=none-f x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return o.RefuseExisting && o.Overwrite == tree.OverwriteAlways && !o.Update
		}},
		{"--update=none-fail -n x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool {
			return !o.RefuseExisting && o.Overwrite == tree.OverwriteNever
		}},
		{"--upd=o x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.Update }},
		// cp 9.5's other options.
		{"--debug x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return c.debug && c.verbose }},
		{"--keep-directory-symlink -R x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.KeepDirSymlink }},
		{"--keep x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.KeepDirSymlink }},
		{"-Z x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return len(c.warnings) == 0 }},
		{"--context x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return len(c.warnings) == 0 }},
		{"--copy-contents -r x y", []string{"x", "y"}, func(c *cli, o tree.Options) bool { return o.CopyContents }},
	} {
		t.Run(tc.args, func(t *testing.T) {
			cleanEnv(t)
			c, o := parsed(t, strings.Fields(tc.args)...)
			if !slices.Equal(c.files, tc.files) {
				t.Errorf("operands %q, want %q", c.files, tc.files)
			}
			if !tc.check(c, o) {
				t.Errorf("read as %+v\noptions %+v", *c, o)
			}
		})
	}
}

func TestParseFromEnvironment(t *testing.T) {
	cleanEnv(t)
	t.Setenv("VERSION_CONTROL", "nu")
	if _, o := parsed(t, "-b", "x", "y"); o.Backup != tree.BackupNumbered {
		t.Errorf("VERSION_CONTROL=nu -b: %v, want numbered", o.Backup)
	}
	if _, o := parsed(t, "--backup=", "x", "y"); o.Backup != tree.BackupNumbered {
		t.Errorf("VERSION_CONTROL=nu --backup=: %v, want numbered", o.Backup)
	}
	t.Setenv("SIMPLE_BACKUP_SUFFIX", ".orig")
	if _, o := parsed(t, "-b", "x", "y"); o.BackupSuffix != ".orig" {
		t.Errorf("SIMPLE_BACKUP_SUFFIX=.orig: suffix %q", o.BackupSuffix)
	}
	if _, o := parsed(t, "-S", "../up", "x", "y"); o.BackupSuffix != "~" {
		t.Errorf("-S ../up: suffix %q; a suffix naming another directory is not used", o.BackupSuffix)
	}
	t.Setenv("POSIXLY_CORRECT", "1")
	if c, _ := parsed(t, "x", "-v", "y"); c.verbose || !slices.Equal(c.files, []string{"x", "-v", "y"}) {
		t.Errorf("POSIXLY_CORRECT: -v after an operand read as an option: %q", c.files)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args string
		msg  string
		try  bool
	}{
		{"--x", "unrecognized option '--x'", true},
		{"--p x y", "option '--p' is ambiguous; possibilities: '--parents' '--preserve'", true},
		{"--pa=1 x y", "option '--parents' doesn't allow an argument", true},
		{"--suffix", "option '--suffix' requires an argument", true},
		{"-vk x y", "invalid option -- 'k'", true},
		{"-S", "option requires an argument -- 'S'", true},
		{"-t a -t b x", "multiple target directories specified", false},
		{"-b -n x y", "options --backup and --no-clobber are mutually exclusive", true},
		{"-b --update=none-fail x y", "--backup is mutually exclusive with -n or --update=none-fail", true},
		{"-ls x y", "cannot make both hard and symbolic links", true},
		{"--reflink --sparse=always x y", "--reflink can be used only with --sparse=auto", true},
		{"-j -1 x y", "invalid number of jobs: '-1'", true},
	} {
		t.Run(tc.args, func(t *testing.T) {
			cleanEnv(t)
			_, err := parseArgs(strings.Fields(tc.args))
			ue, ok := err.(*usageError)
			if !ok || ue.msg != tc.msg || ue.try != tc.try {
				t.Errorf("error %#v, want %q (hint %v)", err, tc.msg, tc.try)
			}
		})
	}
}

func TestArgmatchListsValidArguments(t *testing.T) {
	t.Setenv("LC_ALL", "C")
	_, err := argmatch("backup type", "n", backupChoices)
	want := "ambiguous argument 'n' for 'backup type'\nValid arguments are:" +
		"\n  - 'none', 'off'\n  - 'simple', 'never'\n  - 'existing', 'nil'\n  - 'numbered', 't'"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	t.Setenv("LC_ALL", "C.UTF-8")
	if _, err := argmatch("--update", "x", updateChoices); err == nil ||
		!strings.HasPrefix(err.Error(), "invalid argument \u2018x\u2019 for \u2018--update\u2019\n") {
		t.Errorf("in a UTF-8 locale: %v", err)
	}
	// A locale that is named but not installed is the C locale to cp.
	t.Setenv("LC_ALL", "xx_NOWHERE.UTF-8")
	if q := newQuoter().quote("it's\n"); q != `'it\'s\n'` {
		t.Errorf("quote in the C locale: %s", q)
	}
}
