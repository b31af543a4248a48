//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// runMainEnv makes the test binary cowcp itself (TestMain runs main): the
// pty tests run the command as a process of its own, on a terminal of its
// own, with the race detector when the tests have it, without a go build.
const runMainEnv = "COWCP_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// ptyRun is cowcp running with stdin, stdout and stderr on a
// pseudo-terminal, as in a terminal window: what it writes is read all
// along (a terminal that is not read blocks its writer), and played out on
// a screen model.
type ptyRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	tty    *os.File // the terminal's side: the test types and resizes here
	cols   int
	mu     sync.Mutex
	out    []byte
	resize []resize
	eof    chan struct{}
}

// startPTY starts cowcp in dir, on a terminal of cols columns.
func startPTY(t *testing.T, dir string, cols int, args ...string) *ptyRun {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	// pty.Start makes the terminal the process's controlling terminal, in
	// a session of its own: a resize sends it SIGWINCH, as a window does.
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: uint16(cols)})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{t: t, cmd: cmd, tty: tty, cols: cols, eof: make(chan struct{})}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		tty.Close()
	})
	go func() {
		defer close(p.eof)
		buf := make([]byte, 64<<10)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out = append(p.out, buf[:n]...)
			p.mu.Unlock()
			if err != nil {
				return // EIO once cowcp has exited and all is read
			}
		}
	}()
	return p
}

// screen plays out what cowcp wrote so far.
func (p *ptyRun) screen() *screen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return render(p.out, p.cols, p.resize)
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.out)
}

// waitFor waits until the screen satisfies ok.
func (p *ptyRun) waitFor(what string, ok func(*screen) bool) *screen {
	p.t.Helper()
	return p.waitWithin(30*time.Second, what, ok)
}

