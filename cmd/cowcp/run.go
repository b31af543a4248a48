package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/cowcp/cowcp/internal/errwriter"
	"github.com/cowcp/cowcp/tree"
)

// Exit statuses. A signal gives 128+N (see interrupt).
const (
	exitOK     = 0
	exitFailed = 1 // some files could not be copied, or stdout could not be written
	exitUsage  = 2 // the command line was wrong
)

// run is the whole command, testable without exec.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// As with cp, output that cannot be written (stdout on a full disk)
	// does not stop the copy; it is reported at the end, exit status 1.
	out := errwriter.New(stdout)
	var c cli
	exit := -1
	parser := newParser(&c, out, stderr, kong.Exit(func(code int) { exit = code }))
	_, err := parser.Parse(expandOptional(args))
	if out.Err() != nil {
		return writeError(stderr, out.Err()) // --help or --version
	}
	if exit >= 0 {
		return exit // --help or --version
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nTry '%s --help' for more information.\n", progName, err, progName)
		return exitUsage
	}
	opts, err := c.options(args, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nTry '%s --help' for more information.\n", progName, err, progName)
		return exitUsage
	}
	targets, err := tree.Operands{
		Args: c.Files, TargetDir: c.TargetDir, NoTargetDir: c.NoTargetDir, Parents: c.Parents,
		StripSlashes: c.StripSlashes,
	}.Resolve()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		var ue *tree.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Try '%s --help' for more information.\n", progName)
			return exitUsage
		}
		return exitFailed
	}

	ctx, cancel, stop := watchSignals()
	defer stop()
	out.OnError = func(err error) {
		// cp dies of SIGPIPE when the reader of its output goes away;
		// cowcp stops the same way, cleaning up first.
		if errors.Is(err, syscall.EPIPE) {
			cancel(interrupt{syscall.SIGPIPE})
		}
	}
	rep := newReporter(&c, out, stderr)
	opts.Observe = rep.observe
	if !c.Quiet {
		opts.Warn = stderr
		opts.Name = progName
	}
	copier := tree.New(ctx, opts)
	for _, t := range targets {
		copier.Copy(t.Dst, t.Src)
	}
	stats := copier.Close()
	rep.finish(&stats)

	var in interrupt
	switch {
	case errors.As(context.Cause(ctx), &in):
		// Killed by SIGPIPE, cp says nothing, and neither does the shell.
		if in.sig != syscall.SIGPIPE {
			fmt.Fprintf(stderr, "%s: %v\n", progName, in)
		}
		return in.exitStatus()
	case out.Err() != nil:
		return writeError(stderr, out.Err())
	case stats.Errors > 0:
		return exitFailed
	}
	return exitOK
}

// writeError reports output that could not be written, in cp's words.
func writeError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: write error: %s\n", progName, tree.Reason(err))
	return exitFailed
}

// newParser builds the command line's parser around c.
func newParser(c *cli, stdout, stderr io.Writer, opts ...kong.Option) *kong.Kong {
	parser, err := kong.New(c, append([]kong.Option{
		kong.Name(progName),
		kong.Description(description),
		kong.Vars{"version": "cowcp " + version},
		kong.Writers(stdout, stderr),
	}, opts...)...)
	if err != nil {
		panic(err) // the CLI struct itself is wrong: a programming error
	}
	return parser
}

// expandOptional gives cp's options with optional values (--backup,
// --preserve) their default value when written bare, since the parser
// only knows options that always or never take one.
func expandOptional(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		switch a {
		case "--backup":
			a = "--backup=" + defaultBackupControl()
		case "--preserve":
			a = "--preserve=mode,ownership,timestamps"
		}
		out = append(out, a)
	}
	return out
}

func defaultBackupControl() string {
	if v := os.Getenv("VERSION_CONTROL"); v != "" {
		return v
	}
	return "existing"
}

