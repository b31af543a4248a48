//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
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
				b.setTotal(5<<40, 9_876_543)
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
	b.setTotal(100<<20, 1000)
	b.add(0, 0)
	clock.advance(time.Second)
	b.add(25<<20, 250)
	want := "copying: 25% of 100.0 MiB, ETA 0:03, 25.0 MiB/s, 250 of 1,000 entries"
	if got := lastLine(out.String()); got != want {
		t.Errorf("%q, want %q", got, want)
	}

	b, out, _ = testBar(200)
	b.setTotal(0, 8)
	b.add(0, 2)
	if got, want := lastLine(out.String()), "copying: 25%, 2 of 8 entries"; got != want {
		t.Errorf("entries only: %q, want %q", got, want)
	}

	b, out, clock = testBar(30)
	b.setTotal(100<<20, 1000)
	b.add(0, 0)
	clock.advance(time.Second)
	b.add(25<<20, 250)
	if got, want := lastLine(out.String()), "copying: 25% of 100.0 MiB"; got != want {
		t.Errorf("at 30 columns: %q, want %q", got, want)
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
	b.finish()
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