func (p *ptyRun) waitWithin(d time.Duration, what string, ok func(*screen) bool) *screen {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %s; the screen:\n%s", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quiet waits until cowcp has written nothing for d.
func (p *ptyRun) quiet(d time.Duration) {
	for n := -1; ; {
		p.mu.Lock()
		m := len(p.out)
		p.mu.Unlock()
		if m == n {
			return
		}
		n = m
		time.Sleep(d)
	}
}

// setCols resizes the terminal; the kernel sends cowcp SIGWINCH. What
// cowcp writes from now on is played out at the new width.
func (p *ptyRun) setCols(cols int) {
	p.t.Helper()
	p.mu.Lock()
	p.resize = append(p.resize, resize{at: len(p.out), cols: cols})
	p.mu.Unlock()
	if err := pty.Setsize(p.tty, &pty.Winsize{Rows: 50, Cols: uint16(cols)}); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyRun) typeIn(s string) {
	p.t.Helper()
	if _, err := p.tty.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for cowcp's exit and the end of its output, and returns its
// exit status and the final screen.
func (p *ptyRun) wait() (int, *screen) {
	p.t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.t.Fatal(err)
	}
	select {
	case <-p.eof:
	case <-time.After(10 * time.Second):
		p.t.Fatal("the terminal's output never ended")
	}
	s := p.screen()
	if len(s.odd) > 0 {
		p.t.Errorf("control sequences the bar does not use: %q", s.odd)
	}
	return p.cmd.ProcessState.ExitCode(), s
}

var (
	// barText is a whole line of the bar, in each of its forms as
	// bar.fields makes them (no count, counting, counted), the fields on
	// the right dropped where narrow, never cut: N a count, S a size, R
	// a rate.
	barText = regexp.MustCompile(expand(`^copying: (` +
		`N entr(y|ies)(, S( R)?)?` + `|` +
		`S( of S\+(, R)?(, N of N\+ entries)?)?` + `|` +
		`N entr(y|ies)( of N\+)?` + `|` +
		`\d+%( of S)?(, ETA [\d:]+)?(, R)?(, N of N entries)?` + `)$`))
	summaryRE = regexp.MustCompile(`^[\d,]+ files?, [\d.]+ [KMGT]?i?B: .* in [\d.]+ s`)
)

func expand(pattern string) string {
	pattern = strings.ReplaceAll(pattern, "R", "S/s")
	pattern = strings.ReplaceAll(pattern, "S", `[\d.]+ (B|KiB|MiB|GiB|TiB|PiB|EiB)`)
	return strings.ReplaceAll(pattern, "N", `[\d,]+`)
}

// makeFiles makes n files of size bytes under dir.
func makeFiles(t *testing.T, dir string, n, size int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("cowcp\n", size/6+1)[:size])
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// An error, a notice and an -i question each take the bar's line: on the
// final screen each stands whole on its own line, with no piece of the
// bar before it or left behind, at 30 columns (where they wrap) as at 200;
// the bar, drawn before them, is gone, and the summary line is last.
func TestBarUnderMessagesOnATerminal(t *testing.T) {
	for _, cols := range []int{30, 200} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			dir := t.TempDir()
			makeFiles(t, filepath.Join(dir, "a"), 600, 8<<10)
			makeFiles(t, filepath.Join(dir, "b", "collide"), 1, 10)
			// The destination has a file where b/collide, a directory,
			// goes (an error), and b/ask already (a question).
			for _, f := range []string{"b/ask", "dst/b/ask", "dst/b/collide"} {
				write(t, filepath.Join(dir, f), 10)
			}

			// a again: cp's notice that a source is named twice.
			p := startPTY(t, dir, cols, "-R", "-i", "a", "b", "a", "dst")
			const question = "cowcp: overwrite 'dst/b/ask'? "
			p.waitFor("the question", func(s *screen) bool {
				return strings.HasSuffix(strings.Join(s.lines(), ""), strings.TrimSpace(question))
			})
			p.typeIn("y\n")
			code, s := p.wait()
			out := p.output()

			want := []string{
				"cowcp: cannot overwrite non-directory 'dst/b/collide' with directory 'b/collide'",
				question + "y",
				"cowcp: warning: source directory 'a' specified more than once",
			}
			lines := s.lines()
			if len(lines) == 0 || !summaryRE.MatchString(lines[len(lines)-1]) {
				t.Fatalf("the last line is not the summary; the screen:\n%s", s)
			}
			got := slices.Clone(lines[:len(lines)-1])
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("the lines above the summary:\n%q\nwant\n%q\nthe screen:\n%s", got, want, s)
			}
			if code != exitFailed {
				t.Errorf("exit status %d, want %d", code, exitFailed)
			}
			// The test means something only if the bar was on the
			// screen before each message.
			for _, msg := range want {
				i := strings.Index(out, strings.TrimSuffix(msg, "y"))
				if i < 0 {
					t.Errorf("%q not in the output", msg)
				} else if !strings.Contains(out[:i], "copying: ") {
					t.Errorf("no bar was drawn before %q", msg)
				}
			}
			checkDraws(t, out, cols)
		})
	}
}

// checkDraws checks every draw of the bar in out: narrower than the
// terminal, and made of whole fields; the last at 100%, the copy done.
func checkDraws(t *testing.T, out string, cols int) {
	t.Helper()
	n, last := 0, ""
	for _, part := range strings.Split(out, "\x1b[K") {
		i := strings.LastIndex(part, "\r")
		if i < 0 || !strings.HasPrefix(part[i+1:], "copying: ") {
			continue
		}
		n++
		draw := part[i+1:]
		last = draw
		if len(draw) > cols-1 {
			t.Errorf("a draw of %d columns on %d: %q", len(draw), cols, draw)
		}
		if !barText.MatchString(draw) {
			t.Errorf("a draw that is not a bar of whole fields: %q", draw)
		}
	}
	if n == 0 {
		t.Error("the bar was never drawn")
	}
	if !strings.HasPrefix(last, "copying: 100%") {
		t.Errorf("the last draw before the summary is %q, not at 100%%", last)
	}
}