// options turns the command line into tree.Options.
func (c *cli) options(args []string, stdin io.Reader, stderr io.Writer) (tree.Options, error) {
	o := tree.Options{
		Recursive:    c.Recursive || c.RecursiveLower || c.Archive,
		Jobs:         c.Jobs,
		OneFS:        c.OneFileSystem,
		Parents:      c.Parents,
		AttrsOnly:    c.AttributesOnly,
		CopyContents: c.CopyContents,
		// cp writes through a dangling destination symlink under POSIX.
		ThroughDangling: os.Getenv("POSIXLY_CORRECT") != "",
		HardLink:        c.Link,
		SymLink:         c.SymbolicLink,
		DryRun:          c.DryRun,
		MeasureFS:       c.Sync && !c.DryRun,
		Update:          c.Update,
		Force:           c.Force,
		BackupSuffix:    c.Suffix,
	}
	if c.Jobs < 0 {
		return o, fmt.Errorf("invalid number of jobs: %d", c.Jobs)
	}
	switch c.Reflink {
	case "always":
		o.Reflink = tree.ReflinkAlways
	case "never":
		o.Reflink = tree.ReflinkNever
	}
	switch c.Sparse {
	case "always":
		o.Sparse = tree.SparseAlways
	case "never":
		o.Sparse = tree.SparseNever
	}
	if v := os.Getenv("COWCP_CLONE_CHUNK"); v != "" {
		// For tests: a small chunk makes FICLONERANGE testable on small files.
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n < 64<<10 || n&(n-1) != 0 {
			return o, fmt.Errorf("COWCP_CLONE_CHUNK must be a power of two of at least 65536, not %q", v)
		}
		o.CloneChunk = n
	}

	// Symlinks: the last of -P (or -d, -a), -L and -H wins, as in cp.
	switch lastOption(args, derefGroup) {
	case "L":
		o.Deref = tree.DerefAlways
	case "H":
		o.Deref = tree.DerefCommandLine
	case "P":
		o.Deref = tree.DerefNever
	}

	if c.Archive {
		o.Preserve = tree.Preserve{Mode: true, Ownership: true, Timestamps: true, Links: true, Xattr: true, Context: true}
	}
	if c.PreserveDefault {
		o.Preserve.Mode, o.Preserve.Ownership, o.Preserve.Timestamps = true, true, true
	}
	if c.NoDerefPreserveLinks {
		o.Preserve.Links = true
	}
	if c.Preserve != "" {
		if err := setPreserve(&o.Preserve, c.Preserve, true); err != nil {
			return o, err
		}
	}
	if c.NoPreserve != "" {
		if err := setPreserve(&o.Preserve, c.NoPreserve, false); err != nil {
			return o, err
		}
		// cp: an explicit --no-preserve=mode means default permissions.
		o.DefaultMode = !o.Preserve.Mode
	}

	// The last of -n and -i wins, as in cp.
	switch lastOption(args, overwriteGroup) {
	case "n":
		o.Overwrite = tree.OverwriteNever
	case "i":
		o.Overwrite = tree.OverwriteAsk
		o.Prompt = prompter(stdin, stderr)
	default:
		if c.RemoveDest {
			o.Overwrite = tree.OverwriteRemoveFirst
		}
	}
	control := c.Backup
	if control == "" && (c.BackupExisting || c.Suffix != "") {
		// cp: -b takes its control from VERSION_CONTROL; -S implies -b.
		control = defaultBackupControl()
	}
	if control != "" {
		b, err := backupControl(control)
		if err != nil {
			return o, err
		}
		o.Backup = b
	}
	if c.Suffix == "" {
		o.BackupSuffix = os.Getenv("SIMPLE_BACKUP_SUFFIX")
	}
	if c.Link && c.SymbolicLink {
		return o, errors.New("cannot make both hard and symbolic links")
	}
	return o, nil
}

func setPreserve(p *tree.Preserve, list string, on bool) error {
	for _, a := range strings.Split(list, ",") {
		switch a {
		case "mode":
			p.Mode = on
		case "ownership":
			p.Ownership = on
		case "timestamps":
			p.Timestamps = on
		case "links":
			p.Links = on
		case "context":
			p.Context = on
		case "xattr":
			p.Xattr = on
		case "all":
			p.Mode, p.Ownership, p.Timestamps, p.Links, p.Context, p.Xattr = on, on, on, on, on, on
		default:
			return fmt.Errorf("invalid argument %s for '--preserve'", tree.Quote(a))
		}
	}
	return nil
}

func backupControl(s string) (tree.Backup, error) {
	switch s {
	case "none", "off":
		return tree.BackupNone, nil
	case "simple", "never":
		return tree.BackupSimple, nil
	case "numbered", "t":
		return tree.BackupNumbered, nil
	case "existing", "nil":
		return tree.BackupExisting, nil
	}
	return tree.BackupNone, fmt.Errorf("invalid argument %s for 'backup type'", tree.Quote(s))
}

// prompter asks -i questions on stderr and reads answers from stdin, as cp
// does: an answer starting with y or Y is yes.
func prompter(stdin io.Reader, stderr io.Writer) func(string) bool {
	in := bufio.NewReader(stdin)
	return func(q string) bool {
		fmt.Fprintf(stderr, "%s: %s", progName, q)
		line, _ := in.ReadString('\n')
		return strings.HasPrefix(line, "y") || strings.HasPrefix(line, "Y")
	}
}

// writeJSON prints the report object.
func writeJSON(w io.Writer, s *tree.Stats) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if s.Failures == nil {
		s.Failures = []tree.Failure{}
	}
	if s.NotCloned == nil {
		s.NotCloned = []tree.NotCloned{}
	}
	_ = enc.Encode(s)
}
