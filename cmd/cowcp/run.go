//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/cowcp/cowcp/internal/errwriter"
	"github.com/cowcp/cowcp/tree"
	"github.com/cowcp/cowcp/tree/cpmsg"
)

// Exit statuses. A signal gives 128+N (see interrupt).
const (
	exitOK     = 0
	exitFailed = 1 // some files could not be copied or changed while read, or stdout could not be written
	exitUsage  = 1 // the command line was wrong: 1, as cp's
)

// run is the whole command, testable without exec.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// As with cp, output that cannot be written (stdout on a full disk)
	// does not stop the copy; it is reported at the end, exit status 1.
	out := errwriter.New(stdout)
	c, err := parseArgs(args)
	if !c.quiet {
		for _, w := range c.warnings {
			fmt.Fprintf(stderr, "%s: %s\n", progName, w)
		}
	}
	switch {
	case err != nil:
		return usage(stderr, err)
	case c.help || c.version:
		if c.help {
			printHelp(out)
		} else {
			printVersion(out)
		}
		if out.Err() != nil {
			return writeError(stderr, out.Err())
		}
		return exitOK
	}
	opts, err := c.options()
	if err != nil {
		return usage(stderr, err)
	}
	targets, err := tree.Operands{
		Args: c.files, TargetDir: c.targetDir, NoTargetDir: c.noTargetDir, Parents: c.parents,
		StripSlashes: c.stripSlashes,
	}.Resolve()
	if err != nil {
		var ue *tree.UsageError
		if errors.As(err, &ue) {
			return usage(stderr, badUsage("%s", ue.Msg))
		}
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitFailed
	}

	return copyTargets(c, opts, targets, stdin, out, stderr)
}

// copyTargets copies every target, with the reporter on the terminal and
// signals watched, and says how it ended: cp's exit status, or death by the
// signal that stopped it.
func copyTargets(c *cli, opts tree.Options, targets []tree.Target, stdin io.Reader, out *errwriter.Writer, stderr io.Writer) int {
	sw := newSignalWatch()
	defer sw.stop()
	ctx := sw.ctx
	opts.Arm = sw.arm
	out.OnError = func(err error) {
		// cp dies of SIGPIPE when the reader of its output goes away;
		// cowcp stops the same way, cleaning up first.
		if errors.Is(err, syscall.EPIPE) {
			sw.cancel(interrupt{syscall.SIGPIPE})
		}
	}
	rep := newReporter(c, out, stderr)
	opts.Observe = rep.observe
	if opts.Overwrite == tree.OverwriteAsk {
		opts.Prompt = rep.prompter(stdin)
	}
	if !c.quiet {
		opts.Warn = rep.warnings()
		opts.Name = progName
	}
	// The saved bytes are shown only in the summary and the JSON report.
	opts.UnreadSaved = !rep.summary && !c.json
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
	case stats.Errors > 0 || stats.Changed > 0:
		// A copy of a file that changed while it was read may mix its
		// old and new content: like tar, cowcp keeps it and says so.
		return exitFailed
	}
	return exitOK
}

// usage reports a command-line mistake in cp's words, most with cp's hint
// to --help.
func usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", progName, err)
	var ue *usageError
	if !errors.As(err, &ue) || ue.try {
		fmt.Fprintf(stderr, "Try '%s --help' for more information.\n", progName)
	}
	return exitUsage
}

// writeError reports output that could not be written, in cp's words.
func writeError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: write error: %s\n", progName, cpmsg.Reason(err))
	return exitFailed
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
	if s.ChangedFiles == nil {
		s.ChangedFiles = []string{}
	}
	_ = enc.Encode(s)
}