// With -v the listing and the bar share the terminal when asked to
// (--progress=always): every line stands whole, the bar is gone at the
// end. By default -v shows no bar, as cp: its lines are a listing, often
// read through another program.
func TestBarWithVerboseOnATerminal(t *testing.T) {
	for _, cols := range []int{30, 200} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			dir := t.TempDir()
			makeFiles(t, filepath.Join(dir, "a"), 400, 8<<10)
			p := startPTY(t, dir, cols, "-R", "-v", "--progress=always", "a", "dst")
			code, s := p.wait()
			if code != 0 {
				t.Fatalf("exit status %d; the screen:\n%s", code, s)
			}
			lines := s.lines()
			verbose := regexp.MustCompile(`^'a(/f\d{4})?' -> 'dst(/f\d{4})?'( \([a-z_]+\))?$`)
			if len(lines) != 402 {
				t.Errorf("%d lines, want 401 -v lines and the summary", len(lines))
			}
			for i, line := range lines {
				if i == len(lines)-1 {
					if !summaryRE.MatchString(line) {
						t.Errorf("the last line is not the summary: %q", line)
					}
					continue
				}
				if !verbose.MatchString(line) {
					t.Errorf("line %d is not a -v line: %q", i, line)
				}
			}
			checkDraws(t, p.output(), cols)

			p = startPTY(t, dir, cols, "-R", "-v", "a", "dst2")
			code, s = p.wait()
			if code != 0 || strings.Contains(p.output(), "copying") {
				t.Errorf("-v without --progress: exit %d, a bar drawn:\n%s", code, s)
			}
		})
	}
}

// A resize draws the bar again at once to the new width, while the copy
// waits (here on a FIFO, read as cp reads one named as a source): no bar
// cut by the narrowed terminal, none too short for the widened one, and
// nothing left of either at the end.
func TestBarFollowsResize(t *testing.T) {
	dir := t.TempDir()
	makeFiles(t, dir, 1, 8<<20)
	w := openFIFO(t, dir)
	defer w.Close()
	if err := os.Mkdir(filepath.Join(dir, "dst"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := startPTY(t, dir, 200, "f0000", "fifo", "dst")
	// A stream's size is not known until its end: the total is a floor.
	const head, tail = "copying: 8.0 MiB of 8.0 MiB+", "1 of 2+ entries"
	p.waitFor("the bar after the first file", func(s *screen) bool { return strings.HasSuffix(s.cursorRow(), tail) })
	p.quiet(300 * time.Millisecond)

	for _, cols := range []int{30, 200, 30, 200} {
		before := len(p.output())
		p.setCols(cols)
		// At once, not at the next update: there is none while the copy waits.
		p.waitWithin(10*time.Second, fmt.Sprintf("the bar drawn again for %d columns", cols), func(*screen) bool {
			return len(p.output()) > before
		})
		p.quiet(300 * time.Millisecond)
		s := p.screen()
		row := s.cursorRow()
		if !barText.MatchString(row) || len(row) > cols-1 || !strings.HasPrefix(row, head) ||
			cols == 200 && !strings.HasSuffix(row, tail) {
			t.Errorf("at %d columns the bar is %q; the screen:\n%s", cols, row, s)
		}
		if lines := s.lines(); len(lines) != 1 {
			t.Errorf("at %d columns the screen is not the bar alone:\n%s", cols, s)
		}
	}

	if _, err := w.Write([]byte("stream")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	code, s := p.wait()
	lines := s.lines()
	if code != 0 || len(lines) != 1 || !summaryRE.MatchString(lines[0]) {
		t.Errorf("exit %d, the screen is not the summary alone:\n%s", code, s)
	}
	checkDraws(t, p.output(), 200) // the widths were checked as they came
}

// openFIFO makes the FIFO dir/fifo and returns it open for writing. It is
// held open read-write, so cowcp's open does not wait, and the stream
// ends when the test closes it.
func openFIFO(t *testing.T, dir string) *os.File {
	t.Helper()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Data read from a stream moves the bar while the file is not done: the
// bytes go up with no entry done yet, as for a large file copied or cloned
// piece by piece.
func TestBarMovesWithinAFile(t *testing.T) {
	dir := t.TempDir()
	w := openFIFO(t, dir)
	defer w.Close()
	p := startPTY(t, dir, 80, "fifo", "copy")
	chunk := make([]byte, 1<<20)
	for range 64 { // the stream reports each 64 MiB
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.waitFor("64 MiB on the bar", func(s *screen) bool {
		return strings.HasPrefix(s.cursorRow(), "copying: 64.0 MiB") && strings.HasSuffix(s.cursorRow(), "0 of 1+ entries") ||
			strings.HasPrefix(s.cursorRow(), "copying: 0 entries, 64.0 MiB")
	})
	w.Close()
	if code, s := p.wait(); code != 0 {
		t.Errorf("exit %d:\n%s", code, s)
	}
}
