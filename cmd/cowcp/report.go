//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

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

	stopCount func()       // ends the counter of the sources, nil without one
	resize    *resizeWatch // nil until the bar is first drawn
	flushing  bool         // a draw of what the bar has not drawn is due
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
	// cp -v's lines are a listing, often read through another program
	// (| less, | tee): a bar drawn on the terminal meanwhile would land
	// among lines that program prints when it likes. So with -v the bar is
	// drawn by default only where the reporter writes those lines itself,
	// on stderr (--json); --progress=always asks for it anyway, and the
	// lines then take the bar's line as any message does.
	auto := c.progress == "auto" && isTerminal(stderr) && (!c.verbose || r.verbose == stderr)
	if (c.progress == "always" || auto) && !c.quiet {
		r.bar = newBar(stderr)
		if !c.dryRun {
			r.countSources()
		}
	}
	return r
}

// countSources starts the counter of the sources (see counter), for the
// bar's total. Only with a bar: a copy nobody watches does not pay for a
// second walk.
func (r *reporter) countSources() {
	targets, err := tree.Operands{
		Args: r.c.files, TargetDir: r.c.targetDir, NoTargetDir: r.c.noTargetDir, Parents: r.c.parents,
		StripSlashes: r.c.stripSlashes,
	}.Resolve()
	if err != nil {
		return // run reports it, and copies nothing
	}
	srcs := make([]string, len(targets))
	for i, t := range targets {
		srcs[i] = t.Src
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stopCount = cancel
	startCounter(ctx, srcs, countRulesFor(r.c), r.counted)
}

// counted takes the counter's figures to the bar.
func (r *reporter) counted(bytes, entries int64, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bar.setTotal(bytes, entries, complete)
	r.barChanged()
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
		if r.bar != nil {
			// What it did not copy is not to be waited for.
			r.bar.skip(max(ev.Bytes-ev.Progress, 0), 0)
			r.barChanged()
		}
		return
	}
	if r.c.dryRun {
		if !ev.Partial {
			r.plan(ev)
		}
		return
	}
	if r.verbose != nil && !ev.Partial {
		r.verboseLines(ev)
	}
	if r.bar != nil {
		switch {
		case ev.Partial:
			r.bar.add(ev.Progress, 0)
		case ev.Skipped:
			r.bar.skip(ev.Bytes, 1)
		default:
			r.bar.add(ev.Progress, 1)
		}
		r.barChanged()
	}
}

// verboseLines prints -v's (and --debug's) lines for the entry ev, the bar
// cleared first; the bar's update that follows draws it again below them.
func (r *reporter) verboseLines(ev tree.Event) {
	if ev.Skipped {
		if r.c.debug && ev.Kind != tree.KindDir {
			r.clearBar()
			fmt.Fprintf(r.verbose, "skipped %s\n", cpmsg.Quote(ev.Dst))
		}
		return
	}
	r.clearBar()
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
		r.barChanged()
	}
}

// barChanged follows a change of the bar's figures or its line, holding mu:
// it starts the resizeWatch once the bar is first drawn, and makes sure a
// change the bar did not draw (within its interval, or a line cleared for
// a message) is drawn when the interval is over. The copy may then sit on
// one large file or wait for a question's answer, and the line would be
// missing, or show figures that are not true any more, until it moves.
func (r *reporter) barChanged() {
	r.watchResize()
	if r.flushing {
		return
	}
	d, ok := r.bar.undrawn()
	if !ok {
		return
	}
	r.flushing = true
	time.AfterFunc(d, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.flushing = false
		r.bar.update(true)
		r.barChanged()
	})
}

// resizeWatch draws the bar again when the terminal's size changes
// (SIGWINCH), at once rather than at the next update, which may be a
// while away during a large file: a line wider than the narrowed terminal
// would stay cut or wrapped until then.
type resizeWatch struct {
	sigs chan os.Signal
	done chan struct{}
}

// watchResize starts the resizeWatch once the bar has been drawn: a copy
// that never draws it installs no handler. Called holding mu.
func (r *reporter) watchResize() {
	if r.resize != nil || !r.bar.shown() || r.bar.done {
		return
	}
	w := &resizeWatch{sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(w.sigs, syscall.SIGWINCH)
	go func() {
		for {
			select {
			case <-w.done:
				return
			case <-w.sigs:
				r.mu.Lock()
				r.bar.resized()
				r.mu.Unlock()
			}
		}
	}()
	r.resize = w
}

func (w *resizeWatch) stop() {
	signal.Stop(w.sigs)
	close(w.done)
}

func (r *reporter) finish(s *tree.Stats) {
	if r.stopCount != nil {
		r.stopCount() // not waited for: it stops at its next directory
	}
	if r.bar != nil {
		r.mu.Lock()
		if r.resize != nil {
			r.resize.stop()
		}
		r.bar.finish(!s.Interrupted)
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
