//go:build linux

package main

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/term"
)

const (
	barInterval     = 100 * time.Millisecond // at most one draw per interval
	barRateAfter    = 500 * time.Millisecond // no rate before: one early chunk makes an absurd one
	barDefaultWidth = 80                     // where the terminal does not say
	barMaxETA       = 100 * time.Hour        // a longer one is no estimate
)

// bar is the progress line on stderr: `copying: 1,234 entries, 221.7 MiB
// 45.3 MiB/s`; while the sources are counted, the total found so far
// (`copying: 221.7 MiB of 1.2 GiB+, …`), and once they are, a percentage
// of it and an ETA. It has no goroutine and no lock of its own: the
// reporter calls it holding the terminal (its mu), so the bar is drawn
// only on an update, and never while a question or a message is being
// written.
//
// The line is never as wide as the terminal (a full line wraps on some
// terminals and the next `\r` would not return to its start), so fields are
// dropped from the right where it is narrow.
type bar struct {
	w     io.Writer
	now   func() time.Time
	width func() int // the terminal's columns, read at each draw

	bytes, entries           int64 // done
	totalBytes, totalEntries int64 // in the sources, as far as counted
	leftOut                  int64 // bytes of the total not to be copied: skipped or failed files
	counted                  bool  // setTotal was called
	known                    bool  // the count is complete

	start  time.Time // the first draw: the rate is measured from it
	last   time.Time // the last draw
	drawn  bool      // the line is on the terminal
	redraw bool      // cleared for a message: draw on the next update
	dirty  bool      // something the line does not show yet
	done   bool
	buf    []byte
}

func newBar(w io.Writer) *bar {
	return &bar{w: w, now: time.Now, width: terminalWidth(w)}
}

// terminalWidth reads w's width from the terminal at each call (a
// TIOCGWINSZ ioctl, about a microsecond at most ten times a second), so a
// resized window is followed without a SIGWINCH handler.
func terminalWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok {
		return func() int { return barDefaultWidth }
	}
	fd := int(f.Fd())
	return func() int {
		cols, _, err := term.GetSize(fd)
		if err != nil || cols <= 0 {
			return barDefaultWidth
		}
		return cols
	}
}

// add counts bytes and entries done, and draws the line if the last draw
// is old enough, or was cleared for a message.
func (b *bar) add(bytes, entries int64) {
	if b.done {
		return
	}
	b.bytes += bytes
	b.entries += entries
	b.update(false)
}

// skip counts entries left alone (-n, -u, a no to -i) or failed, and
// takes the bytes of theirs not copied out of the total: the percentage
// and the ETA are of what there is to copy.
func (b *bar) skip(bytes, entries int64) {
	if b.done {
		return
	}
	b.leftOut += bytes
	b.entries += entries
	b.update(false)
}

// setTotal gives the bytes and entries the sources hold, as far as
// counted; complete says the count is done: from the next draw the line
// shows a percentage and an ETA, and that next draw is at once.
func (b *bar) setTotal(bytes, entries int64, complete bool) {
	if b.done {
		return
	}
	b.totalBytes, b.totalEntries, b.counted = bytes, entries, true
	newly := complete && !b.known
	b.known = complete
	b.update(newly)
}

// update draws the line if now is the time: at the first update, after a
// message cleared it, once an interval has passed, or when told.
func (b *bar) update(now bool) {
	if b.done {
		return
	}
	b.dirty = true
	t := b.now()
	if !now && !b.last.IsZero() && !b.redraw && t.Sub(b.last) < barInterval {
		return
	}
	b.draw(t)
}

// undrawn says whether the line lacks a change, and how long until it may
// be drawn: what is left of the interval since the last draw.
func (b *bar) undrawn() (time.Duration, bool) {
	if b.done || !b.dirty {
		return 0, false
	}
	return max(barInterval-b.now().Sub(b.last), 0), true
}

// resized draws the line again at once, to the terminal's new width, if it
// is on the terminal: a line now wider than the terminal, cut or wrapped
// by it, is replaced whole.
func (b *bar) resized() {
	if b.drawn && !b.done {
		b.draw(b.now())
	}
}

// clear erases the line, if one is drawn, so a message can take it; the
// next update draws it again. The final `\r` is for a terminal that does
// not know the erase sequence and prints it: what follows still starts at
// the line's first column.
func (b *bar) clear() {
	if !b.drawn {
		return
	}
	_, _ = io.WriteString(b.w, "\r\x1b[K\r")
	b.drawn, b.redraw, b.dirty = false, true, true
}

