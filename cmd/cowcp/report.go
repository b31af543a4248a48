//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/cowcp/cowcp/tree"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/term"
)

// reporter prints what the collector tells it: errors as they happen,
// verbose lines, the progress bar, and the summary or JSON at the end.
// Observe and warnings come from the collector; -i questions come from a
// worker, so the terminal is mu's: whoever writes on it holds mu, and the
// bar is cleared first, so a question or a message never shares its line
// with the bar, and the bar is not redrawn while a question waits.
type reporter struct {
	c              *cli
	stdout, stderr io.Writer
	verbose        io.Writer
	mu             sync.Mutex
	bar            *bar // nil without a progress line
	summary        bool // print the summary line at the end
	planned        int  // --dry-run --json entries written
}

func newReporter(c *cli, stdout, stderr io.Writer) *reporter {
	r := &reporter{c: c, stdout: stdout, stderr: stderr}
	if c.verbose {
		// Verbose lines go to stdout like cp's, unless stdout carries JSON.
		r.verbose = stdout
		if c.json {
			r.verbose = stderr
		}
	}
	// A successful cp prints nothing, and scripts check for an empty
	// stderr: the summary is for a person at a terminal.
	r.summary = !c.quiet && !c.json && isTerminal(stderr)
	showBar := c.progress == "always" || (c.progress == "auto" && isTerminal(stderr))
	if showBar && !c.quiet && !c.verbose {
		r.bar = newBar(stderr)
	}
	return r
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (r *reporter) observe(ev tree.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Err != nil {
		r.clearBar()
		fmt.Fprintf(r.stderr, "%s: %v\n", progName, ev.Err)
		return
	}
	if r.c.dryRun {
		if !ev.Partial {
			r.plan(ev)
		}
		return
	}
	if r.bar != nil {
		var entries int64
		if !ev.Partial {
			entries = 1
		}
		r.bar.add(ev.Progress, entries)
	}
	if r.verbose == nil || ev.Partial {
		return
	}
	if ev.Skipped {
		if r.c.debug && ev.Kind != tree.KindDir {
			fmt.Fprintf(r.verbose, "skipped %s\n", cpmsg.Quote(ev.Dst))
		}
		return
	}
	if ev.Method != tree.MethodNone {
		fmt.Fprintf(r.verbose, "%s -> %s (%s)\n", cpmsg.Quote(ev.Src), cpmsg.Quote(ev.Dst), ev.Method)
	} else {
		fmt.Fprintf(r.verbose, "%s -> %s\n", cpmsg.Quote(ev.Src), cpmsg.Quote(ev.Dst))
	}
	if r.c.debug && ev.Kind == tree.KindFile && !r.c.attrsOnly &&
		ev.Method != tree.MethodHardlink && ev.Method != tree.MethodSymlink {
		fmt.Fprintln(r.verbose, debugLine(ev.Method, r.c.reflink))
	}
}

// debugLine is cp 9.5's --debug line for a regular file's data, in cp's
// terms for what cowcp did: whether copy_file_range copied it (copy
// offload), whether it was cloned (reflink), and how its holes were found
// (sparse detection: SEEK_HOLE runs, in which zero blocks become holes too).
func debugLine(m tree.Method, policy tree.Reflink) string {
	offload, reflink, sparse := "unsupported", "unsupported", "no"
	if policy == tree.ReflinkNever {
		offload, reflink = "avoided", "no"
	}
	switch m {
	case tree.MethodFiclone, tree.MethodFicloneRange, tree.MethodShared:
		offload, reflink, sparse = "unknown", "yes", "unknown"
	case tree.MethodCopyFileRange:
		offload = "yes"
	case tree.MethodSparse:
		offload, sparse = "avoided", "SEEK_HOLE + zeros"
	case tree.MethodReadWrite:
	default: // no data to copy: nothing was tried
		offload, reflink, sparse = "unknown", "unknown", "unknown"
	}
	return fmt.Sprintf("copy offload: %s, reflink: %s, sparse detection: %s", offload, reflink, sparse)
}

// warnings is the writer for the copy's notices: the bar steps aside.
func (r *reporter) warnings() io.Writer { return lockedWriter{r} }

type lockedWriter struct{ r *reporter }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.r.clearBar()
	return w.r.stderr.Write(p)
}

// prompter asks -i questions on stderr and reads answers from stdin, as cp
// does: an answer starting with y or Y is yes. The bar is cleared and holds
// still until the answer is in.
func (r *reporter) prompter(stdin io.Reader) func(string) bool {
	in := bufio.NewReader(stdin)
	return func(q string) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.clearBar()
		fmt.Fprintf(r.stderr, "%s: %s", progName, q)
		line, _ := in.ReadString('\n')
		return strings.HasPrefix(line, "y") || strings.HasPrefix(line, "Y")
	}
}

func (r *reporter) clearBar() {
	if r.bar != nil {
		r.bar.clear()
	}
}

func (r *reporter) finish(s *tree.Stats) {
	if r.bar != nil {
		r.mu.Lock()
		r.bar.finish()
		r.mu.Unlock()
	}
	if r.c.json {
		if r.c.dryRun {
			r.endPlan(s)
			return
		}
		writeJSON(r.stdout, s)
		return
	}
	if r.c.dryRun {
		fmt.Fprintln(r.stderr, s.PlanSummary())
		return
	}
	if r.summary {
		fmt.Fprintln(r.stderr, summaryLine(s))
	}
}

// summaryLine is the summary and, where some pair of filesystems could not
// clone, which and why.
func summaryLine(s *tree.Stats) string {
	line := s.Summary()
	if nc := s.NotClonedSummary(); nc != "" {
		line += "; " + nc
	}
	return line
}
