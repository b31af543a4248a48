package tree

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/tree/cpmsg"
)

// TestOperandsResolve runs in a directory holding a file "f", an empty
// directory "d" and nothing else, naming operands as a user would.
func TestOperandsResolve(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("f", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("d", "dlink"); err != nil {
		t.Fatal(err)
	}

	type tg = Target
	cases := []struct {
		name  string
		ops   Operands
		want  []Target
		err   string // the whole message, when an error is expected
		usage bool   // the error is a *UsageError
	}{
		{name: "NewName", ops: Operands{Args: []string{"a", "new"}},
			want: []tg{{Dst: "new", Src: "a"}}},
		{name: "OverExistingFile", ops: Operands{Args: []string{"a", "f"}},
			want: []tg{{Dst: "f", Src: "a"}}},
		{name: "IntoDir", ops: Operands{Args: []string{"a", "d"}},
			want: []tg{{Dst: "d/a", Src: "a"}}},
		{name: "IntoDirSymlink", ops: Operands{Args: []string{"a", "dlink"}},
			want: []tg{{Dst: "dlink/a", Src: "a"}}},
		{name: "IntoDirSlash", ops: Operands{Args: []string{"x/y/a", "d/"}},
			want: []tg{{Dst: "d/a", Src: "x/y/a"}}},
		{name: "SeveralIntoDir", ops: Operands{Args: []string{"a", "b/c", "d"}},
			want: []tg{{Dst: "d/a", Src: "a"}, {Dst: "d/c", Src: "b/c"}}},
		{name: "SeveralNoDir", ops: Operands{Args: []string{"a", "b", "x"}},
			err: "target 'x': No such file or directory"},
		{name: "SeveralOntoFile", ops: Operands{Args: []string{"a", "b", "f"}},
			err: "target 'f': Not a directory"},
		{name: "SourceTrailingSlash", ops: Operands{Args: []string{"src/", "d"}},
			want: []tg{{Dst: "d/src", Src: "src/"}}},
		{name: "SourceDot", ops: Operands{Args: []string{"src/.", "d"}},
			want: []tg{{Dst: "d/.", Src: "src/."}}},
		{name: "SourceSlashNewName", ops: Operands{Args: []string{"src/", "new"}},
			want: []tg{{Dst: "new", Src: "src/"}}},
		{name: "StripSlashes", ops: Operands{Args: []string{"src//", "d"}, StripSlashes: true},
			want: []tg{{Dst: "d/src", Src: "src"}}},
		{name: "TargetDir", ops: Operands{Args: []string{"a", "b"}, TargetDir: "d"},
			want: []tg{{Dst: "d/a", Src: "a"}, {Dst: "d/b", Src: "b"}}},
		{name: "TargetDirOneSource", ops: Operands{Args: []string{"a"}, TargetDir: "d"},
			want: []tg{{Dst: "d/a", Src: "a"}}},
		{name: "TargetDirNoSource", ops: Operands{TargetDir: "d"},
			err: "missing file operand", usage: true},
		{name: "NoTargetDir", ops: Operands{Args: []string{"a", "d"}, NoTargetDir: true},
			want: []tg{{Dst: "d", Src: "a"}}},
		{name: "NoTargetDirExtra", ops: Operands{Args: []string{"a", "b", "c"}, NoTargetDir: true},
			err: "extra operand 'c'", usage: true},
		{name: "NoTargetDirExtraDir", ops: Operands{Args: []string{"a", "b", "d"}, NoTargetDir: true},
			err: "extra operand 'd'", usage: true},
		{name: "BothTargetOptions", ops: Operands{Args: []string{"a"}, TargetDir: "d", NoTargetDir: true},
			err: "cannot combine --target-directory (-t) and --no-target-directory (-T)"},
		{name: "NoOperands", ops: Operands{},
			err: "missing file operand", usage: true},
		{name: "NoDestination", ops: Operands{Args: []string{"a"}},
			err: "missing destination file operand after 'a'", usage: true},
		{name: "NoDestinationQuoted", ops: Operands{Args: []string{"it's"}},
			err: `missing destination file operand after "it's"`, usage: true},
		{name: "Parents", ops: Operands{Args: []string{"a/b/c", "/abs/e", "d"}, Parents: true},
			want: []tg{{Dst: "d/a/b/c", Src: "a/b/c"}, {Dst: "d/abs/e", Src: "/abs/e"}}},
		{name: "ParentsNoDir", ops: Operands{Args: []string{"a/b", "x"}, Parents: true},
			err: "with --parents, the destination must be a directory", usage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ops.Resolve()
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("Resolve = %+v, want %+v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve = %+v, want error %q", got, tc.err)
			}
			if err.Error() != tc.err {
				t.Errorf("error %q, want %q", err, tc.err)
			}
			var ue *UsageError
			if isUsage := errors.As(err, &ue); isUsage != tc.usage {
				t.Errorf("error %q is a UsageError: %v, want %v", err, isUsage, tc.usage)
			}
		})
	}

	// -t naming something that is not a directory stops the command; the
	// message names it (cp: "target directory 'x': ...").
	for _, dir := range []string{"missing", "f"} {
		_, err := Operands{Args: []string{"a"}, TargetDir: dir}.Resolve()
		if err == nil || !strings.Contains(err.Error(), cpmsg.Quote(dir)) {
			t.Errorf("-t %s: error %v, want one naming %s", dir, err, cpmsg.Quote(dir))
		}
		var ue *UsageError
		if errors.As(err, &ue) {
			t.Errorf("-t %s: %q is a usage error; cp exits 1 for it, not 2", dir, err)
		}
	}
}
