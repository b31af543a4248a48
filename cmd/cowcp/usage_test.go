package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gnuCp is the GNU cp the usage messages are compared with (9.1 on the CI
// machine: the cases are those where 9.1 and 9.5 say the same; "--=x"
// lists every option, and 9.5 has two more).
const gnuCp = "/usr/bin/cp"

// runGNU runs GNU cp in dir as "cp".
func runGNU(t *testing.T, dir string, args []string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := &exec.Cmd{Path: gnuCp, Args: append([]string{"cp"}, args...), Dir: dir,
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// A command-line mistake gets cp's words and cp's exit status 1, in the C
// locale and in a UTF-8 one (where cp quotes values ‘so’).
func TestUsageErrorsAreCps(t *testing.T) {
	if _, err := os.Stat(gnuCp); err != nil {
		t.Skipf("no GNU cp to compare with: %v", err)
	}
	if selinuxEnabled() {
		t.Skip("SELinux is on: cp's --preserve=context and --context mean other things here")
	}
	cases := []struct {
		args string
		env  string // NAME=value for both
	}{
		{args: "--x"},
		{args: "--x=1 a b"},
		{args: "-k a"},
		{args: "-aRk a b"},
		{args: "-a\u00e9 a b"}, // getopt names the byte 0xc3, not the rune U+00C3
		{args: "--p a b"},
		{args: "--re a b"},
		{args: "--no a b"},
		{args: "--s=x a b"},
		{args: "--v a b"},
		{args: "--st=x a b"},
		{args: "--archive=1 a b"},
		{args: "--help=x"},
		{args: "--version=1"},
		{args: "--suffix"},
		{args: "--t"},
		{args: "-t"},
		{args: "-S"},
		{args: "a -S"},
		{args: "--reflink=x a b"},
		{args: "--reflink= a b"},
		{args: "--sparse a b"},
		{args: "--sparse=x a b"},
		{args: "--sparse= a b"},
		{args: "--preserve=mode,foo a b"},
		{args: "--preserve= a b"},
		{args: "--no-preserve= a b"},
		{args: "--no-preserve a b"},
		{args: "--backup=x a b"},
		{args: "--b=n a b"},
		{args: "--backup=x --bogus a b"},
		{args: "--bogus --reflink=x a b"},
		{args: "--reflink=x --bogus a b"},
		{args: "-b a b", env: "VERSION_CONTROL=bogus"},
		{args: ""},
		{args: "a"},
		{args: "-v a"},
		{args: "-t d"},
		{args: "-T a b c"},
		{args: "-bn a b"},
		{args: "-n --backup=t a b"},
		{args: "-l -s a b"},
		{args: "--reflink --sparse=never a b"},
		{args: "--reflink=always --sparse=always a b"},
		{args: "-T -t d a"},
		{args: "-t d -t d a"},
		{args: "--pa a b"},
		{args: "--preserve=context a b"},
		{args: "--context=x a"},
		{args: "-Z a"},
		{args: "--update a"},
		{args: "-- -x"},
	}
	saved := progName
	progName = "cp"
	t.Cleanup(func() { progName = saved })
	for _, locale := range []string{"C", "C.UTF-8"} {
		for _, tc := range cases {
			t.Run(locale+"/"+tc.args, func(t *testing.T) {
				cleanEnv(t)
				t.Setenv("LC_ALL", locale)
				t.Setenv("LANGUAGE", "")
				if name, value, ok := strings.Cut(tc.env, "="); ok {
					t.Setenv(name, value)
				}
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
					t.Fatal(err)
				}
				args := strings.Fields(tc.args)
				wantCode, wantOut, wantErr := runGNU(t, dir, args)
				code, out, stderr := runT(t, dir, args...)
				if code != wantCode || out != wantOut || stderr != wantErr {
					t.Errorf("cp %s:\ncowcp: exit %d, stdout %q, stderr\n%s\ncp:    exit %d, stdout %q, stderr\n%s",
						tc.args, code, out, stderr, wantCode, wantOut, wantErr)
				}
				if wantCode != 1 {
					t.Errorf("cp %s: GNU cp exits %d: not a usage error to compare", tc.args, wantCode)
				}
			})
		}
	}
}
