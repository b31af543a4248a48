//go:build linux

package tree

import (
	"fmt"
	"math"
	"strconv"
)

// Summary is the one line printed at the end of a copy, e.g.
// "15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 215.7 MiB (97%) in 1.82 s".
func (s *Stats) Summary() string {
	line := fmt.Sprintf("%s: %s cloned, %s copied — saved %s in %.2f s",
		s.sizes(), HumanBytes(s.ClonedBytes), HumanBytes(s.CopiedBytes), s.saved(), s.Seconds)
	if s.FSMeasured {
		sign := "+"
		if s.FSUsedBytes < 0 {
			sign = ""
		}
		line += fmt.Sprintf("; filesystem estimate: %s%s used", sign, HumanBytes(s.FSUsedBytes))
	}
	return line + s.errors()
}

// PlanSummary is Summary for --dry-run: what the copy would do.
func (s *Stats) PlanSummary() string {
	return fmt.Sprintf("dry run: %s: would clone %s, copy %s — would save %s; needs %s, %s free",
		s.sizes(), HumanBytes(s.ClonedBytes), HumanBytes(s.CopiedBytes), s.saved(),
		HumanBytes(s.NeededBytes), HumanBytes(s.FreeBytes)) + s.errors()
}

// sizes is "15,036 files, 221.7 MiB".
func (s *Stats) sizes() string {
	return fmt.Sprintf("%s %s, %s", Thousands(s.Files), plural(s.Files, "file", "files"), HumanBytes(s.Bytes))
}

// saved is "215.7 MiB (97%)"; the percentage rounds down, so 99.6% saved
// never reads as 100%.
func (s *Stats) saved() string {
	pct := 0.0
	if s.Bytes > 0 {
		pct = math.Floor(float64(s.SavedBytes) * 100 / float64(s.Bytes))
	}
	return fmt.Sprintf("%s (%.0f%%)", HumanBytes(s.SavedBytes), pct)
}

// errors is ", 3 errors" when there were any.
func (s *Stats) errors() string {
	if s.Errors == 0 {
		return ""
	}
	return fmt.Sprintf(", %s %s", Thousands(s.Errors), plural(s.Errors, "error", "errors"))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Thousands writes n with comma separators: 15036 -> "15,036".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// HumanBytes writes a byte count in binary units with one decimal:
// 0 -> "0 B", 232492236 -> "221.7 MiB".
func HumanBytes(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	// Divide while the value would print as 1024.0 or more, so a count
	// just below 1 MiB reads "1.0 MiB", not "1024.0 KiB".
	for (v >= 1023.95 || v <= -1023.95) && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