// finish ends the bar: if the copy ran to its end, a last draw shows it
// complete, 100% of what was copied; then the line is erased for good, so
// the summary starts a clean line.
func (b *bar) finish(complete bool) {
	if b.done {
		return
	}
	if complete && !b.start.IsZero() {
		if !b.known {
			// The copy outran the count: what it did is the total.
			b.totalBytes, b.totalEntries = b.bytes+b.leftOut, b.entries
			b.counted, b.known = true, true
		}
		b.bytes = max(b.bytes, b.totalBytes-b.leftOut)
		b.entries = max(b.entries, b.totalEntries)
		b.draw(b.now())
	}
	b.clear()
	b.done = true
}

// shown reports whether the line has been drawn at least once.
func (b *bar) shown() bool { return !b.start.IsZero() }

func (b *bar) draw(now time.Time) {
	if b.start.IsZero() {
		b.start = now
	}
	b.last, b.redraw, b.dirty = now, false, false
	text := b.text(now, b.width()-1)
	if text == "" {
		return
	}
	// One write: the line reaches the terminal whole.
	b.buf = append(append(append(b.buf[:0], '\r'), text...), "\x1b[K"...)
	_, _ = b.w.Write(b.buf)
	b.drawn = true
}

// text is the line in at most max columns (it is all ASCII: a byte is a
// column): the fields that fit, from the left, and if not even the first
// fits, the first cut short.
func (b *bar) text(now time.Time, max int) string {
	if max <= 0 {
		return ""
	}
	fields := b.fields(now)
	line := fields[0]
	if len(line) > max {
		return line[:max]
	}
	for _, f := range fields[1:] {
		if len(line)+len(f) > max {
			break
		}
		line += f
	}
	return line
}

// fields are the line's parts, most important first, each with the
// separator that joins it to the one before.
func (b *bar) fields(now time.Time) []string {
	var bps float64 // bytes a second, 0 until barRateAfter
	rate := ""
	if elapsed := now.Sub(b.start); elapsed >= barRateAfter {
		bps = float64(b.bytes) / elapsed.Seconds()
		rate = cpmsg.HumanBytes(int64(bps)) + "/s"
	}
	if !b.counted {
		f := []string{"copying: " + entryCount(b.entries), ", " + cpmsg.HumanBytes(b.bytes)}
		if rate != "" {
			f = append(f, " "+rate)
		}
		return f
	}
	// What there is to copy; never less than what was, should the
	// sources have grown or the copy have outrun the count.
	work := max(b.totalBytes-b.leftOut, b.bytes, 0)
	entries := max(b.totalEntries, b.entries)

	if !b.known {
		// Counting: the total found so far, a floor.
		if work == 0 { // no data to copy (-l, -s, empty files): entries only
			return []string{"copying: " + entryCount(b.entries), " of " + cpmsg.Thousands(entries) + "+"}
		}
		f := []string{"copying: " + cpmsg.HumanBytes(b.bytes), " of " + cpmsg.HumanBytes(work) + "+"}
		if rate != "" {
			f = append(f, ", "+rate)
		}
		return append(f, ", "+cpmsg.Thousands(b.entries)+" of "+cpmsg.Thousands(entries)+"+ entries")
	}

	var pct float64 = 100
	switch {
	case work > 0:
		pct = 100 * float64(b.bytes) / float64(work)
	case entries > 0:
		pct = 100 * float64(b.entries) / float64(entries)
	}
	pct = min(max(pct, 0), 100)
	f := []string{"copying: " + strconv.Itoa(int(pct)) + "%"}
	if work > 0 {
		f = append(f, " of "+cpmsg.HumanBytes(work))
	}
	if left := work - b.bytes; left > 0 && bps > 0 {
		if secs := float64(left) / bps; secs < barMaxETA.Seconds() {
			f = append(f, ", ETA "+etaString(time.Duration(secs*float64(time.Second))))
		}
	}
	if rate != "" && work > 0 {
		f = append(f, ", "+rate)
	}
	return append(f, ", "+cpmsg.Thousands(b.entries)+" of "+cpmsg.Thousands(entries)+" entries")
}

func entryCount(n int64) string {
	if n == 1 {
		return "1 entry"
	}
	return cpmsg.Thousands(n) + " entries"
}

// etaString is m:ss, or h:mm:ss from an hour.
func etaString(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	two := func(n int64) string {
		if n < 10 {
			return "0" + strconv.FormatInt(n, 10)
		}
		return strconv.FormatInt(n, 10)
	}
	if s < 3600 {
		return strconv.FormatInt(s/60, 10) + ":" + two(s%60)
	}
	return strconv.FormatInt(s/3600, 10) + ":" + two(s/60%60) + ":" + two(s%60)
}
