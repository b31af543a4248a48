//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/tests/fstest"
	"github.com/cowcp/cowcp/tree"
)

// fakeClock is a clock that moves only when the test says.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testBar(width int) (*bar, *bytes.Buffer, *fakeClock) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	return &bar{w: &out, now: clock.now, width: func() int { return width }}, &out, clock
}

// lastLine is what a terminal shows after out: the text of the last draw
// (after its `\r`, before its `\x1b[K`), or "" if the line was erased.
func lastLine(out string) string {
	i := strings.LastIndex(out, "\x1b[K")
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(out[strings.LastIndex(out[:i], "\r")+1:i], "\r")
}

// draws are the texts of every draw in out.
func draws(out string) []string {
	var d []string
	for _, part := range strings.Split(out, "\x1b[K") {
		if i := strings.LastIndex(part, "\r"); i >= 0 && part[i+1:] != "" {
			d = append(d, part[i+1:])
		}
	}
	return d
}

func TestBarFitsTheTerminal(t *testing.T) {
	for _, width := range []int{1, 10, 30, 80, 200} {
		for _, known := range []bool{false, true} {
			b, out, clock := testBar(width)
			if known {
				b.setTotal(5<<40, 9_876_543, true)
			}
			for range 50 {
				b.add(123<<30, 123_456)
				clock.advance(time.Second)
			}
			d := draws(out.String())
			if len(d) == 0 && width > 1 {
				t.Fatalf("width %d, total %v: nothing drawn", width, known)
			}
			for _, line := range d {
				if len(line) > width-1 {
					t.Errorf("width %d, total %v: %d columns: %q", width, known, len(line), line)
				}
			}
		}
	}
}

// A narrow terminal loses the fields on the right, whole: the line never
// wraps, and what is left is not cut mid-word.
func TestBarDropsFieldsFromTheRight(t *testing.T) {
	b, out, clock := testBar(30)
	b.add(0, 1)
	clock.advance(time.Second)
	b.add(3<<30, 1233)
	if got, want := lastLine(out.String()), "copying: 1,234 entries"; got != want {
		t.Errorf("at 30 columns: %q, want %q", got, want)
	}

	b, out, clock = testBar(200)
	b.add(0, 1)
	clock.advance(time.Second)
	b.add(3<<30, 1233)
	if got, want := lastLine(out.String()), "copying: 1,234 entries, 3.0 GiB 3.0 GiB/s"; got != want {
		t.Errorf("at 200 columns: %q, want %q", got, want)
	}
}

func TestBarIECUnits(t *testing.T) {
	b, out, clock := testBar(200)
	b.add(1536, 1)
	if got, want := lastLine(out.String()), "copying: 1 entry, 1.5 KiB"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	clock.advance(2 * time.Second)
	b.add(10<<20-1536, 0)
	if got, want := lastLine(out.String()), "copying: 1 entry, 10.0 MiB 5.0 MiB/s"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if s := out.String(); strings.Contains(s, "MB") || strings.Contains(s, "kB") || strings.Contains(s, "GB") {
		t.Errorf("SI units in %q", s)
	}
}

// The first chunks come in a burst: a rate over a few milliseconds would be
// absurd, so there is none for half a second.
func TestBarNoRateAtFirst(t *testing.T) {
	b, out, clock := testBar(200)
	for range 4 {
		b.add(1<<30, 1)
		clock.advance(110 * time.Millisecond)
	}
	if s := out.String(); strings.Contains(s, "/s") {
		t.Errorf("a rate before 0.5 s: %q", s)
	}
	clock.advance(100 * time.Millisecond)
	b.add(1<<30, 1)
	if got := lastLine(out.String()); !strings.HasSuffix(got, "/s") {
		t.Errorf("no rate after 0.5 s: %q", got)
	}
}

func TestBarThrottles(t *testing.T) {
	b, out, clock := testBar(200)
	for range 100 {
		b.add(1<<20, 1)
		clock.advance(10 * time.Millisecond)
	}
	// One second at 10 ms an update: the first draw and one each 100 ms.
	if n := len(draws(out.String())); n > 10 {
		t.Errorf("%d draws in one second", n)
	}
}

// A total turns the line into a percentage of it, with an ETA once there
// is a rate.
func TestBarTotal(t *testing.T) {
	b, out, clock := testBar(200)
	b.setTotal(100<<20, 1000, true)
	clock.advance(time.Second)
	b.add(25<<20, 250)
	want := "copying: 25% of 100.0 MiB, ETA 0:03, 25.0 MiB/s, 250 of 1,000 entries"
	if got := lastLine(out.String()); got != want {
		t.Errorf("%q, want %q", got, want)
	}

	b, out, clock = testBar(200)
	b.setTotal(0, 8, true)
	clock.advance(time.Second)
	b.add(0, 2)
	if got, want := lastLine(out.String()), "copying: 25%, 2 of 8 entries"; got != want {
		t.Errorf("entries only: %q, want %q", got, want)
	}

	b, out, clock = testBar(30)
	b.setTotal(100<<20, 1000, true)
	clock.advance(time.Second)
	b.add(25<<20, 250)
	if got, want := lastLine(out.String()), "copying: 25% of 100.0 MiB"; got != want {
		t.Errorf("at 30 columns: %q, want %q", got, want)
	}
}

