//go:build linux

package tree

import (
	"fmt"
	"math"

	"github.com/cowcp/cowcp/tree/cpmsg"
)

// Summary is the one line printed at the end of a copy, e.g.
// "15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 215.7 MiB (97%) in 1.82 s".
func (s *Stats) Summary() string {
	line := fmt.Sprintf("%s: %s cloned, %s copied — saved %s in %.2f s",
		s.sizes(), cpmsg.HumanBytes(s.ClonedBytes), cpmsg.HumanBytes(s.CopiedBytes), s.saved(), s.Seconds)
	if s.FSMeasured {
		sign := "+"
		if s.FSUsedBytes < 0 {
			sign = ""
		}
		line += fmt.Sprintf("; filesystem estimate: %s%s used", sign, cpmsg.HumanBytes(s.FSUsedBytes))
	}
	return line + s.errors()
}

// PlanSummary is Summary for --dry-run: what the copy would do.
func (s *Stats) PlanSummary() string {
	return fmt.Sprintf("dry run: %s: would clone %s, copy %s — would save %s; needs %s, %s free",
		s.sizes(), cpmsg.HumanBytes(s.ClonedBytes), cpmsg.HumanBytes(s.CopiedBytes), s.saved(),
		cpmsg.HumanBytes(s.NeededBytes), cpmsg.HumanBytes(s.FreeBytes)) + s.errors()
}

// sizes is "15,036 files, 221.7 MiB".
func (s *Stats) sizes() string {
	return fmt.Sprintf("%s %s, %s", cpmsg.Thousands(s.Files), plural(s.Files, "file", "files"), cpmsg.HumanBytes(s.Bytes))
}

// saved is "215.7 MiB (97%)"; the percentage rounds down, so 99.6% saved
// never reads as 100%.
func (s *Stats) saved() string {
	pct := 0.0
	if s.Bytes > 0 {
		pct = math.Floor(float64(s.SavedBytes) * 100 / float64(s.Bytes))
	}
	return fmt.Sprintf("%s (%.0f%%)", cpmsg.HumanBytes(s.SavedBytes), pct)
}

// errors is ", 3 errors" when there were any.
func (s *Stats) errors() string {
	if s.Errors == 0 {
		return ""
	}
	return fmt.Sprintf(", %s %s", cpmsg.Thousands(s.Errors), plural(s.Errors, "error", "errors"))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
