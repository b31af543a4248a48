package tree

import (
	"fmt"
	"math"
	"strconv"
)

// Summary is the one line printed at the end of a copy, e.g.
// "15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 221.7 MiB (100%) in 0.61 s".
func (s *Stats) Summary() string {
	pct := 0.0
	if s.Bytes > 0 {
		pct = savedPercent(s.SavedBytes, s.Bytes)
	}
	line := fmt.Sprintf("%s %s, %s: %s cloned, %s copied — saved %s (%.0f%%) in %.2f s",
		Thousands(s.Files), plural(s.Files, "file", "files"), HumanBytes(s.Bytes),
		HumanBytes(s.ClonedBytes), HumanBytes(s.CopiedBytes), HumanBytes(s.SavedBytes), pct, s.Seconds)
	if s.FSMeasured {
		sign := "+"
		if s.FSUsedBytes < 0 {
			sign = ""
		}
		line += fmt.Sprintf("; filesystem estimate: %s%s used", sign, HumanBytes(s.FSUsedBytes))
	}
	if s.Errors > 0 {
		line += fmt.Sprintf(", %s %s", Thousands(s.Errors), plural(s.Errors, "error", "errors"))
	}
	return line
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

// PlanSummary is Summary for --dry-run: what the copy would do.
func (s *Stats) PlanSummary() string {
	pct := 0.0
	if s.Bytes > 0 {
		pct = savedPercent(s.SavedBytes, s.Bytes)
	}
	line := fmt.Sprintf("dry run: %s %s, %s: would clone %s, copy %s — would save %s (%.0f%%); needs %s, %s free",
		Thousands(s.Files), plural(s.Files, "file", "files"), HumanBytes(s.Bytes),
		HumanBytes(s.ClonedBytes), HumanBytes(s.CopiedBytes), HumanBytes(s.SavedBytes), pct,
		HumanBytes(s.NeededBytes), HumanBytes(s.FreeBytes))
	if s.Errors > 0 {
		line += fmt.Sprintf(", %s %s", Thousands(s.Errors), plural(s.Errors, "error", "errors"))
	}
	return line
}

// savedPercent rounds down, so 99.6% saved never reads as 100%.
func savedPercent(saved, total int64) float64 {
	return math.Floor(float64(saved) * 100 / float64(total))
}
