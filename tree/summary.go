//go:build linux

package tree

import (
	"fmt"
	"math"
	"strings"

	"github.com/cowcp/cowcp/tree/cpmsg"
)

// Summary is the one line printed at the end of a copy, e.g.
// "15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 215.7 MiB (97%) in 1.82 s".
// The sizes are apparent sizes, the cloned and copied bytes data; holes,
// where there are any, are said apart ("1 file, 4.0 GiB: 14.0 MiB cloned,
// 0 B copied, 4.0 GiB holes — saved 14.0 MiB (100%)"), and skipped
// entries, files that changed while read and errors follow.
func (s *Stats) Summary() string {
	line := fmt.Sprintf("%s: %s cloned, %s copied%s — saved %s in %.2f s",
		s.sizes(), cpmsg.HumanBytes(s.ClonedBytes), cpmsg.HumanBytes(s.CopiedBytes), s.holes(), s.saved(), s.Seconds)
	if s.FSMeasured {
		sign := "+"
		if s.FSUsedBytes < 0 {
			sign = ""
		}
		line += fmt.Sprintf("; filesystem estimate: %s%s used", sign, cpmsg.HumanBytes(s.FSUsedBytes))
	}
	return line + s.skipped() + s.changedFiles() + s.errors()
}

// PlanSummary is Summary for --dry-run: what the copy would do.
func (s *Stats) PlanSummary() string {
	return fmt.Sprintf("dry run: %s: would clone %s, copy %s%s — would save %s; needs %s, %s free",
		s.sizes(), cpmsg.HumanBytes(s.ClonedBytes), cpmsg.HumanBytes(s.CopiedBytes), s.holes(), s.saved(),
		cpmsg.HumanBytes(s.NeededBytes), cpmsg.HumanBytes(s.FreeBytes)) + s.skipped() + s.errors()
}

// holes is ", 4.0 GiB holes" when the files had any.
func (s *Stats) holes() string {
	if s.HoleBytes == 0 {
		return ""
	}
	return ", " + cpmsg.HumanBytes(s.HoleBytes) + " holes"
}

// skipped is ", 15,038 skipped (not newer)", or with several reasons
// ", 5 skipped (3 existing, 2 declined)".
func (s *Stats) skipped() string {
	if s.Skipped == 0 {
		return ""
	}
	w := s.SkippedWhy
	var why []string
	for _, r := range []struct {
		n    int64
		what string
	}{{w.Exists, "existing"}, {w.NotNewer, "not newer"}, {w.Declined, "declined"}, {w.Same, "already there"}} {
		if r.n > 0 {
			why = append(why, cpmsg.Thousands(r.n)+" "+r.what)
		}
	}
	if len(why) == 1 {
		_, why[0], _ = strings.Cut(why[0], " ")
	}
	return fmt.Sprintf(", %s skipped (%s)", cpmsg.Thousands(s.Skipped), strings.Join(why, ", "))
}

// changedFiles is ", 1 changed while read" when sources changed.
func (s *Stats) changedFiles() string {
	if s.Changed == 0 {
		return ""
	}
	return fmt.Sprintf(", %s changed while read", cpmsg.Thousands(s.Changed))
}

// sizes is "15,036 files, 221.7 MiB".
func (s *Stats) sizes() string {
	return fmt.Sprintf("%s %s, %s", cpmsg.Thousands(s.Files), plural(s.Files, "file", "files"), cpmsg.HumanBytes(s.Bytes))
}

// saved is "215.7 MiB (97%)", a percentage of the data (holes are no
// data to save); it rounds down, so 99.6% saved never reads as 100%.
func (s *Stats) saved() string {
	pct := 0.0
	if data := s.ClonedBytes + s.CopiedBytes; data > 0 {
		pct = math.Floor(float64(s.SavedBytes) * 100 / float64(data))
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
