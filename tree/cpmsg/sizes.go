//go:build linux

package cpmsg

import (
	"fmt"
	"strconv"
)

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