// While the sources are counted the line shows the total found so far, a
// floor ("+"), without a percentage; the count's end shows one at once,
// without waiting for the next interval.
func TestBarGrowingTotal(t *testing.T) {
	b, out, clock := testBar(200)
	b.add(1<<20, 1)
	b.setTotal(10<<20, 40, false)
	clock.advance(time.Second)
	b.add(1<<20, 1)
	if got, want := lastLine(out.String()), "copying: 2.0 MiB of 10.0 MiB+, 2.0 MiB/s, 2 of 40+ entries"; got != want {
		t.Errorf("counting: %q, want %q", got, want)
	}
	if strings.Contains(out.String(), "%") || strings.Contains(out.String(), "ETA") {
		t.Errorf("a percentage or an ETA before the count is done: %q", out.String())
	}
	b.setTotal(20<<20, 80, false)
	b.add(0, 0) // within the interval: no draw
	if got := lastLine(out.String()); !strings.Contains(got, "of 10.0 MiB+") {
		t.Errorf("drawn within the interval: %q", got)
	}
	b.setTotal(40<<20, 100, true) // within the interval too: drawn at once
	if got, want := lastLine(out.String()), "copying: 5% of 40.0 MiB, ETA 0:19, 2.0 MiB/s, 2 of 100 entries"; got != want {
		t.Errorf("count done: %q, want %q", got, want)
	}

	// The copy may outrun the count: the total shown is never less than
	// what is done.
	b, out, _ = testBar(200)
	b.setTotal(1<<20, 3, false)
	b.redraw = true
	b.add(5<<20, 9)
	if got, want := lastLine(out.String()), "copying: 5.0 MiB of 5.0 MiB+, 9 of 9+ entries"; got != want {
		t.Errorf("outrun: %q, want %q", got, want)
	}

	// Links only (-l): no bytes to copy, entries counted.
	b, out, _ = testBar(200)
	b.setTotal(0, 30, false)
	b.redraw = true
	b.add(0, 3)
	if got, want := lastLine(out.String()), "copying: 3 entries of 30+"; got != want {
		t.Errorf("entries only: %q, want %q", got, want)
	}
}

// Skipped and failed files are taken out of the total: the percentage and
// the ETA are of what there is to copy.
func TestBarSkipShrinksTheWork(t *testing.T) {
	b, out, clock := testBar(200)
	b.setTotal(100<<20, 4, true)
	b.skip(50<<20, 1) // -u: not newer
	clock.advance(time.Second)
	b.add(25<<20, 1)
	if got, want := lastLine(out.String()), "copying: 50% of 50.0 MiB, ETA 0:01, 25.0 MiB/s, 2 of 4 entries"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// A copy that ran to its end is drawn at 100% before the line is erased,
// whether the count was done or not; an interrupted one is not.
func TestBarFinishesAtHundredPercent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		total    func(b *bar)
		complete bool
		want     string
	}{
		{"counted", func(b *bar) { b.setTotal(100<<20, 10, true) }, true, "copying: 100% of 100.0 MiB, 10 of 10 entries"},
		{"still counting", func(b *bar) { b.setTotal(10<<20, 5, false) }, true, "copying: 100% of 40.0 MiB, 7 of 7 entries"},
		{"not counted", func(b *bar) {}, true, "copying: 100% of 40.0 MiB, 7 of 7 entries"},
		{"interrupted", func(b *bar) { b.setTotal(100<<20, 10, true) }, false, ""},
	} {
		b, out, clock := testBar(200)
		tc.total(b)
		b.add(40<<20, 7)
		clock.advance(100 * time.Millisecond)
		b.finish(tc.complete)
		s := out.String()
		d := draws(s)
		last := ""
		if n := len(d); n > 0 && tc.complete {
			last = d[n-1]
		}
		if tc.want != "" && last != tc.want {
			t.Errorf("%s: the last draw is %q, want %q", tc.name, last, tc.want)
		}
		if tc.want == "" && strings.Contains(s, "100%") {
			t.Errorf("%s: drawn at 100%%: %q", tc.name, s)
		}
		if !strings.HasSuffix(s, "\r\x1b[K\r") {
			t.Errorf("%s: finish did not erase the line: %q", tc.name, s)
		}
	}
}

// A resize draws the line again at once to the new width; an erased line
// (a question waiting) stays erased.
func TestBarResized(t *testing.T) {
	width := 200
	b, out, clock := testBar(0)
	b.width = func() int { return width }
	b.setTotal(100<<20, 1000, true)
	clock.advance(time.Second)
	b.add(25<<20, 250)
	width = 30
	b.resized()
	if got, want := lastLine(out.String()), "copying: 25% of 100.0 MiB"; got != want {
		t.Errorf("after the resize: %q, want %q", got, want)
	}
	b.clear()
	n := out.Len()
	b.resized()
	if out.Len() != n {
		t.Errorf("an erased line was drawn on a resize: %q", out.String()[n:])
	}
}

