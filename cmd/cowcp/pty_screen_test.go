//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// screen is a small model of a terminal (xterm's rules) for what cowcp
// writes on a pseudo-terminal: printable text wraps at the column count
// (xterm's deferred wrap: a character in the last column leaves the cursor
// there, and the next one wraps), `\r` returns to the first column, `\n`
// moves down (the pty's ONLCR makes every `\n` a `\r\n`), `\x1b[K` erases
// to the end of the line, and a resize cuts the lines at the new width, as
// xterm does. Any other control or escape sequence is noted in odd: the
// bar uses none. Rows are never scrolled away.
type screen struct {
	cols    int
	rows    [][]rune
	wrapped []bool // row i goes on in row i+1 (a wrap, not a newline)
	r, c    int
	pending bool // the last column was written: the next character wraps
	odd     []string
}

// resize is a terminal resize at a byte offset of the output.
type resize struct {
	at   int
	cols int
}

// render plays out, with the resizes at their offsets, on a screen of
// cols columns.
func render(out []byte, cols int, resizes []resize) *screen {
	s := &screen{cols: cols}
	s.row(0)
	for i := 0; i < len(out); {
		for len(resizes) > 0 && resizes[0].at <= i {
			s.resize(resizes[0].cols)
			resizes = resizes[1:]
		}
		ch, size := utf8.DecodeRune(out[i:])
		if ch == utf8.RuneError && !utf8.FullRune(out[i:]) {
			break // a character still to come
		}
		switch {
		case ch == '\r':
			s.c, s.pending = 0, false
		case ch == '\n':
			s.r++
			s.row(s.r)
			s.pending = false
		case ch == '\x1b':
			n, ok := s.escape(out[i:])
			if !ok {
				return s // a sequence still to come
			}
			size = n
		case ch < ' ' || ch == 0x7f:
			s.odd = append(s.odd, strconv.Quote(string(ch)))
		default:
			s.put(ch)
		}
		i += size
	}
	for _, rz := range resizes {
		s.resize(rz.cols)
	}
	return s
}

// escape plays the escape sequence at the start of b and returns its
// length; ok is false if it is not complete yet.
func (s *screen) escape(b []byte) (n int, ok bool) {
	if len(b) < 2 {
		return 0, false
	}
	if b[1] != '[' {
		s.odd = append(s.odd, strconv.Quote(string(b[:2])))
		return 2, true
	}
	for n = 2; n < len(b); n++ {
		if c := b[n]; c >= 0x40 && c <= 0x7e {
			seq := string(b[:n+1])
			if seq == "\x1b[K" || seq == "\x1b[0K" {
				row := s.rows[s.r]
				if c := min(s.c, s.cols-1); c < len(row) {
					s.rows[s.r] = row[:c]
				}
			} else {
				s.odd = append(s.odd, strconv.Quote(seq))
			}
			return n + 1, true
		}
	}
	return 0, false
}

func (s *screen) row(r int) {
	for len(s.rows) <= r {
		s.rows = append(s.rows, nil)
		s.wrapped = append(s.wrapped, false)
	}
}

func (s *screen) put(ch rune) {
	if s.pending {
		s.wrapped[s.r] = true
		s.r++
		s.row(s.r)
		s.c, s.pending = 0, false
	}
	row := s.rows[s.r]
	for len(row) <= s.c {
		row = append(row, ' ')
	}
	row[s.c] = ch
	s.rows[s.r] = row
	if s.c == s.cols-1 {
		s.pending = true
	} else {
		s.c++
	}
}

func (s *screen) resize(cols int) {
	s.cols = cols
	for i, row := range s.rows {
		if len(row) > cols {
			s.rows[i] = row[:cols]
		}
	}
	s.c, s.pending = min(s.c, cols-1), false
}

// lines are the screen's lines as written: rows joined where one wrapped
// into the next, trailing blanks dropped, and empty lines left out.
func (s *screen) lines() []string {
	var lines []string
	var cur strings.Builder
	for i, row := range s.rows {
		cur.WriteString(string(row))
		if s.wrapped[i] && i+1 < len(s.rows) {
			continue
		}
		if l := strings.TrimRight(cur.String(), " "); l != "" {
			lines = append(lines, l)
		}
		cur.Reset()
	}
	return lines
}

// cursorRow is the text of the row the cursor is on.
func (s *screen) cursorRow() string { return strings.TrimRight(string(s.rows[s.r]), " ") }

func (s *screen) String() string {
	var b strings.Builder
	for i, row := range s.rows {
		b.WriteString(strings.TrimRight(string(row), " "))
		if s.wrapped[i] {
			b.WriteString("⏎")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestScreenModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		out   string
		cols  int
		rz    []resize
		lines []string
		row   string
	}{
		{"overwrite", "copying: 1\rcopying: 22\x1b[K", 30, nil, []string{"copying: 22"}, "copying: 22"},
		{"erase", "copying: 1\r\x1b[K\rdone\r\n", 30, nil, []string{"done"}, ""},
		{"shorter without erase", "abcdef\rxy", 30, nil, []string{"xycdef"}, "xycdef"},
		// A line as wide as the terminal does not wrap until the next
		// character; one wider leaves its head behind a `\r`.
		{"full width", "0123456789\rab\x1b[K", 10, nil, []string{"ab"}, "ab"},
		{"wrapped bar", "0123456789AB\rxy\x1b[K\r\x1b[K\rsummary\r\n", 10, nil,
			[]string{"0123456789summary"}, ""},
		{"message wraps", "cowcp: a long message\r\n", 10, nil, []string{"cowcp: a long message"}, ""},
		{"resize cuts", "copying: 25% of 100.0 MiB, ETA 0:03", 200, []resize{{at: 100, cols: 20}}, []string{"copying: 25% of 100."}, "copying: 25% of 100."},
		{"resize then draw", "copying: 25% of 100.0 MiB, ETA 0:03\rcopying: 25%\x1b[K", 200, []resize{{at: 35, cols: 20}}, []string{"copying: 25%"}, "copying: 25%"},
		{"utf-8", "a — b\r\n", 30, nil, []string{"a — b"}, ""},
	} {
		s := render([]byte(tc.out), tc.cols, tc.rz)
		if got := s.lines(); strings.Join(got, "|") != strings.Join(tc.lines, "|") {
			t.Errorf("%s: lines %q, want %q", tc.name, got, tc.lines)
		}
		if got := s.cursorRow(); got != tc.row {
			t.Errorf("%s: cursor row %q, want %q", tc.name, got, tc.row)
		}
		if len(s.odd) > 0 {
			t.Errorf("%s: odd sequences %q", tc.name, s.odd)
		}
	}
	if s := render([]byte("\x1b[2J\a"), 30, nil); len(s.odd) != 2 {
		t.Errorf("unknown sequences not noted: %q", s.odd)
	}
}
