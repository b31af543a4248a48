//go:build linux

package tree

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// Target is one source operand and the name it is copied to.
type Target struct {
	Dst, Src string
}

// UsageError is a command-line mistake: cp prints it with a hint to --help.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Operands are the command line's file operands and target options.
type Operands struct {
	Args        []string // every non-option argument, in order
	TargetDir   string   // -t DIRECTORY
	NoTargetDir bool     // -T
	Parents     bool     // --parents
	// StripSlashes removes trailing slashes from sources
	// (--strip-trailing-slashes).
	StripSlashes bool
}

// Resolve turns operands into targets with cp's rules: with -t every
// argument is a source; otherwise the last is the destination, which must
// be a directory for several sources; a single source goes into DEST when
// DEST is a directory, unless -T. Problems that stop the whole command are
// returned as an error (a *UsageError for usage mistakes).
func (o Operands) Resolve() ([]Target, error) {
	args := o.Args
	if len(args) == 0 {
		return nil, &UsageError{"missing file operand"}
	}
	dest := o.TargetDir
	if o.TargetDir != "" {
		if o.NoTargetDir {
			// cp says this one without the hint to --help.
			return nil, fmt.Errorf("cannot combine --target-directory (-t) and --no-target-directory (-T)")
		}
		if !isDir(dest) {
			return nil, targetNotDir("target directory", dest)
		}
	} else {
		if len(args) == 1 {
			return nil, &UsageError{fmt.Sprintf("missing destination file operand after %s", cpmsg.Quote(args[0]))}
		}
		dest, args = args[len(args)-1], args[:len(args)-1]
		if o.NoTargetDir {
			if len(args) > 1 {
				// cp names the first operand past SOURCE DEST.
				return nil, &UsageError{fmt.Sprintf("extra operand %s", cpmsg.Quote(o.Args[2]))}
			}
			return []Target{{Dst: dest, Src: o.source(args[0])}}, nil
		}
		if len(args) > 1 || o.Parents {
			if !isDir(dest) {
				if o.Parents && len(args) == 1 {
					return nil, &UsageError{"with --parents, the destination must be a directory"}
				}
				return nil, targetNotDir("target", dest)
			}
		} else if !isDir(dest) {
			return []Target{{Dst: dest, Src: o.source(args[0])}}, nil
		}
	}
	targets := make([]Target, 0, len(args))
	for _, src := range args {
		src = o.source(src)
		name := filepath.Base(src)
		if o.Parents {
			name = strings.TrimLeft(src, "/")
		}
		targets = append(targets, Target{Dst: joinDisplay(dest, name), Src: src})
	}
	return targets, nil
}

// source is a source operand as copied: without its trailing slashes
// under --strip-trailing-slashes.
func (o Operands) source(src string) string {
	if o.StripSlashes {
		if s := strings.TrimRight(src, "/"); s != "" {
			return s
		}
	}
	return src
}

// targetNotDir is cp's complaint about a destination that must be a
// directory: "target 'x': Not a directory", or why it could not be seen.
func targetNotDir(what, dest string) error {
	err := error(unix.ENOTDIR)
	var st unix.Stat_t
	if serr := statat(unix.AT_FDCWD, dest, &st); serr != nil {
		err = serr
	}
	return pathErr(what, dest, err)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