func TestETAString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0:00",
		3 * time.Second:                 "0:03",
		59*time.Minute + 59*time.Second: "59:59",
		time.Hour + 2*time.Minute + 5*time.Second: "1:02:05",
	} {
		if got := etaString(d); got != want {
			t.Errorf("etaString(%v) = %q, want %q", d, got, want)
		}
	}
}

// clear erases the line for a message; the next update draws it again at
// once, and clearing an erased line writes nothing.
func TestBarClear(t *testing.T) {
	b, out, _ := testBar(80)
	b.clear()
	if out.Len() != 0 {
		t.Errorf("clear with nothing drawn wrote %q", out.String())
	}
	b.add(1<<20, 1)
	b.clear()
	s := out.String()
	if got := lastLine(s); got != "" {
		t.Errorf("after clear the terminal shows %q (%q)", got, s)
	}
	if !strings.HasSuffix(s, "\r") {
		t.Errorf("a message after clear would not start at column 0: %q", s)
	}
	b.clear()
	if out.String() != s {
		t.Errorf("a second clear wrote %q", out.String()[len(s):])
	}
	b.add(1<<20, 1) // within the throttle's 100 ms: drawn all the same
	if got := lastLine(out.String()); got != "copying: 2 entries, 2.0 MiB" {
		t.Errorf("not redrawn after clear: %q", got)
	}
}

// finish leaves a clean line for the summary, and nothing is drawn after.
func TestBarFinish(t *testing.T) {
	b, out, clock := testBar(80)
	b.add(1<<20, 1)
	b.finish(false)
	clock.advance(time.Second)
	b.add(1<<20, 1)
	s := out.String()
	if got := lastLine(s); got != "" {
		t.Errorf("after finish the terminal shows %q (%q)", got, s)
	}
	if !strings.HasSuffix(s, "\r\x1b[K\r") {
		t.Errorf("finish did not erase the line: %q", s)
	}
}

// A large file moves the bar while it is copied or cloned, piece by piece:
// the pieces' progress reaches the bar before the file is done, whatever
// the method. (The pieces are made small here; they are 64 MiB copied and
// 1 GiB cloned by default.)
func TestLargeFilesMoveTheBar(t *testing.T) {
	const size = 8 << 20
	data := bytes.Repeat([]byte("cowcp\n"), size/6+1)[:size]
	for _, tc := range []struct {
		name   string
		fs     func(t *testing.T) string
		args   []string
		hole   bool
		method tree.Method
	}{
		{name: "copy", fs: tempDir},
		{name: "read-write", fs: tempDir, args: []string{"--reflink=never"}, method: tree.MethodReadWrite},
		{name: "sparse", fs: tempDir, hole: true, method: tree.MethodSparse},
		{name: "clone", fs: func(t *testing.T) string { return fstest.Btrfs(t, 256<<20) }, method: tree.MethodFicloneRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.fs(t)
			src, dst := filepath.Join(dir, "big"), filepath.Join(dir, "copy")
			f, err := os.Create(src)
			if err != nil {
				t.Fatal(err)
			}
			if tc.hole {
				_, err = f.WriteAt(data[:size/2], size/2) // a hole, then data
			} else {
				_, err = f.Write(data)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()

			c, err := parseArgs(append(append([]string{"--progress=always"}, tc.args...), src, dst))
			if err != nil {
				t.Fatal(err)
			}
			opts, err := c.options()
			if err != nil {
				t.Fatal(err)
			}
			opts.ProgressBytes, opts.CloneChunk = 1<<20, 1<<20
			var stderr syncBuffer
			rep := newReporter(c, io.Discard, &stderr)
			var before int64 = -1
			var method tree.Method
			opts.Observe = func(ev tree.Event) {
				if !ev.Partial && ev.Kind == tree.KindFile {
					rep.mu.Lock()
					before, method = rep.bar.bytes, ev.Method
					rep.mu.Unlock()
				}
				rep.observe(ev)
			}
			copier := tree.New(context.Background(), opts)
			copier.Copy(dst, src)
			stats := copier.Close()
			rep.finish(&stats)
			if stats.Errors > 0 {
				t.Fatalf("%+v", stats.Failures)
			}
			if tc.method != tree.MethodNone && method != tc.method {
				t.Fatalf("copied by %v, not %v", method, tc.method)
			}
			if before < size/4 {
				t.Errorf("the bar had %d bytes of %d when the file was done", before, size)
			}
			if rep.bar.bytes != size {
				t.Errorf("the bar counted %d bytes of %d", rep.bar.bytes, size)
			}
		})
	}
}

func tempDir(t *testing.T) string { return t.TempDir() }
