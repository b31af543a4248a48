package cpmsg

import (
	"math"
	"testing"
)

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {15036, "15,036"},
		{100000, "100,000"}, {999999, "999,999"}, {1234567, "1,234,567"},
		{-1, "-1"}, {-999, "-999"}, {-1000, "-1,000"}, {-123456, "-123,456"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := Thousands(tc.n); got != tc.want {
			t.Errorf("Thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1, "1 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{10 << 10, "10.0 KiB"}, {232492236, "221.7 MiB"}, {1 << 20, "1.0 MiB"},
		{1 << 30, "1.0 GiB"}, {3 << 40, "3.0 TiB"}, {1 << 50, "1.0 PiB"}, {1 << 60, "1.0 EiB"},
		{math.MaxInt64, "8.0 EiB"}, {-1023, "-1023 B"}, {-2048, "-2.0 KiB"},
	} {
		if got := HumanBytes(tc.n); got != tc.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// A count just under a unit boundary is the next unit, not "1024.0 KiB"
// (the unit is chosen after rounding).
func TestHumanBytesRoundsUpToNextUnit(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{1<<20 - 1, "1.0 MiB"},
		{1<<30 - 1, "1.0 GiB"},
		{1<<20 - 40, "1.0 MiB"}, // 1023.96 KiB
	} {
		if got := HumanBytes(tc.n); got != tc.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
